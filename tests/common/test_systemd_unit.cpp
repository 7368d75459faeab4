#include "common/systemd_unit.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace capaudit::common {
namespace {

uint64_t bit(int cap) { return uint64_t{1} << cap; }

ServiceUnit parse_ok(std::string_view text) {
  auto r = parse_service_unit(text);
  if (auto* err = std::get_if<UnitError>(&r)) {
    ADD_FAILURE() << "line " << err->line << ": " << err->message;
    return {};
  }
  return std::get<ServiceUnit>(r);
}

UnitError parse_err(std::string_view text) {
  auto r = parse_service_unit(text);
  if (!std::holds_alternative<UnitError>(r)) {
    ADD_FAILURE() << "expected a parse error";
    return {};
  }
  return std::get<UnitError>(r);
}

TEST(SystemdUnit, ExecStartWithQuotesAndEscapes) {
  auto u = parse_ok("[Service]\nExecStart=/usr/bin/srv --name \"two words\" 'single q' a\\x41b 100%%\n");
  ASSERT_EQ(u.exec_start.size(), 1u);
  const auto& c = u.exec_start[0];
  EXPECT_EQ(c.path, "/usr/bin/srv");
  EXPECT_EQ(c.argv, (std::vector<std::string>{"/usr/bin/srv", "--name", "two words", "single q", "aAb", "100%"}));
  EXPECT_FALSE(c.ignore_failure);
  EXPECT_FALSE(c.keep_credentials);
}

TEST(SystemdUnit, ExecStartPrefixesCombine) {
  auto u = parse_ok("[Service]\nExecStart=-@:!/usr/bin/srv srv-argv0 --flag\n");
  ASSERT_EQ(u.exec_start.size(), 1u);
  const auto& c = u.exec_start[0];
  EXPECT_TRUE(c.ignore_failure);
  EXPECT_TRUE(c.no_env_expansion);
  EXPECT_TRUE(c.keep_credentials);
  EXPECT_EQ(c.path, "/usr/bin/srv");
  EXPECT_EQ(c.argv, (std::vector<std::string>{"srv-argv0", "--flag"}));
}

TEST(SystemdUnit, RefusesPlusAndDoubleBang) {
  auto e = parse_err("[Service]\nUser=nobody\nExecStart=+/usr/bin/srv\n");
  EXPECT_EQ(e.line, 3);
  EXPECT_NE(e.message.find("'+'"), std::string::npos) << e.message;
  e = parse_err("[Service]\nExecStart=!!/usr/bin/srv\n");
  EXPECT_NE(e.message.find("'!!'"), std::string::npos) << e.message;
  e = parse_err("[Service]\nExecStart=-+/usr/bin/srv\n");
  EXPECT_NE(e.message.find("'+'"), std::string::npos) << e.message;
}

TEST(SystemdUnit, EmptyExecStartResetsAndOnlyServiceSectionCounts) {
  auto u = parse_ok(
      "[Unit]\nDescription=x\nUser=ignored-here\n"
      "[Service]\nExecStart=/bin/a\nExecStart=\nExecStart=/bin/b\n"
      "[Install]\nWantedBy=multi-user.target\n");
  ASSERT_EQ(u.exec_start.size(), 1u);
  EXPECT_EQ(u.exec_start[0].path, "/bin/b");
  EXPECT_FALSE(u.user.has_value());
}

TEST(SystemdUnit, LineContinuationsAndComments) {
  auto u = parse_ok(
      "# leading comment\n[Service]\n; another\n"
      "ExecStart=/usr/bin/srv \\\n"
      "# a comment inside the continuation is dropped\n"
      "  --port 80 \\\n"
      "  --verbose\n"
      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE \\\n  CAP_CHOWN\n");
  ASSERT_EQ(u.exec_start.size(), 1u);
  EXPECT_EQ(u.exec_start[0].argv, (std::vector<std::string>{"/usr/bin/srv", "--port", "80", "--verbose"}));
  EXPECT_EQ(u.capability_bounding_set, bit(CAP_NET_BIND_SERVICE) | bit(CAP_CHOWN));
}

TEST(SystemdUnit, BoundingSetAccumulatesInvertsAndResets) {
  auto u = parse_ok("[Service]\nCapabilityBoundingSet=CAP_CHOWN\nCapabilityBoundingSet=cap_kill 12\n");
  EXPECT_EQ(u.capability_bounding_set, bit(CAP_CHOWN) | bit(CAP_KILL) | bit(CAP_NET_ADMIN));

  u = parse_ok("[Service]\nCapabilityBoundingSet=~CAP_SYS_ADMIN CAP_SYS_PTRACE\n");
  EXPECT_EQ(u.capability_bounding_set, known_capability_mask() & ~bit(CAP_SYS_ADMIN) & ~bit(CAP_SYS_PTRACE));

  // A later "~" line ANDs with what is there.
  u = parse_ok("[Service]\nCapabilityBoundingSet=CAP_CHOWN CAP_KILL\nCapabilityBoundingSet=~CAP_KILL\n");
  EXPECT_EQ(u.capability_bounding_set, bit(CAP_CHOWN));

  // Empty resets to the empty set; later lines start again from there.
  u = parse_ok("[Service]\nCapabilityBoundingSet=CAP_CHOWN\nCapabilityBoundingSet=\n");
  EXPECT_EQ(u.capability_bounding_set, 0u);
  u = parse_ok("[Service]\nCapabilityBoundingSet=CAP_CHOWN\nCapabilityBoundingSet=\nCapabilityBoundingSet=CAP_KILL\n");
  EXPECT_EQ(u.capability_bounding_set, bit(CAP_KILL));

  // "~" alone is every capability.
  u = parse_ok("[Service]\nCapabilityBoundingSet=~\n");
  EXPECT_EQ(u.capability_bounding_set, known_capability_mask());

  // Not given at all: unchanged, i.e. everything.
  u = parse_ok("[Service]\nExecStart=/bin/true\n");
  EXPECT_FALSE(u.capability_bounding_set.has_value());
  EXPECT_EQ(u.effective_bounding_set(), known_capability_mask());
}

TEST(SystemdUnit, UnknownCapabilityIsAWarningNotAnError) {
  auto u = parse_ok("[Service]\nAmbientCapabilities=CAP_NET_RAW CAP_FLY\n");
  EXPECT_EQ(u.ambient_capabilities, bit(CAP_NET_RAW));
  ASSERT_EQ(u.warnings.size(), 1u);
  EXPECT_NE(u.warnings[0].find("CAP_FLY"), std::string::npos);
}

TEST(SystemdUnit, AmbientAccumulatesAndResets) {
  auto u = parse_ok("[Service]\nAmbientCapabilities=CAP_NET_RAW\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n");
  EXPECT_EQ(u.ambient_capabilities, bit(CAP_NET_RAW) | bit(CAP_NET_BIND_SERVICE));
  u = parse_ok("[Service]\nAmbientCapabilities=CAP_NET_RAW\nAmbientCapabilities=\n");
  EXPECT_EQ(u.ambient_capabilities, 0u);
}

TEST(SystemdUnit, UsersGroupsAndBooleans) {
  auto u = parse_ok(
      "[Service]\nUser=www-data\nGroup=1234\nSupplementaryGroups=adm 4\nSupplementaryGroups=video\n"
      "DynamicUser=yes\nNoNewPrivileges=true\n");
  ASSERT_TRUE(u.user && u.group);
  EXPECT_EQ(u.user->text, "www-data");
  EXPECT_FALSE(u.user->numeric.has_value());
  EXPECT_EQ(u.group->numeric, 1234u);
  ASSERT_EQ(u.supplementary_groups.size(), 3u);
  EXPECT_EQ(u.supplementary_groups[1].numeric, 4u);
  EXPECT_EQ(u.supplementary_groups[2].text, "video");
  EXPECT_TRUE(u.dynamic_user);
  EXPECT_EQ(u.no_new_privileges, true);
  EXPECT_FALSE(u.runs_as_root());

  u = parse_ok("[Service]\nUser=0\nSupplementaryGroups=adm\nSupplementaryGroups=\n");
  EXPECT_TRUE(u.runs_as_root());
  EXPECT_TRUE(u.supplementary_groups.empty());
  EXPECT_FALSE(u.no_new_privileges.has_value());

  EXPECT_NE(parse_err("[Service]\nNoNewPrivileges=maybe\n").message.find("boolean"), std::string::npos);
}

TEST(SystemdUnit, RejectsInvalidIdsBeforeAnythingRuns) {
  for (const char* bad : {"-1", "65535", "4294967295", "4294967296", "99999999999999999999", "12ab"}) {
    SCOPED_TRACE(bad);
    auto e = parse_err(std::string("[Service]\nUser=") + bad + "\n");
    EXPECT_EQ(e.line, 2);
    e = parse_err(std::string("[Service]\nGroup=") + bad + "\n");
    EXPECT_EQ(e.line, 2);
    e = parse_err(std::string("[Service]\nSupplementaryGroups=10 ") + bad + "\n");
    EXPECT_EQ(e.line, 2);
  }
  EXPECT_EQ(std::get<uint32_t>(parse_unit_id("4294967294")), 4294967294u);
  EXPECT_EQ(std::get<uint32_t>(parse_unit_id("65534")), 65534u);
  EXPECT_EQ(std::get<uint32_t>(parse_unit_id("0")), 0u);
  EXPECT_NE(std::get<std::string>(parse_unit_id("-5")).find("negative"), std::string::npos);
  EXPECT_NE(std::get<std::string>(parse_unit_id("4294967296")).find("32 bits"), std::string::npos);
}

TEST(SystemdUnit, MalformedInput) {
  EXPECT_EQ(parse_err("[Service\nExecStart=/bin/true\n").line, 1);
  EXPECT_EQ(parse_err("[Service]\njust words\n").line, 2);
  EXPECT_NE(parse_err("[Service]\nExecStart=/bin/echo \"open\n").message.find("quote"), std::string::npos);
  EXPECT_NE(parse_err("[Service]\nExecStart=@/bin/echo\n").message.find("'@'"), std::string::npos);
  EXPECT_EQ(load_service_unit("/nonexistent/unit.service").index(), 1u);
}

}  // namespace
}  // namespace capaudit::common
