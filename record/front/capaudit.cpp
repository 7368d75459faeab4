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
         "  --keep FILE        keep the trace in FILE (owned by the analyzing user)\n"
         "  -h, --help         this help\n"
         "  --version          print the version\n\n"
         "Two-stage use (record here, analyze elsewhere): capaudit-record, capaudit-analyze.\n"
         "Exit status: the analyzer's (0 complete, 2 incomplete trace), 1 on errors.\n";
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
    } else if (a == "--version") {
      std::cout << "capaudit " << CAPAUDIT_VERSION << "\n";
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

int run(const std::vector<std::string>& argv, const std::optional<Account>& as) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw Error(capaudit::common::errno_message("fork", errno));
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (as) {
      // Fail closed: any step that does not take means no analysis.
      if (setgroups(0, nullptr) != 0 || setresgid(as->gid, as->gid, as->gid) != 0 ||
          setresuid(as->uid, as->uid, as->uid) != 0 || getuid() != as->uid || geteuid() != as->uid ||
          prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
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

int real_main(int argc, char** argv) {
  const Options opts = parse(argc, argv);
  const Account account = analysis_account();

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

  // The terminal's Ctrl-C reaches the recorder (which forwards it and
  // finalizes the trace) and us; we carry on to the analysis.
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);

  std::vector<std::string> record{tool("capaudit-record", CAPAUDIT_RECORD_PATH), "-o", trace.string()};
  record.insert(record.end(), opts.record_args.begin(), opts.record_args.end());
  if (!opts.command.empty()) {
    record.push_back("--");
    record.insert(record.end(), opts.command.begin(), opts.command.end());
  }
  const int rstatus = run(record, std::nullopt);
  struct stat st {};
  if (stat(trace.c_str(), &st) != 0 || st.st_size == 0) {
    std::cerr << "capaudit: no trace was recorded\n";
    return WIFEXITED(rstatus) && WEXITSTATUS(rstatus) != 0 ? WEXITSTATUS(rstatus) : kExitError;
  }
  if (WIFEXITED(rstatus)) {
    std::cerr << "capaudit: recording finished; the command exited with status " << WEXITSTATUS(rstatus) << "\n";
  } else if (WIFSIGNALED(rstatus)) {
    std::cerr << "capaudit: recording finished; the recorder was killed by signal " << WTERMSIG(rstatus) << "\n";
  }

  // Hand the trace (and nothing else) to the analyzing account.
  if (chown(dir.c_str(), account.uid, account.gid) != 0 || chown(trace.c_str(), account.uid, account.gid) != 0) {
    throw Error(capaudit::common::errno_message("chown " + trace.string(), errno));
  }
  std::cerr << "capaudit: analyzing as uid " << account.uid << " (" << account.why << ")\n\n";
  std::vector<std::string> analyze{tool("capaudit-analyze", CAPAUDIT_ANALYZE_PATH), "report"};
  analyze.insert(analyze.end(), opts.analyze_args.begin(), opts.analyze_args.end());
  analyze.push_back(trace.string());
  const int astatus = run(analyze, account);

  if (!opts.keep.empty()) {
    std::error_code ec;
    if (fs::exists(opts.keep)) {
      std::cerr << "capaudit: " << opts.keep << " exists; the trace was not kept\n";
    } else {
      fs::copy_file(trace, opts.keep, ec);
      if (ec || chown(opts.keep.c_str(), account.uid, account.gid) != 0 || chmod(opts.keep.c_str(), 0600) != 0) {
        std::cerr << "capaudit: cannot keep the trace in " << opts.keep << ": " << (ec ? ec.message() : std::strerror(errno))
                  << "\n";
      } else {
        std::cerr << "capaudit: trace kept in " << opts.keep << "\n";
      }
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
