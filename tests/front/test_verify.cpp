// `capaudit verify` on real recordings (root, real BPF): the helper doing
// bind to a low port + chown + a raw socket passes with the recommended set
// and each capability left out is shown to break its own operation; ping's
// denied-but-harmless setuid/setpcap checks do not fail it; a set missing a
// capability fails with exit 4 naming it and the failed syscall and errno;
// a capability nothing needs is reported "not shown to be needed", never
// dropped silently.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/run_command.h"

namespace capaudit::test {
namespace {

namespace fs = std::filesystem;

const std::string kFront = std::string("env -u SUDO_UID -u SUDO_GID ") + CAPAUDIT_FRONT;
const std::string kHelper = CAPAUDIT_TEST_HELPER;

// A port below ip_unprivileged_port_start that is not 80 (other tests bind
// that); 0 when the host lets anyone bind low ports.
int low_port() {
  std::ifstream ports("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int start = 0;
  ports >> start;
  const int port = 800 + getpid() % 100;
  return port < start ? port : 0;
}

// One command doing the three operations, each a process of its own.
std::string three_ops(int port) {
  return "sh -c '" + kHelper + " bind-tcp4-80 " + std::to_string(port) + " && " + kHelper + " chown && " + kHelper +
         " raw-socket'";
}

// The "Minimize" line of one capability and the failure lines under it.
std::string minimize_entry(const std::string& out, const std::string& cap) {
  const auto at = out.find("\n  " + cap + " ");
  if (at == std::string::npos) return "";
  auto end = out.find("\n  CAP_", at + 1);
  const auto blank = out.find("\n\n", at + 1);
  if (end == std::string::npos || blank < end) end = blank;
  return out.substr(at + 1, end - at - 1);
}

class Verify : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: records with BPF";
    port_ = low_port();
    if (port_ == 0) GTEST_SKIP() << "ip_unprivileged_port_start is low: binding needs no capability";
  }
  int port_ = 0;
};

TEST_F(Verify, TheRecommendedSetPassesAndEachCapabilityIsShownToBreakItsOperation) {
  const Ran r = run(kFront + " verify --minimize -o - -- " + three_ops(port_));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Verify: PASSED: CAP_CHOWN, CAP_NET_BIND_SERVICE, CAP_NET_RAW for root works"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Operations: CAP_CHOWN in chown(), CAP_NET_BIND_SERVICE in bind(), CAP_NET_RAW in socket()"),
            std::string::npos)
      << r.out;
  const std::string chown = minimize_entry(r.out, "CAP_CHOWN");
  EXPECT_NE(chown.find("needed: without it"), std::string::npos) << r.out;
  EXPECT_NE(chown.find("CAP_CHOWN was denied and chown() then failed with EPERM"), std::string::npos) << chown;
  const std::string bind = minimize_entry(r.out, "CAP_NET_BIND_SERVICE");
  EXPECT_NE(bind.find("CAP_NET_BIND_SERVICE was denied and bind() then failed with EACCES"), std::string::npos) << bind;
  const std::string raw = minimize_entry(r.out, "CAP_NET_RAW");
  EXPECT_NE(raw.find("CAP_NET_RAW was denied and socket() then failed with EPERM"), std::string::npos) << raw;
  EXPECT_NE(raw.find("the command exited 1; the original run exited 0"), std::string::npos) << raw;
  EXPECT_EQ(r.out.find("NOT SHOWN"), std::string::npos) << r.out;
}

