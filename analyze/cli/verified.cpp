#include "analyze/cli/verified.h"

#include <nlohmann/json.hpp>

#include "analyze/cli/commands.h"
#include "analyze/cli/options.h"
#include "analyze/core/quote.h"
#include "common/capabilities.h"
#include "common/error.h"
#include "common/input_limits.h"

namespace capaudit::analyze::cli {

namespace {

using Json = nlohmann::ordered_json;

std::string str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string names(const Json& a) {
  std::string out;
  if (a.is_array())
    for (const auto& c : a)
      if (c.is_string()) out += (out.empty() ? "" : ", ") + c.get<std::string>();
  return out.empty() ? "no capabilities" : out;
}

}  // namespace

VerifiedLine read_verified(const std::string& path, const Report& report) {
  const std::string text = common::read_file_capped(path, 1u << 20, "verify result");
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("verify_schema_version") || !j.contains("passed") ||
      !j["passed"].is_boolean() || !j.contains("granted") || !j["granted"].is_array())
    throw common::Error(path + ": not a capaudit verify result", "capaudit verify --result FILE writes one",
                        kExitError);
  // Does the proven set match what this report recommends?
  CapMask granted = 0;
  for (const auto& c : j["granted"])
    if (c.is_string())
      if (auto cap = common::parse_cap(c.get<std::string>())) granted |= cap_bit(*cap);
  const bool matches = granted == report.recommended;
  const std::string runtime = str(j, "runtime").empty() ? "host" : str(j, "runtime");
  std::string when = "at an unknown time";
  if (auto it = j.find("started_realtime_ns"); it != j.end() && it->is_number_integer() && it->get<int64_t>() > 0)
    when = format_wall(it->get<int64_t>());
  VerifiedLine line;
  line.text = "Verified: the " + visible(runtime) + " config (" + visible(names(j["granted"])) + " for " +
              visible(str(j, "account")) + ") " + (j["passed"].get<bool>() ? "PASSED" : "FAILED") + " " + when +
              " on kernel " + visible(str(j, "kernel_release")) + " (" + visible(str(j, "hostname")) + ")";
  if (!str(j, "command").empty()) line.text += " by `" + visible(str(j, "command")) + "`";
  line.text += matches ? "; that is the set this report recommends"
                       : "; this report recommends another set: the result does not prove it";
  j["file"] = utf8_or_replacement(path);
  j["matches_recommendation"] = matches;
  line.json = j.dump();
  return line;
}

std::string insert_verified_text(const std::string& report_text, const std::vector<VerifiedLine>& lines) {
  if (lines.empty()) return report_text;
  std::string block;
  for (const auto& l : lines) block += l.text + "\n";
  // After the verdict block (the verdict stays first), else after the title.
  const auto verdict = report_text.find("\nVerdict:");
  const auto at = report_text.find("\n\n", verdict == std::string::npos ? 0 : verdict);
  if (at == std::string::npos) return report_text + "\n" + block;
  return report_text.substr(0, at + 1) + block + report_text.substr(at + 1);
}

std::string insert_verified_json(const std::string& report_json, const std::vector<VerifiedLine>& lines) {
  Json j = Json::parse(report_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return report_json;
  Json a = Json::array();
  for (const auto& l : lines) a.push_back(Json::parse(l.json));
  j["verified"] = a;
  return j.dump(2) + "\n";
}

}  // namespace capaudit::analyze::cli
