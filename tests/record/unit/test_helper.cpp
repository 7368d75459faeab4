// The test helper must really perform each privileged operation: as root every
// op succeeds, and with no capabilities at all (still uid 0) each one fails
// with the errno the kernel gives for the missing capability. The second half
// is what makes the e2e expectations trustworthy.
#include <gtest/gtest.h>
#include <sched.h>

#include <linux/capability.h>

#include <fstream>
#include <ostream>
#include <sstream>
#include <string>

#include "tests/record/helper/run_helper.h"

namespace {

using capaudit::test::helper_path;
using capaudit::test::run_program;
using capaudit::test::RunOptions;
using capaudit::test::RunResult;

RunResult helper(std::vector<std::string> args, RunOptions opts = {}) {
  args.insert(args.begin(), helper_path());
  return run_program(args, opts);
}

std::string read_sysctl(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

// ping_group_range "LO HI": root's gid 0 may create ICMP datagram sockets iff in range.
bool gid0_in_ping_range() {
  std::istringstream in(read_sysctl("/proc/sys/net/ipv4/ping_group_range"));
  long lo = 1, hi = 0;
  in >> lo >> hi;
  return lo <= 0 && 0 <= hi;
}

#define REQUIRE_ROOT() \
  if (!capaudit::test::running_as_root()) GTEST_SKIP() << "needs root (privileged operations)"

// Root is not enough: a container or a reduced bounding set (this project's
// machines lack CAP_SYS_RESOURCE) makes an op fail even as uid 0.
bool have_capability(int cap) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("CapEff:", 0) == 0) return (std::stoull(line.substr(7), nullptr, 16) >> cap) & 1;
  return false;
}

struct OpCase {
  const char* op;
  int cap;                         // the capability the op needs (linux/capability.h)
  const char* errno_without_caps;  // as the kernel reports the missing capability
};

void PrintTo(const OpCase& c, std::ostream* os) { *os << c.op; }

const OpCase kOps[] = {
    {"bind-tcp4-80", CAP_NET_BIND_SERVICE, "EACCES"}, {"bind-tcp6-80", CAP_NET_BIND_SERVICE, "EACCES"},
    {"bind-udp4-80", CAP_NET_BIND_SERVICE, "EACCES"}, {"bind-udp6-80", CAP_NET_BIND_SERVICE, "EACCES"},
    {"raw-socket", CAP_NET_RAW, "EPERM"},             {"chown", CAP_CHOWN, "EPERM"},
    {"setuid", CAP_SETUID, "EPERM"},                  {"setgid", CAP_SETGID, "EPERM"},
    {"setgroups", CAP_SETGID, "EPERM"},               {"mknod-char", CAP_MKNOD, "EPERM"},
    {"sethostname-uts", CAP_SYS_ADMIN, "EPERM"},      {"mount-tmpfs", CAP_SYS_ADMIN, "EPERM"},
    {"raise-hard-rlimit", CAP_SYS_RESOURCE, "EPERM"}, {"mlock-beyond", CAP_IPC_LOCK, "ENOMEM"},
    {"nice-10", CAP_SYS_NICE, "EACCES"},              {"capset-drop", CAP_NET_BIND_SERVICE, "EACCES"},
    {"capset-inheritable", CAP_SETPCAP, "EPERM"},     {"mmap-low", CAP_SYS_RAWIO, "EPERM"},
};

class HelperOp : public ::testing::TestWithParam<OpCase> {};

TEST_P(HelperOp, SucceedsIffRootHasTheCapability) {
  REQUIRE_ROOT();
  auto r = helper({GetParam().op});
  if (!have_capability(GetParam().cap)) {
    EXPECT_EQ(r.exit_code(), 1) << r.out;
    EXPECT_NE(r.err.find(GetParam().errno_without_caps), std::string::npos) << r.err;
    return;
  }
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_NE(r.out.find(std::string("ok ") + GetParam().op), std::string::npos) << r.out;
}

TEST_P(HelperOp, FailsWithoutCapabilities) {
  REQUIRE_ROOT();
  auto r = helper({GetParam().op}, {.drop_all_caps = true});
  EXPECT_EQ(r.exit_code(), 1) << r.out;
  EXPECT_NE(r.err.find(GetParam().errno_without_caps), std::string::npos) << r.err;
}