// Also the result file and the report's "Verified:" line from it.
TEST_F(Verify, ANonRootDeploymentGetsTheSetAsAmbientCapabilities) {
  ScratchDir dir("capaudit-verify", 0755);
  const std::string trace = (dir.path() / "ops.cap").string();
  const std::string result = (dir.path() / "verified.json").string();
  const std::string cmd =
      "sh -c '" + kHelper + " bind-tcp4-80 " + std::to_string(port_) + " && " + kHelper + " raw-socket'";
  const Ran rec = run(std::string(CAPAUDIT_RECORD) + " --no-status -o " + trace + " -- " + cmd);
  ASSERT_EQ(rec.status, 0) << rec.out;
  const Ran r = run(kFront + " verify --deploy-as 65534 --result " + result + " -o - " + trace + " -- " + cmd);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Verify: PASSED: CAP_NET_BIND_SERVICE, CAP_NET_RAW for uid 65534 (gid 65534) works"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Re-run: ran as euid 65534;"), std::string::npos) << r.out;
  const Ran report = run(std::string(CAPAUDIT_ANALYZE) + " report --config none --verified " + result + " " + trace);
  ASSERT_EQ(report.status, 0) << report.out;
  const auto verdict = report.out.find("\nVerdict: grant CAP_NET_BIND_SERVICE CAP_NET_RAW");
  const auto line = report.out.find(
      "\nVerified: the host config (CAP_NET_BIND_SERVICE, CAP_NET_RAW for uid 65534 (gid "
      "65534)) PASSED ");
  ASSERT_NE(line, std::string::npos) << report.out;
  EXPECT_LT(verdict, line) << "the verdict stays first\n" << report.out;
  const std::string text = report.out.substr(line, report.out.find('\n', line + 1) - line);
  EXPECT_NE(text.find(" by `capaudit verify --deploy-as 65534 --result "), std::string::npos) << text;
  EXPECT_NE(text.find(" -- sh -c '" + kHelper + " bind-tcp4-80 "), std::string::npos) << "quoted as typed\n" << text;
  EXPECT_NE(text.find("that is the set this report recommends"), std::string::npos) << text;
  const Ran json = run(std::string(CAPAUDIT_ANALYZE) + " report -f json --verified " + result + " " + trace);
  EXPECT_NE(json.out.find("\"verified\": ["), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"matches_recommendation\": true"), std::string::npos) << json.out;
}

TEST_F(Verify, ASetMissingACapabilityFailsNamingItAndTheFailedOperation) {
  const Ran r = run(kFront + " verify --caps cap_chown,cap_net_bind_service -o - -- " + three_ops(port_));
  ASSERT_EQ(r.status, 4) << r.out;
  EXPECT_NE(
      r.out.find("Verify: FAILED: CAP_CHOWN, CAP_NET_BIND_SERVICE for root: the re-run did not work as the original"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("CAP_NET_RAW was denied and socket() then failed with EPERM (x1, " + kHelper + ")"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Missing: CAP_NET_RAW\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the command exited 1; the original run exited 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("operation not performed: CAP_NET_RAW in socket()"), std::string::npos) << r.out;
}

TEST_F(Verify, ACapabilityNothingNeedsIsReportedNotShownToBeNeeded) {
  // A recorded trace given on the command line, and a set with one capability too many.
  ScratchDir dir("capaudit-verify", 0755);
  const std::string trace = (dir.path() / "ops.cap").string();
  const Ran rec = run(std::string(CAPAUDIT_RECORD) + " --no-status -o " + trace + " -- " + three_ops(port_));
  ASSERT_EQ(rec.status, 0) << rec.out;
  const Ran r = run(kFront + " verify --minimize --caps cap_chown,cap_net_bind_service,cap_net_raw,cap_sys_time -o - " +
                    trace + " -- " + three_ops(port_));
  ASSERT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("Verify: PASSED: CAP_CHOWN, CAP_NET_BIND_SERVICE, CAP_NET_RAW, CAP_SYS_TIME for root works"),
            std::string::npos)
      << r.out;
  const std::string time = minimize_entry(r.out, "CAP_SYS_TIME");
  EXPECT_NE(time.find("NOT SHOWN TO BE NEEDED: without it the command exited 0 like the original"), std::string::npos)
      << r.out;
  EXPECT_NE(time.find("it was not even checked"), std::string::npos) << time;
  EXPECT_NE(minimize_entry(r.out, "CAP_NET_RAW").find("needed: without it"), std::string::npos) << r.out;
}

TEST(VerifyPing, PingsDeniedButHarmlessChecksDoNotFailIt) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: records with BPF";
  if (!fs::exists("/usr/bin/ping")) GTEST_SKIP() << "no ping (scripts/setup installs iputils-ping)";
  const Ran r = run(kFront + " verify --minimize --deploy-as 65534 -o - -- /usr/bin/ping -c1 -W2 127.0.0.1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Verify: PASSED: CAP_NET_RAW for uid 65534 (gid 65534) works"), std::string::npos) << r.out;
  // ping tries to drop what it was given: capset() and setuid() are denied
  // as uid 65534 and succeed anyway.
  const auto harmless = r.out.find("Denied but harmless (the syscall succeeded anyway):");
  ASSERT_NE(harmless, std::string::npos) << r.out;
  const std::string line = r.out.substr(harmless, r.out.find('\n', harmless) - harmless);
  EXPECT_NE(line.find("CAP_SETPCAP"), std::string::npos) << line;
  EXPECT_NE(line.find("CAP_SETUID"), std::string::npos) << line;
  // ping's file capabilities need CAP_NET_RAW in the bounding set: without
  // it the kernel refuses the exec.
  const std::string raw = minimize_entry(r.out, "CAP_NET_RAW");
  EXPECT_NE(raw.find("the command did not start"), std::string::npos) << r.out;
}

