#include "record/host/privileges.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/record/helper/run_helper.h"

namespace capaudit::record {
namespace {

uint64_t bit(int cap) { return uint64_t{1} << cap; }

#define REQUIRE_ROOT() \
  if (!capaudit::test::running_as_root()) GTEST_SKIP() << "needs root (changes capability sets)"

TEST(Privileges, SysAdminAloneIsEnough) {
  EXPECT_TRUE(evaluate_recording_privileges(bit(CAP_SYS_ADMIN)).ok);
}

TEST(Privileges, BpfAndPerfmonTogetherAreEnough) {
  EXPECT_TRUE(evaluate_recording_privileges(bit(CAP_BPF) | bit(CAP_PERFMON)).ok);
}

TEST(Privileges, NamesWhatIsMissing) {
  auto only_bpf = evaluate_recording_privileges(bit(CAP_BPF) | bit(CAP_NET_ADMIN));
  EXPECT_FALSE(only_bpf.ok);
  EXPECT_EQ(only_bpf.missing, bit(CAP_PERFMON));
  EXPECT_NE(only_bpf.message.find("cap_perfmon"), std::string::npos) << only_bpf.message;
  EXPECT_EQ(only_bpf.message.find("missing cap_bpf"), std::string::npos) << only_bpf.message;
  // No setcap hint: such a copy is refused (and failed with EPERM anyway).
  EXPECT_EQ(only_bpf.hint.find("setcap"), std::string::npos) << only_bpf.hint;
  EXPECT_NE(only_bpf.hint.find("root"), std::string::npos);

  auto none = evaluate_recording_privileges(0);
  EXPECT_FALSE(none.ok);
  EXPECT_EQ(none.missing, bit(CAP_BPF) | bit(CAP_PERFMON));
  EXPECT_NE(none.message.find("missing cap_perfmon,cap_bpf"), std::string::npos) << none.message;
}

TEST(Privileges, RootWithoutCapabilitiesIsRefused) {
  REQUIRE_ROOT();
  EXPECT_TRUE(check_recording_privileges().ok);
  std::string r = capaudit::test::run_in_child([] {
    if (auto r = drop_after_attach({}); !r) return r.error().message;
    if (getuid() != 0) return std::string("expected to still be uid 0");
    auto v = check_recording_privileges();
    return v.ok ? std::string("accepted uid 0 without capabilities") : std::string("refused: ") + v.message;
  });
  EXPECT_EQ(r.rfind("refused: ", 0), 0u) << r;
}

TEST(Privileges, CapNamesAndLists) {
  EXPECT_EQ(cap_name(CAP_NET_BIND_SERVICE), "cap_net_bind_service");
  EXPECT_EQ(cap_name(63), "cap_63");
  EXPECT_EQ(cap_list(0), "none");
  EXPECT_EQ(cap_list(bit(CAP_CHOWN) | bit(CAP_BPF)), "cap_chown,cap_bpf");
  EXPECT_EQ(parse_cap_list("cap_net_bind_service, NET_RAW,CAP_BPF,21").or_throw(),
            bit(CAP_NET_BIND_SERVICE) | bit(CAP_NET_RAW) | bit(CAP_BPF) | bit(CAP_SYS_ADMIN));
  EXPECT_EQ(parse_cap_list("").or_throw(), 0u);
  EXPECT_EQ(parse_cap_list("none").or_throw(), 0u);
  auto typo = parse_cap_list("cap_net_bind_servce");
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error().message, "unknown capability 'cap_net_bind_servce' (this kernel knows cap 0.." +
                                      std::to_string(last_cap()) +
                                      "; names as in capabilities(7), e.g. cap_net_bind_service)");
  EXPECT_EQ(typo.error().hint, "e.g. --caps cap_net_bind_service,cap_net_raw (or none)");
  EXPECT_EQ(typo.error().exit_code, 2);
  EXPECT_FALSE(parse_cap_list("63"));
  auto all = parse_cap_list(cap_list(all_caps_mask()));
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(*all, all_caps_mask());
}

TEST(Privileges, ParsesStatusCapLines) {
  auto sets = parse_status_caps(
      "Name:\tx\nCapInh:\t0000000000000001\nCapPrm:\t000001fffeffffff\nCapEff:\t0000000000000400\n"
      "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000002\nNoNewPrivs:\t0\n");
  EXPECT_EQ(sets.inheritable, 1u);
  EXPECT_EQ(sets.permitted, 0x1fffeffffffu);
  EXPECT_EQ(sets.effective, 0x400u);
  EXPECT_EQ(sets.bounding, 0x1ffffffffffu);
  EXPECT_EQ(sets.ambient, 2u);
}

// Reads the sets from /proc/self/status after the drop, in a child so the
// test process keeps its capabilities.
std::string drop_and_report(KeepAfterAttach keep) {
  return capaudit::test::run_in_child([keep] {
    if (auto r = drop_after_attach(keep); !r) return "error: " + r.error().message;
    std::ifstream in("/proc/self/status");
    std::string line, out;
    while (std::getline(in, line))
      if (line.rfind("Cap", 0) == 0) out += line + "\n";
    return out;
  });
}

std::map<std::string, uint64_t> status_map(const std::string& text) {
  std::map<std::string, uint64_t> m;
  std::istringstream in(text);
  std::string key, value;
  while (in >> key >> value) m[key] = std::stoull(value, nullptr, 16);
  return m;
}

TEST(Privileges, DropKeepsOnlyWhatWasAskedFor) {
  REQUIRE_ROOT();
  auto m = status_map(drop_and_report({.signal_other_uid = true}));
  EXPECT_EQ(m["CapEff:"], bit(CAP_KILL));
  EXPECT_EQ(m["CapPrm:"], bit(CAP_KILL));
  EXPECT_EQ(m["CapBnd:"], bit(CAP_KILL));
  EXPECT_EQ(m["CapInh:"], 0u);
  EXPECT_EQ(m["CapAmb:"], 0u);

  auto bpf = status_map(drop_and_report({.bpf_map_access = true}));
  EXPECT_EQ(bpf["CapEff:"], bit(CAP_BPF));
  EXPECT_EQ(bpf["CapBnd:"], bit(CAP_BPF));

  auto none = status_map(drop_and_report({}));
  EXPECT_EQ(none["CapEff:"], 0u);
  EXPECT_EQ(none["CapPrm:"], 0u);
  EXPECT_EQ(none["CapBnd:"], 0u);
}

TEST(Privileges, DroppedCapabilitiesReallyAreGone) {
  REQUIRE_ROOT();
  char path[] = "/tmp/capaudit-priv-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::string r = capaudit::test::run_in_child([&] {
    if (chown(path, 65534, 65534) != 0) return std::string("chown failed before the drop");
    if (auto r = drop_after_attach({}); !r) return r.error().message;
    if (chown(path, 0, 0) == 0) return std::string("chown still works after the drop");
    return std::string(errno == EPERM ? "EPERM" : "other errno");
  });
  unlink(path);
  EXPECT_EQ(r, "EPERM");
}

