// Classify synthetic runs and read the result back as JSON: assertions run on
// the machine-readable report, so that is what the tests verify.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyze/core/classify.h"
#include "analyze/core/render.h"

namespace capaudit::analyze::test {

using Json = nlohmann::json;

// The typed findings, classified against PROFILE (a named one) and FLAGS.
inline Report classified(const std::vector<RunAggregate>& runs, const std::string& profile = "",
                         std::vector<std::string> flags = {}) {
  ClassifyOptions o;
  if (!profile.empty()) {
    auto p = named_profile(profile);
    EXPECT_TRUE(p.has_value()) << profile;
    o.overlay = p->profile;
    o.profile_name = profile;
  }
  for (const auto& f : flags) {
    EXPECT_FALSE(parse_sysctl_flag(f, o.overlay).has_value());
    if (o.profile_name.empty()) o.profile_name = "custom";
  }
  Report r = classify(runs, o);
  // Every format must render.
  EXPECT_FALSE(render_text(r).empty());
  EXPECT_FALSE(render_yaml(r).empty());
  return r;
}

inline Json report_of(const std::vector<RunAggregate>& runs, const std::string& profile = "",
                      std::vector<std::string> flags = {}) {
  return Json::parse(render_json(classified(runs, profile, std::move(flags))));
}

inline const CapFinding* finding(const std::vector<CapFinding>& caps, int cap) {
  for (const auto& c : caps)
    if (c.cap == cap) return &c;
  return nullptr;
}

// The note of KIND, if the report has one.
inline const Note* note(const Report& r, NoteKind kind) {
  for (const auto& n : r.notes)
    if (n.kind == kind) return &n;
  return nullptr;
}

inline const Json* cap(const Json& caps, const std::string& name) {
  for (const auto& c : caps)
    if (c["name"] == name) return &c;
  return nullptr;
}

inline bool recommended(const Json& rep, const std::string& name) {
  for (const auto& c : rep["recommended"])
    if (c == name) return true;
  return false;
}

inline const Json* change(const Json& rep, const std::string& name) {
  for (const auto& c : rep["changes"])
    if (c["name"] == name && c["executable"] == "") return &c;
  return nullptr;
}

}  // namespace capaudit::analyze::test
