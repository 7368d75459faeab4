#include <gtest/gtest.h>
#include <linux/capability.h>

#include <map>
#include <set>

#include "common/error.h"
#include "record/host/service.h"

#include <cstdio>
#include <fstream>

namespace capaudit::record {
namespace {

uint64_t bit(int cap) { return uint64_t{1} << cap; }

// A fake group/user database: www-data 33:33 in group adm(4) too.
IdLookup fake_ids(std::set<uint32_t> used = {}) {
  IdLookup ids;
  ids.user_by_name = [](const std::string& n) -> std::optional<IdLookup::User> {
    if (n == "www-data") return IdLookup::User{33, 33, "www-data"};
    if (n == "root") return IdLookup::User{0, 0, "root"};
    return std::nullopt;
  };
  ids.user_name_by_uid = [](uint32_t uid) -> std::optional<std::string> {
    if (uid == 33) return "www-data";
    return std::nullopt;
  };
  ids.group_by_name = [](const std::string& n) -> std::optional<uint32_t> {
    static const std::map<std::string, uint32_t> g{{"adm", 4}, {"video", 44}, {"www-data", 33}};
    auto it = g.find(n);
    return it == g.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  };
  ids.user_groups = [](const std::string& n, uint32_t gid) {
    return n == "www-data" ? std::vector<uint32_t>{gid, 4} : std::vector<uint32_t>{gid};
  };
  ids.id_in_use = [used](uint32_t id) { return used.count(id) > 0; };
  return ids;
}

ServicePlan plan_ok(const std::string& text, std::vector<std::string> command = {}, IdLookup ids = fake_ids()) {
  auto unit = common::parse_service_unit(text);
  EXPECT_TRUE(std::holds_alternative<common::ServiceUnit>(unit));
  auto r = plan_service(std::get<common::ServiceUnit>(unit), command, ids);
  if (!r) {
    ADD_FAILURE() << r.error().message;
    return {};
  }
  return *r;
}

std::string plan_err(const std::string& text, std::vector<std::string> command = {}, IdLookup ids = fake_ids()) {
  auto unit = common::parse_service_unit(text);
  EXPECT_TRUE(std::holds_alternative<common::ServiceUnit>(unit));
  auto r = plan_service(std::get<common::ServiceUnit>(unit), command, ids);
  EXPECT_FALSE(r.ok());
  if (r) return "";
  EXPECT_EQ(r.error().exit_code, 2) << r.error().message;
  return r.error().message;
}

TEST(ServicePlan, NamedUserWithGroupsAndAmbient) {
  auto p = plan_ok(
      "[Service]\nExecStart=-/usr/sbin/webd -f\nUser=www-data\nSupplementaryGroups=video adm\n"
      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_CHOWN\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n"
      "NoNewPrivileges=yes\n");
  EXPECT_EQ(p.argv, (std::vector<std::string>{"/usr/sbin/webd", "-f"}));
  EXPECT_EQ(p.exec_path, "/usr/sbin/webd");
  EXPECT_TRUE(p.ignore_failure);
  EXPECT_EQ(p.uid, 33u);
  EXPECT_EQ(p.gid, 33u);
  EXPECT_EQ(p.groups, (std::vector<uint32_t>{33, 4, 44}));
  EXPECT_EQ(p.bounding, bit(CAP_NET_BIND_SERVICE) | bit(CAP_CHOWN));
  EXPECT_EQ(p.ambient, bit(CAP_NET_BIND_SERVICE));
  EXPECT_TRUE(p.no_new_privs);
  EXPECT_FALSE(p.runs_as_root());
  EXPECT_EQ(p.expected_caps(common::known_capability_mask()), bit(CAP_NET_BIND_SERVICE));
}

TEST(ServicePlan, RootKeepsItsBoundingSet) {
  auto p = plan_ok("[Service]\nExecStart=@/usr/bin/daemon my-daemon --x\nCapabilityBoundingSet=~CAP_SYS_ADMIN\n");
  EXPECT_EQ(p.exec_path, "/usr/bin/daemon");
  EXPECT_EQ(p.argv, (std::vector<std::string>{"my-daemon", "--x"}));
  EXPECT_TRUE(p.runs_as_root());
  EXPECT_FALSE(p.uid.has_value());
  EXPECT_EQ(p.expected_caps(common::known_capability_mask()), common::known_capability_mask() & ~bit(CAP_SYS_ADMIN));
  EXPECT_FALSE(p.no_new_privs);
}

TEST(ServicePlan, NumericUserWithoutPasswdEntryUsesGidEqualUid) {
  auto p = plan_ok("[Service]\nExecStart=/bin/true\nUser=4242\n");
  EXPECT_EQ(p.uid, 4242u);
  EXPECT_EQ(p.gid, 4242u);
  EXPECT_TRUE(p.groups.empty());
  p = plan_ok("[Service]\nExecStart=/bin/true\nUser=33\nGroup=adm\n");
  EXPECT_EQ(p.uid, 33u);
  EXPECT_EQ(p.gid, 4u);
}

TEST(ServicePlan, DynamicUserTakesTheFirstFreeIdAndImpliesNoNewPrivs) {
  auto p = plan_ok("[Service]\nExecStart=/bin/true\nDynamicUser=yes\n", {},
                   fake_ids({kDynamicUidFirst, kDynamicUidFirst + 1}));
  EXPECT_EQ(p.uid, kDynamicUidFirst + 2);
  EXPECT_EQ(p.gid, kDynamicUidFirst + 2);
  EXPECT_TRUE(p.dynamic_user);
  EXPECT_TRUE(p.no_new_privs);

  std::set<uint32_t> all;
  for (uint32_t id = kDynamicUidFirst; id <= kDynamicUidLast; ++id) all.insert(id);
  EXPECT_NE(plan_err("[Service]\nExecStart=/bin/true\nDynamicUser=yes\n", {}, fake_ids(all)).find("no free uid"),
            std::string::npos);
}

TEST(ServicePlan, BangPrefixKeepsRoot) {
  auto p = plan_ok("[Service]\nExecStart=!/usr/bin/dropper\nUser=www-data\nSupplementaryGroups=adm\n");
  EXPECT_TRUE(p.runs_as_root());
  EXPECT_TRUE(p.groups.empty());
}

TEST(ServicePlan, CommandOverridesExecStart) {
  auto p = plan_ok("[Service]\nExecStart=/bin/a\nExecStart=/bin/b\nUser=www-data\n", {"/bin/c", "x"});
  EXPECT_EQ(p.argv, (std::vector<std::string>{"/bin/c", "x"}));
  EXPECT_EQ(p.uid, 33u);
}

TEST(ServicePlan, Errors) {
  EXPECT_NE(plan_err("[Service]\nUser=www-data\n").find("no ExecStart="), std::string::npos);
  EXPECT_NE(plan_err("[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n").find("2 ExecStart="), std::string::npos);
  EXPECT_NE(plan_err("[Service]\nExecStart=/bin/a\nUser=ghost\n").find("no such user"), std::string::npos);
  EXPECT_NE(plan_err("[Service]\nExecStart=/bin/a\nSupplementaryGroups=ghosts\n").find("no such group"),
            std::string::npos);
}

TEST(ServicePlan, AmbientOutsideBoundingIsDropped) {
  auto p = plan_ok("[Service]\nExecStart=/bin/a\nUser=www-data\nCapabilityBoundingSet=CAP_CHOWN\n"
                   "AmbientCapabilities=CAP_CHOWN CAP_NET_RAW\n");
  EXPECT_EQ(p.ambient, bit(CAP_CHOWN));
}

TEST(ServicePlan, SystemLookupFindsRootAndNobody) {
  const IdLookup ids = IdLookup::system();
  auto root = ids.user_by_name("root");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->uid, 0u);
  EXPECT_TRUE(ids.id_in_use(0));
  EXPECT_FALSE(ids.user_by_name("capaudit-no-such-user").has_value());
}

TEST(ServiceUnitFile, ErrorsNameTheUnitAndLineBeforeAnythingRuns) {
  const std::string path = testing::TempDir() + "capaudit-plus.service";
  std::ofstream(path) << "[Service]\nUser=nobody\nExecStart=+/bin/true\n";
  auto plus = launch_options_for_unit(path, {});
  ASSERT_FALSE(plus.ok()) << "a '+' unit must be refused";
  EXPECT_EQ(plus.error().exit_code, 2);
  EXPECT_NE(plus.error().message.find(path + ":3:"), std::string::npos) << plus.error().message;
  std::ofstream(path) << "[Service]\nUser=4294967295\nExecStart=/bin/true\n";
  auto bad_id = launch_options_for_unit(path, {});
  ASSERT_FALSE(bad_id.ok());
  EXPECT_EQ(bad_id.error().exit_code, 2);
  auto missing = launch_options_for_unit(path + ".missing", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().exit_code, 2);

  std::ofstream(path) << "[Service]\nUser=nobody\nExecStart=@/bin/true probe\nNoNewPrivileges=yes\n";
  std::vector<std::string> notes;
  auto launch = launch_options_for_unit(path, {}, &notes);
  ASSERT_TRUE(launch.ok()) << launch.error().message;
  const LaunchOptions& o = *launch;
  EXPECT_EQ(o.exec_path, "/bin/true");
  EXPECT_EQ(o.argv, (std::vector<std::string>{"probe"}));
  ASSERT_TRUE(o.user);
  EXPECT_EQ(o.user->uid, 65534u);
  EXPECT_TRUE(o.no_new_privs);
  EXPECT_FALSE(o.caps.has_value());
  EXPECT_FALSE(notes.empty());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace capaudit::record
