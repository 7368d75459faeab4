// `report --verified FILE`: the result files `capaudit verify --result`
// writes, read back into the report's "Verified:" lines (docs/verify.md).
#pragma once

#include <string>
#include <vector>

#include "analyze/core/findings.h"

namespace capaudit::analyze::cli {

struct VerifiedLine {
  std::string text;  // "Verified: the host config (CAP_CHOWN for root) PASSED ..."
  std::string json;  // the result object, as read (re-serialized), with "file" and "matches_recommendation"
};

// Reads one result file (at most 1 MiB of JSON). Throws common::Error
// (exit 1) when it is not a verify result.
VerifiedLine read_verified(const std::string& path, const Report& report);

// The text report with the lines after its verdict block.
std::string insert_verified_text(const std::string& report_text, const std::vector<VerifiedLine>& lines);
// The JSON report with a "verified" array of the results.
std::string insert_verified_json(const std::string& report_json, const std::vector<VerifiedLine>& lines);

}  // namespace capaudit::analyze::cli
