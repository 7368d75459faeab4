// capaudit verify [OPTIONS] [TRACE...] -- CMD ARGS...: proves a recommended
// capability set instead of trusting it. Records CMD first when no trace is
// given; asks the analyzer (unprivileged) what the recommendation is; re-runs
// CMD under capaudit-record the way the recommendation deploys it — as the
// deployment user with exactly that set (ambient capabilities for a non-root
// user, the bounding set for root), through the emitted podman flags, or
// through the service-mode launcher with the systemd drop-in's settings —
// and has the analyzer judge the re-run against the original
// (`capaudit-analyze verify`). --minimize re-runs once more per capability,
// without it.
//
// Privilege handling is capaudit's (capaudit.cpp): the traces root records
// live in root's 0700 directory and reach the analysis account (the sudo
// user, else nobody) only as open read-only descriptors ("fd:N"); traces
// given on the command line are opened by the analyzer itself, with the
// analysis account's own permissions.
#include "front/verify.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/program_options.hpp>

#include "common/command_line.h"
#include "common/elevated_exec.h"
#include "common/error.h"
#include "common/systemd_unit.h"
#include "front/account.h"
#include "front/tools.h"

namespace capaudit::front {

namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;
using common::Error;

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr int kExitIncomplete = 3;
constexpr int kExitNegative = 4;
constexpr int kFirstInputFd = 100;  // where the analyzer finds root's traces (fd:N)

struct Options {
  std::vector<std::string> traces;  // the original run(s); empty: record one first
  std::vector<std::string> command;
  std::string deploy_as;
  std::string runtime = "host";
  std::string image;                     // podman
  std::vector<std::string> engine_args;  // podman: extra `podman run` options
  std::string caps;                      // a set given by hand instead of the recommendation
  bool minimize = false;
  std::string output;                    // the verdict: "" stderr, "-" stdout, else a new file
  std::string result;                    // --result FILE: the verdict as JSON, for `report --verified`
  std::string command_line;              // as given, for the result
  bool verbose = false;
};

std::string help_text(const po::options_description& visible) {
  std::ostringstream out;
  out << "Usage: sudo capaudit verify [OPTIONS] [TRACE...] -- CMD [ARGS...]\n\n"
         "Proves the recommended capability set instead of trusting it. Computes the set\n"
         "from the traces the way `capaudit-analyze config` does (recording CMD as root\n"
         "first when no trace is given), re-runs CMD under capaudit-record as the\n"
         "deployment user with exactly that set (ambient capabilities for a non-root\n"
         "user, the bounding set for root; --runtime podman: the emitted podman flags;\n"
         "--runtime systemd: the drop-in's settings through the service-mode launcher),\n"
         "and judges the re-run: it passes when no denied check's syscall then failed,\n"
         "the command exited as in the original, and it performed the same operations\n"
         "(each capability the original used, per syscall). Otherwise it names the\n"
         "missing capability and the operation that failed (syscall, errno).\n"
         "The re-runs track every denied syscall's outcome (--outcomes all): the\n"
         "syscall-exit tracepoint is on for the whole host while they run.\n"
         "CMD runs once more per re-run: give a command that can be repeated.\n\n"
      << visible
      << "\nExamples:\n"
         "  sudo capaudit verify --deploy-as nobody -- ./server --port 80\n"
         "  sudo capaudit verify --minimize app.cap -- ./app --once\n"
         "  sudo capaudit verify --caps cap_chown -- ./helper   # a wrong set: exit 4, says what broke\n"
         "  sudo capaudit verify --runtime podman --image app:1 --deploy-as 65534 app.cap -- /app --once\n"
         "  sudo capaudit verify --runtime systemd --deploy-as 65534 -- /usr/bin/app --once\n\n"
         "Exit status:\n"
         "  0  verified: the set works (with --minimize: and each capability was shown to be needed)\n"
         "  1  error\n"
         "  2  bad usage\n"
         "  3  verified, but a trace is incomplete: the proof covers what was recorded\n"
         "  4  not verified: the re-run broke (or the original run failed; with --minimize,\n"
         "     a capability was not shown to be needed)\n";
  return out.str();
}

Options parse(int argc, char** argv) {
  Options o;
  auto [split, command] = common::split_at_double_dash(argc, argv);
  o.command = std::move(command);
  po::options_description opts("Verify");
  opts.add_options()
      ("deploy-as", po::value<std::string>(), "deploy as USER[:GROUP] (name or id); default: as config decides")
      ("runtime", po::value<std::string>(), "host (default), podman or systemd")
      ("image", po::value<std::string>(), "podman: the image to run CMD in")
      ("engine-arg", po::value<std::vector<std::string>>()->composing(),
       "podman: one more `podman run` option (repeatable; e.g. --engine-arg=--runtime=runc)")
      ("caps", po::value<std::string>(), "verify this set instead of the recommended one (cap_chown,cap_net_raw or none)")
      ("minimize", "also re-run once without each capability: show what each is needed for")
      ("output,o", po::value<std::string>(), "write the verdict to FILE (never overwritten; - = stdout; default stderr)")
      ("result", po::value<std::string>(),
       "also write the verdict as JSON to FILE (never overwritten), for capaudit-analyze report --verified")
      ("verbose,v", "say what runs, as whom");
  po::options_description general("General");
  general.add_options()("help,h", "this help");
  po::options_description visible;
  visible.add(opts).add(general);
  po::options_description all;
  all.add(visible);
  all.add_options()("traces", po::value<std::vector<std::string>>(), "");
  po::positional_options_description pos;
  pos.add("traces", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(split, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(e.what(), "see capaudit verify --help", kExitUsage);
  }
  if (vm.count("help")) {
    std::cout << help_text(visible);
    std::exit(0);
  }
  if (vm.count("traces")) o.traces = vm["traces"].as<std::vector<std::string>>();
  if (vm.count("deploy-as")) o.deploy_as = vm["deploy-as"].as<std::string>();
  if (vm.count("runtime")) o.runtime = vm["runtime"].as<std::string>();
  if (o.runtime != "host" && o.runtime != "podman" && o.runtime != "systemd")
    throw Error("unknown --runtime '" + o.runtime + "'", "host, podman or systemd", kExitUsage);
  if (vm.count("image")) o.image = vm["image"].as<std::string>();
  if (vm.count("engine-arg")) o.engine_args = vm["engine-arg"].as<std::vector<std::string>>();
  if (o.runtime == "podman" && o.image.empty())
    throw Error("--runtime podman needs --image", "the image CMD runs in", kExitUsage);
  if (o.runtime != "podman" && (!o.image.empty() || !o.engine_args.empty()))
    throw Error("--image and --engine-arg are for --runtime podman", "", kExitUsage);
  if (vm.count("caps")) o.caps = vm["caps"].as<std::string>();
  o.minimize = vm.count("minimize") > 0;
  if (vm.count("output")) o.output = vm["output"].as<std::string>();
  if (vm.count("result")) o.result = vm["result"].as<std::string>();
  // As a shell would take it back: words with anything but plain characters single-quoted.
  o.command_line = "capaudit";
  for (int i = 0; i < argc; ++i) {
    const std::string w = argv[i];
    const bool plain = !w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789-_=+/.,:@%") == std::string::npos;
    std::string q = "'";
    for (char c : w) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    o.command_line += " " + (plain ? w : q + "'");
  }
  o.verbose = vm.count("verbose") > 0;
  if (o.command.empty())
    throw Error("no command to verify", "sudo capaudit verify [TRACE...] -- CMD ARGS... (the same command)", kExitUsage);
  struct stat st {};
  if (!o.output.empty() && o.output != "-" && lstat(o.output.c_str(), &st) == 0)
    throw Error("-o " + o.output + ": File exists", "remove it first or choose another name", kExitError);
  if (!o.result.empty() && lstat(o.result.c_str(), &st) == 0)
    throw Error("--result " + o.result + ": File exists", "remove it first or choose another name", kExitError);
  return o;
}


// Runs argv (as `as`, when given: groups, gid, uid dropped for good,
// no_new_privs) with `fds` (from, to) placed for it, stdout to `out_fd` when
// >= 0, and waits. Returns the wait status.
int run(const std::vector<std::string>& argv, const std::optional<Account>& as,
        const std::vector<std::pair<int, int>>& fds = {}, int out_fd = -1) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // Each run gets its own open file description of every trace (offsets are
  // not shared with root's, nor with the previous run's).
  std::vector<Fd> fresh;
  std::vector<std::pair<int, int>> placed;
  for (const auto& [from, to] : fds) {
    // A trace is reopened read-only; the result file (write-only) is passed as it is.
    const bool read_only = (fcntl(from, F_GETFL) & O_ACCMODE) == O_RDONLY;
    fresh.emplace_back(read_only ? open(("/proc/self/fd/" + std::to_string(from)).c_str(), O_RDONLY | O_CLOEXEC)
                                 : fcntl(from, F_DUPFD_CLOEXEC, 0));
    if (fresh.back().fd < 0) throw Error(common::errno_message("reopen a trace", errno));
    placed.emplace_back(fresh.back().fd, to);
  }
  const pid_t pid = fork();
  if (pid < 0) throw Error(common::errno_message("fork", errno));
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    for (const auto& [from, to] : placed)
      if (dup2(from, to) < 0) _exit(kExitError);
    if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0) _exit(kExitError);
    if (as) {
      if (!become(*as)) {
        std::fprintf(stderr, "capaudit verify: cannot drop to uid %u: %s\n", as->uid, std::strerror(errno));
        _exit(kExitError);
      }
    }
    execvp(args[0], args.data());
    std::fprintf(stderr, "capaudit verify: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  return wait_for(pid);
}

int exit_code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : kExitError; }