// The drop-in's settings through the service-mode launcher: User=65534,
// AmbientCapabilities=CAP_NET_BIND_SERVICE; with no capabilities the bind
// fails and verify says so.
TEST_F(Verify, TheSystemdDropInsSettingsRunThroughTheServiceLauncher) {
  const std::string cmd = " -o - -- " + kHelper + " bind-tcp4-80 " + std::to_string(port_);
  const Ran ok = run(kFront + " verify -v --runtime systemd --deploy-as 65534" + cmd);
  ASSERT_EQ(ok.status, 0) << ok.out;
  EXPECT_NE(ok.out.find("Verify: PASSED: CAP_NET_BIND_SERVICE for uid 65534 (gid 65534) under systemd works"),
            std::string::npos)
      << ok.out;
  EXPECT_NE(ok.out.find("rerun.service: AmbientCapabilities=CAP_NET_BIND_SERVICE"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("rerun.service: User=65534"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("Re-run: ran as euid 65534;"), std::string::npos) << ok.out;
  const Ran bad = run(kFront + " verify --runtime systemd --deploy-as 65534 --caps none" + cmd);
  ASSERT_EQ(bad.status, 4) << bad.out;
  EXPECT_NE(bad.out.find("CAP_NET_BIND_SERVICE was denied and bind() then failed with EACCES"), std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("Missing: CAP_NET_BIND_SERVICE\n"), std::string::npos) << bad.out;
}

// The emitted podman flags, run in real podman (runc, an offline-imported
// busybox image, the lowered ulimits this host needs; see
// Podman.TheEmittedNonRootFlagsBindPort80 in tests/record/e2e/test_identity.cpp).
TEST(VerifyPodman, TheEmittedPodmanFlagsChownInAContainer) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: records with BPF";
  if (!fs::exists("/usr/bin/podman") || !fs::exists("/usr/sbin/runc")) GTEST_SKIP() << "no podman/runc (scripts/setup)";
  if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "no busybox-static";
  ScratchDir root("capaudit-verify-image", 0755);
  fs::create_directories(root.path() / "bin");
  fs::create_directories(root.path() / "etc");
  fs::copy_file("/bin/busybox", root.path() / "bin/busybox");
  for (const char* a : {"sh", "chown"}) fs::create_symlink("busybox", root.path() / "bin" / a);
  std::ofstream(root.path() / "etc/passwd") << "root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n";
  const Ran image = run("tar -C " + root.path().string() + " -c . | podman import - capaudit-verify:busybox");
  ASSERT_EQ(image.status, 0) << image.out;
  const std::string engine =
      " --runtime podman --image capaudit-verify:busybox --engine-arg=--runtime=runc"
      " --engine-arg=--ulimit=nofile=1024:1024 --engine-arg=--ulimit=nproc=1024:1024";
  const Ran ok = run(kFront + " verify --minimize -v" + engine + " -o - -- chown 65534 /etc/passwd");
  ASSERT_EQ(ok.status, 0) << ok.out;
  EXPECT_NE(ok.out.find("Verify: PASSED: CAP_CHOWN for root under podman works"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("--cap-drop=ALL --cap-add=CHOWN"), std::string::npos) << "the emitted flags ran\n" << ok.out;
  EXPECT_NE(minimize_entry(ok.out, "CAP_CHOWN").find("CAP_CHOWN was denied and chown() then failed with EPERM"),
            std::string::npos)
      << ok.out;
  const Ran bad = run(kFront + " verify --caps none" + engine + " -o - -- chown 65534 /etc/passwd");
  ASSERT_EQ(bad.status, 4) << bad.out;
  EXPECT_NE(bad.out.find("Missing: CAP_CHOWN\n"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace capaudit::test
