#include "analyze/core/profile.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

#include "analyze/core/embedded_data.h"
#include "common/input_limits.h"

namespace capaudit::analyze {
namespace {

std::string collapse_ws(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : trim(s)) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// RLIMIT_* number -> name, the Linux generic ABI (include/uapi/asm-generic/resource.h).
constexpr const char* kRlimitNames[] = {"CPU",    "FSIZE",   "DATA",  "STACK",      "CORE",  "RSS",
                                        "NPROC",  "NOFILE",  "MEMLOCK", "AS",       "LOCKS", "SIGPENDING",
                                        "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"};

}  // namespace

std::string normalize_key(std::string_view key) {
  std::string k(trim(key));
  auto slash = k.find('/');
  auto dot = k.find('.');
  if (slash != std::string::npos && (dot == std::string::npos || slash < dot)) {
    for (char& c : k) c = c == '/' ? '.' : c == '.' ? '/' : c;
  }
  return k;
}

void Profile::set(std::string_view key, std::string_view value) { values_[normalize_key(key)] = collapse_ws(value); }

std::optional<std::string> Profile::get(std::string_view key) const {
  auto it = values_.find(std::string(key));
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<int64_t> Profile::get_int(std::string_view key, size_t index) const {
  auto v = get(key);
  if (!v) return std::nullopt;
  std::string_view s = *v;
  for (size_t i = 0; i < index; ++i) {
    auto sp = s.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    s.remove_prefix(sp + 1);
  }
  s = s.substr(0, s.find(' '));
  if (key.rfind(kKernelConfigPrefix, 0) == 0) {
    if (s == "y") return kKconfigY;
    if (s == "m") return kKconfigM;
    if (s == "n") return kKconfigN;
    if (s == "absent") return kKconfigAbsent;
  }
  if (s == "unlimited" || s == "infinity") return std::numeric_limits<int64_t>::max();
  if (!s.empty() && s[0] != '-') {
    uint64_t u = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), u);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                           : static_cast<int64_t>(u);
  }
  int64_t x = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return x;
}

void Profile::overlay(const Profile& other) {
  for (const auto& [k, v] : other.values_) values_[k] = v;
}

namespace {
std::vector<std::string> kernel_config_keys();
}  // namespace

Profile Profile::from_header(const common::Header& h) {
  Profile p;
  // The kernel build configuration (1.9): CONFIG_NAME -> kernel.config.NAME.
  for (const auto& key : kernel_config_keys()) p.set(key, "unknown");
  for (const auto& kv : h.kernel_config)
    if (kv.key.rfind("CONFIG_", 0) == 0 && kv.key.size() > 7)
      p.set(std::string(kKernelConfigPrefix) + kv.key.substr(7), kv.value);
  for (const auto& kv : h.sysctls_global) p.set(kv.key, kv.value);
  // The target's own network namespace wins over the global view.
  for (const auto& kv : h.sysctls_netns) p.set(kv.key, kv.value);
  for (const auto& r : h.target_rlimits) {
    std::string name = r.name;
    if (name.rfind("RLIMIT_", 0) == 0) name.erase(0, 7);
    if (name.empty() && r.resource >= 0 && r.resource < 16) name = kRlimitNames[r.resource];
    if (name.empty()) continue;
    auto fmt = [](uint64_t v) { return v == UINT64_MAX ? std::string("unlimited") : std::to_string(v); };
    p.set("rlimit." + name + ".soft", fmt(r.soft));
    p.set("rlimit." + name + ".hard", fmt(r.hard));
  }
  return p;
}

const char* rlimit_name(int64_t resource) {
  return resource >= 0 && resource < 16 ? kRlimitNames[resource] : nullptr;
}