// What the analyzer said the re-run must be (capaudit-analyze verify --plan).
struct Plan {
  std::string caps;  // recorder spelling: cap_chown,cap_net_raw or none
  uint32_t uid = 0, gid = 0;
  bool root = true;
  std::vector<std::string> podman_args;
  std::vector<std::string> unit_lines;
};

class Verifier {
 public:
  Verifier(Options opts) : opts_(std::move(opts)), account_(analysis_account()) {
    char tmpl[] = "/tmp/capaudit-verify-XXXXXX";
    if (!mkdtemp(tmpl)) throw Error(common::errno_message("mkdtemp /tmp", errno));
    dir_ = tmpl;
  }
  ~Verifier() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  int run_all();

 private:
  void say(const std::string& what) const { std::cerr << "capaudit verify: " << what << "\n"; }
  // A trace root records: the recorder writes it into root's directory; root
  // keeps it as an open read-only descriptor for the analyzer.
  std::string record(const std::string& name, const std::vector<std::string>& recorder_opts,
                     const std::vector<std::string>& target);
  // The analyzer's inputs: the given paths, and root's traces as fd:N.
  std::vector<std::string> original_inputs(std::vector<std::pair<int, int>>& fds) const;
  std::vector<std::string> analyzer_base(const char* what, const std::string& caps) const;
  Plan plan(const std::string& caps_override, int* exit_code);
  std::string rerun(const std::string& name, const Plan& p);
  int open_new(const std::string& path) const;

