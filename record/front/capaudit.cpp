// capaudit -- CMD ARGS...: the one-step front command. Records CMD with
// capaudit-record into a private temporary trace, then runs
// `capaudit-analyze report` on it WITHOUT privileges and prints the report
// with the recommended configs. The two-stage tools remain the way to record
// on one host and analyze on another.
//
// Who analyzes: the invoking user when started through sudo (SUDO_UID/
// SUDO_GID), otherwise nobody (65534:65534). The trace is untrusted input
// (the traced program chose much of its content), so the parser never runs
// as root; nobody rather than "stay root" is the fail-safe default.
//
// Nothing root does follows a path an unprivileged account can change: the
// trace lives in root's own 0700 temporary directory, which is never handed
// over; the analyzer gets it as an open read-only file on stdin; --keep is
// created by root (O_EXCL|O_NOFOLLOW, before the recording) and written from
// root's own descriptor.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/systemd_unit.h"
#include "record/privileges.h"

namespace {

namespace fs = std::filesystem;
using capaudit::common::Error;

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

struct Options {
  std::vector<std::string> record_args;   // passed through to capaudit-record
  std::vector<std::string> analyze_args;  // passed through to capaudit-analyze report
  std::string keep;                       // --keep FILE: keep the trace here
  std::vector<std::string> command;
};

void usage(std::ostream& out) {
  out << "Usage: sudo capaudit [OPTIONS] -- CMD [ARGS...]\n\n"
         "Records every capability check CMD (and its children) makes, then prints the\n"
         "analysis and the recommended configurations (systemd, containers, Kubernetes,\n"
         "file capabilities, libcap-ng code). The analysis runs unprivileged: as the\n"
         "invoking user under sudo, otherwise as nobody (65534).\n\n"
         "Options:\n"
         "  --user USER        run CMD as USER (passed to capaudit-record)\n"
         "  --caps LIST        run CMD with only these capabilities (capaudit-record)\n"
         "  --service UNIT     start CMD the way systemd starts UNIT (capaudit-record)\n"
         "  --profile NAME     re-evaluate against a named sysctl profile (capaudit-analyze report)\n"
         "  --sysctl K=V       re-evaluate with this sysctl value (repeatable)\n"
         "  -f, --format F     text (default), json or yaml\n"
         "  --keep FILE        keep the trace in FILE: a new file (never overwritten), mode 0600,\n"
         "                     owned by the sudo user, else root\n"
         "  -h, --help         this help\n\n"
         "Two-stage use (record here, analyze elsewhere): capaudit-record, capaudit-analyze.\n"
         "Exit status: the analyzer's (0 complete, 2 incomplete trace), 1 on errors, 2 on bad\n"
         "usage. Refuses to run setuid or with file capabilities.\n";
}

Options parse(int argc, char** argv) {
  Options o;
  int i = 1;
  auto value = [&](const std::string& name) -> std::string {
    if (i + 1 >= argc) throw Error(name + " needs a value", "see capaudit --help", kExitUsage);
    return argv[++i];
  };
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "-h" || a == "--help") {
      usage(std::cout);
      std::exit(0);
    } else if (a == "--user" || a == "--caps" || a == "--service") {
      o.record_args.push_back(a);
      o.record_args.push_back(value(a));
    } else if (a == "--profile" || a == "--sysctl" || a == "-f" || a == "--format") {
      o.analyze_args.push_back(a);
      o.analyze_args.push_back(value(a));
    } else if (a == "--keep") {
      o.keep = value(a);
    } else {
      throw Error("unknown option '" + a + "'", "see capaudit --help", kExitUsage);
    }
  }
  for (; i < argc; ++i) o.command.emplace_back(argv[i]);
  const bool service = std::find(o.record_args.begin(), o.record_args.end(), "--service") != o.record_args.end();
  if (o.command.empty() && !service) throw Error("no command given", "capaudit -- CMD ARGS...", kExitUsage);
  return o;
}

// The sibling tools: next to this binary (installed together, or the build
// tree's paths compiled in), else PATH.
std::string tool(const char* name, const char* build_path) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path sibling = self.parent_path() / name;
    if (access(sibling.c_str(), X_OK) == 0) return sibling;
  }
  if (build_path[0] && access(build_path, X_OK) == 0) return build_path;
  return name;  // execvp searches PATH
}

struct Account {
  uid_t uid = 65534;
  gid_t gid = 65534;
  std::string why;
};

