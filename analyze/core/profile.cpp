#include "analyze/core/profile.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>

#include "analyze/core/embedded_data.h"

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

Profile Profile::from_header(const common::Header& h) {
  Profile p;
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

std::optional<ParseError> parse_sysctl_flag(std::string_view flag, Profile& into) {
  auto eq = flag.find('=');
  if (eq == std::string_view::npos) return ParseError{0, "expected KEY=VALUE, got '" + std::string(flag) + "'"};
  auto key = trim(flag.substr(0, eq));
  if (!key.empty() && key[0] == '-') key.remove_prefix(1);
  if (trim(key).empty()) return ParseError{0, "empty key in '" + std::string(flag) + "'"};
  into.set(key, flag.substr(eq + 1));
  return std::nullopt;
}

ProfileParse parse_sysctl_conf(std::string_view text) {
  ProfileParse out;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (auto err = parse_sysctl_flag(line, out.profile)) {
      err->line = line_no;
      out.errors.push_back(*err);
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
