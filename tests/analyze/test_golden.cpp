// Golden reports: the whole JSON report of a scenario, compared as parsed
// JSON (key order and whitespace do not matter). To regenerate after an
// intended change, run with CAPAUDIT_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analyze/core/classify.h"
#include "analyze/core/render.h"
#include "synthetic.h"

namespace capaudit::analyze::test {
namespace {

using Json = nlohmann::json;

// The run as the golden files hold it: read back through the real reader,
// whose message ("3 batches read, trailer present") counts the builder's
// batches, not anything the analysis concluded; the goldens leave it empty.
RunAggregate golden_run(const TraceBuilder& s) {
  RunAggregate run = aggregate(s);
  EXPECT_EQ(run.read.status, common::ReadStatus::complete) << run.read.message;
  run.read.message.clear();
  return run;
}

void check_golden(const std::string& name, const Report& r) {
  const std::string dir = CAPAUDIT_GOLDEN_DIR;
  Json got = Json::parse(render_json(r));
  const std::string text = render_text(r, {100, false, ""});
  if (std::getenv("CAPAUDIT_UPDATE_GOLDEN")) {
    std::ofstream(dir + "/" + name + ".json") << got.dump(2) << "\n";
    std::ofstream(dir + "/" + name + ".txt") << text;
  }
  std::ifstream in(dir + "/" + name + ".json");
  ASSERT_TRUE(in) << "missing golden " << name << ".json";
  Json want = Json::parse(in);
  EXPECT_EQ(got, want) << "report differs from golden " << name << ".json:\n" << got.dump(2);
  std::ifstream tin(dir + "/" + name + ".txt");
  std::stringstream ts;
  ts << tin.rdbuf();
  EXPECT_EQ(text, ts.str()) << "text report differs from golden " << name << ".txt";
}

TEST(Golden, BindAndDropUnderDockerProfile) {
  TraceBuilder s = synth();
  s.exec(600, 1'500'000'000, "/usr/sbin/ntpd");
  s.op(600, 1'600'000'000, common::OpKind::bind, kBind, 2, 123, 2, 0);
  s.check(600, 1'600'000'100, kCapNetBindService, true, kBind);
  uint64_t keep = cap_bit(25) | cap_bit(kCapNetRaw);
  s.capset(600, 1'700'000'000, keep, keep);
  s.check(600, 1'800'000'000, 25, true, 305);
  s.stack(1, {"cap_capable+131", "security_vm_enough_memory_mm+54", "__mmap_region+3409"});
  s.check(600, 1'500'000'500, kCapSysAdmin, true, kMmap, 1);
  s.check(600, 1'900'000'000, kCapSysAdmin, false, kMount);
  s.outcome(600, 1'900'000'100, kMount, -1);
  ClassifyOptions o;
  o.overlay = named_profile("docker")->profile;
  o.profile_name = "docker";
  o.tool_version = "test";
  check_golden("ntpd_docker", classify({golden_run(s)}, o));
}

// Format 1.2: a root server binds port 80, setuid()s away (a drop the old
// formats could not see), is denied a mount before the recorder began
// tracking outcomes, opens a raw socket whose ping fallback cgroup-hook facts
// cannot show, and runs under a unit that declares more than it uses.
TEST(Golden, Format12CredentialsOutcomeWindowAndDeclarations) {
  TraceBuilder s = synth();
  s.header.facts_source = common::FactsSource::cgroup_hooks;
  s.header.outcome_tracking = common::OutcomeTracking::from_first_denial;
  s.exec(700, 1'500'000'000, "/usr/sbin/webd");
  s.op(700, 1'600'000'000, common::OpKind::bind, kBind, 2, 80, 1, 0, 0, std::nullopt);
  s.check(700, 1'600'000'100, kCapNetBindService, true, kBind);
  s.check(700, 1'650'000'000, kCapNetRaw, true, kSocket);
  s.cred_change(700, 1'700'000'000, 0, 0, 33, 33);  // setuid(33)
  s.check(700, 1'800'000'000, kCapSysAdmin, false, kMount);
  s.trailer->outcomes_from_ns = 1'800'000'050;
  s.check(700, 1'900'000'000, kCapSysAdmin, false, kMount);
  s.outcome(700, 1'900'000'100, kMount, -1);
  ClassifyOptions o;
  o.tool_version = "test";
  o.declared.push_back({cap_bit(kCapNetBindService) | cap_bit(kCapChown), "webd.service: AmbientCapabilities"});
  o.declared.push_back({cap_bit(kCapNetRaw) | cap_bit(kCapFowner), "webd.service: CapabilityBoundingSet"});
  check_golden("webd_format12", classify({golden_run(s)}, o));
}

}  // namespace
}  // namespace capaudit::analyze::test
