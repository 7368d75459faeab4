// The generated configs, applied for real: compiled, run, verified by the
// tools that consume them. Needs root (capability changes, setcap, setuid);
// skips otherwise — scripts/test makes a skip fail under CI=true.
#include <gtest/gtest.h>

#include "tests/support/run_command.h"
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <fstream>
#include <map>
#include <sstream>

#include "config_cases.h"

namespace capaudit::analyze::test {
namespace {

namespace fs = std::filesystem;
using capaudit::test::Ran;
using capaudit::test::run;


void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p);
  out << text;
  ASSERT_TRUE(out.good()) << p;
}

class RealConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: applies capabilities, file caps and uid changes";
    scratch_ = std::make_unique<capaudit::test::ScratchDir>("capaudit-config", 0755);
    ASSERT_TRUE(scratch_->ok());
    dir_ = scratch_->path();
  }
  std::unique_ptr<capaudit::test::ScratchDir> scratch_;
  fs::path dir_;
};

// "CapEff: 0000000000000400" lines of /proc/self/status, keyed by label.
std::map<std::string, uint64_t> parse_masks(const std::string& out) {
  std::map<std::string, uint64_t> m;
  std::istringstream in(out);
  for (std::string label, key, hex; in >> label >> key >> hex;) {
    m[label + " " + key] = std::stoull(hex, nullptr, 16);
  }
  return m;
}

// A non-root deployment with a startup-only capability, to exercise the
// uid change and the post-initialization drop together.
ConfigInput nonroot_with_startup() {
  ConfigInput in;
  in.name = "svc";
  in.uid = 65534;
  in.gid = 65534;
  in.executables.push_back({"/usr/bin/svc", bit(CAP_NET_BIND_SERVICE) | bit(CAP_NET_RAW) | bit(CAP_SETGID),
                            bit(CAP_SETGID), std::nullopt});
  return in;
}

constexpr const char* kCDriver = R"(
#include <string.h>
static void show(const char *label)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof line, f)) {
		if (!strncmp(line, "CapEff:", 7) || !strncmp(line, "CapPrm:", 7) || !strncmp(line, "CapBnd:", 7) ||
		    !strncmp(line, "Uid:", 4) || !strncmp(line, "Gid:", 4)) {
			char key[16]; char val[64];
			if (sscanf(line, "%15s %63s", key, val) == 2)
				printf("%s %s %s\n", label, key, val);
		}
	}
	if (f) fclose(f);
}
int main(void)
{
	capaudit_keep_operational_caps();
	show("operational");
	capaudit_drop_startup_caps();
	show("after_init");
	return 0;
}
)";

void expect_sets(const std::map<std::string, uint64_t>& m, const ConfigInput& in) {
  const uint64_t op = in.all_caps();
  const uint64_t after = op & ~in.all_startup_only();
  EXPECT_EQ(m.at("operational CapEff:"), op);
  EXPECT_EQ(m.at("operational CapPrm:"), op);
  EXPECT_EQ(m.at("operational CapBnd:"), op);
  EXPECT_EQ(m.at("after_init CapEff:"), after);
  EXPECT_EQ(m.at("after_init CapPrm:"), after);
  // The first column of Uid:/Gid: (real id) parses as a number too.
  EXPECT_EQ(m.at("after_init Uid:"), std::stoull(std::to_string(in.uid), nullptr, 16));
  EXPECT_EQ(m.at("after_init Gid:"), std::stoull(std::to_string(in.gid), nullptr, 16));
}

TEST_F(RealConfig, CSnippetEndsWithExactlyTheRecommendedSets) {
  for (const ConfigInput& in : {root_daemon(), nonroot_with_startup(), no_caps()}) {
    SCOPED_TRACE(in.name);
    write_file(dir_ / "snippet.c", render_config(ConfigFormat::c, in));
    write_file(dir_ / "driver.c", std::string("#include \"snippet.c\"\n") + kCDriver);
    const Ran cc = run("cc -Wall -Werror -o " + (dir_ / "driver").string() + " " + (dir_ / "driver.c").string() +
                       " -lcap-ng");
    ASSERT_EQ(cc.status, 0) << cc.out;
    const Ran r = run((dir_ / "driver").string());
    ASSERT_EQ(r.status, 0) << r.out;
    expect_sets(parse_masks(r.out), in);
  }
}

TEST_F(RealConfig, PythonSnippetEndsWithExactlyTheRecommendedSets) {
  constexpr const char* kPyDriver = R"(

def _show(label):
    with open("/proc/self/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("CapEff", "CapPrm", "CapBnd", "Uid", "Gid"):
                print(label, key + ":", val.split()[0])


keep_operational_caps()
_show("operational")
drop_startup_caps()
_show("after_init")
)";
  for (const ConfigInput& in : {root_daemon(), nonroot_with_startup(), no_caps()}) {
    SCOPED_TRACE(in.name);
    write_file(dir_ / "snippet.py", render_config(ConfigFormat::python, in) + kPyDriver);
    // Debian's python3 has python3-cap-ng; a pyenv python on PATH would not.
    const Ran r = run("/usr/bin/python3 " + (dir_ / "snippet.py").string());
    ASSERT_EQ(r.status, 0) << r.out;
    expect_sets(parse_masks(r.out), in);
  }
}

