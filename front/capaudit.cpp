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
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/command_line.h"
#include "common/elevated_exec.h"
#include "common/error.h"
#include "common/systemd_unit.h"
#include "front/account.h"
#include "front/tools.h"
#include "front/verify.h"

namespace {

namespace fs = std::filesystem;
using capaudit::common::Error;
using capaudit::front::Account;
using capaudit::front::analysis_account;
using capaudit::front::Fd;
using capaudit::front::wait_for;

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
namespace po = boost::program_options;

struct Options {
  std::vector<std::string> record_args;   // passed through to capaudit-record
  std::vector<std::string> analyze_args;  // passed through to capaudit-analyze report
  std::string keep;                       // --keep FILE: keep the trace here
  std::string output;                     // -o FILE: the report goes here ("" = stderr, "-" = stdout)
  bool verbose = false;
  std::vector<std::string> command;
};

// What `capaudit-analyze report --config` accepts (analyze/config/configs.h),
// checked here so that a typo fails before the recording, not after it.
bool known_config_list(const std::string& list) {
  static const std::vector<std::string> kNames{"systemd", "docker",  "podman", "compose", "kubernetes", "setcap",
                                               "filecap", "c",       "python", "all",     "none"};
  std::string word;
  for (size_t i = 0; i <= list.size(); ++i) {
    if (i == list.size() || list[i] == ',' || list[i] == ' ') {
      if (!word.empty() && std::find(kNames.begin(), kNames.end(), word) == kNames.end()) return false;
      word.clear();
    } else {
      word += list[i];
    }
  }
  return true;
}

std::string help_text(const po::options_description& visible) {
  std::ostringstream out;
  out << "Usage: sudo capaudit [OPTIONS] -- CMD [ARGS...]\n"
         "   or: sudo capaudit [OPTIONS] -p PID --duration TIME\n"
         "   or: sudo capaudit [OPTIONS] --cgroup PATH --duration TIME\n"
         "   or: sudo capaudit [OPTIONS] --service UNIT\n"
         "   or: sudo capaudit verify [OPTIONS] [TRACE...] -- CMD [ARGS...]   (capaudit verify --help)\n\n"
         "Records every capability check CMD (and its children) makes, then says which\n"
         "capabilities to grant to which executable and whether the run can be trusted,\n"
         "with the details and ready-to-paste configs (systemd and docker by default).\n"
         "CMD's own output stays on its stdout and stderr; the report goes to stderr\n"
         "after CMD ends (like strace), or to -o FILE. The analysis runs unprivileged:\n"
         "as the invoking user under sudo, otherwise as nobody (65534).\n\n"
      << visible
      << "\nExamples:\n"
         "  sudo capaudit -- ping -c1 127.0.0.1\n"
         "  sudo capaudit -o report.txt --config systemd,kubernetes -- ./server --port 80\n"
         "  sudo capaudit --user nobody -- ./server   # what an unprivileged run is denied\n"
         "  sudo capaudit -p 1234 --duration 10m --keep app.cap\n"
         "  sudo capaudit -f json -o - -- chown nobody /srv/data | jq .verdict\n\n"
         "Two-stage use (record here, analyze elsewhere): capaudit-record, capaudit-analyze.\n\n"
         "Exit status:\n"
         "  0  the run worked and was recorded completely; the verdict is the answer\n"
         "  1  error (recording or analysis could not be done)\n"
         "  2  bad usage\n"
         "  3  the recording is incomplete (events lost, recorder killed): a lower bound\n"
         "  4  the run failed: CMD did not start, exited non-zero or was killed, or was\n"
         "     denied an operation it needed; the verdict says which, configs carry a warning\n"
         "Refuses to run setuid, setgid or with file capabilities.\n";
  return out.str();
}

Options parse(int argc, char** argv) {
  Options o;
  // Everything after "--" is the command, untouched.
  auto [split, command] = capaudit::common::split_at_double_dash(argc, argv);
  o.command = std::move(command);

  po::options_description target("What to record (passed to capaudit-record)");
  target.add_options()
      ("pid,p", po::value<std::string>(), "a running process and its future children (with --duration)")
      ("cgroup", po::value<std::string>(), "every task in a cgroup v2 directory (with --duration)")
      ("duration", po::value<std::string>(), "stop after this long (30s, 500ms, 10m)")
      ("user", po::value<std::string>(), "run CMD as this user (name or uid)")
      ("caps", po::value<std::string>(), "run CMD with only these capabilities (cap_net_raw,cap_chown)")
      ("service", po::value<std::string>(), "start the unit's ExecStart= the way systemd would")
      ("verbose,v", "the recorder's hook and status line, and who analyzes");
  po::options_description report("Report (passed to capaudit-analyze report)");
  report.add_options()
      ("output,o", po::value<std::string>(), "write the report to FILE (never overwritten; - = stdout; default stderr)")
      ("format,f", po::value<std::string>(), "text (default), json or yaml")
      ("config", po::value<std::string>(),
       "config formats after the text report: systemd, docker, podman, compose, kubernetes, setcap, filecap, c, "
       "python, all or none (default systemd,docker)")
      ("full", "every section of the text report, with call paths")
      ("profile", po::value<std::string>(), "re-evaluate against a named sysctl profile (host, docker, hardened)")
      ("sysctl", po::value<std::vector<std::string>>()->composing(), "re-evaluate with KEY=VALUE (repeatable)")
      ("keep", po::value<std::string>(), "keep the trace in FILE (owned by the analyzing user; never overwritten)");
  po::options_description general("General");
  general.add_options()("help,h", "this help")("version", "print the version");
  po::options_description visible;
  visible.add(target).add(report).add(general);
  po::options_description all;
  all.add(visible);
  all.add_options()("stray", po::value<std::vector<std::string>>(), "");
  po::positional_options_description pos;
  pos.add("stray", -1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(split, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(e.what(), "see capaudit --help", kExitUsage);
  }
  if (vm.count("help")) {
    std::cout << help_text(visible);
    std::exit(0);
  }
  if (vm.count("version")) {
    std::cout << "capaudit " << CAPAUDIT_VERSION << "\n";
    std::exit(0);
  }
  if (vm.count("stray")) {
    // `capaudit true`: the command without "--".
    const auto& stray = vm["stray"].as<std::vector<std::string>>();
    std::string cmd;
    for (const auto& w : stray) cmd += " " + w;
    throw Error("'" + stray.front() + "' is not an option; the command to record goes after '--'",
                "sudo capaudit --" + cmd, kExitUsage);
  }
  for (const char* name : {"pid", "cgroup", "duration", "user", "caps", "service"}) {
    if (!vm.count(name)) continue;
    o.record_args.push_back(std::string("--") + name);
    o.record_args.push_back(vm[name].as<std::string>());
  }
  o.verbose = vm.count("verbose") > 0;
  if (o.verbose) o.record_args.push_back("-v");
  if (vm.count("format")) {
    const auto f = vm["format"].as<std::string>();
    if (f != "text" && f != "json" && f != "yaml") throw Error("unknown format '" + f + "'", "use -f text, json or yaml", kExitUsage);
    o.analyze_args.insert(o.analyze_args.end(), {"-f", f});
  }
  if (vm.count("config")) {
    const auto c = vm["config"].as<std::string>();
    if (!known_config_list(c))
      throw Error("unknown config format in '" + c + "'",
                  "systemd docker podman compose kubernetes setcap filecap c python, all or none", kExitUsage);
    o.analyze_args.insert(o.analyze_args.end(), {"--config", c});
  }
  if (vm.count("full")) o.analyze_args.push_back("--full");
  if (vm.count("profile")) o.analyze_args.insert(o.analyze_args.end(), {"--profile", vm["profile"].as<std::string>()});
  if (vm.count("sysctl"))
    for (const auto& kv : vm["sysctl"].as<std::vector<std::string>>()) o.analyze_args.insert(o.analyze_args.end(), {"--sysctl", kv});
  if (vm.count("output")) o.output = vm["output"].as<std::string>();
  if (vm.count("keep")) o.keep = vm["keep"].as<std::string>();

  const bool attach = vm.count("pid") || vm.count("cgroup");
  if (o.command.empty() && !attach && !vm.count("service"))
    throw Error("nothing to record", "sudo capaudit -- CMD ARGS..., or -p PID / --cgroup PATH with --duration",
                kExitUsage);
  // Never overwrite: refuse before the recording, not after it.
  struct stat st {};
  if (!o.keep.empty() && lstat(o.keep.c_str(), &st) == 0)
    throw Error("--keep " + o.keep + ": File exists", "remove it first or choose another name", kExitError);
  if (!o.output.empty() && o.output != "-" && lstat(o.output.c_str(), &st) == 0)
    throw Error("-o " + o.output + ": File exists", "remove it first or choose another name", kExitError);
  return o;
}

// Runs argv (as `as`, when given) and waits. stdin_fd >= 0 becomes the
// child's stdin (how the analyzer gets the trace: an open file, never a name);
// stdout_fd >= 0 its stdout (-1: ours).
int run(const std::vector<std::string>& argv, const std::optional<Account>& as, int stdin_fd = -1,
        int stdout_fd = -1) {
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
    if (stdout_fd >= 0 && dup2(stdout_fd, STDOUT_FILENO) < 0) _exit(kExitError);
    if (as) {
      // Fail closed: any step that does not take means no analysis.
      if (!capaudit::front::become(*as)) {
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

// The file -o names, created before the recording (never overwriting) and
// given to the analyzing account, whose report goes into it.
int open_report(const Options& opts, const Account& account) {
  if (opts.output.empty()) return dup(2);  // default: the report on stderr, apart from CMD's stdout
  if (opts.output == "-") return dup(1);
  const int fd = open(opts.output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    throw Error(capaudit::common::errno_message("create " + opts.output, err),
                err == EEXIST ? "remove it first or choose another name" : "");
  }
  if (fchown(fd, account.uid, account.gid) != 0) {
    const int err = errno;
    close(fd);
    unlink(opts.output.c_str());
    throw Error(capaudit::common::errno_message("chown " + opts.output, err));
  }
  return fd;
}

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
      throw Error("--keep " + path + " exists", "the trace is never written over an existing file (or link)", kExitError);
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
  if (auto why = capaudit::common::elevated_exec_reason())
    throw Error("refusing to run: this copy " + *why, "run capaudit as root (sudo); never install it setuid or with file capabilities");
  const Options opts = parse(argc, argv);
  const Account account = analysis_account();
  // The kept trace belongs to whoever asked for it: the sudo user, else root.
  std::optional<Account> keep_owner;
  if (account.sudo_user) keep_owner = account;

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
  const int report_fd = open_report(opts, account);
  struct ReportFile {
    int fd;
    std::string path;  // removed again when nothing was written to it
    bool written = false;
    ~ReportFile() {
      close(fd);
      if (!written && !path.empty() && path != "-") unlink(path.c_str());
    }
  } report_file{report_fd, opts.output};

  std::optional<KeepFile> keep;
  if (!opts.keep.empty()) keep = create_keep_file(opts.keep, keep_owner);

  // The terminal's Ctrl-C reaches the recorder (which forwards it and
  // finalizes the trace) and us; we carry on to the analysis.
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);

  std::vector<std::string> record{capaudit::front::find_tool("capaudit-record"), "-o", trace.string()};
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
  // How the command ended is in the trace: the verdict says it.
  if (opts.verbose && WIFSIGNALED(rstatus))
    std::cerr << "capaudit: the recorder was killed by signal " << WTERMSIG(rstatus) << "\n";
  // The recorder gave the file to the sudo user; here it is root's again, so
  // the analysis account holds a read-only descriptor and nothing more.
  if (fchown(trace_fd.fd, 0, 0) != 0 || fchmod(trace_fd.fd, 0400) != 0)
    throw Error(capaudit::common::errno_message("fchown " + trace.string(), errno));

  std::string kept;
  if (keep) {
    // Kept before the analysis, so the report can name it; copied from root's
    // own descriptor into the file root created before the recording.
    std::string error;
    if (!copy_trace(trace_fd.fd, keep->file.fd, &error) || fsync(keep->file.fd) != 0) {
      if (error.empty()) error = std::strerror(errno);
      std::cerr << "capaudit: cannot keep the trace in " << keep->path << ": " << error << "\n";
      keep->discard();
    } else {
      kept = keep->path;
    }
  }
  if (opts.verbose) std::cerr << "capaudit: analyzing as uid " << account.uid << " (" << account.why() << ")\n";
  std::vector<std::string> analyze{capaudit::front::find_tool("capaudit-analyze"), "report", "--exit-code",
                                   "--trace-name", kept.empty() ? "(not kept: --keep FILE keeps it)" : kept};
  analyze.insert(analyze.end(), opts.analyze_args.begin(), opts.analyze_args.end());
  // The analyzer reads the trace from stdin: its own open file description
  // (offsets are not shared with root's), opened by root, never a path.
  analyze.push_back("-");
  std::cout.flush();
  int astatus = 0;
  {
    Fd analysis_fd(open(("/proc/self/fd/" + std::to_string(trace_fd.fd)).c_str(), O_RDONLY | O_CLOEXEC));
    if (analysis_fd.fd < 0) throw Error(capaudit::common::errno_message("reopen " + trace.string(), errno));
    astatus = run(analyze, account, analysis_fd.fd, report_file.fd);
  }
  report_file.written = true;
  if (!kept.empty()) std::cerr << "capaudit: trace kept in " << kept << "\n";
  return WIFEXITED(astatus) ? WEXITSTATUS(astatus) : kExitError;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::string(argv[1]) == "verify") return capaudit::front::verify_main(argc - 1, argv + 1);
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
