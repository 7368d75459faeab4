// Every committed sample (samples/NAME/trace.cap) has samples/NAME/expected.json
// beside it, and the analyzer's findings on the trace must equal it exactly.
// A sample directory without expected.json fails, so no sample is left
// unchecked. The file is a small projection of the JSON report (the shape is
// described in docs/report-schema.md, "Sample expectations"); `project` below is that
// projection, in one place.
//
// To rewrite every expected.json after an intended change of the analysis, run
//   CAPAUDIT_UPDATE_SAMPLES=1 build/tests/analyze/analyze_tests --gtest_filter='Samples.*'
// then read the diff against each sample's README before committing it. The
// update keeps the profiles an expected.json lists under "profiles" (and
// writes a missing file with none). It never touches trace.cap.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
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

// Per capability: category, why it is advisory (the noise basis and the
// catalogue entries that matched its call paths), recommended flag,
// executables, rules that were evaluated on it (ids, sorted, distinct) and
// the denial outcome counts.
Json project_cap(const Json& c) {
  Json out = Json::object();
  out["category"] = c["category"];
  out["noise_basis"] = c["noise_basis"];
  std::vector<std::string> entries;
  for (const auto& p : c["call_paths"])
    if (!p.value("noise_entry", std::string()).empty()) entries.push_back(p["noise_entry"].get<std::string>());
  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  out["noise_entries"] = entries;
  out["recommended"] = c["recommended"];
  out["startup_only"] = c["startup_only"];
  out["executables"] = c["executables"];
  std::vector<std::string> rules;
  for (const auto& h : c["rules"]) rules.push_back(h["rule"].get<std::string>());
  std::sort(rules.begin(), rules.end());
  rules.erase(std::unique(rules.begin(), rules.end()), rules.end());
  out["rules"] = rules;
  if (c["denial"].is_null()) {
    out["denial"] = nullptr;
  } else {
    Json d = c["denial"];
    d.erase("errors_seen");  // kept: the assessment and every count
    out["denial"] = d;
  }
  return out;
}

std::string executable_key(const Json& e) {
  if (!e["path"].is_null()) return e["path"].get<std::string>();
  std::string k = "(not recorded: pids";
  for (const auto& p : e.value("unknown_pids", Json::array())) k += " " + p.dump();
  return k + ")";
}

Json project(const Json& rep) {
  Json out = Json::object();
  out["complete"] = rep["complete"];
  out["recommended"] = rep["recommended"];
  out["startup_only"] = rep["startup_only"];
  Json caps = Json::object();
  for (const auto& c : rep["caps"]) caps[c["name"].get<std::string>()] = project_cap(c);
  out["caps"] = caps;
  Json exes = Json::object();
  for (const auto& e : rep["executables"]) {
    Json x = Json::object();
    x["runtime"] = e.value("runtime", false);
    x["recommended"] = e["recommended"];
    x["startup_only"] = e["startup_only"];
    exes[executable_key(e)] = x;
  }
  out["executables"] = exes;
  return out;
}

// Under a named target profile: the recommended set and the merged-view
// capabilities that vanish.
Json project_profile(const Json& rep) {
  Json vanished = Json::array();
  for (const auto& c : rep["changes"])
    if (c["kind"] == "vanished" && c["executable"] == "") vanished.push_back(c["name"]);
  return Json{{"recommended", rep["recommended"]}, {"vanished", vanished}};
}

TEST(Samples, EverySampleGivesItsExpectedFindings) {
  const fs::path samples = CAPAUDIT_SAMPLES_DIR;
  const bool update = std::getenv("CAPAUDIT_UPDATE_SAMPLES") != nullptr;
  std::vector<fs::path> dirs;
  for (const auto& d : fs::directory_iterator(samples))
    if (d.is_directory()) dirs.push_back(d.path());
  std::sort(dirs.begin(), dirs.end());
  ASSERT_FALSE(dirs.empty());
  for (const auto& dir : dirs) {
    SCOPED_TRACE(dir.string());
    const fs::path trace = dir / "trace.cap";
    const fs::path exp_path = dir / "expected.json";
    ASSERT_TRUE(fs::exists(trace)) << "a sample directory holds trace.cap";
    auto run = load_trace(trace.string());
    ASSERT_NE(run.read.status, common::ReadStatus::error) << run.read.message;

    Json got = project(analyze(trace));
    Json profiles = Json::object();
    Json want;
    if (fs::exists(exp_path)) {
      std::ifstream in(exp_path);
      want = Json::parse(in);
      const Json listed = want.value("profiles", Json::object());
      for (const auto& [name, w] : listed.items()) profiles[name] = project_profile(analyze(trace, name));
    }
    got["profiles"] = profiles;

    if (update) {
      std::ofstream(exp_path) << got.dump(2) << "\n";
      continue;
    }
    ASSERT_TRUE(fs::exists(exp_path)) << "missing " << exp_path
                                      << " (write it with CAPAUDIT_UPDATE_SAMPLES=1 and read it)";
    EXPECT_EQ(got, want) << "findings differ from " << exp_path << "; they are now:\n"
                         << got.dump(2);
  }
}

}  // namespace
}  // namespace capaudit::analyze
