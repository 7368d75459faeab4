// Process identity on real recordings: a child that forks without exec runs
// its parent's image, and a process already running at -p gets its image from
// the kernel at attach time. Every output (report text, JSON, every config
// format) names real paths, never an "unknown executable".
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/capabilities.h"
#include "tests/support/process.h"
#include "tests/support/scratch_dir.h"
#include "tests/record/e2e_support.h"

namespace capaudit::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
namespace fs = std::filesystem;

const char* const kFormats[] = {"systemd", "docker", "podman", "compose", "kubernetes",
                                "setcap",  "filecap", "c",     "python"};




bool has_header(const std::string& path) {
  Trace t;
  return common::read_trace(path, t).has_header;
}

RunResult analyze(const std::vector<std::string>& args) {
  std::vector<std::string> argv{CAPAUDIT_ANALYZE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_program(argv);
}

// Every output of the analyzer for TRACE names EXE and nothing unknown.
void expect_named_everywhere(const std::string& trace, const std::string& exe) {
  const std::string base = fs::path(exe).filename().string();
  auto report = analyze({"report", trace});
  EXPECT_EQ(report.out.find("unknown executable"), std::string::npos) << report.out;
  EXPECT_EQ(report.out.find("not recorded"), std::string::npos) << report.out;
  EXPECT_NE(report.out.find(exe), std::string::npos) << report.out;

  auto json = analyze({"report", "-f", "json", trace});
  Json j = Json::parse(json.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << json.out << json.err;
  ASSERT_FALSE(j["executables"].empty());
  for (const auto& e : j["executables"]) {
    ASSERT_TRUE(e["path"].is_string()) << e.dump();
    EXPECT_EQ(e["path"].get<std::string>(), exe) << e.dump();
  }

  for (const char* format : kFormats) {
    auto cfg = analyze({"config", "-f", format, trace});
    SCOPED_TRACE(format);
    EXPECT_EQ(cfg.out.find("unknown"), std::string::npos) << cfg.out;
    EXPECT_EQ(cfg.out.find("not name"), std::string::npos) << cfg.out;
    EXPECT_EQ(cfg.out.find("(pid"), std::string::npos) << cfg.out;
    EXPECT_NE(cfg.out.find("recommendation for " + base), std::string::npos) << cfg.out;
    const std::string f = format;
    if (f == "setcap" || f == "filecap") EXPECT_NE(cfg.out.find(" " + exe), std::string::npos) << cfg.out;
    if (f == "systemd") EXPECT_NE(cfg.out.find("/etc/systemd/system/" + base + ".service.d/"), std::string::npos);
    if (f == "compose") EXPECT_NE(cfg.out.find("\n  " + base + ":\n"), std::string::npos) << cfg.out;
  }
}

// The recommended capabilities of EXE in TRACE's JSON report.
std::set<std::string> recommended_for(const std::string& trace, const std::string& exe) {
  Json j = Json::parse(analyze({"report", "-f", "json", trace}).out, nullptr, false);
  std::set<std::string> out;
  if (j.is_discarded()) return out;
  for (const auto& e : j["executables"])
    if (e["path"] == exe)
      for (const auto& c : e["recommended"]) out.insert(c.get<std::string>());
  return out;
}

std::string real_helper() { return fs::canonical(helper_path()).string(); }

TEST(Identity, APreforkedWorkerRunsItsParentsImage) {
  CAPAUDIT_REQUIRE_ROOT();
  // Root parent forks; the worker chowns, then drops to nobody. No exec.
  auto r = record({}, {helper_path(), "prefork"}, "prefork");
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  ASSERT_EQ(r.trace.read.status, common::ReadStatus::complete) << r.trace.read.message;
  ASSERT_FALSE(r.trace.forks.empty());
  expect_named_everywhere(r.path, real_helper());
  EXPECT_EQ(recommended_for(r.path, real_helper()), (std::set<std::string>{"CAP_CHOWN", "CAP_SETGID", "CAP_SETUID"}));
  fs::remove(r.path);
}

TEST(Identity, PythonForkChildIsPython) {
  CAPAUDIT_REQUIRE_ROOT();
  const std::string py = "/usr/bin/python3";
  if (!fs::exists(py)) GTEST_SKIP() << "no " << py;
  auto r = record({}, {py, "-c",
                       "import os\n"
                       "pid = os.fork()\n"
                       "if pid == 0:\n"
                       "    os.setgroups([]); os.setgid(65534); os.setuid(65534); os._exit(0)\n"
                       "os.waitpid(pid, 0)\n"},
                  "pyfork");
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  expect_named_everywhere(r.path, fs::canonical(py).string());
  fs::remove(r.path);
}

// A free TCP port on 127.0.0.1 (the kernel's pick; closed again at once).
int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(a.sin_port);
}

// nginx with a master and one worker, everything under DIR.
struct Nginx {
  ScratchDir scratch;
  fs::path dir;
  std::string conf, pidfile;
  int port = 0;
  static constexpr const char* kBin = "/usr/sbin/nginx";

  // 0755: the worker (nobody) reaches its files below it.
  explicit Nginx(const std::string& tag) : scratch("capaudit-nginx-" + tag, 0755), dir(scratch.path()) {
    // The worker (nobody) only reads what it serves; the rest is the master's.
    port = free_port();
    conf = (dir / "nginx.conf").string();
    pidfile = (dir / "nginx.pid").string();
    std::ofstream(conf) << "worker_processes 1;\n"
                        << "error_log " << (dir / "error.log").string() << ";\n"
                        << "pid " << pidfile << ";\n"
                        << "events { worker_connections 16; }\n"
                        << "http {\n  access_log off;\n"
                        << "  client_body_temp_path " << (dir / "body").string() << ";\n"
                        << "  proxy_temp_path " << (dir / "proxy").string() << ";\n"
                        << "  fastcgi_temp_path " << (dir / "fcgi").string() << ";\n"
                        << "  uwsgi_temp_path " << (dir / "uwsgi").string() << ";\n"
                        << "  scgi_temp_path " << (dir / "scgi").string() << ";\n"
                        << "  server { listen 127.0.0.1:" << port << "; return 200 \"ok\\n\"; }\n}\n";
  }
  std::vector<std::string> argv() const { return {kBin, "-c", conf, "-g", "daemon off; master_process on;"}; }
  pid_t master() const {
    std::ifstream in(pidfile);
    pid_t p = 0;
    in >> p;
    return p;
  }
  // The worker answers: it has been forked and dropped to nobody.
  bool serving() const {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (ok) {
      const char req[] = "GET / HTTP/1.0\r\n\r\n";
      char buf[64] = {};
      ok = write(fd, req, sizeof req - 1) > 0 && read(fd, buf, sizeof buf - 1) > 0 && std::strstr(buf, "200");
    }
    close(fd);
    return ok;
  }
};

TEST(Identity, NginxMasterAndWorkerAreNginxInEveryConfig) {
  CAPAUDIT_REQUIRE_ROOT();
  if (!fs::exists(Nginx::kBin)) GTEST_SKIP() << "no nginx (scripts/setup installs nginx-light)";
  Nginx ngx("cmd");
  ASSERT_NE(ngx.port, 0);
  std::string out = temp_trace_path("nginx");
  std::vector<std::string> argv{recorder_path(), "--no-status", "-o", out, "--"};
  for (const auto& a : ngx.argv()) argv.push_back(a);
  pid_t recorder = spawn_quiet(argv);
  ASSERT_TRUE(wait_for([&] { return ngx.serving(); })) << "nginx did not serve";
  pid_t master = ngx.master();
  ASSERT_GT(master, 0);
  kill(master, SIGQUIT);  // graceful: the worker finishes, then the master
  int st = wait_status(recorder);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  Trace t = load_trace(out);
  ASSERT_EQ(t.read.status, common::ReadStatus::complete) << t.read.message;
  ASSERT_FALSE(t.forks.empty());
  expect_named_everywhere(out, Nginx::kBin);
  const auto caps = recommended_for(out, Nginx::kBin);
  EXPECT_TRUE(caps.count("CAP_SETUID") && caps.count("CAP_SETGID")) << "the worker's drop to nobody";
  fs::remove(out);
}

TEST(Identity, DashPNamesAWorkerThatDroppedToNobodyBeforeTheAttach) {
  CAPAUDIT_REQUIRE_ROOT();
  if (!fs::exists(Nginx::kBin)) GTEST_SKIP() << "no nginx (scripts/setup installs nginx-light)";
  Nginx ngx("pid");
  ASSERT_NE(ngx.port, 0);
  pid_t launcher = spawn_quiet(ngx.argv());
  ASSERT_TRUE(wait_for([&] { return ngx.serving(); })) << "nginx did not serve";
  pid_t master = ngx.master();
  ASSERT_EQ(master, launcher);
  std::string out = temp_trace_path("nginx-p");
  pid_t recorder = spawn_quiet({recorder_path(), "--no-status", "-o", out, "-p", std::to_string(master)});
  ASSERT_TRUE(wait_for([&] { return has_header(out); }));
  // A reload: the master forks new workers (setgid/setuid again), the old one quits.
  kill(master, SIGHUP);
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(ngx.serving());
  kill(master, SIGQUIT);
  wait_status(launcher);
  int st = wait_status(recorder);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  Trace t = load_trace(out);
  ASSERT_EQ(t.read.status, common::ReadStatus::complete) << t.read.message;
  // The snapshot names the worker that runs as nobody (its /proc/PID/exe
  // needs ptrace access: read while the recorder is still privileged).
  ASSERT_GE(t.processes.size(), 2u);
  for (const auto& p : t.processes) EXPECT_EQ(p.exe, Nginx::kBin) << "pid " << p.pid << " uid " << p.uid;
  expect_named_everywhere(out, Nginx::kBin);
  fs::remove(out);
}

// access() checks with credentials built from the task's own (real uid as
// fsuid, effective set cleared for a non-root real uid): a different struct
// cred, but the program's own identity, so not borrowed.
TEST(BorrowedCredentials, AccessOverridesWithCredentialsDerivedFromTheTasksOwn) {
  CAPAUDIT_REQUIRE_ROOT();
  const std::string py = "/usr/bin/python3";
  if (!fs::exists(py)) GTEST_SKIP() << "no " << py;
  auto r = record({}, {py, "-c", "import os\nos.setresuid(1000, 0, 0)\nos.access('/root', os.W_OK)\n"}, "access");
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  bool derived = false;
  for (const auto& c : r.trace.checks) {
    if (c.cap != 1 /* CAP_DAC_OVERRIDE */) continue;
    EXPECT_EQ(c.checked_cred, common::CheckedCred::derived);
    EXPECT_EQ(c.checked_euid, 0u);
    EXPECT_FALSE(c.granted);  // the real uid 1000 has no capabilities
    derived = true;
  }
  EXPECT_TRUE(derived) << "no DAC_OVERRIDE check from access()";
  for (const auto& c : r.trace.checks)
    if (c.cap != 1) EXPECT_EQ(c.checked_cred, common::CheckedCred::own) << c.cap;
  // The program's own denial, assessed as such (not advisory).
  Json j = Json::parse(analyze({"report", "-f", "json", r.path}).out, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  for (const auto& f : j["caps"])
    if (f["name"] == "CAP_DAC_OVERRIDE") EXPECT_EQ(f["category"], "denied_only") << f.dump();
  fs::remove(r.path);
}

// An exec from a memfd (what runc 1.1 falls back to) is named as /proc
// names it, "/memfd:NAME (deleted)", not "/".
TEST(Identity, AnExecFromAMemfdIsNamedAsTheKernelNamesIt) {
  CAPAUDIT_REQUIRE_ROOT();
  const std::string py = "/usr/bin/python3";
  if (!fs::exists(py)) GTEST_SKIP() << "no " << py;
  auto r = record({}, {py, "-c",
                       "import os\nfd = os.memfd_create('capaudit-test', 0)\n"
                       "os.write(fd, open('/bin/true', 'rb').read())\nos.execve(fd, ['mytrue'], {})\n"},
                  "memfd");
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  ASSERT_EQ(r.trace.execs.size(), 2u);
  EXPECT_EQ(r.trace.execs[1].filename, "/memfd:capaudit-test (deleted)");
  fs::remove(r.path);
}

// ---- containers: podman and docker (both run runc), for real ----

// A container engine as these tests drive it.
struct Engine {
  std::string name;              // podman, docker: also the config format and the recorder's engine name
  std::string bin;               // its CLI
  std::vector<std::string> run;  // `run` and what this host needs besides the flags under test
  std::vector<std::string> rm;   // removes a container, running or not
};

const Engine& engine_named(const std::string& name) {
  // crun cannot start containers on this cgroup layout; root here lacks
  // CAP_SYS_RESOURCE, so podman's default limits (above the current ones) fail.
  static const Engine podman{"podman", "/usr/bin/podman",
                             {"run", "--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"},
                             {"rm", "-f", "-t", "0"}};
  // docker runs runc and sets no limits unless asked (a container keeps
  // dockerd's). Debian's client: another docker may come first in PATH.
  static const Engine docker{"docker", "/usr/bin/docker", {"run"}, {"rm", "-f"}};
  return name == "docker" ? docker : podman;
}

// A tiny image built offline: busybox-static in an otherwise empty rootfs.
bool build_busybox_image(const Engine& e) {
  // 0755: the directory is the image's /, which nobody in the container traverses.
  const ScratchDir scratch("capaudit-rootfs-" + e.name, 0755);
  const fs::path& root = scratch.path();
  fs::create_directories(root / "bin");
  fs::create_directories(root / "etc");
  fs::create_directories(root / "tmp");
  fs::copy_file("/bin/busybox", root / "bin/busybox");
  for (const char* a : {"sh", "chown", "sleep", "touch"}) fs::create_symlink("busybox", root / "bin" / a);
  std::ofstream(root / "etc/passwd") << "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n";
  auto r = run_program({"/bin/sh", "-c", "tar -C " + root.string() + " -c . | " + e.bin + " import - capaudit-test:busybox"});
  return r.exit_code() == 0;
}

struct Container {
  const Engine& engine;
  std::string name;
  explicit Container(const Engine& e, const std::string& suffix = "")
      : engine(e), name("capaudit-e2e-" + e.name + "-" + std::to_string(getpid()) + suffix) {}
  ~Container() {
    std::vector<std::string> argv{engine.bin};
    argv.insert(argv.end(), engine.rm.begin(), engine.rm.end());
    argv.push_back(name);
    run_program(argv);
  }
};

// The `ENGINE run ... IMAGE` line of config output CFG, or "".
std::string run_line(const std::string& cfg, const std::string& engine) {
  const auto at = cfg.find("\n" + engine + " run ");
  if (at == std::string::npos) return "";
  return cfg.substr(at + 1, cfg.find('\n', at + 1) - at - 1);
}

// A /proc/self/status capability mask printed in OUT.
std::optional<uint64_t> cap_field(const std::string& out, const std::string& key) {
  const auto p = out.find(key + ":\t");
  if (p == std::string::npos) return std::nullopt;
  return std::strtoull(out.c_str() + p + key.size() + 2, nullptr, 16);
}

// The real-engine tests of one engine: it is installed (a skip fails CI), its
// daemon answers, the image is built.
class EngineTest : public ::testing::Test {
 protected:
  explicit EngineTest(const std::string& engine) : e_(engine_named(engine)) {}
  void SetUp() override {
    CAPAUDIT_REQUIRE_ROOT();
    if (!fs::exists(e_.bin) || !fs::exists("/usr/sbin/runc"))
      GTEST_SKIP() << "no " << e_.name << "/runc (scripts/setup installs them)";
    if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "no busybox-static";
    if (e_.name == "docker") {
      // dockerd is a service: started here where nothing else has (CI).
      auto up = run_program({CAPAUDIT_SOURCE_DIR "/scripts/dockerd"});
      ASSERT_EQ(up.exit_code(), 0) << "the Docker daemon does not run here:\n" << up.err;
    }
    ASSERT_TRUE(build_busybox_image(e_));
  }

  // LINE as emitted ("ENGINE run FLAGS IMAGE") run with IMAGE replaced by the
  // test image running SCRIPT; this host's needs and EXTRA (the test's own
  // flags) go before the emitted ones. Output: stdout and stderr.
  RunResult run_emitted(const std::string& line, const std::string& script, const std::string& extra = "") const {
    const std::string head = e_.name + " run";
    EXPECT_EQ(line.rfind(head + " ", 0), 0u) << line;
    EXPECT_EQ(line.substr(line.size() - 6), " IMAGE") << line;
    std::string cmd = e_.bin;
    for (const auto& a : e_.run) cmd += " " + a;
    cmd += " --rm" + extra + line.substr(head.size(), line.size() - 6 - head.size());
    return run_program({"/bin/sh", "-c", cmd + " capaudit-test:busybox sh -c '" + script + "' 2>&1"});
  }

  // Starts a detached container NAME with FLAGS running SCRIPT.
  RunResult start(const Container& c, const std::vector<std::string>& flags, const std::string& script) const {
    std::vector<std::string> argv{e_.bin};
    argv.insert(argv.end(), e_.run.begin(), e_.run.end());
    argv.insert(argv.end(), {"-d", "--name", c.name});
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"capaudit-test:busybox", "sh", "-c", script});
    return run_program(argv);
  }

  const Engine& e_;
};