namespace {

struct ValueRange {
  bool kconfig_bool = false;  // a Kconfig bool: y, n, absent or unknown
  size_t fields = 1;
  int64_t min = 0;
  uint64_t max = 0;  // as unsigned so that "u64" fits; min <= 0 <= max or 0 <= min
};

// analyze/data/sysctl_values.conf, parsed once.
const std::map<std::string, ValueRange>& value_ranges() {
  static const std::map<std::string, ValueRange> table = [] {
    std::map<std::string, ValueRange> t;
    const auto text = embedded_file("sysctl_values.conf");
    if (!text) throw std::logic_error("sysctl_values.conf not compiled in");
    std::string_view rest = *text;
    int line_no = 0;
    while (!rest.empty()) {
      ++line_no;
      const auto nl = rest.find('\n');
      std::string_view line = trim(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      if (line.empty() || line[0] == '#') continue;
      const auto eq = line.find('=');
      std::istringstream words{std::string(eq == std::string_view::npos ? std::string_view{} : line.substr(eq + 1))};
      ValueRange r;
      std::string min, max;
      if (eq != std::string_view::npos && trim(line.substr(eq + 1)) == "kconfig_bool") {
        r.kconfig_bool = true;
        t[std::string(trim(line.substr(0, eq)))] = r;
        continue;
      }
      if (eq == std::string_view::npos || !(words >> r.fields >> min >> max))
        throw std::logic_error("sysctl_values.conf:" + std::to_string(line_no) + ": expected KEY = FIELDS MIN MAX");
      r.min = std::stoll(min);
      r.max = max == "u64" ? UINT64_MAX : std::stoull(max);
      t[std::string(trim(line.substr(0, eq)))] = r;
    }
    return t;
  }();
  return table;
}

std::vector<std::string> kernel_config_keys() {
  std::vector<std::string> out;
  for (const auto& [key, r] : value_ranges())
    if (key.rfind(kKernelConfigPrefix, 0) == 0) out.push_back(key);
  return out;
}

// A decimal integer, optionally negative; nullopt unless the whole text is one.
struct Int {
  bool negative = false;
  uint64_t magnitude = 0;
};
std::optional<Int> parse_int(std::string_view s) {
  Int v;
  // No '+': the rules read values with from_chars, which does not take one.
  if (!s.empty() && s[0] == '-') {
    v.negative = true;
    s.remove_prefix(1);
  }
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v.magnitude);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  if (v.magnitude == 0) v.negative = false;
  return v;
}

std::string range_text(const ValueRange& r) {
  if (r.min == 0 && r.max == 1) return "0 or 1";
  return std::to_string(r.min) + ".." + std::to_string(r.max);
}

}  // namespace

std::optional<std::string> check_sysctl_value(std::string_view key, std::string_view raw) {
  const std::string value = collapse_ws(raw);
  if (key.rfind("rlimit.", 0) == 0) {
    const std::string_view rest = key.substr(7);
    const auto dot = rest.rfind('.');
    const std::string_view name = rest.substr(0, dot == std::string_view::npos ? 0 : dot);
    const std::string_view which = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    bool known = false;
    for (const char* n : kRlimitNames) known = known || name == n;
    if (!known || (which != "soft" && which != "hard"))
      return "unknown rlimit key; expected rlimit.NAME.soft or rlimit.NAME.hard with NAME one of CPU, FSIZE, "
             "DATA, STACK, CORE, RSS, NPROC, NOFILE, MEMLOCK, AS, LOCKS, SIGPENDING, MSGQUEUE, NICE, RTPRIO, RTTIME";
    if (value == "unlimited" || value == "infinity") return std::nullopt;
    const auto v = parse_int(value);
    if (!v || v->negative) return "value " + common::quote_bytes(value) + " is not a limit: give 0..18446744073709551615 or unlimited";
    return std::nullopt;
  }
  const auto& table = value_ranges();
  const auto it = table.find(std::string(key));
  if (it == table.end()) return std::nullopt;
  const ValueRange& r = it->second;
  if (r.kconfig_bool) {
    if (value == "y" || value == "n" || value == "absent" || value == "unknown") return std::nullopt;
    return "value " + common::quote_bytes(value) +
           " is not a Kconfig bool state: give y or n (the kernel's tree has the symbol: set or not), absent (its "
           "tree does not have it) or unknown";
  }
  std::vector<std::string_view> fields;
  for (std::string_view s = value; !s.empty();) {
    const auto sp = s.find(' ');
    fields.push_back(s.substr(0, sp));
    s = sp == std::string_view::npos ? std::string_view{} : s.substr(sp + 1);
  }
  const std::string expected = r.fields == 1 ? "an integer in " + range_text(r)
                                             : std::to_string(r.fields) + " integers, each in " + range_text(r);
  if (fields.size() != r.fields)
    return "value " + common::quote_bytes(value) + " is not " + expected + " (the kernel refuses it)";
  for (const auto f : fields) {
    const auto v = parse_int(f);
    const bool in_range =
        v && (v->negative ? r.min < 0 && v->magnitude <= static_cast<uint64_t>(-(r.min + 1)) + 1
                          : v->magnitude <= r.max && (r.min <= 0 || v->magnitude >= static_cast<uint64_t>(r.min)));
    if (!in_range) {
      return "value " + common::quote_bytes(value) + " is " + (v ? "out of range" : "not an integer") + ": the kernel accepts " +
             expected;
    }
  }
  return std::nullopt;
}