  Options opts_;
  Account account_;
  fs::path dir_;
  std::map<std::string, int> fd_of_;
  std::vector<int> given_fds_;  // the given traces, opened by root when root itself asked
};

std::string Verifier::record(const std::string& name, const std::vector<std::string>& recorder_opts,
                             const std::vector<std::string>& target) {
  const fs::path path = dir_ / (name + ".cap");
  std::vector<std::string> argv{find_tool("capaudit-record"), "-o", path.string(), "--no-status"};
  argv.insert(argv.end(), recorder_opts.begin(), recorder_opts.end());
  argv.insert(argv.end(), target.begin(), target.end());
  if (opts_.verbose) {
    std::string line;
    for (const auto& a : argv) line += " " + a;
    say("running" + line);
  }
  const int status = run(argv, std::nullopt);
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
    if (fd >= 0) close(fd);
    throw Error("no trace was recorded for the " + name + " run (capaudit-record " +
                    (WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status)) : std::string("was killed")) + ")",
                "run the same with -v, or record it with capaudit-record to see why");
  }
  // The recorder gave the file to the sudo user; here it is root's again.
  if (fchown(fd, 0, 0) != 0 || fchmod(fd, 0400) != 0) throw Error(common::errno_message("fchown " + path.string(), errno));
  fd_of_[name] = fd;
  return name;
}

std::vector<std::string> Verifier::original_inputs(std::vector<std::pair<int, int>>& fds) const {
  std::vector<std::string> out;
  if (!given_fds_.empty()) {
    // Root asked (no sudo user): root's own descriptors of the given traces.
    for (int fd : given_fds_) {
      const int to = kFirstInputFd + static_cast<int>(fds.size());
      fds.emplace_back(fd, to);
      out.push_back("fd:" + std::to_string(to));
    }
    return out;
  }
  if (!opts_.traces.empty()) return opts_.traces;  // the sudo user's files, opened as the sudo user
  fds.emplace_back(fd_of_.at("original"), kFirstInputFd);
  out.push_back("fd:" + std::to_string(kFirstInputFd));
  return out;
}