TEST(Privileges, SudoUserOwnsTheOutput) {
  std::map<std::string, std::string> env = {{"SUDO_UID", "1000"}, {"SUDO_GID", "1001"}};
  auto getenv = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto user = invoking_user(0, getenv);
  ASSERT_TRUE(user);
  EXPECT_EQ(user->uid, 1000u);
  EXPECT_EQ(user->gid, 1001u);
  // Not under sudo (real uid not root): the variables are anyone's to set.
  EXPECT_FALSE(invoking_user(1000, getenv));
  env["SUDO_UID"] = "10x";
  EXPECT_FALSE(invoking_user(0, getenv));
  env["SUDO_UID"] = "-1";
  EXPECT_FALSE(invoking_user(0, getenv));
  env.erase("SUDO_UID");
  EXPECT_FALSE(invoking_user(0, getenv));
}

TEST(Privileges, ApplyInvokingUserSetsOutputOwner) {
  if (getuid() != 0) GTEST_SKIP() << "needs real uid 0";
  std::string r = capaudit::test::run_in_child([] {
    setenv("SUDO_UID", "4242", 1);
    setenv("SUDO_GID", "4343", 1);
    common::OutputOptions opts;
    apply_invoking_user(opts);
    return std::to_string(opts.owner_uid) + ":" + std::to_string(opts.owner_gid);
  });
  EXPECT_EQ(r, "4242:4343");
}

}  // namespace
}  // namespace capaudit::record