Account analysis_account() {
  Account a;
  const char* su = std::getenv("SUDO_UID");
  const char* sg = std::getenv("SUDO_GID");
  if (su && sg) {
    auto uid = capaudit::common::parse_unit_id(su);
    auto gid = capaudit::common::parse_unit_id(sg);
    if (std::holds_alternative<uint32_t>(uid) && std::holds_alternative<uint32_t>(gid) && std::get<uint32_t>(uid) != 0) {
      a.uid = std::get<uint32_t>(uid);
      a.gid = std::get<uint32_t>(gid);
      a.why = "the sudo user";
      return a;
    }
  }
  a.why = "nobody: not started through sudo by a non-root user";
  return a;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return status;
}

// Runs argv (as `as` when given) and waits. stdin_fd >= 0 becomes the child's
// stdin: how the analyzer gets the trace, as an open file rather than a name.
int run(const std::vector<std::string>& argv, const std::optional<Account>& as, int stdin_fd = -1) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw Error(capaudit::common::errno_message("fork", errno));
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    if (stdin_fd >= 0 && dup2(stdin_fd, STDIN_FILENO) < 0) _exit(kExitError);
    if (as) {
      // Fail closed: any step that does not take means no analysis.
      if (setgroups(0, nullptr) != 0 || setresgid(as->gid, as->gid, as->gid) != 0 ||
          setresuid(as->uid, as->uid, as->uid) != 0 || getuid() != as->uid || geteuid() != as->uid ||
          prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || chdir("/") != 0) {
        std::fprintf(stderr, "capaudit: cannot drop to uid %u: %s\n", as->uid, std::strerror(errno));
        _exit(kExitError);
      }
    }
    execvp(args[0], args.data());
    std::fprintf(stderr, "capaudit: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  return wait_for(pid);
}

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd, o.fd);
    return *this;
  }
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// --keep FILE, created by root before the recording: O_EXCL|O_NOFOLLOW in a
// directory held open, mode 0600, owned by the sudo user (else root). Root
// writes it through this descriptor only, so nothing anyone does to the path
// later (a symlink, a rename) can redirect the copy.
struct KeepFile {
  Fd dir;
  Fd file;
  std::string name;  // in dir
  std::string path;  // as given, for messages
  struct stat st {};