TEST_F(RealConfig, SnippetsFailClosedWhenTheUidChangeIsImpossible) {
  // Started without CAP_SETUID the change must fail and the program exit
  // rather than run on as root with the kept capabilities.
  ConfigInput in = nonroot_with_startup();
  write_file(dir_ / "snippet.c", render_config(ConfigFormat::c, in));
  write_file(dir_ / "driver.c", std::string("#include \"snippet.c\"\n") + kCDriver);
  ASSERT_EQ(run("cc -o " + (dir_ / "driver").string() + " " + (dir_ / "driver.c").string() + " -lcap-ng").status, 0);
  const Ran r = run("setpriv --bounding-set=-setuid,-setgid --inh-caps=-all " + (dir_ / "driver").string());
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("refusing to run"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("operational"), std::string::npos) << r.out;
}

TEST_F(RealConfig, SystemdDropInPassesSystemdAnalyzeVerify) {
  if (run("systemd-analyze --version").status != 0) FAIL() << "systemd-analyze missing: install package systemd";
  for (const ConfigInput& in : {root_daemon(), nonroot_service(), file_capped_admin(), no_caps()}) {
    SCOPED_TRACE(in.name);
    fs::remove_all(dir_ / "units");
    fs::create_directories(dir_ / "units" / (in.name + ".service.d"));
    const fs::path unit = dir_ / "units" / (in.name + ".service");
    write_file(unit, "[Unit]\nDescription=capaudit test unit\n[Service]\nExecStart=/bin/true\n" +
                         (in.runs_as_root() ? std::string() : "User=" + std::to_string(in.uid) + "\n"));
    const fs::path dropin = dir_ / "units" / (in.name + ".service.d") / "capabilities.conf";
    write_file(dropin, render_config(ConfigFormat::systemd, in));
    const Ran r = run("SYSTEMD_LOG_LEVEL=info systemd-analyze verify " + unit.string());
    EXPECT_EQ(r.status, 0) << r.out;
    // verify only warns about bad settings; any message about the drop-in is a failure.
    EXPECT_EQ(r.out.find(dropin.string()), std::string::npos) << r.out;

    // The check above can fail: a broken drop-in in the same place is reported.
    write_file(dropin, "[Service]\nNoNewPrivileges=maybe\n");
    const Ran bad = run("SYSTEMD_LOG_LEVEL=info systemd-analyze verify " + unit.string());
    EXPECT_NE(bad.out.find(dropin.string()), std::string::npos) << bad.out;
  }
}

TEST_F(RealConfig, SetcapLineLetsAnUnprivilegedUserBindPort80) {
  std::ifstream ports("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int start = 0;
  ports >> start;
  if (start <= 80) GTEST_SKIP() << "ip_unprivileged_port_start=" << start << ": binding 80 needs no capability here";

  const fs::path helper = dir_ / "capaudit-test-helper";
  fs::copy_file(CAPAUDIT_TEST_HELPER, helper);
  chmod(helper.c_str(), 0755);
  // A port of our own below 1024: other tests bind 80 in parallel (ctest -j).
  const int port = 900 + getpid() % 100;
  if (start <= port) GTEST_SKIP() << "ip_unprivileged_port_start=" << start;
  const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups " + helper.string() +
                                " bind-tcp4-80 " + std::to_string(port);

  const Ran before = run(as_nobody);
  ASSERT_EQ(before.status, 1) << "the helper must need the capability: " << before.out;
  EXPECT_NE(before.out.find("EACCES"), std::string::npos) << before.out;

  ConfigInput in;
  in.uid = 65534;
  in.gid = 65534;
  in.executables.push_back({helper.string(), bit(CAP_NET_BIND_SERVICE), 0, std::nullopt});
  std::string setcap_line;
  std::istringstream lines(render_config(ConfigFormat::setcap, in));
  for (std::string l; std::getline(lines, l);) {
    if (l.rfind("setcap ", 0) == 0) setcap_line = l;
  }
  ASSERT_FALSE(setcap_line.empty());
  const Ran applied = run(setcap_line);
  ASSERT_EQ(applied.status, 0) << setcap_line << "\n" << applied.out;
  const Ran get = run("getcap " + helper.string());
  EXPECT_EQ(get.out, helper.string() + " cap_net_bind_service=ep\n");

  const Ran after = run(as_nobody);
  EXPECT_EQ(after.status, 0) << after.out;
  EXPECT_NE(after.out.find("ok bind-tcp4-80"), std::string::npos) << after.out;

  // filecap writes the same capability (permitted + effective).
  run("setcap -r " + helper.string());
  std::string filecap_line;
  std::istringstream flines(render_config(ConfigFormat::filecap, in));
  for (std::string l; std::getline(flines, l);) {
    if (l.rfind("filecap ", 0) == 0) filecap_line = l;
  }
  const Ran fc = run(filecap_line);
  ASSERT_EQ(fc.status, 0) << filecap_line << "\n" << fc.out;
  EXPECT_EQ(run("getcap " + helper.string()).out, helper.string() + " cap_net_bind_service=ep\n");
  EXPECT_EQ(run(as_nobody).status, 0);
}

}  // namespace
}  // namespace capaudit::analyze::test
