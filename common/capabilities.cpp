#include "common/capabilities.h"

#include <cap-ng.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace capaudit::common {
namespace {

std::string to_upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<int> parse_decimal(std::string_view s) {
  int value = -1;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size() || value < 0 || value > 63) return std::nullopt;
  return value;
}

}  // namespace

int last_known_cap() {
  int last = -1;
  // libcap-ng's table is compiled in; walk it rather than trusting CAP_LAST_CAP
  // from whichever kernel headers were installed.
  for (int i = 0; i < 64; ++i) {
    if (capng_capability_to_name(static_cast<unsigned>(i)) != nullptr) last = i;
  }
  return last;
}

std::string cap_name(int cap, CapNameStyle style) {
  std::string bare;
  const char* known = cap >= 0 ? capng_capability_to_name(static_cast<unsigned>(cap)) : nullptr;
  bare = known != nullptr ? to_upper(known) : std::to_string(cap);
  switch (style) {
    case CapNameStyle::upper: return "CAP_" + bare;
    case CapNameStyle::lower: return "cap_" + to_lower(bare);
    case CapNameStyle::bare: return known != nullptr ? bare : "CAP_" + bare;  // a bare number is ambiguous
  }
  return "CAP_" + bare;
}

std::optional<int> parse_cap(std::string_view text) {
  std::string lower = to_lower(text);
  std::string_view body = lower;
  if (body.empty()) return std::nullopt;
  if (auto n = parse_decimal(body)) return n;
  if (body.substr(0, 4) == "cap_") body.remove_prefix(4);
  if (auto n = parse_decimal(body)) return n;
  if (body.empty()) return std::nullopt;
  int value = capng_name_to_capability(std::string(body).c_str());
  if (value < 0 || value > 63) return std::nullopt;
  return value;
}

std::vector<int> caps_in_mask(uint64_t mask) {
  std::vector<int> out;
  for (int i = 0; i < 64; ++i) {
    if (mask & (uint64_t{1} << i)) out.push_back(i);
  }
  return out;
}

std::string cap_mask_names(uint64_t mask, CapNameStyle style, std::string_view sep) {
  std::string out;
  for (int cap : caps_in_mask(mask)) {
    if (!out.empty()) out += sep;
    out += cap_name(cap, style);
  }
  return out;
}

}  // namespace capaudit::common