  // Removes it again (no trace to keep): only if the name still is our file.
  void discard() {
    struct stat now {};
    if (fstatat(dir.fd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 && now.st_dev == st.st_dev &&
        now.st_ino == st.st_ino)
      unlinkat(dir.fd, name.c_str(), 0);
  }
};

std::optional<KeepFile> create_keep_file(const std::string& path, const std::optional<Account>& owner) {
  KeepFile k;
  k.path = path;
  const fs::path p(path);
  k.name = p.filename().string();
  if (k.name.empty() || k.name == "." || k.name == "..")
    throw Error("--keep " + path + ": not a file name", "give a path to a new file", kExitUsage);
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  k.dir = Fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (k.dir.fd < 0) throw Error(capaudit::common::errno_message("--keep: cannot open directory " + dir, errno));
  k.file = Fd(openat(k.dir.fd, k.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (k.file.fd < 0) {
    if (errno == EEXIST)
      throw Error("--keep " + path + " exists", "the trace is never written over an existing file (or link)", kExitUsage);
    throw Error(capaudit::common::errno_message("--keep: cannot create " + path, errno));
  }
  fstat(k.file.fd, &k.st);
  if (owner && fchown(k.file.fd, owner->uid, owner->gid) != 0) {
    const int err = errno;
    k.discard();
    throw Error(capaudit::common::errno_message("--keep: cannot give " + path + " to uid " + std::to_string(owner->uid), err));
  }
  return k;
}

// Copies from what root itself opened (pread: the offset of a descriptor the
// analyzer shares cannot matter) into the kept file.
bool copy_trace(int from, int to, std::string* error) {
  std::vector<char> buf(1 << 16);
  off_t at = 0;
  for (;;) {
    const ssize_t n = pread(from, buf.data(), buf.size(), at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = std::strerror(errno);
      return false;
    }
    if (n == 0) return true;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = write(to, buf.data() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        *error = std::strerror(errno);
        return false;
      }
      done += w;
    }
    at += n;
  }
}

int real_main(int argc, char** argv) {
  // A setuid or file-capability copy would record and write files as root for
  // whoever runs it (e.g. --keep into a root-only directory).
  if (auto why = capaudit::record::elevated_exec_reason())
    throw Error("refusing to run: this copy " + *why, "run capaudit as root (sudo); never install it setuid or with file capabilities");
  const Options opts = parse(argc, argv);
  const Account account = analysis_account();
  // The kept trace belongs to whoever asked for it: the sudo user, else root.
  std::optional<Account> keep_owner;
  if (account.why == "the sudo user") keep_owner = account;

  // Root's private directory: 0700 root, never handed to anyone. Nothing an
  // unprivileged account runs (the analyzer, a helper the traced command left
  // behind) can reach it, and the analyzer gets the trace as an open file.
  char tmpl[] = "/tmp/capaudit-XXXXXX";
  if (!mkdtemp(tmpl)) throw Error(capaudit::common::errno_message("mkdtemp /tmp", errno));
  const fs::path dir = tmpl;
  const fs::path trace = dir / "trace.cap";
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{dir};

  std::optional<KeepFile> keep;
  if (!opts.keep.empty()) keep = create_keep_file(opts.keep, keep_owner);

  // The terminal's Ctrl-C reaches the recorder (which forwards it and
  // finalizes the trace) and us; we carry on to the analysis.
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);

  std::vector<std::string> record{tool("capaudit-record", CAPAUDIT_RECORD_PATH), "-o", trace.string()};
  record.insert(record.end(), opts.record_args.begin(), opts.record_args.end());
  if (!opts.command.empty()) {
    record.push_back("--");
    record.insert(record.end(), opts.command.begin(), opts.command.end());
  }
  const int rstatus = run(record, std::nullopt);
  Fd trace_fd(open(trace.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  struct stat st {};
  if (trace_fd.fd < 0 || fstat(trace_fd.fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    std::cerr << "capaudit: no trace was recorded\n";
    if (keep) keep->discard();
    return WIFEXITED(rstatus) && WEXITSTATUS(rstatus) != 0 ? WEXITSTATUS(rstatus) : kExitError;
  }
  if (WIFEXITED(rstatus)) {
    std::cerr << "capaudit: recording finished; the command exited with status " << WEXITSTATUS(rstatus) << "\n";
  } else if (WIFSIGNALED(rstatus)) {
    std::cerr << "capaudit: recording finished; the recorder was killed by signal " << WTERMSIG(rstatus) << "\n";
  }
  // The recorder gave the file to the sudo user; here it is root's again, so
  // the analysis account holds a read-only descriptor and nothing more.
  if (fchown(trace_fd.fd, 0, 0) != 0 || fchmod(trace_fd.fd, 0400) != 0)
    throw Error(capaudit::common::errno_message("fchown " + trace.string(), errno));

  // The analyzer reads the trace from stdin: its own open file description
  // (offsets are not shared with root's), opened by root, never a path.
  std::cerr << "capaudit: analyzing as uid " << account.uid << " (" << account.why << ")\n\n";
  std::vector<std::string> analyze{tool("capaudit-analyze", CAPAUDIT_ANALYZE_PATH), "report"};
  analyze.insert(analyze.end(), opts.analyze_args.begin(), opts.analyze_args.end());
  analyze.push_back("-");
  int astatus = 0;
  {
    Fd analysis_fd(open(("/proc/self/fd/" + std::to_string(trace_fd.fd)).c_str(), O_RDONLY | O_CLOEXEC));
    if (analysis_fd.fd < 0) throw Error(capaudit::common::errno_message("reopen " + trace.string(), errno));
    astatus = run(analyze, account, analysis_fd.fd);
  }

  if (keep) {
    std::string error;
    if (!copy_trace(trace_fd.fd, keep->file.fd, &error) || fsync(keep->file.fd) != 0) {
      if (error.empty()) error = std::strerror(errno);
      std::cerr << "capaudit: cannot keep the trace in " << keep->path << ": " << error << "\n";
      keep->discard();
    } else {
      std::cerr << "capaudit: trace kept in " << keep->path << "\n";
    }
  }
  return WIFEXITED(astatus) ? WEXITSTATUS(astatus) : kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return real_main(argc, argv);
  } catch (const Error& e) {
    std::cerr << "capaudit: " << e.what() << "\n";
    if (!e.hint.empty()) std::cerr << "  hint: " << e.hint << "\n";
    return e.exit_code;
  } catch (const std::exception& e) {
    std::cerr << "capaudit: " << e.what() << "\n";
    return kExitError;
  }
}