// The tests every engine must pass.
class ContainerIn : public EngineTest, public ::testing::WithParamInterface<std::string> {
 protected:
  ContainerIn() : EngineTest(GetParam()) {}
};
class Podman : public EngineTest {
 protected:
  Podman() : EngineTest("podman") {}
};
class Docker : public EngineTest {
 protected:
  Docker() : EngineTest("docker") {}
};

// A port below the host's ip_unprivileged_port_start (0 when there is none):
// a host recording of a bind to it has the CAP_NET_BIND_SERVICE check.
int low_port(int salt) {
  std::ifstream ports("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int start = 0;
  ports >> start;
  const int port = 900 + (getpid() + salt) % 100;
  return port < start ? port : 0;
}

TEST_P(ContainerIn, AChownWithACopyUpIsChownOnlyAndTheRuntimeIsApart) {
  Container c(e_);
  auto run = start(c, {"--cap-drop=ALL", "--cap-add=CHOWN"},
                   "while [ ! -e /tmp/go ]; do sleep 0.1; done; chown 65534 /etc/passwd; sleep 0.3");
  ASSERT_EQ(run.exit_code(), 0) << run.err;
  std::string out = temp_trace_path("container");
  pid_t recorder = spawn_quiet({recorder_path(), "--no-status", "-o", out, "--container", c.name});
  ASSERT_TRUE(wait_for([&] { return has_header(out); }));
  // ENGINE exec: runc init enters the container's cgroup, then execs touch.
  auto go = run_program({e_.bin, "exec", c.name, "touch", "/tmp/go"});
  ASSERT_EQ(go.exit_code(), 0) << go.err;
  auto waited = run_program({e_.bin, "wait", c.name});
  EXPECT_EQ(waited.out, "0\n") << waited.err;
  kill(recorder, SIGINT);
  int st = wait_status(recorder);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;

  Trace t = load_trace(out);
  ASSERT_EQ(t.read.status, common::ReadStatus::complete) << t.read.message;
  EXPECT_NE(t.header.target.find(e_.name + " container " + c.name), std::string::npos) << t.header.target;
  Json j = Json::parse(analyze({"report", "-f", "json", out}).out, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["recommended"], Json::array({"CAP_CHOWN"})) << j["recommended"].dump();
  bool credentials = false;
  for (const auto& f : j["caps"])
    credentials |= f["category"] == "advisory" && f["noise_basis"] == "credentials";
  EXPECT_TRUE(credentials) << "the overlayfs copy-up's checks with the mounter's credentials";
  bool runtime = false;
  for (const auto& e : j["executables"]) {
    if (!e.value("runtime", false)) continue;
    runtime = true;
    EXPECT_TRUE(e["recommended"].empty()) << e.dump();
    EXPECT_FALSE(e["caps"].empty()) << "runc init's setup checks are recorded";
  }
  EXPECT_TRUE(runtime) << "runc init of the " << e_.name << " exec, shown apart";
  for (const char* format : kFormats) {
    auto cfg = analyze({"config", "-f", format, out});
    EXPECT_EQ(cfg.out.find("runtime"), std::string::npos) << format << "\n" << cfg.out;
    for (const char* cap : {"SETPCAP", "SETUID", "SETGID", "DAC_OVERRIDE", "SYS_ADMIN"})
      EXPECT_EQ(cfg.out.find(std::string("Needed: CAP_CHOWN\n")) == std::string::npos ? cfg.out.find(cap) : std::string::npos,
                std::string::npos)
          << format << "\n" << cfg.out;
    EXPECT_NE(cfg.out.find("Needed: CAP_CHOWN\n"), std::string::npos) << format << "\n" << cfg.out;
  }
  EXPECT_NE(analyze({"config", "-f", e_.name, out}).out.find("--cap-drop=ALL --cap-add=CHOWN "), std::string::npos);
  auto check = analyze({"check", "--caps", "CAP_CHOWN", out});
  EXPECT_EQ(check.exit_code(), 0) << check.out << check.err;  // nothing missing, nothing in excess

  // Once it has stopped, the recorder says so instead of recording nothing.
  auto stopped = run_program({recorder_path(), "--no-status", "-o", temp_trace_path("stopped"), "--container", c.name});
  EXPECT_EQ(stopped.exit_code(), 1);
  EXPECT_NE(stopped.err.find(e_.name + " container " + c.name + " is not running"), std::string::npos) << stopped.err;
  auto unknown = run_program({recorder_path(), "--no-status", "-o", temp_trace_path("nosuch"), "--container",
                              "capaudit-no-such-container"});
  EXPECT_EQ(unknown.exit_code(), 1);
  EXPECT_NE(unknown.err.find("no running container"), std::string::npos) << unknown.err;
  if (e_.name == "docker") {
    // The docker CLI pointed at a daemon that is not there: the real
    // client's error, said as such.
    auto down = run_program({"/usr/bin/env", "DOCKER_HOST=unix:///run/capaudit-no-dockerd.sock", recorder_path(),
                             "--no-status", "-o", temp_trace_path("nodaemon"), "--container", c.name});
    EXPECT_EQ(down.exit_code(), 1);
    EXPECT_NE(down.err.find("docker: the Docker daemon is not running (Cannot connect to the Docker daemon"),
              std::string::npos)
        << down.err;
  }
  fs::remove(out);
}

// The podman snippet for a non-root deployment, taken as emitted (IMAGE
// replaced): podman makes --cap-add ambient for a non-root --user, so the
// container binds port 80 with no file capabilities, no-new-privileges on;
// without the emitted NET_BIND_SERVICE the bind fails with EACCES. Also the
// podman profile's values, read inside the container.
TEST_F(Podman, TheEmittedNonRootFlagsBindPort80) {
  const int port = low_port(75);
  if (port == 0) GTEST_SKIP() << "ip_unprivileged_port_start is low: binding needs no capability";
  auto r = record({}, {helper_path(), "bind-tcp4-80", std::to_string(port)}, "bind");
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  auto cfg = analyze({"config", "--config", "podman", "--deploy-as", "65534:65534", r.path});
  ASSERT_EQ(cfg.exit_code(), 0) << cfg.err;
  const std::string line = run_line(cfg.out, "podman");
  ASSERT_FALSE(line.empty()) << cfg.out;
  EXPECT_NE(line.find(" --cap-add=NET_BIND_SERVICE"), std::string::npos) << line;
  EXPECT_NE(line.find(" --user=65534:65534"), std::string::npos) << line;
  EXPECT_NE(line.find(" --security-opt=no-new-privileges"), std::string::npos) << line;
  const std::string workload =
      "grep CapAmb /proc/self/status; cat /proc/sys/net/ipv4/ip_unprivileged_port_start"
      " /proc/sys/net/ipv4/ping_group_range; busybox nc -l -p 80 & sleep 0.5; busybox netstat -ltn | grep -q \":80 \""
      " && echo bound; kill $! 2>/dev/null; wait";
  auto ok = run_emitted(line, workload);
  EXPECT_NE(ok.out.find("CapAmb:\t0000000000000400"), std::string::npos) << line << "\n" << ok.out;
  EXPECT_NE(ok.out.find("\n1024\n0\t0\n"), std::string::npos) << "the podman profile's values\n" << ok.out;
  EXPECT_NE(ok.out.find("bound"), std::string::npos) << ok.out;
  std::string without = line;
  without.erase(without.find(" --cap-add=NET_BIND_SERVICE"), std::string(" --cap-add=NET_BIND_SERVICE").size());
  auto denied = run_emitted(without, workload);
  EXPECT_EQ(denied.out.find("bound"), std::string::npos) << without << "\n" << denied.out;
  EXPECT_NE(denied.out.find("Permission denied"), std::string::npos) << denied.out;
  fs::remove(r.path);
}

// Docker (>= 20.10) sets ip_unprivileged_port_start=0 in every container: the
// docker snippet for a non-root bind to a low port adds no capability at all,
// and taken as emitted it binds port 80 as nobody with every capability gone.
// It is the sysctl that does it: with the host's value put back
// (--sysctl ...=1024) the same flags fail with EACCES. And the host-profile
// snippet's warning is true: docker puts the added NET_BIND_SERVICE in the
// bounding set only (nothing effective, nothing ambient for a non-root user),
// so without file capabilities that bind fails too.
TEST_F(Docker, TheEmittedNonRootFlagsBindPort80WithNoCapability) {
  const int port = low_port(53);
  if (port == 0) GTEST_SKIP() << "ip_unprivileged_port_start is low: binding needs no capability";
  auto r = record({}, {helper_path(), "bind-tcp4-80", std::to_string(port)}, "dockerbind");
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  auto cfg = analyze({"config", "--config", "docker", "--deploy-as", "65534:65534", r.path});
  ASSERT_EQ(cfg.exit_code(), 0) << cfg.err;
  const std::string line = run_line(cfg.out, "docker");
  EXPECT_EQ(line, "docker run --cap-drop=ALL --user=65534:65534 --security-opt=no-new-privileges IMAGE") << cfg.out;
  EXPECT_NE(cfg.out.find("Evaluated under the docker profile"), std::string::npos) << cfg.out;
  const std::string workload =
      "grep ^Cap /proc/self/status; cat /proc/sys/net/ipv4/ip_unprivileged_port_start"
      " /proc/sys/net/ipv4/ping_group_range; busybox nc -l -p 80 & sleep 0.5; busybox netstat -ltn | grep -q \":80 \""
      " && echo bound; kill $! 2>/dev/null; wait";
  auto ok = run_emitted(line, workload);
  for (const char* key : {"CapEff", "CapPrm", "CapBnd", "CapAmb"}) EXPECT_EQ(cap_field(ok.out, key), 0u) << key << "\n" << ok.out;
  EXPECT_NE(ok.out.find("\n0\n0\t2147483647\n"), std::string::npos) << "the docker profile's values\n" << ok.out;
  EXPECT_NE(ok.out.find("bound"), std::string::npos) << line << "\n" << ok.out;
  const std::string host_ports = " --sysctl net.ipv4.ip_unprivileged_port_start=1024";
  auto strict = run_emitted(line, workload, host_ports);
  EXPECT_EQ(strict.out.find("bound"), std::string::npos) << strict.out;
  EXPECT_NE(strict.out.find("Permission denied"), std::string::npos) << strict.out;

  auto host = analyze({"config", "--config", "docker", "--profile", "host", "--deploy-as", "65534:65534", r.path});
  ASSERT_EQ(host.exit_code(), 0) << host.err;
  const std::string host_line = run_line(host.out, "docker");
  EXPECT_EQ(host_line, "docker run --cap-drop=ALL --cap-add=NET_BIND_SERVICE --user=65534:65534 IMAGE") << host.out;
  EXPECT_NE(host.out.find("Docker cannot set\n# ambient capabilities"), std::string::npos) << host.out;
  auto bounded = run_emitted(host_line, workload, host_ports);
  EXPECT_EQ(cap_field(bounded.out, "CapBnd"), uint64_t{1} << 10) << bounded.out;
  for (const char* key : {"CapEff", "CapPrm", "CapAmb"}) EXPECT_EQ(cap_field(bounded.out, key), 0u) << key << "\n" << bounded.out;
  EXPECT_EQ(bounded.out.find("bound"), std::string::npos) << bounded.out;
  EXPECT_NE(bounded.out.find("Permission denied"), std::string::npos) << bounded.out;
  fs::remove(r.path);
}

// The flags for a root container, taken as emitted (IMAGE replaced): a real
// recording of busybox doing a chown and a bind below 1024 as root. Under the
// podman profile that is `--cap-drop=ALL --cap-add=CHOWN
// --cap-add=NET_BIND_SERVICE`; under docker's (ip_unprivileged_port_start=0)
// CHOWN alone, and the bind to port 80 works without the capability. In the
// container, /proc/self/status shows exactly the added set as CapEff, CapPrm
// and CapBnd (--cap-drop=ALL removes the engine's defaults), nothing ambient
// for root; both operations succeed, and each fails with the errno the kernel
// gives when its emitted capability is removed.
TEST_P(ContainerIn, TheEmittedRootFlagsGiveExactlyTheRecordedSet) {
  const int port = low_port(31);
  if (port == 0) GTEST_SKIP() << "ip_unprivileged_port_start is low: binding needs no capability";
  const std::string file = (fs::temp_directory_path() / ("capaudit-chown-" + std::to_string(getpid()))).string();
  // The same applets as in the container: touch, chown, nc -l.
  auto r = record({}, {"/bin/busybox", "sh", "-c",
                       "busybox touch " + file + " && busybox chown 65534 " + file + " && { busybox nc -l -p " +
                           std::to_string(port) + " & sleep 0.3; kill $!; }"},
                  "root" + e_.name);
  fs::remove(file);
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  auto cfg = analyze({"config", "--config", e_.name, r.path});
  ASSERT_EQ(cfg.exit_code(), 0) << cfg.err;
  const std::string line = run_line(cfg.out, e_.name);
  ASSERT_EQ(line.rfind(e_.name + " run --cap-drop=ALL ", 0), 0u) << cfg.out;
  EXPECT_EQ(line.find("--user"), std::string::npos) << "a root recording runs as root\n" << line;
  // The set the config says, from its own --cap-add flags.
  uint64_t said = 0;
  std::vector<std::string> adds;
  for (size_t p = line.find(" --cap-add="); p != std::string::npos; p = line.find(" --cap-add=", p + 1)) {
    const size_t b = p + std::string(" --cap-add=").size();
    adds.push_back(line.substr(b, line.find(' ', b) - b));
    auto cap = common::parse_cap(adds.back());
    ASSERT_TRUE(cap) << adds.back();
    said |= uint64_t{1} << *cap;
  }
  const uint64_t chown = uint64_t{1} << 0, bind = uint64_t{1} << 10;
  EXPECT_EQ(said, e_.name == "docker" ? chown : chown | bind) << line;

  const std::string workload =
      "grep ^Cap /proc/self/status; touch /tmp/f; chown 65534 /tmp/f && echo chowned;"
      " busybox nc -l -p 80 & sleep 0.5; busybox netstat -ltn | grep -q \":80 \" && echo bound; kill $! 2>/dev/null;"
      " wait";
  auto ok = run_emitted(line, workload);
  for (const char* key : {"CapEff", "CapPrm", "CapBnd"}) EXPECT_EQ(cap_field(ok.out, key), said) << key << "\n" << ok.out;
  EXPECT_EQ(cap_field(ok.out, "CapAmb"), uint64_t{0}) << ok.out;
  EXPECT_NE(ok.out.find("chowned"), std::string::npos) << line << "\n" << ok.out;
  EXPECT_NE(ok.out.find("bound"), std::string::npos) << line << "\n" << ok.out;
  // Each emitted capability removed in turn: its operation fails, the other works.
  for (const auto& cap : adds) {
    std::string without = line;
    without.erase(without.find(" --cap-add=" + cap), (" --cap-add=" + cap).size());
    auto denied = run_emitted(without, workload);
    const bool chown_cap = cap == "CHOWN";
    EXPECT_EQ(denied.out.find("chowned") == std::string::npos, chown_cap) << without << "\n" << denied.out;
    EXPECT_EQ(denied.out.find("bound") == std::string::npos, !chown_cap) << without << "\n" << denied.out;
    EXPECT_NE(denied.out.find(chown_cap ? "Operation not permitted" : "Permission denied"), std::string::npos)
        << without << "\n" << denied.out;
    EXPECT_EQ(cap_field(denied.out, "CapEff"), said & ~(uint64_t{1} << *common::parse_cap(cap))) << denied.out;
  }
  fs::remove(r.path);
}

// Two real containers in one recording (--cgroup over the engine's parent
// cgroup): one chowns, one binds port 80. The report groups the findings per
// container under the names the engine gave them, and config --per-container
// emits each container's own flags. In docker the bind needs no capability
// (the container's ip_unprivileged_port_start is 0: the kernel makes no
// check). Other tests' containers may run in the same parent cgroup
// meanwhile: only these two are asserted on.
TEST_P(ContainerIn, TwoContainersInOneRecordingAreReportedPerContainer) {
  Container files(e_, "-files"), web(e_, "-web");
  const std::string wait_go = "while [ ! -e /tmp/go ]; do sleep 0.1; done; ";
  auto a = start(files, {"--cap-drop=ALL", "--cap-add=CHOWN"}, wait_go + "touch /tmp/f; chown 65534 /tmp/f; sleep 0.3");
  ASSERT_EQ(a.exit_code(), 0) << a.err;
  auto b = start(web, {"--cap-drop=ALL", "--cap-add=NET_BIND_SERVICE"},
                 wait_go + "busybox nc -l -p 80 & sleep 0.3; kill $!; sleep 0.3");
  ASSERT_EQ(b.exit_code(), 0) << b.err;
  // Both run in the same parent cgroup (podman: /libpod_parent or
  // machine.slice; docker: /docker or system.slice).
  auto pid_of = [&](const Container& c) {
    const std::string out = run_program({e_.bin, "inspect", "--format", "{{.State.Pid}}", c.name}).out;
    return out.substr(0, out.find('\n'));
  };
  std::ifstream cg("/proc/" + pid_of(files) + "/cgroup");
  std::string line, rel;
  while (std::getline(cg, line))
    if (line.rfind("0::", 0) == 0) rel = line.substr(3);
  ASSERT_FALSE(rel.empty());
  const std::string parent_rel = rel.substr(0, rel.rfind('/'));
  std::string parent;
  for (const char* root : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"})
    if (parent.empty() && fs::exists(std::string(root) + rel + "/cgroup.procs")) parent = root + parent_rel;
  ASSERT_FALSE(parent.empty()) << rel;

  std::string out = temp_trace_path("two-containers");
  pid_t recorder = spawn_quiet({recorder_path(), "--no-status", "-o", out, "--cgroup", parent});
  ASSERT_TRUE(wait_for([&] { return has_header(out); }));
  for (const auto* c : {&files, &web}) {
    auto go = run_program({e_.bin, "exec", c->name, "touch", "/tmp/go"});
    ASSERT_EQ(go.exit_code(), 0) << go.err;
  }
  for (const auto* c : {&files, &web}) EXPECT_EQ(run_program({e_.bin, "wait", c->name}).out, "0\n") << c->name;
  kill(recorder, SIGINT);
  int st = wait_status(recorder);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;

  Trace t = load_trace(out);
  ASSERT_EQ(t.read.status, common::ReadStatus::complete) << t.read.message;
  std::map<std::string, std::string> named;  // name -> id, as the recorder asked the engine
  for (const auto& c : t.header.containers) named[c.name] = c.id;
  ASSERT_TRUE(named.count(files.name) && named.count(web.name)) << t.header.containers.size();
  Json j = Json::parse(analyze({"report", "-f", "json", out}).out, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  std::map<std::string, Json> per;
  for (const auto& c : j["containers"]) per[c["name"].is_string() ? c["name"].get<std::string>() : ""] = c;
  ASSERT_TRUE(per.count(files.name)) << j["containers"].dump();
  EXPECT_EQ(per[files.name]["recommended"], Json::array({"CAP_CHOWN"})) << per[files.name].dump();
  EXPECT_EQ(per[files.name]["id"], named[files.name]);
  EXPECT_EQ(per[files.name]["engine"], e_.name);
  auto text = analyze({"report", out}).out;
  EXPECT_NE(text.find(files.name + " (" + e_.name + " " + named[files.name].substr(0, 12) + "): CAP_CHOWN"),
            std::string::npos)
      << text;

  auto cfg = analyze({"config", "--config", e_.name, "--per-container", out});
  ASSERT_EQ(cfg.exit_code(), 0) << cfg.err;
  auto flags_of = [&](const std::string& name) {
    const auto at = cfg.out.find("# Container " + name + " (" + e_.name + "), id ");
    if (at == std::string::npos) return std::string();
    const auto run = cfg.out.find("\n" + e_.name + " run ", at);
    return cfg.out.substr(run + 1, cfg.out.find('\n', run + 1) - run - 1);
  };
  EXPECT_EQ(flags_of(files.name), e_.name + " run --cap-drop=ALL --cap-add=CHOWN --security-opt=no-new-privileges IMAGE")
      << cfg.out;
  if (e_.name == "docker") {
    // No check was made: nothing to recommend, whether or not it is listed.
    if (per.count(web.name)) EXPECT_EQ(per[web.name]["recommended"], Json::array()) << per[web.name].dump();
    for (const auto& c : t.checks) EXPECT_NE(c.cap, 10) << "a CAP_NET_BIND_SERVICE check in docker";
  } else {
    ASSERT_TRUE(per.count(web.name)) << j["containers"].dump();
    EXPECT_EQ(per[web.name]["recommended"], Json::array({"CAP_NET_BIND_SERVICE"})) << per[web.name].dump();
    EXPECT_EQ(flags_of(web.name),
              "podman run --cap-drop=ALL --cap-add=NET_BIND_SERVICE --security-opt=no-new-privileges IMAGE")
        << cfg.out;
  }
  fs::remove(out);
}

// runc 1.1 re-executes `runc init` from a copy of itself (cloned_binary.c,
// CVE-2019-5736): a read-only bind mount of its binary, lazily unmounted
// before the exec (bindfd), or else a memfd. /proc calls the first "/"
// (the root of a detached mount); the recorder names it by its path within
// its filesystem, here runc's own path. Recorded by following a whole
// `podman run` (docker's runc is started by containerd, outside the tree of
// `docker run`).
TEST_F(Podman, RuncsReExecOfItselfIsNamedByItsFile) {
  auto version = run_program({"/usr/sbin/runc", "--version"});
  if (version.out.find("runc version 1.1.") == std::string::npos) GTEST_SKIP() << "not runc 1.1: " << version.out;
  std::vector<std::string> argv{e_.bin};
  argv.insert(argv.end(), e_.run.begin(), e_.run.end());
  argv.insert(argv.end(), {"--rm", "capaudit-test:busybox", "sh", "-c", "exit 0"});
  auto r = record({}, argv, "reexec");
  ASSERT_EQ(r.run.exit_code(), 0) << r.run.err;
  const std::string runc = fs::canonical("/usr/sbin/runc").string();
  std::map<uint32_t, int> init_execs;  // pid -> execs of `runc init` named as runc
  for (const auto& e : r.trace.execs) {
    EXPECT_NE(e.filename, "/") << "argv[0] " << (e.argv.empty() ? "" : e.argv[0]);
    if (e.argv.size() >= 2 && e.argv[1] == "init") {
      EXPECT_EQ(e.filename, runc);
      if (e.filename == runc) ++init_execs[e.pid];
    }
  }
  bool reexec = false;
  for (const auto& [pid, n] : init_execs) reexec |= n >= 2;
  EXPECT_TRUE(reexec) << "runc init's exec, then its re-exec from the copy";
  fs::remove(r.path);
}

INSTANTIATE_TEST_SUITE_P(Engines, ContainerIn, ::testing::Values("podman", "docker"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace capaudit::test
