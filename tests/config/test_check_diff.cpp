#include <gtest/gtest.h>
#include <linux/capability.h>

#include "analyze/config/check.h"
#include "analyze/config/configs.h"
#include "config_cases.h"

namespace capaudit::analyze::test {
namespace {

Grant unit_grant(const std::string& text) {
  auto r = common::parse_service_unit(text);
  EXPECT_TRUE(std::holds_alternative<common::ServiceUnit>(r));
  return grant_from_unit(std::get<common::ServiceUnit>(r), "t.service");
}

Grant manifest_grant(const std::string& yaml) {
  auto r = grant_from_manifest(yaml, "m.yaml");
  if (auto* e = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << *e;
    return {};
  }
  return std::get<Grant>(r);
}

TEST(Check, RootUnitGrantsItsBoundingSet) {
  const Grant g = unit_grant("[Service]\nExecStart=/bin/true\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_CHOWN\n");
  EXPECT_EQ(g.caps, bit(CAP_NET_BIND_SERVICE) | bit(CAP_CHOWN));
  const CheckResult r = check_grant(bit(CAP_NET_BIND_SERVICE) | bit(CAP_NET_RAW), g);
  EXPECT_EQ(r.missing, bit(CAP_NET_RAW));
  EXPECT_EQ(r.excess, bit(CAP_CHOWN));
  EXPECT_FALSE(r.pass(true));
  const std::string text = render_check(r, g, false);
  EXPECT_NE(text.find("missing:  CAP_NET_RAW"), std::string::npos) << text;
  EXPECT_NE(text.find("excess:   CAP_CHOWN"), std::string::npos) << text;
  EXPECT_NE(text.find("result: FAIL"), std::string::npos) << text;
}

TEST(Check, NonRootUnitGrantsAmbientWithinBounding) {
  const Grant g = unit_grant(
      "[Service]\nExecStart=/bin/true\nUser=www-data\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE\n"
      "AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW\n");
  EXPECT_EQ(g.caps, bit(CAP_NET_BIND_SERVICE));
  const CheckResult r = check_grant(bit(CAP_NET_BIND_SERVICE), g);
  EXPECT_TRUE(r.pass(false));
  // The generated drop-in passes its own check.
  const ConfigInput in = nonroot_service();
  const Grant own = unit_grant("[Service]\nExecStart=/bin/true\nUser=nobody\n" + render_config(ConfigFormat::systemd, in));
  EXPECT_TRUE(check_grant(in.all_caps(), own).pass(false));
}

TEST(Check, UnitWithoutBoundingSetGrantsEverythingToRoot) {
  const Grant g = unit_grant("[Service]\nExecStart=/bin/true\n");
  EXPECT_EQ(g.caps, common::known_capability_mask());
  const CheckResult r = check_grant(bit(CAP_NET_RAW), g);
  EXPECT_EQ(r.missing, 0u);
  EXPECT_TRUE(r.pass(true));
  EXPECT_FALSE(r.pass(false));
}

TEST(Check, KubernetesManifestAllContainersAndDefaults) {
  const Grant g = manifest_grant(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers:
        - name: init
          securityContext:
            capabilities: {drop: [ALL], add: [CHOWN]}
      containers:
        - name: web
          securityContext:
            capabilities:
              drop: [ALL]
              add: [NET_BIND_SERVICE]
---
apiVersion: v1
kind: Service
metadata: {name: web}
)");
  EXPECT_EQ(g.caps, bit(CAP_NET_BIND_SERVICE) | bit(CAP_CHOWN));
  EXPECT_NE(g.source.find("init, web"), std::string::npos) << g.source;

  const Grant def = manifest_grant("kind: Pod\nspec:\n  containers:\n    - name: c\n      securityContext:\n"
                                   "        capabilities: {drop: [NET_RAW]}\n");
  EXPECT_EQ(def.caps, container_default_caps() & ~bit(CAP_NET_RAW));

  // The generated securityContext, placed into a pod, grants exactly the set.
  std::string pod = "kind: Pod\nspec:\n  containers:\n    - name: app\n";
  std::istringstream sc(render_config(ConfigFormat::kubernetes, root_daemon()));
  for (std::string line; std::getline(sc, line);) pod += "      " + line + "\n";
  EXPECT_EQ(manifest_grant(pod).caps, root_daemon().all_caps());
}

TEST(Check, ComposeFile) {
  const Grant g = manifest_grant(render_config(ConfigFormat::compose, nonroot_service()));
  EXPECT_EQ(g.caps, nonroot_service().all_caps());
  ASSERT_FALSE(g.notes.empty());
  EXPECT_NE(g.notes[0].find("non-root"), std::string::npos);
}

// docs/configs.md: check --against reads what `config` printed, the
// Kubernetes securityContext snippet included.
TEST(Check, TheKubernetesSnippetConfigPrints) {
  for (const auto& input : {nonroot_service(), root_daemon(), no_caps()}) {
    const Grant g = manifest_grant(render_config(ConfigFormat::kubernetes, input));
    EXPECT_EQ(g.caps, input.all_caps()) << render_config(ConfigFormat::kubernetes, input);
  }
  const Grant nonroot = manifest_grant(render_config(ConfigFormat::kubernetes, nonroot_service()));
  ASSERT_FALSE(nonroot.notes.empty());
  EXPECT_NE(nonroot.notes[0].find("non-root"), std::string::npos);
}

TEST(Check, BadManifestsAreErrorsNotGuesses) {
  EXPECT_TRUE(std::holds_alternative<std::string>(grant_from_manifest("a: [b", "x")));
  EXPECT_TRUE(std::holds_alternative<std::string>(grant_from_manifest("just: a map\n", "x")));
  EXPECT_TRUE(std::holds_alternative<std::string>(
      grant_from_manifest("services:\n  a:\n    cap_add: [FLYING]\n", "x")));
}

TEST(Check, CapsList) {
  auto g = grant_from_caps_list("CAP_NET_RAW,net_bind_service 12");
  ASSERT_TRUE(std::holds_alternative<Grant>(g));
  EXPECT_EQ(std::get<Grant>(g).caps, bit(CAP_NET_RAW) | bit(CAP_NET_BIND_SERVICE) | bit(12));
  EXPECT_TRUE(std::holds_alternative<std::string>(grant_from_caps_list("CAP_NET_RAW,bogus")));
}

// Where each granted capability comes from: the setting that grants it.
std::vector<std::pair<std::string, uint64_t>> parts_of(const Grant& g) {
  std::vector<std::pair<std::string, uint64_t>> out;
  for (const auto& p : g.parts) out.emplace_back(p.origin, p.caps);
  return out;
}

TEST(Declared, UnitPartsNameTheSetting) {
  const Grant root = unit_grant(
      "[Service]\nExecStart=/bin/true\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_CHOWN\n"
      "AmbientCapabilities=CAP_NET_BIND_SERVICE\n");
  EXPECT_EQ(parts_of(root), (std::vector<std::pair<std::string, uint64_t>>{
                                {"AmbientCapabilities", bit(CAP_NET_BIND_SERVICE)},
                                {"CapabilityBoundingSet", bit(CAP_CHOWN)}}));
  const Grant user = unit_grant(
      "[Service]\nExecStart=/bin/true\nUser=www\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_CHOWN\n"
      "AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW\n");
  // Ambient outside the bounding set is not granted.
  EXPECT_EQ(parts_of(user), (std::vector<std::pair<std::string, uint64_t>>{
                                {"AmbientCapabilities", bit(CAP_NET_BIND_SERVICE)}}));
  const Grant open = unit_grant("[Service]\nExecStart=/bin/true\n");
  ASSERT_EQ(open.parts.size(), 1u);
  EXPECT_NE(open.parts[0].origin.find("no CapabilityBoundingSet="), std::string::npos);
  EXPECT_EQ(open.parts[0].caps, open.caps);
}

TEST(Declared, ManifestPartsSeparateTheRuntimeDefaultFromWhatIsAdded) {
  const Grant k8s = manifest_grant(
      "kind: Pod\nspec:\n  containers:\n    - name: web\n      securityContext:\n        capabilities:\n"
      "          drop: [ALL]\n          add: [NET_BIND_SERVICE]\n    - name: side\n");
  ASSERT_EQ(k8s.parts.size(), 2u);
  EXPECT_EQ(k8s.parts[0].origin, "container web: capabilities.add");
  EXPECT_EQ(k8s.parts[0].caps, bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(k8s.parts[1].origin, "container side: runtime default set (no capabilities.drop ALL)");
  EXPECT_EQ(k8s.parts[1].caps, container_default_caps());
  const Grant compose = manifest_grant("services:\n  web:\n    cap_drop: [NET_RAW]\n    cap_add: [SYS_TIME]\n");
  EXPECT_EQ(parts_of(compose),
            (std::vector<std::pair<std::string, uint64_t>>{
                {"service web: runtime default set (no cap_drop ALL, minus cap_drop)", container_default_caps() & ~bit(CAP_NET_RAW)},
                {"service web: cap_add", bit(CAP_SYS_TIME)}}));
}

TEST(Declared, DeploymentFilesAreToldApartAndErrorsNameFileAndLine) {
  auto unit = grant_from_deployment("[Service]\nExecStart=/bin/true\nUser=x\nAmbientCapabilities=CAP_CHOWN\n", "my.service");
  ASSERT_TRUE(std::holds_alternative<Grant>(unit));
  EXPECT_EQ(std::get<Grant>(unit).caps, bit(CAP_CHOWN));
  auto list = grant_from_deployment("# what webd gets\nCAP_NET_RAW, chown\n\nnet_bind_service  # port 80\n", "caps.txt");
  ASSERT_TRUE(std::holds_alternative<Grant>(list)) << std::get<std::string>(list);
  EXPECT_EQ(std::get<Grant>(list).caps, bit(CAP_NET_RAW) | bit(CAP_CHOWN) | bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(parts_of(std::get<Grant>(list)).at(0).first, "listed");
  auto yaml = grant_from_deployment("services:\n  a:\n    cap_drop: [ALL]\n    cap_add: [CHOWN]\n", "compose");
  ASSERT_TRUE(std::holds_alternative<Grant>(yaml));
  EXPECT_EQ(std::get<Grant>(yaml).caps, bit(CAP_CHOWN));

  auto bad_list = grant_from_deployment("CAP_CHOWN\n\nCAP_FLYING\n", "caps.txt");
  ASSERT_TRUE(std::holds_alternative<std::string>(bad_list));
  EXPECT_EQ(std::get<std::string>(bad_list), "caps.txt:3: unknown capability 'CAP_FLYING'");
  auto bad_unit = grant_from_deployment("[Service]\nUser=www\nExecStart=+/bin/true\n", "my.service");
  ASSERT_TRUE(std::holds_alternative<std::string>(bad_unit));
  EXPECT_EQ(std::get<std::string>(bad_unit).rfind("my.service:3: ", 0), 0u) << std::get<std::string>(bad_unit);
  auto bad_cap = grant_from_deployment("services:\n  a:\n    cap_add:\n      - CHOWN\n      - FLYING\n", "c.yml");
  ASSERT_TRUE(std::holds_alternative<std::string>(bad_cap));
  EXPECT_NE(std::get<std::string>(bad_cap).find("c.yml: line 5: "), std::string::npos) << std::get<std::string>(bad_cap);
  auto bad_yaml = grant_from_deployment("services: [a\n", "c.yml");
  ASSERT_TRUE(std::holds_alternative<std::string>(bad_yaml));
  EXPECT_NE(std::get<std::string>(bad_yaml).find("line"), std::string::npos) << std::get<std::string>(bad_yaml);
}

TEST(Diff, GainedLostChanged) {
  const std::vector<CapStatus> before{
      {CAP_NET_BIND_SERVICE, "required", true, "bind port 80"},
      {CAP_CHOWN, "required", true, "chown"},
      {CAP_SYS_ADMIN, "advisory", false, "overcommit"},
      {CAP_SETUID, "required", true, "setuid"},
  };
  const std::vector<CapStatus> after{
      {CAP_NET_BIND_SERVICE, "conditional", true, "bind port 80 with start 1024"},
      {CAP_SYS_ADMIN, "advisory", false, "overcommit"},
      {CAP_NET_RAW, "required", true, "raw socket"},
      {CAP_SETUID, "denied_only", false, "setuid denied"},
  };
  const auto d = diff_caps(before, after);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].cap, CAP_CHOWN);
  EXPECT_EQ(d[0].kind, DeltaKind::lost);
  EXPECT_TRUE(d[0].after.category.empty());
  EXPECT_EQ(d[1].cap, CAP_SETUID);
  EXPECT_EQ(d[1].kind, DeltaKind::lost);
  EXPECT_EQ(d[2].cap, CAP_NET_BIND_SERVICE);
  EXPECT_EQ(d[2].kind, DeltaKind::changed);
  EXPECT_EQ(d[3].cap, CAP_NET_RAW);
  EXPECT_EQ(d[3].kind, DeltaKind::gained);
  const std::string text = render_diff(d);
  EXPECT_NE(text.find("gained:\n  CAP_NET_RAW: not seen -> required"), std::string::npos) << text;
  EXPECT_NE(text.find("CAP_NET_BIND_SERVICE: required -> conditional"), std::string::npos) << text;
  EXPECT_TRUE(diff_caps(before, before).empty());
}

}  // namespace
}  // namespace capaudit::analyze::test