std::vector<std::string> Verifier::analyzer_base(const char* what, const std::string& caps) const {
  std::vector<std::string> argv{find_tool("capaudit-analyze"), "verify", "--runtime", opts_.runtime};
  if (what[0]) argv.push_back(what);
  if (!opts_.deploy_as.empty()) argv.insert(argv.end(), {"--deploy-as", opts_.deploy_as});
  if (!caps.empty()) argv.insert(argv.end(), {"--caps", caps});
  return argv;
}

Plan Verifier::plan(const std::string& caps_override, int* exit_code) {
  std::vector<std::pair<int, int>> fds;
  std::vector<std::string> argv = analyzer_base("--plan", caps_override);
  for (const auto& in : original_inputs(fds)) argv.push_back(in);
  argv.push_back("--");
  argv.insert(argv.end(), opts_.command.begin(), opts_.command.end());
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) throw Error(common::errno_message("pipe", errno));
  Fd rd(pipefd[0]);
  std::string text;
  int status = 0;
  {
    Fd wr(pipefd[1]);
    // The plan is a few lines: the pipe holds it while the analyzer runs.
    status = run(argv, account_, fds, wr.fd);
  }
  char buf[4096];
  for (ssize_t n; (n = read(rd.fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  *exit_code = exit_code_of(status);
  Plan p;
  std::istringstream lines(text);
  bool have_caps = false;
  for (std::string l; std::getline(lines, l);) {
    const auto sp = l.find(' ');
    const std::string key = l.substr(0, sp), value = sp == std::string::npos ? "" : l.substr(sp + 1);
    if (key == "caps") {
      p.caps = value;
      have_caps = true;
    } else if (key == "uid") {
      p.uid = static_cast<uint32_t>(std::stoul(value));
    } else if (key == "gid") {
      p.gid = static_cast<uint32_t>(std::stoul(value));
    } else if (key == "root") {
      p.root = value == "yes";
    } else if (key == "podman-arg") {
      p.podman_args.push_back(value);
    } else if (key == "unit") {
      p.unit_lines.push_back(value);
    }
  }
  if (!have_caps && *exit_code != kExitNegative)
    throw Error("the analyzer gave no plan (capaudit-analyze verify --plan exited " + std::to_string(*exit_code) + ")",
                "", *exit_code == kExitOk || *exit_code == kExitIncomplete ? kExitError : *exit_code);
  return p;
}

std::string Verifier::rerun(const std::string& name, const Plan& p) {
  // Denials are the point of a verify run: every outcome, from the start.
  std::vector<std::string> ropts{"--outcomes", "all"};
  std::vector<std::string> target;
  if (opts_.runtime == "host") {
    if (!p.root) ropts.insert(ropts.end(), {"--user", std::to_string(p.uid)});
    ropts.insert(ropts.end(), {"--caps", p.caps});
    target.push_back("--");
    target.insert(target.end(), opts_.command.begin(), opts_.command.end());
  } else if (opts_.runtime == "podman") {
    target = {"--", "podman", "run", "--rm"};
    target.insert(target.end(), opts_.engine_args.begin(), opts_.engine_args.end());
    target.insert(target.end(), p.podman_args.begin(), p.podman_args.end());
    target.push_back(opts_.image);
    target.insert(target.end(), opts_.command.begin(), opts_.command.end());
  } else {
    const fs::path unit = dir_ / (name + ".service");
    std::ofstream out(unit);
    for (const auto& l : p.unit_lines) out << l << "\n";
    out.close();
    if (!out) throw Error("cannot write " + unit.string());
    if (opts_.verbose)
      for (const auto& l : p.unit_lines) say("  " + name + ".service: " + l);
    ropts.insert(ropts.end(), {"--service", unit.string()});
  }
  return record(name, ropts, target);
}

// A new output file (never overwritten), given to the analysis account, which writes it.
int Verifier::open_new(const std::string& path) const {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(common::errno_message("create " + path, errno));
  if (fchown(fd, account_.uid, account_.gid) != 0) {
    const int err = errno;
    close(fd);
    unlink(path.c_str());
    throw Error(common::errno_message("chown " + path, err));
  }
  return fd;
}

int Verifier::run_all() {
  // Under sudo the analyzer opens the given traces as the sudo user (who
  // named them); root itself is trusted with its own choice of files.
  if (!account_.sudo_user) {
    for (const auto& t : opts_.traces) {
      const int fd = open(t.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw Error(common::errno_message("open " + t, errno));
      given_fds_.push_back(fd);
    }
  }
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  if (opts_.traces.empty()) {
    say("recording the original run as root");
    std::vector<std::string> target{"--"};
    if (opts_.runtime == "podman") {
      target.insert(target.end(), {"podman", "run", "--rm"});
      target.insert(target.end(), opts_.engine_args.begin(), opts_.engine_args.end());
      // podman's default set: with every capability (--cap-add=ALL) the
      // container's credentials equal the overlay mounter's, and its
      // copy-up checks could no longer be told apart from the program's.
      target.push_back(opts_.image);
    }
    target.insert(target.end(), opts_.command.begin(), opts_.command.end());
    record("original", {}, target);
  }
  int plan_exit = 0;
  const Plan full = plan(opts_.caps, &plan_exit);
  if (plan_exit == kExitNegative) {
    say("the original run failed (capaudit-analyze report says why): there is nothing to verify");
    return kExitNegative;
  }
  const std::string who = full.root ? "root" : "uid " + std::to_string(full.uid);
  say("re-running as " + who + " with " + (full.caps == "none" ? "no capabilities" : full.caps) + (opts_.runtime == "host" ? "" : " (" + opts_.runtime + ")"));
  rerun("rerun", full);
  std::vector<std::pair<std::string, std::string>> without;  // cap -> run name
  if (opts_.minimize && full.caps != "none") {
    std::vector<std::string> caps;
    std::istringstream in(full.caps);
    for (std::string c; std::getline(in, c, ',');) caps.push_back(c);
    for (const auto& cap : caps) {
      std::string rest;
      for (const auto& c : caps)
        if (c != cap) rest += (rest.empty() ? "" : ",") + c;
      if (rest.empty()) rest = "none";
      int e = 0;
      const Plan p = plan(rest, &e);
      say("re-running without " + cap);
      without.emplace_back(cap, rerun("without-" + cap, p));
    }
  }
  // The verdict, from the analyzer as the analysis account.
  std::vector<std::pair<int, int>> fds;
  std::vector<std::string> argv = analyzer_base("", opts_.caps);
  const auto inputs = original_inputs(fds);
  int next = kFirstInputFd + static_cast<int>(fds.size());
  fds.emplace_back(fd_of_.at("rerun"), next);
  argv.insert(argv.end(), {"--rerun", "fd:" + std::to_string(next++)});
  for (const auto& [cap, name] : without) {
    fds.emplace_back(fd_of_.at(name), next);
    argv.insert(argv.end(), {"--without", cap + "=fd:" + std::to_string(next++)});
  }
  argv.insert(argv.end(), {"--command-line", opts_.command_line});
  Fd result_fd;
  if (!opts_.result.empty()) {
    result_fd.fd = open_new(opts_.result);
    fds.emplace_back(result_fd.fd, next);
    argv.insert(argv.end(), {"--result", "fd:" + std::to_string(next++)});
  }
  argv.insert(argv.end(), inputs.begin(), inputs.end());
  int report = -1;
  if (opts_.output.empty()) {
    report = dup(2);
  } else if (opts_.output == "-") {
    report = dup(1);
  } else {
    report = open_new(opts_.output);
  }
  Fd report_fd(report);
  const int status = run(argv, account_, fds, report_fd.fd);
  const int code = exit_code_of(status);
  if (code != kExitOk && code != kExitIncomplete && code != kExitNegative && result_fd.fd >= 0) {
    // No verdict, no result: remove the file we created (only if it still is ours and empty).
    struct stat mine {}, now {};
    if (fstat(result_fd.fd, &mine) == 0 && mine.st_size == 0 && lstat(opts_.result.c_str(), &now) == 0 &&
        now.st_dev == mine.st_dev && now.st_ino == mine.st_ino)
      unlink(opts_.result.c_str());
  }
  if (plan_exit == kExitIncomplete && code == kExitOk) return kExitIncomplete;
  return code;
}

}  // namespace

int verify_main(int argc, char** argv) {
  if (auto why = common::elevated_exec_reason())
    throw Error("refusing to run: this copy " + *why, "run capaudit as root (sudo); never install it setuid or with file capabilities");
  Verifier v(parse(argc, argv));
  return v.run_all();
}

}  // namespace capaudit::front
