// Issue 14 on a real recording (root, real BPF): a copy of the test helper
// at a path an attacker chose — a directory "d\necho INJECTED-" and a file
// name with Python code, an ESC sequence and a byte that is not UTF-8 — binds
// a low port under capaudit-record. Every output of the analyzer must then
// parse in its own language and name the exact path; applying the setcap
// line for real must give exactly that file the capability. And a setuid-root
// copy run under --user nobody must keep no_new_privs off (item 3).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "reparse.h"

namespace capaudit::test {
namespace {

namespace fs = std::filesystem;

int low_port_or_skip() {
  std::ifstream ports("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int start = 0;
  ports >> start;
  return 900 + getpid() % 100 < start ? 900 + getpid() % 100 : -1;
}

std::string analyze(const std::string& args) { return std::string(CAPAUDIT_ANALYZE) + " " + args; }

class HostileRecording : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: records with BPF";
    port_ = low_port_or_skip();
    if (port_ < 0) GTEST_SKIP() << "ip_unprivileged_port_start is low: binding needs no capability";
    scratch_ = std::make_unique<ScratchDir>("capaudit-hostile", 0755);
    ASSERT_TRUE(scratch_->ok());
    dir_ = scratch_->path();
  }
  fs::path copy_helper(const fs::path& to) {
    fs::create_directories(to.parent_path());
    fs::copy_file(CAPAUDIT_TEST_HELPER, to);
    chmod(to.c_str(), 0755);
    return to;
  }
  // Records `cmd` (already shell words); the trace path.
  fs::path record(const std::string& options, const std::string& cmd) {
    const fs::path trace = dir_ / ("t" + std::to_string(++traces_) + ".cap");
    const Ran r = run(std::string(CAPAUDIT_RECORD) + " --no-status " + options + " -o " + trace.string() + " -- " + cmd);
    EXPECT_EQ(r.status, 0) << r.out;
    return trace;
  }
  int port_ = -1;
  int traces_ = 0;
  std::unique_ptr<ScratchDir> scratch_;
  fs::path dir_;
};

TEST_F(HostileRecording, EveryOutputParsesAndNamesTheExactPath) {
  const std::string name = std::string("app\nprint(\"X\")\n#\x1b[31m\xff");
  const fs::path exe = copy_helper(dir_ / "d\necho INJECTED-" / name);
  const fs::path trace = record("", shell_word(exe.string()) + " bind-tcp4-80 " + std::to_string(port_));
  // As the JSON/YAML reports carry it: the byte that is not UTF-8 as U+FFFD.
  std::string exe_utf8 = exe.string();
  exe_utf8.replace(exe_utf8.find('\xff'), 1, "\xef\xbf\xbd");

  // setcap: sh -n, stand-ins see the exact path, then the real thing.
  const Ran setcap = run(analyze("config --config setcap " + trace.string()));
  ASSERT_EQ(setcap.status, 0) << setcap.out;
  write_text(dir_ / "setcap.sh", setcap.out);
  EXPECT_EQ(run("sh -n " + (dir_ / "setcap.sh").string()).status, 0) << setcap.out;
  StandIns tools(dir_ / "standins", {"setcap"});
  const Ran standin = tools.run_script(dir_ / "setcap.sh");
  EXPECT_EQ(standin.out.find("INJECTED"), std::string::npos) << standin.out;
  EXPECT_EQ(tools.calls(), (std::vector<std::vector<std::string>>{{"setcap", "cap_net_bind_service=ep", exe.string()}}))
      << setcap.out;
  const Ran applied = run("sh " + (dir_ / "setcap.sh").string());
  EXPECT_EQ(applied.status, 0) << applied.out;
  EXPECT_EQ(applied.out.find("INJECTED"), std::string::npos) << applied.out;
  // The capability landed on that file: nobody can now bind the low port with it.
  const Ran as_nobody = run("setpriv --reuid=65534 --regid=65534 --clear-groups " + shell_word(exe.string()) +
                            " bind-tcp4-80 " + std::to_string(port_));
  EXPECT_EQ(as_nobody.status, 0) << as_nobody.out;

  // filecap and the container formats: shell syntax.
  for (const char* f : {"filecap", "docker", "podman"}) {
    const Ran r = run(analyze(std::string("config --config ") + f + " " + trace.string()));
    write_text(dir_ / "out.sh", r.out);
    EXPECT_EQ(run("sh -n " + (dir_ / "out.sh").string()).status, 0) << r.out;
    EXPECT_TRUE(printable_text(r.out)) << r.out;
  }
  // Python: compiles, and no statement outside the functions but the plain ones.
  const Ran py = run(analyze("config --config python " + trace.string()));
  write_text(dir_ / "snippet.py", py.out);
  const Ran ast = run("python3 -c 'import ast,sys; t=ast.parse(open(sys.argv[1], \"rb\").read()); "
                      "sys.exit(any(isinstance(n, ast.Expr) for n in t.body))' " + (dir_ / "snippet.py").string());
  EXPECT_EQ(ast.status, 0) << ast.out << py.out;
  // C: compiles with the documented flags.
  const Ran c = run(analyze("config --config c " + trace.string()));
  write_text(dir_ / "snippet.c", c.out);
  const Ran cc = c_compiles(dir_ / "snippet.c");
  EXPECT_EQ(cc.status, 0) << cc.out << c.out;
  // YAML: PyYAML and yaml-cpp load it.
  for (const char* f : {"compose", "kubernetes"}) {
    const Ran r = run(analyze(std::string("config --config ") + f + " " + trace.string()));
    write_text(dir_ / "out.yaml", r.out);
    const Ran y = python_yaml(dir_ / "out.yaml");
    EXPECT_EQ(y.status, 0) << y.out << r.out;
    EXPECT_NO_THROW(YAML::Load(r.out)) << r.out;
  }
  // systemd: the drop-in saved where its comment says, verified with the unit.
  const Ran sd = run(analyze("config --config systemd " + trace.string()));
  const size_t at = sd.out.find("# Save as ");
  ASSERT_NE(at, std::string::npos) << sd.out;
  write_text(dir_ / "word.sh", "printf '%s' " + sd.out.substr(at + 10, sd.out.find(", then run", at) - at - 10));
  const fs::path save_as = run("sh " + (dir_ / "word.sh").string()).out;
  const fs::path units = dir_ / "units";
  const std::string unit = save_as.parent_path().filename().string();  // NAME.service.d
  ASSERT_EQ(unit.substr(unit.size() - 10), ".service.d") << save_as;
  fs::create_directories(units / unit);
  write_text(units / unit.substr(0, unit.size() - 2), "[Unit]\nDescription=t\n[Service]\nExecStart=/bin/true\n");
  write_text(units / unit / "capabilities.conf", sd.out);
  if (run("systemd-analyze --version").status == 0) {
    const Ran v = run("SYSTEMD_LOG_LEVEL=info systemd-analyze verify " + shell_word((units / unit.substr(0, unit.size() - 2)).string()));
    EXPECT_EQ(v.status, 0) << v.out << sd.out;
    EXPECT_EQ(v.out.find("capabilities.conf"), std::string::npos) << v.out;
  }

  // Reports: JSON and YAML parse and carry the path; text shows escapes.
  const Ran json = run(analyze("report -f json " + trace.string()));
  ASSERT_EQ(json.status, 0) << json.out;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(json.out)) << json.out;
  bool found = false;
  for (const auto& e : j["executables"]) found = found || e["path"] == exe_utf8;
  EXPECT_TRUE(found) << json.out;
  const Ran yaml = run(analyze("report -f yaml " + trace.string()));
  ASSERT_EQ(yaml.status, 0) << yaml.out;
  YAML::Node y;
  ASSERT_NO_THROW(y = YAML::Load(yaml.out));
  found = false;
  for (const auto& e : y["executables"]) found = found || e["path"].as<std::string>() == exe_utf8;
  EXPECT_TRUE(found) << yaml.out;
  for (const char* cmd : {"dump", "info", "report"}) {
    SCOPED_TRACE(cmd);
    const Ran r = run(analyze(std::string(cmd) + " " + trace.string()));
    std::string body = r.out;
    // The text report ends with the configs, whose shell words may hold a line break.
    const size_t configs = body.find("Recommended configurations\n====");
    if (configs != std::string::npos) body.resize(configs);
    EXPECT_TRUE(printable_text(r.out)) << r.out;
    for (const char* fake : {"\necho INJECTED", "\nprint(\"X\")"}) EXPECT_EQ(body.find(fake), std::string::npos) << body;
  }
}

