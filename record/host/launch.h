// Starting the traced command: fork it held before exec, so the BPF side can
// mark the child's pid and see its exec; then release it, optionally as
// another user and with an exact capability set.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace capaudit::record {

// The identity the command runs as (--user). Groups are resolved in the
// parent: NSS lookups are not safe between fork and exec.
struct UserSpec {
  std::string name;  // for messages; the number when there is no passwd entry
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<uint32_t> groups;  // supplementary groups (initgroups' list)
};

// "nobody" or "65534". A uid without a passwd entry runs with gid = uid and
// no supplementary groups. An unknown name fails (exit code 2: the user's input).
common::Result<UserSpec> resolve_user(const std::string& spec);

struct LaunchOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH (execvp)
  std::optional<UserSpec> user;   // --user
  // --caps: the command keeps exactly these in permitted, effective and
  // inheritable, and they are raised as ambient so they survive the exec of a
  // binary without file caps even for a non-root user. The bounding set is
  // narrowed to the same list as well: required for uid 0, whose exec would
  // otherwise regain every bounding capability, and for any user it matches
  // systemd's CapabilityBoundingSet=+AmbientCapabilities= that the analyzer
  // recommends (a setuid-root helper cannot widen the set either).
  std::optional<uint64_t> caps;
  // Service mode (systemd semantics, see record/host/service.h). exec_path: what
  // to execute when argv[0] is only a display name (ExecStart=@). bounding:
  // with caps, the bounding set when it is wider than caps
  // (CapabilityBoundingSet= vs AmbientCapabilities=). no_new_privs:
  // PR_SET_NO_NEW_PRIVS right before exec (NoNewPrivileges=).
  std::string exec_path;
  std::optional<uint64_t> bounding;
  bool no_new_privs = false;
  // The command's stdout becomes the recorder's stderr (the trace goes to
  // stdout with -o -, and must not be mixed with the command's output).
  bool stdout_to_stderr = false;
};

// The forked command. Destroying a Launcher whose child was never released
// kills it (SIGKILL) and reaps it, so no exit path of the recorder leaks a
// held target; after detach() the child is left alone (it runs on).
class Launcher {
 public:
  // Forks; the child blocks until go(). Fails (exit code 2) if argv is
  // empty, --caps asks for capabilities this process does not hold, or fork fails.
  static common::Result<std::unique_ptr<Launcher>> start(const LaunchOptions& opts);

  ~Launcher();
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  pid_t pid() const { return pid_; }
  // Becomes readable when the child exits (pidfd_open); -1 where unsupported.
  int pidfd() const { return pidfd_; }

  // Releases the child: it switches user and capabilities, then execs. Returns
  // once the exec happened or failed; on failure the message says why
  // ("cannot run nosuch: No such file or directory"), the child exits 127 and
  // so does the Failure.
  common::Result<> go();

  // Raw wait status once the child has ended; nullopt while it runs.
  std::optional<int> try_wait();
  // Blocks until the child ends (retrying on EINTR); returns the raw status.
  int wait();
  // Sends sig to the child if it has not been reaped yet.
  void signal(int sig);
  // From now on destruction neither signals nor waits for the child: once it
  // runs the user's program, a recorder that ends never takes it down.
  void detach() { detached_ = true; }
  bool reaped() const { return status_.has_value(); }

 private:
  Launcher() = default;

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int go_fd_ = -1;     // write end: one byte releases the child, EOF makes it exit
  int error_fd_ = -1;  // read end: empty at EOF means exec succeeded
  std::string command_;
  std::optional<UserSpec> user_;  // for messages about a failed switch
  std::optional<uint64_t> caps_;
  std::optional<int> status_;
  bool detached_ = false;
};

// Forwards SIGINT and SIGTERM to a pid (the command we started; 0 = none)
// and remembers them so the recording loop can stop. Signals that the
// terminal sent (si_code SI_KERNEL) already reached the whole foreground
// process group, child included, and are not sent twice. One forwarder at a
// time (signal handlers are process-wide); destruction restores the previous
// handlers. Handlers are installed without SA_RESTART so a blocking poll in
// the recording loop returns EINTR.
class SignalForwarder {
 public:
  explicit SignalForwarder(pid_t target);
  ~SignalForwarder();
  SignalForwarder(const SignalForwarder&) = delete;
  SignalForwarder& operator=(const SignalForwarder&) = delete;

  void set_target(pid_t target);
  // The last SIGINT/SIGTERM received (0 = none) and how many arrived.
  static int last_signal();
  static int count();
};

}  // namespace capaudit::record
