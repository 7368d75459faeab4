#include "record/host/launch.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "record/host/privileges.h"
#include "tests/record/helper/run_helper.h"

namespace capaudit::record {
namespace {

uint64_t bit(int cap) { return uint64_t{1} << cap; }

#define REQUIRE_ROOT() \
  if (!capaudit::test::running_as_root()) GTEST_SKIP() << "needs root (switches user and capabilities)"

struct TempFile {
  std::string path;
  TempFile() {
    char name[] = "/tmp/capaudit-launch-XXXXXX";
    int fd = mkstemp(name);
    close(fd);
    unlink(name);  // the command creates it; its absence is part of some tests
    path = name;
  }
  ~TempFile() { unlink(path.c_str()); }
  bool exists() const { return access(path.c_str(), F_OK) == 0; }
  std::string read() const {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

std::unique_ptr<Launcher> start_ok(const LaunchOptions& opts) {
  auto launcher = Launcher::start(opts);
  if (!launcher) {
    ADD_FAILURE() << launcher.error().message;
    return nullptr;
  }
  return std::move(*launcher);
}

// Runs the command to completion; returns the raw wait status.
int run(const LaunchOptions& opts) {
  auto launcher = start_ok(opts);
  if (!launcher) return -1;
  if (auto r = launcher->go(); !r) ADD_FAILURE() << r.error().message;
  return launcher->wait();
}

std::string readlink_str(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

TEST(Launcher, HoldsTheChildUntilGo) {
  TempFile out;
  auto launcher = start_ok({.argv = {"/bin/sh", "-c", "echo ran > " + out.path}});
  ASSERT_TRUE(launcher);
  ASSERT_GT(launcher->pid(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // Still our fork, not yet the command: the BPF side can mark it now.
  EXPECT_EQ(readlink_str("/proc/" + std::to_string(launcher->pid()) + "/exe"), readlink_str("/proc/self/exe"));
  EXPECT_FALSE(out.exists());
  EXPECT_FALSE(launcher->try_wait());
  EXPECT_TRUE(launcher->go().ok());
  int status = launcher->wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(out.read(), "ran\n");
}

TEST(Launcher, ReportsExitStatus) {
  int status = run({.argv = {"/bin/sh", "-c", "exit 3"}});
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST(Launcher, ExplainsAnExecFailure) {
  auto launcher = start_ok({.argv = {"/nonexistent/capaudit-prog", "x"}});
  ASSERT_TRUE(launcher);
  auto r = launcher->go();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot run /nonexistent/capaudit-prog: No such file or directory");
  EXPECT_EQ(r.error().hint, "check the command name and PATH");
  EXPECT_EQ(r.error().exit_code, 127);
  int status = launcher->wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 127);

  auto via_path = start_ok({.argv = {"capaudit-no-such-command"}});
  ASSERT_TRUE(via_path);
  auto r2 = via_path->go();
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().message, "cannot run capaudit-no-such-command: No such file or directory");
}

TEST(Launcher, RefusesAnEmptyCommand) {
  auto r = Launcher::start({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "no command to run");
  EXPECT_EQ(r.error().exit_code, 2);
}

TEST(Launcher, KillsARunningChildOnDestruction) {
  pid_t pid;
  {
    auto launcher = start_ok({.argv = {"sleep", "100"}});
    ASSERT_TRUE(launcher);
    ASSERT_TRUE(launcher->go().ok());
    pid = launcher->pid();
    EXPECT_EQ(kill(pid, 0), 0);
  }
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(Launcher, ChildWithoutGoNeverRuns) {
  TempFile out;
  pid_t pid;
  {
    auto launcher = start_ok({.argv = {"/bin/sh", "-c", "echo ran > " + out.path}});
    ASSERT_TRUE(launcher);
    pid = launcher->pid();
  }
  EXPECT_EQ(kill(pid, 0), -1);
  EXPECT_FALSE(out.exists());
}

TEST(Launcher, ChildKilledBeforeGoIsAnErrorNotASigpipe) {
  auto launcher = start_ok({.argv = {"/bin/true"}});
  ASSERT_TRUE(launcher);
  ASSERT_EQ(kill(launcher->pid(), SIGKILL), 0);
  // Wait until it is a zombie: its end of the go channel is closed then.
  std::string state;
  for (int i = 0; i < 500 && state != "Z"; ++i) {
    std::ifstream stat("/proc/" + std::to_string(launcher->pid()) + "/stat");
    std::string pid, comm;
    stat >> pid >> comm >> state;
    if (state != "Z") std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(state, "Z");
  auto r = launcher->go();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "cannot run /bin/true: its process ended before it was released (killed by signal 9)");
  EXPECT_TRUE(launcher->reaped());
}

TEST(Launcher, ChildDiesWithARecorderThatDiesBeforeGo) {
  std::string pid_text = capaudit::test::run_in_child([] {
    auto launcher = Launcher::start({.argv = {"sleep", "100"}});
    if (!launcher) return std::string("start failed: ") + launcher.error().message;
    std::string pid = std::to_string((*launcher)->pid());
    launcher->release();  // no destructor: simulate a crash
    return pid;
  });
  pid_t pid = std::atoi(pid_text.c_str());
  ASSERT_GT(pid, 0) << pid_text;
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = access(("/proc/" + pid_text).c_str(), F_OK) != 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "orphaned child " << pid << " still exists";
}

TEST(Launcher, PidfdBecomesReadableAtExit) {
  auto launcher = start_ok({.argv = {"/bin/true"}});
  ASSERT_TRUE(launcher);
  if (launcher->pidfd() < 0) GTEST_SKIP() << "pidfd_open unsupported";
  pollfd p{launcher->pidfd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 0);  // held before go
  ASSERT_TRUE(launcher->go().ok());
  EXPECT_EQ(poll(&p, 1, 5000), 1);
  EXPECT_TRUE(launcher->try_wait());
}

TEST(SignalForwarder, ForwardsSigtermToTheCommand) {
  auto launcher = start_ok({.argv = {"sleep", "100"}});
  ASSERT_TRUE(launcher);
  ASSERT_TRUE(launcher->go().ok());
  {
    SignalForwarder forwarder(launcher->pid());
    EXPECT_EQ(SignalForwarder::last_signal(), 0);
    ASSERT_EQ(kill(getpid(), SIGTERM), 0);
    int status = launcher->wait();
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
    EXPECT_EQ(SignalForwarder::last_signal(), SIGTERM);
    EXPECT_EQ(SignalForwarder::count(), 1);
  }
  // The previous disposition is back: default SIGINT would kill us, so check
  // the handler rather than raising it.
  struct sigaction now {};
  sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(SignalForwarder, WithoutATargetOnlyRemembers) {
  SignalForwarder forwarder(0);
  ASSERT_EQ(kill(getpid(), SIGINT), 0);
  EXPECT_EQ(SignalForwarder::last_signal(), SIGINT);
}

TEST(ResolveUser, NamesAndNumbers) {
  auto nobody = resolve_user("nobody");
  ASSERT_TRUE(nobody) << nobody.error().message;
  EXPECT_EQ(nobody->uid, 65534u);
  EXPECT_EQ(nobody->gid, 65534u);
  auto by_number = resolve_user("65534");
  ASSERT_TRUE(by_number);
  EXPECT_EQ(by_number->name, "nobody");
  auto unnamed = resolve_user("123456");
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(unnamed->uid, 123456u);
  EXPECT_EQ(unnamed->gid, 123456u);
  EXPECT_TRUE(unnamed->groups.empty());
  auto unknown = resolve_user("capaudit-no-such-user");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "unknown user 'capaudit-no-such-user' (no passwd entry; a numeric uid is accepted too)");
  EXPECT_EQ(unknown.error().hint, "give a user name or a numeric uid");
  EXPECT_EQ(unknown.error().exit_code, 2);
}

// The command reports its own identity: what it sees is what it got.
std::map<std::string, std::string> status_of_command(const LaunchOptions& base) {
  TempFile out;
  LaunchOptions opts = base;
  opts.argv = {"/bin/sh", "-c", "cat /proc/self/status > " + out.path};
  int status = run(opts);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::map<std::string, std::string> m;
  std::istringstream in(out.read());
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    m[line.substr(0, colon)] = value;
  }
  return m;
}

uint64_t hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

TEST(Launcher, RunsAsAnotherUserWithNoCapabilities) {
  REQUIRE_ROOT();
  auto m = status_of_command({.user = resolve_user("nobody").or_throw()});
  EXPECT_EQ(m["Uid"], "65534\t65534\t65534\t65534");
  EXPECT_EQ(m["Gid"], "65534\t65534\t65534\t65534");
  EXPECT_EQ(hex(m["CapEff"]), 0u);
  EXPECT_EQ(hex(m["CapPrm"]), 0u);
}

TEST(Launcher, NonRootUserKeepsExactlyTheGivenCapabilitiesAcrossExec) {
  REQUIRE_ROOT();
  auto m = status_of_command({.user = resolve_user("nobody").or_throw(), .caps = bit(CAP_NET_BIND_SERVICE)});
  EXPECT_EQ(m["Uid"], "65534\t65534\t65534\t65534");
  EXPECT_EQ(hex(m["CapEff"]), bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(hex(m["CapPrm"]), bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(hex(m["CapInh"]), bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(hex(m["CapAmb"]), bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(hex(m["CapBnd"]), bit(CAP_NET_BIND_SERVICE));
}

TEST(Launcher, RootWithAReducedSetCannotRegainTheOthers) {
  REQUIRE_ROOT();
  auto m = status_of_command({.caps = bit(CAP_CHOWN)});
  EXPECT_EQ(m["Uid"], "0\t0\t0\t0");
  EXPECT_EQ(hex(m["CapEff"]), bit(CAP_CHOWN));
  EXPECT_EQ(hex(m["CapPrm"]), bit(CAP_CHOWN));
  EXPECT_EQ(hex(m["CapBnd"]), bit(CAP_CHOWN));
}

// The capability sets must work, not just look right: the helper's ops
// succeed or fail accordingly.
int helper_exit(const LaunchOptions& base, const std::string& op) {
  LaunchOptions opts = base;
  opts.argv = {capaudit::test::helper_path(), op};
  int status = run(opts);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Launcher, GivenCapabilitiesAreEffective) {
  REQUIRE_ROOT();
  if (!(current_caps().effective & bit(CAP_NET_BIND_SERVICE))) GTEST_SKIP() << "no cap_net_bind_service here";
  auto nobody = resolve_user("nobody").or_throw();
  EXPECT_EQ(helper_exit({.user = nobody, .caps = bit(CAP_NET_BIND_SERVICE)}, "bind-tcp4-80"), 0);
  EXPECT_EQ(helper_exit({.user = nobody}, "bind-tcp4-80"), 1);
  EXPECT_EQ(helper_exit({.caps = bit(CAP_CHOWN)}, "bind-tcp4-80"), 1);
  EXPECT_EQ(helper_exit({.caps = bit(CAP_CHOWN)}, "chown"), 0);
  EXPECT_EQ(helper_exit({.caps = 0}, "chown"), 1);
}

TEST(Launcher, RefusesCapabilitiesItDoesNotHold) {
  REQUIRE_ROOT();
  // A recorder without cap_net_raw cannot hand it to the command.
  std::string r = capaudit::test::run_in_child([] {
    RawCapRequest req;
    req.last_cap = last_cap();
    req.effective = req.permitted = current_caps().permitted & ~bit(CAP_NET_RAW);
    RawCapFailure f;
    if (!install_caps_raw(req, &f)) return std::string("setup failed: ") + f.stage;
    auto launcher = Launcher::start({.argv = {"/bin/true"}, .caps = bit(CAP_NET_RAW) | bit(CAP_CHOWN)});
    return launcher ? std::string("started anyway") : launcher.error().message;
  });
  EXPECT_NE(r.find("cannot give the command cap_net_raw:"), std::string::npos) << r;
}

TEST(Launcher, ExplainsAFailedUserSwitch) {
  REQUIRE_ROOT();
  // Without cap_setuid (only cap_chown kept) the switch to nobody must fail,
  // and the message names the user and the call. --caps needs setpcap, so
  // the drop happens in a child that runs the launcher.
  std::string r = capaudit::test::run_in_child([] {
    RawCapRequest req;
    req.last_cap = last_cap();
    req.effective = req.permitted = bit(CAP_SETPCAP) | bit(CAP_SETGID);
    RawCapFailure f;
    if (!install_caps_raw(req, &f)) return std::string("setup failed: ") + f.stage;
    auto user = resolve_user("nobody");
    if (!user) return "resolve failed: " + user.error().message;
    auto launcher = Launcher::start({.argv = {"/bin/true"}, .user = *user});
    if (!launcher) return "start failed: " + launcher.error().message;
    auto r = (*launcher)->go();
    return r ? std::string("switched without cap_setuid") : r.error().message;
  });
  EXPECT_EQ(r, "cannot switch to user nobody (uid 65534): setuid: Operation not permitted");
}

}  // namespace
}  // namespace capaudit::record
