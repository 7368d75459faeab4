// Whose work a check is: borrowed credentials (trace format 1.5) and the
// runtime's work before a container program's exec. Synthetic traces test
// the engine; the real recordings are in tests/record/e2e/test_identity.cpp.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "analyze/core/classify.h"
#include "analyze/core/render.h"
#include "analyze/core/embedded_data.h"
#include "common/container_ids.h"
#include "synthetic.h"

namespace capaudit::analyze::test {
namespace {

constexpr int kCapDacOverride = 1, kCapNetAdmin = 12;

const CapFinding* find(const std::vector<CapFinding>& caps, int cap) {
  for (const auto& c : caps)
    if (c.cap == cap) return &c;
  return nullptr;
}

TEST(BorrowedCredentials, AForeignCredIsAdvisoryAndADerivedOneIsTheProgramsOwn) {
  TraceBuilder s = synth();
  s.exec(10, 1'000'000'000, "/bin/busybox");
  s.check(10, 1'000'000'100, kCapChown, true, kChown);  // the chown itself: own
  s.check(10, 1'000'000'200, kCapDacOverride, true, kChown);  // overlayfs copy-up
  s.checks.back().checked_cred = common::CheckedCred::foreign;
  s.checks.back().checked_euid = 0;
  s.check(10, 1'000'000'300, kCapFowner, true, kLink);  // access(): built from the task's own
  s.checks.back().checked_cred = common::CheckedCred::derived;
  Report r = classify({aggregate(s)});
  const CapFinding* dac = find(r.caps, kCapDacOverride);
  ASSERT_TRUE(dac);
  EXPECT_EQ(dac->category, Category::advisory);
  EXPECT_EQ(dac->noise_basis, NoiseBasis::credentials);
  EXPECT_EQ(dac->reason.kind, CategoryReason::Kind::noise);
  EXPECT_EQ(dac->reason.noise.kind, NoiseCause::Kind::foreign_credentials);
  EXPECT_EQ(dac->reason.noise.euids, std::vector<uint32_t>{0});
  EXPECT_FALSE(dac->recommended);
  ASSERT_TRUE(find(r.caps, kCapChown));
  EXPECT_TRUE(find(r.caps, kCapChown)->recommended);
  ASSERT_TRUE(find(r.caps, kCapFowner));
  EXPECT_TRUE(find(r.caps, kCapFowner)->recommended);
  EXPECT_EQ(r.recommended, cap_bit(kCapChown) | cap_bit(kCapFowner));
}

TEST(Runtime, WorkBeforeTheExecOfAProcessThatJoinedIsTheRuntimesNeverRecommended) {
  // --cgroup/--container: `podman exec` puts runc init into the cgroup; it
  // sets the container up (prctl, setgid, setuid), then execs the command.
  TraceBuilder s = synth();
  s.processes.push_back({});
  s.processes.back().pid = 1;
  s.processes.back().exe = "/bin/sh";  // the container's program, from the snapshot
  s.batch = 100;                   // the exec arrives in the same batch as the checks before it
  s.check(20, 1'000'000'100, kCapSetuid, true, kChown);
  s.check(20, 1'000'000'200, kCapSysAdmin, true, kMount);
  s.exec(20, 1'000'001'000, "/bin/touch");
  s.check(20, 1'000'002'000, kCapChown, true, kChown);
  Report r = classify({aggregate(s)});
  EXPECT_EQ(r.recommended, cap_bit(kCapChown));
  EXPECT_FALSE(find(r.caps, kCapSetuid));  // not even in the merged view: shown apart
  bool runtime_seen = false;
  for (const auto& e : r.executables) {
    if (!e.runtime) continue;
    runtime_seen = true;
    EXPECT_EQ(e.recommended, 0u);
    EXPECT_TRUE(e.path.empty());
    EXPECT_EQ(display_name(e).find("container runtime"), 0u);
    ASSERT_TRUE(find(e.caps, kCapSetuid));
    EXPECT_FALSE(find(e.caps, kCapSetuid)->recommended);
  }
  EXPECT_TRUE(runtime_seen);
}

// Programs the trace never names are findings' executables by pid, not by
// words, and every list keeps the order it had when the words were the key:
// as the names read, paths first, pids compared as text.
TEST(UnnamedPrograms, AreTypedByPidAndListedAsTheirNamesRead) {
  TraceBuilder s = synth();
  for (uint32_t pid : {9u, 10u}) {  // in the snapshot, with no executable
    s.processes.push_back({});
    s.processes.back().pid = pid;
  }
  s.exec(11, 1'000'000'000, "/usr/bin/zz");
  for (uint32_t pid : {9u, 10u, 11u}) s.check(pid, 1'000'000'100 + pid, kCapChown, true, kChown);
  for (uint32_t pid : {9u, 11u}) s.capset(pid, 1'000'000'200 + pid, 0, cap_bit(kCapSysAdmin));
  s.check(12, 1'000'000'300, kCapFowner, true, kLink);  // never introduced: the runtime's, before an exec
  const Report r = classify({aggregate(s)});

  const ExecutableName zz{"/usr/bin/zz", {}, false}, pid9{"", {9}, false}, pid10{"", {10}, false},
      before_exec{"", {12}, true};
  const CapFinding* chown = find(r.caps, kCapChown);
  ASSERT_TRUE(chown);
  EXPECT_EQ(chown->executables, (std::vector<ExecutableName>{zz, pid10, pid9}));
  const CapFinding* admin = find(r.caps, kCapSysAdmin);
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->category, Category::capset_only);
  EXPECT_EQ(admin->reason.requested_by, (std::vector<ExecutableName>{zz, pid9}));
  std::vector<ExecutableName> listed;
  for (const auto& e : r.executables) listed.push_back({e.path, e.unknown_pids, e.path.empty() && e.runtime});
  EXPECT_EQ(listed, (std::vector<ExecutableName>{zz, before_exec, pid10, pid9}));

  // The words are made when rendering, from the typed names.
  const auto j = nlohmann::json::parse(render_json(r));
  for (const auto& c : j["caps"]) {
    if (c["name"] == "CAP_CHOWN")
      EXPECT_EQ(c["executables"], nlohmann::json::array({"/usr/bin/zz", "executable not recorded (pid 10)",
                                                          "executable not recorded (pid 9)"}));
  }
  EXPECT_NE(reason_text(*admin).find("in /usr/bin/zz, executable not recorded (pid 9) "), std::string::npos)
      << reason_text(*admin);
  // A path that reads like the words for an unnamed program is not that program.
  const ExecutableName lookalike{"executable not recorded (pid 9)", {}, false};
  EXPECT_TRUE(lookalike < pid9);
  EXPECT_FALSE(pid9 < lookalike);
  EXPECT_FALSE(pid9 < pid9);
}

TEST(Runtime, ARuntimeByNameIsShownApart) {
  // -- podman run ...: podman, conmon and runc are traced with the program.
  TraceBuilder s = synth();
  s.exec(30, 1'000'000'000, "/usr/sbin/runc");
  s.check(30, 1'000'000'100, kCapSysAdmin, true, kMount);
  s.fork(30, 31, 1'000'000'200);
  // runc 1.1 re-executes itself from a memfd, which has no path: argv says "runc init".
  s.exec(31, 1'000'000'300, "/");
  s.execs.back().argv = {"/usr/bin/runc", "init"};
  s.check(31, 1'000'000'400, kCapSetuid, true, kChown);
  s.fork(31, 32, 1'000'000'450);  // nsexec's clone: the container's init
  s.exec(32, 1'000'000'500, "/bin/busybox");
  s.check(32, 1'000'000'600, kCapChown, true, kChown);
  // A CNI plugin forks iptables: the engine's helper, not the container.
  s.exec(40, 1'000'000'700, "/usr/lib/cni/bridge");
  s.fork(40, 41, 1'000'000'800);
  s.exec(41, 1'000'000'900, "/usr/sbin/xtables-nft-multi");
  s.check(41, 1'000'001'000, kCapNetAdmin, true, kSocket);
  Report r = classify({aggregate(s)});
  EXPECT_EQ(r.recommended, cap_bit(kCapChown));
  for (const auto& e : r.executables) EXPECT_EQ(e.runtime, e.path != "/bin/busybox") << e.path;
}

// The runtime programs are data (analyze/data/runtime_programs.conf): each
// kind of entry matches as the file says.
TEST(Runtime, TheRuntimeProgramsComeFromTheDataFile) {
  const auto parsed = parse_runtime_programs(*embedded_file("runtime_programs.conf"));
  EXPECT_TRUE(parsed.errors.empty());
  EXPECT_EQ(parsed.programs.names, builtin_runtime_programs().names);
  for (const char* exe : {"/usr/sbin/runc", "/usr/bin/conmon", "/usr/bin/podman", "/usr/bin/catatonit",
                          "/usr/lib/cni/bridge", "/usr/libexec/podman/netavark", "/memfd:runc_cloned:/proc/self/exe (deleted)",
                          "/usr/bin/containerd-shim-runc-v2"})
    EXPECT_TRUE(is_runtime_exe(exe, {})) << exe;
  for (const char* exe : {"/bin/busybox", "/usr/sbin/nginx", "/usr/lib/cnix", "/usr/bin/runc-helper", ""})
    EXPECT_FALSE(is_runtime_exe(exe, {})) << exe;
  // No usable path: argv[0] decides; with a path, argv[0] does not.
  EXPECT_TRUE(is_runtime_exe("/", {"runc", "init"}));
  EXPECT_TRUE(is_runtime_exe("/memfd:x (deleted)", {"/usr/sbin/runc", "init"}));
  EXPECT_FALSE(is_runtime_exe("/bin/sh", {"runc", "init"}));
  // A list of its own, and the errors a bad file gives.
  const auto mine = parse_runtime_programs("# c\nname foo\ndir /opt/x/\ncontains bar\n");
  ASSERT_TRUE(mine.errors.empty());
  EXPECT_TRUE(is_runtime_exe("/usr/bin/foo", {}, mine.programs));
  EXPECT_TRUE(is_runtime_exe("/opt/x/y", {}, mine.programs));
  EXPECT_TRUE(is_runtime_exe("/tmp/abarc", {}, mine.programs));
  EXPECT_FALSE(is_runtime_exe("/usr/sbin/runc", {}, mine.programs));
  const auto bad = parse_runtime_programs("name\nprogram runc\n");
  ASSERT_EQ(bad.errors.size(), 2u);
  EXPECT_EQ(bad.errors[0].line, 1);
  EXPECT_EQ(bad.errors[1].line, 2);
}

// Per container: processes are grouped by the container id in their cgroup
// path, named from the header the recorder filled; two --container runs
// merge into one report with each container's needs apart.
TEST(Containers, ARecordingOfTwoContainersIsReportedPerContainer) {
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  TraceBuilder one = synth();
  one.header.containers = {{a, "files", "podman", "/libpod_parent/libpod-" + a}};
  one.exec(10, 1'000'000'000, "/bin/busybox");
  one.execs.back().cgroup = "/libpod_parent/libpod-" + a;
  one.check(10, 1'000'000'100, kCapChown, true, kChown);
  one.exec(11, 1'000'000'000, "/usr/bin/conmon");  // the runtime's: in no container's findings
  one.execs.back().cgroup = "/libpod_parent/conmon";
  one.check(11, 1'000'000'100, kCapSysAdmin, true, kMount);
  TraceBuilder two = synth();
  two.header.containers = {{b, "web", "podman", "/machine.slice/libpod-" + b + ".scope"}};
  two.exec(20, 1'000'000'000, "/bin/busybox");
  two.execs.back().cgroup = "/machine.slice/libpod-" + b + ".scope/container";
  two.check(20, 1'000'000'100, kCapNetBindService, true, kBind);
  two.exec(21, 1'000'000'000, "/bin/busybox");  // started after the attach: no name
  two.execs.back().cgroup = "/system.slice/docker-" + c + ".scope";
  two.check(21, 1'000'000'100, kCapFowner, true, kLink);
  Report r = classify({aggregate(one), aggregate(two)});
  ASSERT_EQ(r.containers.size(), 3u);
  EXPECT_EQ(r.containers[0].id, a);
  EXPECT_EQ(r.containers[0].name, "files");
  EXPECT_EQ(r.containers[0].engine, "podman");
  EXPECT_EQ(r.containers[0].recommended, cap_bit(kCapChown));
  EXPECT_EQ(r.containers[0].runs, std::vector<std::string>{"run1"});
  ASSERT_EQ(r.containers[0].executables.size(), 1u);
  EXPECT_EQ(r.containers[0].executables[0].path, "/bin/busybox");
  EXPECT_EQ(nlohmann::json::parse(render_json(r))["containers"][0]["executables"],
            nlohmann::json::array({"/bin/busybox"}));
  EXPECT_EQ(r.containers[1].name, "web");
  EXPECT_EQ(r.containers[1].recommended, cap_bit(kCapNetBindService));
  EXPECT_EQ(r.containers[1].runs, std::vector<std::string>{"run2"});
  EXPECT_EQ(r.containers[2].name, "");
  EXPECT_EQ(display_name(r.containers[2]), std::string(12, 'c') + " (name not recorded)");
  EXPECT_EQ(r.containers[2].recommended, cap_bit(kCapFowner));
  // The merged view still has them all; conmon's SYS_ADMIN is nobody's.
  EXPECT_EQ(r.recommended, cap_bit(kCapChown) | cap_bit(kCapNetBindService) | cap_bit(kCapFowner));
  // One container alone, as config --per-container classifies it.
  ClassifyOptions only;
  only.container = b;
  Report web = classify({aggregate(one), aggregate(two)}, only);
  EXPECT_EQ(web.recommended, cap_bit(kCapNetBindService));
  EXPECT_TRUE(web.containers.empty());
}

TEST(Containers, IdsInCgroupPaths) {
  const std::string id(64, 'e');
  EXPECT_EQ(common::container_id_of_cgroup("/libpod_parent/libpod-" + id), id);
  EXPECT_EQ(common::container_id_of_cgroup("/machine.slice/libpod-" + id + ".scope/container"), id);
  EXPECT_EQ(common::container_id_of_cgroup("/system.slice/docker-" + id + ".scope"), id);
  EXPECT_EQ(common::container_id_of_cgroup("/docker/" + id), id);
  EXPECT_EQ(common::container_id_of_cgroup("/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + id + ".scope"), id);
  EXPECT_EQ(common::container_id_of_cgroup("/kubepods/crio-" + id), id);
  EXPECT_EQ(common::container_id_of_cgroup("/libpod_parent/libpod-conmon-" + id), "");  // podman's monitor
  EXPECT_EQ(common::container_id_of_cgroup("/libpod_parent/conmon"), "");
  EXPECT_EQ(common::container_id_of_cgroup("/libpod-" + id.substr(1)), "");  // 63 digits
  EXPECT_EQ(common::container_id_of_cgroup("/libpod-" + std::string(64, 'E')), "");
  EXPECT_EQ(common::container_id_of_cgroup("/system.slice/nginx.service"), "");
  EXPECT_EQ(common::container_id_of_cgroup(""), "");
}

}  // namespace
}  // namespace capaudit::analyze::test
