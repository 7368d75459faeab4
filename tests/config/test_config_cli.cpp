// capaudit-analyze config/check/diff end to end: synthetic traces written with
// the production writer, the real executable run on them.
#include <gtest/gtest.h>

#include "tests/support/run_command.h"
#include <linux/capability.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/support/cli_traces.h"

namespace capaudit::test {
namespace {

namespace fs = std::filesystem;


class ConfigCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(scratch_.ok());
    write("v1.cap", webd_trace(false));
    write("v2.cap", webd_trace(true));
  }
  void write(const std::string& name, const std::vector<uint8_t>& bytes) {
    write_bytes((dir_ / name).string(), bytes);
  }
  void write_text(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  Ran analyze(const std::string& args) const { return run(std::string(CAPAUDIT_ANALYZE) + " " + args); }

  capaudit::test::ScratchDir scratch_{"capaudit-cli"};
  const fs::path& dir_ = scratch_.path();
};

TEST_F(ConfigCli, ConfigSystemdFromATrace) {
  const Ran r = analyze("config --config systemd " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("CapabilityBoundingSet=CAP_CHOWN CAP_NET_BIND_SERVICE\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("AmbientCapabilities="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("for webd"), std::string::npos) << r.out;
}

TEST_F(ConfigCli, ConfigForANonRootDeploymentAndYaml) {
  Ran r = analyze("config --config systemd --deploy-as 65534 " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("AmbientCapabilities=CAP_CHOWN CAP_NET_BIND_SERVICE\n"), std::string::npos) << r.out;

  // Kubernetes under the recorded host's sysctls (port start 1024): the bind to 80 needs the capability.
  r = analyze("config --config kubernetes --profile host --deploy-as 65534:65534 " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  const YAML::Node sc = YAML::Load(r.out)["securityContext"];
  EXPECT_EQ(sc["runAsUser"].as<int>(), 65534);
  EXPECT_EQ(sc["capabilities"]["add"][1].as<std::string>(), "NET_BIND_SERVICE");

  r = analyze("config --config setcap " + path("v1.cap"));
  EXPECT_NE(r.out.find("\nsetcap cap_chown,cap_net_bind_service=ep /usr/sbin/webd\n"), std::string::npos) << r.out;

  // A trace recorded as a non-root user makes that user the deployment account.
  write("nonroot.cap", webd_trace(false, 1000));
  r = analyze("config --config docker " + path("nonroot.cap"));
  EXPECT_NE(r.out.find("--user=1000:1000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("WARNING"), std::string::npos) << r.out;
}

TEST_F(ConfigCli, ConfigDefaultsToSystemdAndDockerAndNamesTheRest) {
  Ran r = analyze("config " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* f : {"--- systemd ---", "--- docker ---"}) EXPECT_NE(r.out.find(f), std::string::npos) << f;
  EXPECT_EQ(r.out.find("--- kubernetes ---"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("More formats: --config podman,compose,kubernetes,setcap,filecap,c,python (or all)"),
            std::string::npos)
      << r.out;
  r = analyze("config --config all " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* f : {"--- systemd ---", "--- docker ---", "--- kubernetes ---", "--- python ---"}) {
    EXPECT_NE(r.out.find(f), std::string::npos) << f;
  }
  EXPECT_EQ(r.out.find("More formats"), std::string::npos) << r.out;
  r = analyze("config --config kubernetes,setcap " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_LT(r.out.find("--- kubernetes ---"), r.out.find("--- setcap ---")) << r.out;
  EXPECT_EQ(r.out.find("--- systemd ---"), std::string::npos) << r.out;
}

// The old spellings keep working, with a warning naming the new one.
TEST_F(ConfigCli, DeprecatedSpellingsStillWork) {
  Ran r = analyze("config -f systemd --user 65534 " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("AmbientCapabilities=CAP_CHOWN CAP_NET_BIND_SERVICE\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--format is deprecated; use --config"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--user is deprecated; use --deploy-as"), std::string::npos) << r.out;
  r = analyze("check " + path("v1.cap") + " --caps chown,net_bind_service");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("--caps is deprecated; use --granted"), std::string::npos) << r.out;
}

TEST_F(ConfigCli, TextReportEndsWithTheConfigsAskedFor) {
  Ran r = analyze("report " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  size_t configs = r.out.find("Recommended configurations");
  ASSERT_NE(configs, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapabilityBoundingSet=CAP_CHOWN CAP_NET_BIND_SERVICE", configs), std::string::npos);
  EXPECT_EQ(r.out.find("capaudit_keep_operational_caps", configs), std::string::npos);
  r = analyze("report --config c " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  configs = r.out.find("Recommended configurations");
  EXPECT_NE(r.out.find("capaudit_keep_operational_caps", configs), std::string::npos);
  EXPECT_EQ(r.out.find("CapabilityBoundingSet=", configs), std::string::npos);
  r = analyze("report --config none " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("Recommended configurations"), std::string::npos);
}

TEST_F(ConfigCli, UsageErrorsExitTwoErrorsOne) {
  EXPECT_EQ(analyze("config --config k8s " + path("v1.cap")).status, 2);
  EXPECT_EQ(analyze("config --deploy-as -1 " + path("v1.cap")).status, 2);
  EXPECT_EQ(analyze("report --config k8s " + path("v1.cap")).status, 2);
  EXPECT_EQ(analyze("config " + path("missing.cap")).status, 1);
  EXPECT_EQ(analyze("check " + path("v1.cap")).status, 2);
  EXPECT_EQ(analyze("check -f yaml --granted chown " + path("v1.cap")).status, 2);
  EXPECT_EQ(analyze("diff " + path("v1.cap")).status, 2);
}

TEST_F(ConfigCli, CheckAgainstUnitsManifestsAndLists) {
  // The generated drop-in passes its own check.
  write_text("webd.service", "[Service]\nExecStart=/usr/sbin/webd\n" +
                                 analyze("config --config systemd " + path("v1.cap")).out);
  Ran r = analyze("check " + path("v1.cap") + " --against " + path("webd.service"));
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("result: PASS"), std::string::npos) << r.out;

  // A unit that forgot CHOWN and grants SYS_ADMIN fails both ways.
  write_text("narrow.service",
             "[Service]\nExecStart=/usr/sbin/webd\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_SYS_ADMIN\n");
  r = analyze("check " + path("v1.cap") + " --against " + path("narrow.service"));
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("missing:  CAP_CHOWN"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("excess:   CAP_SYS_ADMIN"), std::string::npos) << r.out;

  // Kubernetes manifest generated from the trace, wrapped in a pod.
  std::string pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: webd}\nspec:\n  containers:\n    - name: webd\n";
  const std::string sc = analyze("config --config kubernetes " + path("v1.cap")).out;
  size_t pos = 0;
  while (pos < sc.size()) {
    const size_t nl = sc.find('\n', pos);
    pod += "      " + sc.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  write_text("pod.yaml", pod);
  r = analyze("check " + path("v1.cap") + " --against " + path("pod.yaml"));
  EXPECT_EQ(r.status, 0) << r.out;
  // The new version needs NET_RAW, which the manifest does not grant.
  r = analyze("check " + path("v2.cap") + " --against " + path("pod.yaml"));
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("missing:  CAP_NET_RAW"), std::string::npos) << r.out;

  // The bare securityContext snippet config prints is read as it is.
  write_text("sc.yaml", sc);
  r = analyze("check " + path("v1.cap") + " --against " + path("sc.yaml"));
  EXPECT_EQ(r.status, 0) << r.out;
  // A manifest is checked under the runtime's defaults, like config's kubernetes
  // format: no NET_BIND_SERVICE for port 80; under the recorded host it is missing.
  EXPECT_NE(r.out.find("note: needs evaluated under the docker profile"), std::string::npos) << r.out;
  r = analyze("check " + path("v1.cap") + " --against " + path("sc.yaml") + " --profile host");
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("missing:  CAP_NET_BIND_SERVICE"), std::string::npos) << r.out;

  // --granted, and --allow-excess.
  EXPECT_EQ(analyze("check " + path("v1.cap") + " --granted chown,net_bind_service").status, 0);
  EXPECT_EQ(analyze("check " + path("v1.cap") + " --granted chown,net_bind_service,net_raw").status, 4);
  EXPECT_EQ(analyze("check " + path("v1.cap") + " --granted chown,net_bind_service,net_raw --allow-excess").status, 0);
  // A failed gate (4) is told apart from an error (1).
  EXPECT_EQ(analyze("check " + path("missing.cap") + " --granted chown").status, 1);
  EXPECT_EQ(analyze("check " + path("v1.cap") + " --against " + path("missing.service")).status, 1);
}

TEST_F(ConfigCli, CheckAndDiffSpeakJson) {
  Ran r = analyze("check -f json " + path("v1.cap") + " --granted chown,net_raw");
  EXPECT_EQ(r.status, 4) << r.out;
  YAML::Node j = YAML::Load(r.out);
  EXPECT_FALSE(j["pass"].as<bool>());
  EXPECT_EQ(j["missing"][0].as<std::string>(), "CAP_NET_BIND_SERVICE");
  EXPECT_EQ(j["excess"][0].as<std::string>(), "CAP_NET_RAW");
  EXPECT_EQ(j["required"].size(), 2u);

  r = analyze("diff -f json " + path("v1.cap") + " -- " + path("v2.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  j = YAML::Load(r.out);
  EXPECT_TRUE(j["differ"].as<bool>());
  EXPECT_EQ(j["gained"][0]["cap"].as<std::string>(), "CAP_NET_RAW");
  EXPECT_TRUE(j["gained"][0]["before"].IsNull());
  EXPECT_EQ(j["gained"][0]["after"]["category"].as<std::string>(), "required");
  EXPECT_EQ(j["lost"][0]["cap"].as<std::string>(), "CAP_CHOWN");
}

TEST_F(ConfigCli, DiffExitCodeLikeGitDiff) {
  EXPECT_EQ(analyze("diff --exit-code " + path("v1.cap") + " -- " + path("v2.cap")).status, 4);
  EXPECT_EQ(analyze("diff --exit-code " + path("v1.cap") + " -- " + path("v1.cap")).status, 0);
  EXPECT_EQ(analyze("diff " + path("v1.cap") + " -- " + path("v2.cap")).status, 0);
}

// diff takes report's profile options and evaluates both sets under them.
// webd recorded on a laptop where port 80 needs nothing (port start 0: the
// kernel made no check), and on a host (start 1024) where it needs
// NET_BIND_SERVICE: under their recorded hosts the capability is gained;
// under one profile for both, it is not.
TEST_F(ConfigCli, DiffEvaluatesBothSetsUnderTheProfileGiven) {
  write("laptop.cap", webd_trace(false, 0, "0"));
  auto gained = [&](const std::string& options) {
    const Ran r = analyze("diff -f json " + options + path("laptop.cap") + " -- " + path("v1.cap"));
    EXPECT_EQ(r.status, 0) << options << r.out;
    std::vector<std::string> out;
    for (const auto& g : YAML::Load(r.out)["gained"]) out.push_back(g["cap"].as<std::string>());
    return out;
  };
  EXPECT_EQ(gained(""), std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  EXPECT_TRUE(gained("--sysctl net.ipv4.ip_unprivileged_port_start=1024 ").empty());
  EXPECT_TRUE(gained("--profile docker ").empty());
  EXPECT_EQ(analyze("diff --profile nosuch " + path("laptop.cap") + " -- " + path("v1.cap")).status, 2);
}

TEST_F(ConfigCli, ReportDeclaredFilesSayWhereEachCapCameFrom) {
  write_text("webd.service",
             "[Service]\nExecStart=/usr/sbin/webd\nUser=www\nCapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_CHOWN "
             "CAP_SYS_ADMIN\nAmbientCapabilities=CAP_NET_BIND_SERVICE CAP_CHOWN CAP_SYS_ADMIN\n");
  write_text("web.yaml",
             "kind: Pod\nspec:\n  containers:\n    - name: web\n      securityContext:\n        capabilities:\n"
             "          drop: [ALL]\n          add: [NET_BIND_SERVICE, SYS_TIME]\n");
  write_text("caps.list", "# extra grants\nCAP_NET_RAW\n");
  Ran r = analyze("report -f json --declared " + path("webd.service") + " --declared " + path("web.yaml") +
                  " --declared " + path("caps.list") + " " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  const YAML::Node rep = YAML::Load(r.out);
  std::map<std::string, YAML::Node> caps;
  for (const YAML::Node c : rep["caps"]) caps[c["name"].as<std::string>()] = c;
  ASSERT_TRUE(caps.count("CAP_SYS_ADMIN")) << r.out;
  EXPECT_EQ(caps["CAP_SYS_ADMIN"]["category"].as<std::string>(), "declared_unobserved");
  EXPECT_NE(caps["CAP_SYS_ADMIN"]["reason"].as<std::string>().find("declared by " + path("webd.service") +
                                                                    ": AmbientCapabilities"),
            std::string::npos)
      << caps["CAP_SYS_ADMIN"]["reason"].as<std::string>();
  EXPECT_NE(caps["CAP_SYS_TIME"]["reason"].as<std::string>().find(path("web.yaml") + ": container web: capabilities.add"),
            std::string::npos);
  EXPECT_EQ(caps["CAP_NET_RAW"]["declared_by"][0].as<std::string>(), path("caps.list") + ": listed");
  // Used and declared: still required, and the declaration is named.
  EXPECT_EQ(caps["CAP_NET_BIND_SERVICE"]["category"].as<std::string>(), "conditional");
  EXPECT_EQ(caps["CAP_NET_BIND_SERVICE"]["declared_by"].size(), 2u);
  EXPECT_EQ(caps["CAP_CHOWN"]["category"].as<std::string>(), "required");

  // The text report groups what one setting declared on one line.
  r = analyze("report --declared " + path("webd.service") + " " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Declared but unobserved (1)\n  CAP_SYS_ADMIN: declared by " + path("webd.service") +
                       ": AmbientCapabilities"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("non-root service"), std::string::npos) << r.out;  // the unit's note
}

TEST_F(ConfigCli, ReportDeclaredErrorsNameTheFileAndLine) {
  write_text("bad.list", "CAP_CHOWN\nCAP_FLYING\n");
  Ran r = analyze("report --declared " + path("bad.list") + " " + path("v1.cap"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(path("bad.list") + ":2: unknown capability 'CAP_FLYING'"), std::string::npos) << r.out;
  write_text("bad.service", "[Service]\nUser=www\nExecStart=+/usr/sbin/webd\n");
  r = analyze("report --declared " + path("bad.service") + " " + path("v1.cap"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(path("bad.service") + ":3: "), std::string::npos) << r.out;
  write_text("bad.yaml", "services:\n  web:\n    cap_add: [CHOWN\n");
  r = analyze("report --declared " + path("bad.yaml") + " " + path("v1.cap"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(path("bad.yaml") + ": not valid YAML"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("line"), std::string::npos) << r.out;
  r = analyze("report --declared " + path("missing.service") + " " + path("v1.cap"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find(path("missing.service")), std::string::npos) << r.out;
}

TEST_F(ConfigCli, DiffShowsGainedLostAndChanged) {
  const Ran r = analyze("diff " + path("v1.cap") + " -- " + path("v2.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("gained:\n  CAP_NET_RAW: not seen -> required"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lost:\n  CAP_CHOWN: required -> not seen"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("CAP_NET_BIND_SERVICE"), std::string::npos) << r.out;
  const Ran same = analyze("diff " + path("v1.cap") + " -- " + path("v1.cap"));
  EXPECT_NE(same.out.find("no difference"), std::string::npos) << same.out;
}

// The section of a multi-format config output for one format.
std::string section(const std::string& out, const std::string& format) {
  const auto start = out.find("--- " + format + " ---\n");
  if (start == std::string::npos) return {};
  const auto end = out.find("\n--- ", start + 1);
  return out.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// A bind to port 80 recorded on a host with ip_unprivileged_port_start=1024:
// the container formats are evaluated under their runtime's defaults
// (Docker, and containerd for Kubernetes, let a container bind low ports;
// podman does not), the host formats under the recorded host.
TEST_F(ConfigCli, EachFormatIsEvaluatedUnderItsRuntime) {
  const Ran r = analyze("config --config all " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string docker = section(r.out, "docker"), compose = section(r.out, "compose"),
                    kube = section(r.out, "kubernetes"), podman = section(r.out, "podman"),
                    systemd = section(r.out, "systemd"), setcap = section(r.out, "setcap");
  EXPECT_NE(docker.find("docker run --cap-drop=ALL --cap-add=CHOWN --security-opt"), std::string::npos) << docker;
  EXPECT_NE(docker.find("# Evaluated under the docker profile"), std::string::npos) << docker;
  EXPECT_EQ(compose.find("NET_BIND_SERVICE"), std::string::npos) << compose;
  EXPECT_NE(compose.find("# Evaluated under the docker profile"), std::string::npos) << compose;
  EXPECT_EQ(kube.find("NET_BIND_SERVICE"), std::string::npos) << kube;
  EXPECT_NE(kube.find("containerd >= 2.0"), std::string::npos) << kube;
  EXPECT_NE(podman.find("--cap-add=CHOWN --cap-add=NET_BIND_SERVICE"), std::string::npos) << podman;
  EXPECT_NE(podman.find("# Evaluated under the podman profile"), std::string::npos) << podman;
  EXPECT_NE(systemd.find("CapabilityBoundingSet=CAP_CHOWN CAP_NET_BIND_SERVICE\n"), std::string::npos) << systemd;
  EXPECT_EQ(systemd.find("Evaluated under"), std::string::npos) << systemd;
  EXPECT_NE(setcap.find("setcap cap_chown,cap_net_bind_service=ep"), std::string::npos) << setcap;
  // One format alone is evaluated the same way.
  const Ran one = analyze("config --config compose " + path("v1.cap"));
  ASSERT_EQ(one.status, 0) << one.out;
  EXPECT_EQ(YAML::Load(one.out)["services"]["webd"]["cap_add"].size(), 1u) << one.out;
  // The text report's configs too.
  const Ran rep = analyze("report --config docker,systemd " + path("v1.cap"));
  ASSERT_EQ(rep.status, 0) << rep.out;
  EXPECT_NE(rep.out.find("docker run --cap-drop=ALL --cap-add=CHOWN --security-opt"), std::string::npos) << rep.out;
  EXPECT_NE(rep.out.find("CapabilityBoundingSet=CAP_CHOWN CAP_NET_BIND_SERVICE\n"), std::string::npos) << rep.out;
}

// A profile option applies to every format, and the snippet says so.
TEST_F(ConfigCli, AnExplicitProfileAppliesToEveryFormat) {
  Ran r = analyze("config --config all --profile host " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* f : {"docker", "compose", "kubernetes", "podman", "systemd"}) {
    EXPECT_NE(section(r.out, f).find("NET_BIND_SERVICE"), std::string::npos) << f << "\n" << r.out;
    EXPECT_NE(section(r.out, f).find("# Evaluated under the profile given on the command line (host)."),
              std::string::npos)
        << f << "\n" << r.out;
  }
  r = analyze("config --config systemd,podman --profile docker " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("CapabilityBoundingSet=CAP_CHOWN\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("podman run --cap-drop=ALL --cap-add=CHOWN --security-opt"), std::string::npos) << r.out;
  r = analyze("config --config docker --sysctl net.ipv4.ip_unprivileged_port_start=1024 " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("--cap-add=CHOWN --cap-add=NET_BIND_SERVICE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(custom)"), std::string::npos) << r.out;
  write_text("low.conf", "net.ipv4.ip_unprivileged_port_start = 0\n");
  r = analyze("config --config setcap --sysctl-profile " + path("low.conf") + " " + path("v1.cap"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("setcap cap_chown=ep /usr/sbin/webd"), std::string::npos) << r.out;
  EXPECT_EQ(analyze("config --profile nonexistent " + path("v1.cap")).status, 2);
  EXPECT_EQ(analyze("config --sysctl net.ipv4.ip_unprivileged_port_start=x " + path("v1.cap")).status, 2);
  EXPECT_EQ(analyze("config --sysctl-profile " + path("missing.conf") + " " + path("v1.cap")).status, 1);
}

TEST_F(ConfigCli, CheckTakesTheProfileOptions) {
  // Recorded host: the bind to 80 needs NET_BIND_SERVICE.
  EXPECT_EQ(analyze("check --granted chown " + path("v1.cap")).status, 4);
  Ran r = analyze("check --granted chown --profile docker " + path("v1.cap"));
  EXPECT_EQ(r.status, 0) << r.out;
  r = analyze("check --granted chown,net_bind_service --profile docker " + path("v1.cap"));
  EXPECT_EQ(r.status, 4) << r.out;
  EXPECT_NE(r.out.find("CAP_NET_BIND_SERVICE"), std::string::npos) << r.out;
  EXPECT_EQ(analyze("check --granted chown --sysctl net.ipv4.ip_unprivileged_port_start=0 " + path("v1.cap")).status, 0);
  EXPECT_EQ(analyze("check --granted chown --profile podman " + path("v1.cap")).status, 4);
  EXPECT_EQ(analyze("check --granted chown --profile nonexistent " + path("v1.cap")).status, 2);
}

// Golden files for the CLI's per-runtime output (CAPAUDIT_UPDATE_GOLDEN=1 rewrites them).
TEST_F(ConfigCli, RuntimeGoldens) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"cli_webd_runtimes.all", "config --config all " + path("v1.cap")},
      {"cli_webd_profile_host.all", "config --config all --profile host " + path("v1.cap")},
      {"cli_webd_nonroot_runtimes.all",
       "config --config docker,podman,compose,kubernetes --deploy-as 65534:65534 " + path("v1.cap")},
  };
  const bool update = std::getenv("CAPAUDIT_UPDATE_GOLDEN") != nullptr;
  for (const auto& [name, args] : cases) {
    SCOPED_TRACE(name);
    const Ran r = analyze(args);
    ASSERT_EQ(r.status, 0) << r.out;
    const std::string file = std::string(CAPAUDIT_GOLDEN_DIR) + "/" + name;
    if (update) {
      std::ofstream(file) << r.out;
      continue;
    }
    std::ifstream in(file);
    ASSERT_TRUE(in) << "missing golden file " << file;
    std::stringstream want;
    want << in.rdbuf();
    EXPECT_EQ(r.out, want.str()) << file;
  }
}

}  // namespace
}  // namespace capaudit::test