TEST_P(HelperOp, WorksFromAThreadAndAForkedChild) {
  REQUIRE_ROOT();
  int expected = have_capability(GetParam().cap) ? 0 : 1;
  auto threaded = helper({"thread", GetParam().op});
  EXPECT_EQ(threaded.exit_code(), expected) << threaded.err;
  auto forked = helper({"fork-exec", GetParam().op});
  EXPECT_EQ(forked.exit_code(), expected) << forked.err;
  auto forked_denied = helper({"fork-exec", GetParam().op}, {.drop_all_caps = true});
  EXPECT_EQ(forked_denied.exit_code(), 1) << forked_denied.out;
}

INSTANTIATE_TEST_SUITE_P(Ops, HelperOp, ::testing::ValuesIn(kOps),
                         [](const auto& info) {
                           std::string name = info.param.op;
                           for (auto& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(Helper, KillOtherUidNeedsCapKill) {
  REQUIRE_ROOT();
  auto r = helper({"kill-other-uid"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  // Without capabilities the victim cannot even change uid: the op fails either way.
  auto denied = helper({"kill-other-uid"}, {.drop_all_caps = true});
  EXPECT_EQ(denied.exit_code(), 1) << denied.out;
}

TEST(Helper, ReadKmsgFollowsDmesgRestrict) {
  REQUIRE_ROOT();
  auto r = helper({"read-kmsg"});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  auto denied = helper({"read-kmsg"}, {.drop_all_caps = true});
  bool restricted = read_sysctl("/proc/sys/kernel/dmesg_restrict") == "1";
  EXPECT_EQ(denied.exit_code(), restricted ? 1 : 0) << denied.err;
}

TEST(Helper, ReadKallsymsHidesAddressesWithoutSyslog) {
  REQUIRE_ROOT();
  auto r = helper({"read-kallsyms"});
  ASSERT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_NE(r.out.find("visible"), std::string::npos) << r.out;
  // kptr_restrict=0 with perf_event_paranoid<=1 shows them to everyone.
  bool open_to_all = read_sysctl("/proc/sys/kernel/kptr_restrict") == "0" &&
                     std::stoi(read_sysctl("/proc/sys/kernel/perf_event_paranoid")) <= 1;
  auto denied = helper({"read-kallsyms"}, {.drop_all_caps = true});
  ASSERT_EQ(denied.exit_code(), 0) << denied.err;
  EXPECT_NE(denied.out.find(open_to_all ? "visible" : "hidden"), std::string::npos) << denied.out;
}

TEST(Helper, IcmpSocketFollowsPingGroupRange) {
  REQUIRE_ROOT();
  auto r = helper({"icmp-socket"});
  if (gid0_in_ping_range()) {
    EXPECT_EQ(r.exit_code(), 0) << r.err;
  } else {
    EXPECT_EQ(r.exit_code(), 1) << r.out;
    EXPECT_NE(r.err.find("EACCES"), std::string::npos) << r.err;
  }
}

// In a fresh netns whose range admits gid 0 the socket works, and no
// capability is involved: it works with none at all.
TEST(Helper, IcmpSocketWorksInANetnsThatAllowsGid0) {
  REQUIRE_ROOT();
  auto in_open_netns = [] {
    if (unshare(CLONE_NEWNET) != 0) return false;
    std::ofstream("/proc/sys/net/ipv4/ping_group_range") << "0 0\n";
    return true;
  };
  auto r = helper({"icmp-socket"}, {.drop_all_caps = true, .before_exec = +in_open_netns});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
}

TEST(Helper, LoopsAndSleepRun) {
  REQUIRE_ROOT();
  EXPECT_EQ(helper({"setuid-loop", "1000"}).exit_code(), 0);
  // setuid(0) by uid 0 is allowed without CAP_SETUID (uid unchanged), though
  // the kernel still checks it first: the loop is a denied-check workload then.
  EXPECT_EQ(helper({"setuid-loop", "10"}, {.drop_all_caps = true}).exit_code(), 0);
  EXPECT_EQ(helper({"getppid-loop", "1000"}).exit_code(), 0);
  EXPECT_EQ(helper({"fork-loop", "20"}).exit_code(), 0);
  EXPECT_EQ(helper({"sleep", "0.01"}).exit_code(), 0);
}

TEST(Helper, RejectsUnknownOperations) {
  auto r = helper({"no-such-op"});
  EXPECT_EQ(r.exit_code(), 2);
  EXPECT_NE(r.err.find("unknown operation"), std::string::npos);
  auto list = helper({"--list"});
  EXPECT_EQ(list.exit_code(), 0);
  EXPECT_NE(list.out.find("capset-drop"), std::string::npos);
}

}  // namespace
