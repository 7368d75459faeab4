// Golden tests: every format for every case, compared with files under
// golden/. Set CAPAUDIT_UPDATE_GOLDEN=1 to rewrite them after a deliberate
// change (and review the diff).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config_cases.h"

namespace capaudit::analyze::test {
namespace {

std::string golden_path(const std::string& c, ConfigFormat f) {
  return std::string(CAPAUDIT_GOLDEN_DIR) + "/" + c + "." + std::string(config_format_name(f));
}

class Golden : public ::testing::TestWithParam<NamedCase> {};

TEST_P(Golden, EveryFormatMatches) {
  const auto& [name, input] = GetParam();
  const bool update = std::getenv("CAPAUDIT_UPDATE_GOLDEN") != nullptr;
  for (ConfigFormat f : all_config_formats()) {
    SCOPED_TRACE(std::string(config_format_name(f)));
    const std::string got = render_config(f, input);
    const std::string path = golden_path(name, f);
    if (update) {
      std::ofstream(path) << got;
      continue;
    }
    std::ifstream in(path);
    ASSERT_TRUE(in) << "missing golden file " << path;
    std::stringstream want;
    want << in.rdbuf();
    EXPECT_EQ(got, want.str()) << "golden " << path;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.name; });

std::vector<std::string> seq(const YAML::Node& n) {
  std::vector<std::string> out;
  for (const auto& item : n) out.push_back(item.as<std::string>());
  return out;
}

TEST(ConfigYaml, KubernetesStructure) {
  YAML::Node root = YAML::Load(render_config(ConfigFormat::kubernetes, nonroot_service()));
  auto sc = root["securityContext"];
  ASSERT_TRUE(sc.IsMap());
  EXPECT_EQ(seq(sc["capabilities"]["drop"]), (std::vector<std::string>{"ALL"}));
  EXPECT_EQ(seq(sc["capabilities"]["add"]), (std::vector<std::string>{"NET_BIND_SERVICE", "NET_RAW"}));
  EXPECT_EQ(sc["runAsUser"].as<int>(), 65534);
  EXPECT_TRUE(sc["runAsNonRoot"].as<bool>());
  // Non-root with file capabilities: privilege escalation must stay allowed.
  EXPECT_TRUE(sc["allowPrivilegeEscalation"].as<bool>());

  root = YAML::Load(render_config(ConfigFormat::kubernetes, root_daemon()));
  sc = root["securityContext"];
  EXPECT_FALSE(sc["allowPrivilegeEscalation"].as<bool>());
  EXPECT_FALSE(sc["runAsUser"].IsDefined());
  EXPECT_EQ(seq(sc["capabilities"]["add"]), (std::vector<std::string>{"SETUID", "NET_BIND_SERVICE"}));

  root = YAML::Load(render_config(ConfigFormat::kubernetes, no_caps()));
  EXPECT_FALSE(root["securityContext"]["capabilities"]["add"].IsDefined());
}

TEST(ConfigYaml, KubernetesSysAdminKeepsEscalation) {
  ConfigInput in = root_daemon();
  in.executables[0].caps |= bit(CAP_SYS_ADMIN);
  auto sc = YAML::Load(render_config(ConfigFormat::kubernetes, in))["securityContext"];
  EXPECT_TRUE(sc["allowPrivilegeEscalation"].as<bool>());
}

TEST(ConfigYaml, ComposeStructure) {
  YAML::Node root = YAML::Load(render_config(ConfigFormat::compose, root_daemon()));
  auto svc = root["services"]["webd"];
  ASSERT_TRUE(svc.IsMap());
  EXPECT_EQ(seq(svc["cap_drop"]), (std::vector<std::string>{"ALL"}));
  EXPECT_EQ(seq(svc["cap_add"]), (std::vector<std::string>{"SETUID", "NET_BIND_SERVICE"}));
  EXPECT_EQ(seq(svc["security_opt"]), (std::vector<std::string>{"no-new-privileges:true"}));
  EXPECT_FALSE(svc["user"].IsDefined());

  svc = YAML::Load(render_config(ConfigFormat::compose, nonroot_service()))["services"]["probe"];
  EXPECT_EQ(svc["user"].as<std::string>(), "65534:65534");
  EXPECT_FALSE(svc["security_opt"].IsDefined());
}

TEST(ConfigText, NonRootContainerFlagsWarnAndSayWhatToDo) {
  const std::string docker = render_config(ConfigFormat::docker, nonroot_service());
  EXPECT_NE(docker.find("WARNING"), std::string::npos);
  EXPECT_NE(docker.find("RUN setcap cap_net_bind_service,cap_net_raw=ep /opt/probe/bin/pinger"), std::string::npos);
  EXPECT_EQ(docker.find("no-new-privileges"), docker.find("no-new-privileges off"));
  const std::string root = render_config(ConfigFormat::docker, root_daemon());
  EXPECT_EQ(root.find("WARNING"), std::string::npos);
  EXPECT_NE(root.find("--security-opt=no-new-privileges"), std::string::npos);
}

TEST(ConfigText, SystemdAmbientOnlyForNonRootAndStartupOnlyExplained) {
  const std::string root = render_config(ConfigFormat::systemd, root_daemon());
  EXPECT_NE(root.find("CapabilityBoundingSet=CAP_SETUID CAP_NET_BIND_SERVICE\n"), std::string::npos);
  EXPECT_EQ(root.find("AmbientCapabilities="), std::string::npos);
  EXPECT_NE(root.find("Startup-only: CAP_SETUID"), std::string::npos);
  const std::string nonroot = render_config(ConfigFormat::systemd, nonroot_service());
  EXPECT_NE(nonroot.find("AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW\n"), std::string::npos);
  EXPECT_NE(nonroot.find("NoNewPrivileges=yes\n"), std::string::npos);
  const std::string fc = render_config(ConfigFormat::systemd, file_capped_admin());
  EXPECT_NE(fc.find("NoNewPrivileges=no\n"), std::string::npos);
  EXPECT_NE(render_config(ConfigFormat::systemd, no_caps()).find("CapabilityBoundingSet=\n"), std::string::npos);
}

TEST(ConfigText, FileCapsOneLinePerExecutableThatNeedsAny) {
  const std::string s = render_config(ConfigFormat::setcap, nonroot_service());
  EXPECT_NE(s.find("\nsetcap cap_net_bind_service,cap_net_raw=ep /opt/probe/bin/pinger\n"), std::string::npos);
  EXPECT_NE(s.find("\nsetcap -r /opt/probe/bin/report\n"), std::string::npos);
  const std::string f = render_config(ConfigFormat::filecap, nonroot_service());
  EXPECT_NE(f.find("\nfilecap /opt/probe/bin/pinger net_bind_service net_raw\n"), std::string::npos);
}

TEST(ConfigNames, SpellingsAndUnknownNumbers) {
  EXPECT_EQ(cap_name_systemd(CAP_NET_BIND_SERVICE), "CAP_NET_BIND_SERVICE");
  EXPECT_EQ(cap_name_container(CAP_NET_BIND_SERVICE), "NET_BIND_SERVICE");
  EXPECT_EQ(cap_name_libcap(CAP_NET_BIND_SERVICE), "cap_net_bind_service");
  EXPECT_EQ(cap_name_capng(CAP_NET_BIND_SERVICE), "net_bind_service");
  EXPECT_EQ(cap_name_systemd(55), "CAP_55");
  EXPECT_EQ(cap_from_any_name("CAP_NET_RAW"), CAP_NET_RAW);
  EXPECT_EQ(cap_from_any_name("net_raw"), CAP_NET_RAW);
  EXPECT_EQ(cap_from_any_name("Cap_Sys_Admin"), CAP_SYS_ADMIN);
  EXPECT_EQ(cap_from_any_name("12"), 12);
  EXPECT_FALSE(cap_from_any_name("CAP_FLY").has_value());
  EXPECT_EQ(parse_config_format("kubernetes"), ConfigFormat::kubernetes);
  EXPECT_FALSE(parse_config_format("k8s").has_value());
}

TEST(ConfigInputTest, StartupOnlyNeedsEveryUserToBeStartupOnly) {
  ConfigInput in = root_daemon();
  EXPECT_EQ(in.all_startup_only(), bit(CAP_SETUID));
  in.executables.push_back({"/usr/bin/other", bit(CAP_SETUID), 0, std::nullopt});
  EXPECT_EQ(in.all_startup_only(), 0u);
}

}  // namespace
}  // namespace capaudit::analyze::test
