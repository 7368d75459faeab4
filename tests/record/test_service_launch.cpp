// Service mode for real: a unit's plan started through the recorder's
// launcher ends with the credentials and capability sets systemd would give.
// Needs root.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <fstream>
#include <map>
#include <sstream>

#include "record/host/launch.h"
#include "record/host/service.h"
#include "tests/support/run_command.h"

namespace capaudit::record {
namespace {

namespace fs = std::filesystem;

uint64_t bit(int cap) { return uint64_t{1} << cap; }

class ServiceLaunch : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: switches users and capability sets";
    scratch_ = std::make_unique<capaudit::test::ScratchDir>("capaudit-service", 0777);
    ASSERT_TRUE(scratch_->ok());
    dir_ = scratch_->path();
  }

  // Runs the unit's ExecStart= (which writes its /proc/self/status lines to
  // OUT) and returns "Key: value" pairs.
  std::map<std::string, std::string> run_unit(const std::string& service_section, int* exit_status = nullptr) {
    const std::string out = (dir_ / "status").string();
    const std::string text = "[Service]\nExecStart=@/bin/sh capaudit-probe -c 'grep -E \"^(Uid|Gid|Groups|Cap|NoNewPrivs)\" "
                             "/proc/self/status > " + out + "; echo argv0=$0 >> " + out + "'\n" + service_section;
    auto unit = common::parse_service_unit(text);
    EXPECT_TRUE(std::holds_alternative<common::ServiceUnit>(unit));
    auto plan = plan_service(std::get<common::ServiceUnit>(unit), {}, IdLookup::system());
    if (!plan) {
      ADD_FAILURE() << plan.error().message;
      return {};
    }
    auto started = Launcher::start(launch_options_for(*plan));
    if (!started) {
      ADD_FAILURE() << started.error().message;
      return {};
    }
    auto& launcher = *started;
    if (auto r = launcher->go(); !r) ADD_FAILURE() << r.error().message;
    const int status = launcher->wait();
    if (exit_status) *exit_status = status;
    std::map<std::string, std::string> kv;
    std::ifstream in(out);
    for (std::string line; std::getline(in, line);) {
      const auto sep = line.find_first_of(":=");
      if (sep == std::string::npos) continue;
      std::string value = line.substr(sep + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      kv[line.substr(0, sep)] = value;
    }
    return kv;
  }

  std::unique_ptr<capaudit::test::ScratchDir> scratch_;
  fs::path dir_;
};

uint64_t hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

TEST_F(ServiceLaunch, NonRootUserGetsAmbientWithinTheBoundingSetAndNoNewPrivs) {
  auto kv = run_unit(
      "User=65534\nGroup=65534\nSupplementaryGroups=100\n"
      "CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_CHOWN\n"
      "AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW\nNoNewPrivileges=yes\n");
  ASSERT_FALSE(kv.empty());
  EXPECT_EQ(kv["Uid"], "65534\t65534\t65534\t65534");
  EXPECT_EQ(kv["Gid"], "65534\t65534\t65534\t65534");
  EXPECT_NE(kv["Groups"].find("100"), std::string::npos) << kv["Groups"];
  const uint64_t amb = bit(CAP_NET_BIND_SERVICE) | bit(CAP_NET_RAW);
  EXPECT_EQ(hex(kv["CapEff"]), amb);
  EXPECT_EQ(hex(kv["CapPrm"]), amb);
  EXPECT_EQ(hex(kv["CapAmb"]), amb);
  EXPECT_EQ(hex(kv["CapBnd"]), amb | bit(CAP_CHOWN));
  EXPECT_EQ(kv["NoNewPrivs"], "1");
  EXPECT_EQ(kv["argv0"], "capaudit-probe");
}

TEST_F(ServiceLaunch, RootServiceIsLimitedByItsBoundingSet) {
  auto kv = run_unit("CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SETUID\n");
  ASSERT_FALSE(kv.empty());
  EXPECT_EQ(kv["Uid"], "0\t0\t0\t0");
  const uint64_t b = bit(CAP_NET_BIND_SERVICE) | bit(CAP_SETUID);
  EXPECT_EQ(hex(kv["CapEff"]), b);
  EXPECT_EQ(hex(kv["CapPrm"]), b);
  EXPECT_EQ(hex(kv["CapBnd"]), b);
  EXPECT_EQ(kv["NoNewPrivs"], "0");
}

TEST_F(ServiceLaunch, NonRootWithoutAmbientHasNoCapabilities) {
  auto kv = run_unit("User=nobody\n");
  ASSERT_FALSE(kv.empty());
  EXPECT_EQ(kv["Uid"], "65534\t65534\t65534\t65534");
  EXPECT_EQ(hex(kv["CapEff"]), 0u);
  EXPECT_EQ(hex(kv["CapPrm"]), 0u);
}

TEST_F(ServiceLaunch, DynamicUserRunsAsAFreeIdInTheRange) {
  auto kv = run_unit("DynamicUser=yes\n");
  ASSERT_FALSE(kv.empty());
  const uint32_t uid = std::stoul(kv["Uid"]);
  EXPECT_GE(uid, kDynamicUidFirst);
  EXPECT_LE(uid, kDynamicUidLast);
  EXPECT_EQ(kv["NoNewPrivs"], "1");
}

}  // namespace
}  // namespace capaudit::record
