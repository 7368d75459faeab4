// Every committed trace under samples/ is analyzed. A sample with an
// expectation file here (tests/analyze/samples/NAME.json) must give exactly
// those findings; one without must at least analyze without error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analyze/core/classify.h"
#include "analyze/core/render.h"

namespace capaudit::analyze {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

Json analyze(const fs::path& trace, const std::string& profile = "") {
  ClassifyOptions o;
  if (!profile.empty()) {
    o.overlay = named_profile(profile)->profile;
    o.profile_name = profile;
  }
  return Json::parse(render_json(classify({load_trace(trace.string())}, o)));
}

TEST(Samples, EveryCommittedTraceGivesItsExpectedFindings) {
  const fs::path samples = CAPAUDIT_SAMPLES_DIR;
  const fs::path expectations = CAPAUDIT_SAMPLE_EXPECTATIONS_DIR;
  size_t traces = 0, compared = 0;
  for (const auto& dir : fs::directory_iterator(samples)) {
    if (!dir.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(dir.path())) {
      if (f.path().extension() != ".cap") continue;
      ++traces;
      const std::string name = dir.path().filename().string();
      SCOPED_TRACE(f.path().string());
      auto run = load_trace(f.path().string());
      ASSERT_NE(run.read.status, common::ReadStatus::error) << run.read.message;
      Json rep = analyze(f.path());
      auto exp_path = expectations / (name + ".json");
      if (!fs::exists(exp_path)) continue;
      ++compared;
      std::ifstream in(exp_path);
      Json want = Json::parse(in);
      EXPECT_EQ(rep["complete"], want["complete"]);
      Json got_categories = Json::object();
      for (const auto& c : rep["caps"]) got_categories[c["name"].get<std::string>()] = c["category"];
      EXPECT_EQ(got_categories, want["categories"]);
      EXPECT_EQ(rep["recommended"], want["recommended"]);
      EXPECT_EQ(rep["startup_only"], want["startup_only"]);
      for (const auto& [cap, assessment] : want["denial"].items())
        for (const auto& c : rep["caps"]) {
          if (c["name"] != cap) continue;
          EXPECT_EQ(c["denial"]["assessment"], assessment) << cap;
        }
      for (const auto& [profile, w] : want["profiles"].items()) {
        Json r = analyze(f.path(), profile);
        EXPECT_EQ(r["recommended"], w["recommended"]) << profile;
        Json vanished = Json::array();
        for (const auto& c : r["changes"])
          if (c["kind"] == "vanished" && c["executable"] == "") vanished.push_back(c["name"]);
        EXPECT_EQ(vanished, w["vanished"]) << profile;
      }
    }
  }
  EXPECT_GT(traces, 0u);
  EXPECT_GT(compared, 0u);
}

}  // namespace
}  // namespace capaudit::analyze