std::vector<std::string> check_profile_values(const Profile& profile) {
  std::vector<std::string> out;
  for (const auto& [key, value] : profile.values())
    if (auto why = check_sysctl_value(key, value)) out.push_back(key + ": " + *why);
  return out;
}

std::optional<ParseError> parse_sysctl_flag(std::string_view flag, Profile& into) {
  auto eq = flag.find('=');
  if (eq == std::string_view::npos) return ParseError{0, "expected KEY=VALUE, got " + common::quote_bytes(flag)};
  auto key = trim(flag.substr(0, eq));
  if (!key.empty() && key[0] == '-') key.remove_prefix(1);
  if (trim(key).empty()) return ParseError{0, "empty key in " + common::quote_bytes(flag)};
  const std::string dotted = normalize_key(key);
  if (auto why = check_sysctl_value(dotted, flag.substr(eq + 1)))
    return ParseError{0, common::quote_bytes(dotted) + ": " + *why};
  into.set(key, flag.substr(eq + 1));
  return std::nullopt;
}

ProfileParse parse_sysctl_conf(std::string_view text) {
  ProfileParse out;
  // A text file never holds a NUL byte; say so once rather than quote noise.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n'));
    out.errors.push_back({line, "a NUL byte at offset " + std::to_string(nul) + ": not a text file"});
    return out;
  }
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.size() > kMaxProfileLineBytes) {
      out.errors.push_back({line_no, "line longer than " + std::to_string(kMaxProfileLineBytes) + " bytes: " +
                                         common::quote_bytes(line, 40)});
    } else {
      line = trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';') continue;
      if (auto err = parse_sysctl_flag(line, out.profile)) {
        err->line = line_no;
        out.errors.push_back(*err);
      }
    }
    if (out.errors.size() >= kMaxProfileErrors) {
      if (!text.empty()) out.errors.push_back({line_no, "more errors after this line not shown"});
      break;
    }
  }
  return out;
}

std::vector<std::string> named_profiles() {
  std::vector<std::string> names{"host"};
  for (const auto& f : embedded_files())
    if (f.name.rfind("profiles/", 0) == 0) {
      std::string n = f.name.substr(9);
      names.push_back(n.substr(0, n.rfind('.')));
    }
  return names;
}

std::optional<ProfileParse> named_profile(std::string_view name) {
  if (name == "host") return ProfileParse{};
  auto text = embedded_file("profiles/" + std::string(name) + ".conf");
  if (!text) return std::nullopt;
  return parse_sysctl_conf(*text);
}

}  // namespace capaudit::analyze
