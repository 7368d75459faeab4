#include <gtest/gtest.h>

#include "analyze/core/profile.h"

namespace capaudit::analyze {
namespace {

TEST(SysctlConf, CommentsPrefixesAndSeparators) {
  auto p = parse_sysctl_conf(
      "# comment\n"
      "; another comment\n"
      "\n"
      "  net.ipv4.ip_unprivileged_port_start = 80  \n"
      "-kernel.dmesg_restrict=1\n"
      "net/ipv4/ping_group_range =\t0   2147483647\n"
      "net/ipv4/conf/enp3s0.200/forwarding = 1\n");
  EXPECT_TRUE(p.errors.empty());
  EXPECT_EQ(p.profile.get("net.ipv4.ip_unprivileged_port_start"), "80");
  EXPECT_EQ(p.profile.get("kernel.dmesg_restrict"), "1");
  EXPECT_EQ(p.profile.get("net.ipv4.ping_group_range"), "0 2147483647");
  EXPECT_EQ(p.profile.get_int("net.ipv4.ping_group_range", 1), 2147483647);
  // In slash form a dot is part of the name; sysctl(8) writes it as '/'.
  EXPECT_EQ(p.profile.get("net.ipv4.conf.enp3s0/200.forwarding"), "1");
}

TEST(SysctlConf, ErrorsCarryLineNumbers) {
  auto p = parse_sysctl_conf("kernel.a = 1\nthis line is wrong\n = 3\nkernel.b=2\n");
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0].line, 2);
  EXPECT_EQ(p.errors[1].line, 3);
  EXPECT_EQ(p.profile.get("kernel.b"), "2");
}

TEST(SysctlConf, FlagsAndIntegers) {
  Profile p;
  EXPECT_FALSE(parse_sysctl_flag("vm.mmap_min_addr=65536", p));
  EXPECT_TRUE(parse_sysctl_flag("novalue", p));
  EXPECT_EQ(p.get_int("vm.mmap_min_addr"), 65536);
  p.set("rlimit.MEMLOCK.soft", "unlimited");
  EXPECT_EQ(p.get_int("rlimit.MEMLOCK.soft"), INT64_MAX);
  p.set("kernel.io_uring_group", "-1");
  EXPECT_EQ(p.get_int("kernel.io_uring_group"), -1);
  p.set("junk", "12abc");
  EXPECT_EQ(p.get_int("junk"), std::nullopt);
  EXPECT_EQ(p.get_int("missing"), std::nullopt);
}

TEST(Profiles, FromHeaderNetnsWinsAndRlimits) {
  common::Header h;
  h.sysctls_global = {{"net.ipv4.ip_unprivileged_port_start", "1024"}, {"kernel.dmesg_restrict", "1"}};
  h.sysctls_netns = {{"net.ipv4.ip_unprivileged_port_start", "0"}};
  h.target_rlimits = {{8, "RLIMIT_MEMLOCK", 65536, UINT64_MAX}};
  auto p = Profile::from_header(h);
  EXPECT_EQ(p.get("net.ipv4.ip_unprivileged_port_start"), "0");
  EXPECT_EQ(p.get("kernel.dmesg_restrict"), "1");
  EXPECT_EQ(p.get_int("rlimit.MEMLOCK.soft"), 65536);
  EXPECT_EQ(p.get("rlimit.MEMLOCK.hard"), "unlimited");
}

TEST(Profiles, NamedProfilesShip) {
  auto names = named_profiles();
  for (const char* n : {"host", "docker", "podman", "hardened"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  auto docker = named_profile("docker");
  ASSERT_TRUE(docker);
  EXPECT_TRUE(docker->errors.empty());
  EXPECT_EQ(docker->profile.get("net.ipv4.ip_unprivileged_port_start"), "0");
  EXPECT_EQ(docker->profile.get("net.ipv4.ping_group_range"), "0 2147483647");
  auto hardened = named_profile("hardened");
  ASSERT_TRUE(hardened);
  EXPECT_TRUE(hardened->errors.empty());
  EXPECT_EQ(hardened->profile.get("kernel.yama.ptrace_scope"), "2");
  auto podman = named_profile("podman");
  ASSERT_TRUE(podman);
  EXPECT_TRUE(podman->errors.empty());
  EXPECT_EQ(podman->profile.get("net.ipv4.ip_unprivileged_port_start"), "1024");
  EXPECT_EQ(podman->profile.get("net.ipv4.ping_group_range"), "0 0");
  EXPECT_TRUE(named_profile("host")->profile.empty());
  EXPECT_FALSE(named_profile("nonexistent"));
}

}  // namespace
}  // namespace capaudit::analyze