// Item 3: a set-user-ID-root binary run by nobody gains euid 0 at exec (a
// file-capability binary gains its capabilities); no_new_privs would take
// that away, so no config may set it.
TEST_F(HostileRecording, ASetuidBinaryUnderUserNobodyKeepsNoNewPrivilegesOff) {
  const fs::path exe = copy_helper(dir_ / "suid-helper");
  chmod(exe.c_str(), 04755);
  const fs::path trace = record("--user nobody", exe.string() + " bind-tcp4-80 " + std::to_string(port_));
  const Ran dump = run(analyze("dump -k exec " + trace.string()));
  ASSERT_NE(dump.out.find("uid=65534 gid=65534 euid=0"), std::string::npos) << dump.out;

  const Ran sd = run(analyze("config --config systemd " + trace.string()));
  EXPECT_NE(sd.out.find("\nNoNewPrivileges=no\n"), std::string::npos) << sd.out;
  EXPECT_NE(sd.out.find("uid 65534 ran it with euid 0 (set-user-ID bit)"), std::string::npos) << sd.out;
  EXPECT_EQ(sd.out.find("nothing relied on gaining privileges"), std::string::npos) << sd.out;
  // The account is the one that ran it (nobody), not the file owner.
  EXPECT_NE(sd.out.find("AmbientCapabilities=CAP_NET_BIND_SERVICE"), std::string::npos) << sd.out;
  const Ran docker = run(analyze("config --config docker " + trace.string()));
  EXPECT_EQ(docker.out.find("--security-opt=no-new-privileges"), std::string::npos) << docker.out;
  const Ran k8s = run(analyze("config --config kubernetes " + trace.string()));
  EXPECT_NE(k8s.out.find("allowPrivilegeEscalation: true"), std::string::npos) << k8s.out;
  const Ran json = run(analyze("report -f json " + trace.string()));
  const auto j = nlohmann::json::parse(json.out);
  bool gained = false;
  for (const auto& e : j["executables"]) {
    if (e["path"] == exe.string()) gained = e["exec_privilege_gain"].is_object() && e["exec_privilege_gain"]["euid"] == 0;
  }
  EXPECT_TRUE(gained) << json.out;

  // The same binary without the bit: nothing gained, no_new_privs is fine.
  chmod(exe.c_str(), 0755);
  const Ran plain = run(analyze("config --config systemd " + record("--user nobody", exe.string() + " getppid-loop 1").string()));
  EXPECT_NE(plain.out.find("\nNoNewPrivileges=yes\n"), std::string::npos) << plain.out;

  // With file capabilities instead: nobody's exec gains CAP_NET_BIND_SERVICE.
  ASSERT_EQ(run("setcap cap_net_bind_service=ep " + exe.string()).status, 0);
  const fs::path fc = record("--user nobody", exe.string() + " bind-tcp4-80 " + std::to_string(port_));
  const Ran fsd = run(analyze("config --config systemd " + fc.string()));
  EXPECT_NE(fsd.out.find("\nNoNewPrivileges=no\n"), std::string::npos) << fsd.out;
  EXPECT_NE(fsd.out.find("its file capabilities gave uid 65534 CAP_NET_BIND_SERVICE"), std::string::npos) << fsd.out;
  const Ran fdocker = run(analyze("config --config docker " + fc.string()));
  EXPECT_EQ(fdocker.out.find("--security-opt=no-new-privileges"), std::string::npos) << fdocker.out;
}

}  // namespace
}  // namespace capaudit::test
