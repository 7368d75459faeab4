// System profiles: the sysctl and rlimit values a capability need depends on.
// A trace carries the recording host's snapshot; the user may re-evaluate it
// against another profile (sysctl.conf file, KEY=VALUE flags, another trace's
// snapshot, or a named profile shipped in analyze/data/profiles).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/trace.h"

namespace capaudit::analyze {

// Keys are sysctls in dotted form ("net.ipv4.ip_unprivileged_port_start"),
// rlimits as "rlimit.MEMLOCK.soft" / "rlimit.MEMLOCK.hard", and the kernel's
// build configuration as "kernel.config.NAME" (CONFIG_NAME; format 1.9).
// Values are kept as text with whitespace runs collapsed ("0 2147483647").
// A kernel.config value is y, m, n, absent (the symbol is not in that
// kernel's tree) or unknown; get_int reads them as kKconfigY .. kKconfigAbsent,
// unknown as no value.
class Profile {
 public:
  void set(std::string_view key, std::string_view value);
  std::optional<std::string> get(std::string_view key) const;
  // Field `index` of a whitespace-separated value, as an integer; "unlimited"
  // and RLIM_INFINITY read as INT64_MAX.
  std::optional<int64_t> get_int(std::string_view key, size_t index = 0) const;
  // Later settings win.
  void overlay(const Profile& other);
  bool empty() const { return values_.empty(); }
  const std::map<std::string, std::string>& values() const { return values_; }

  // The recording host's snapshot: global and target-netns sysctls, rlimits,
  // and the kernel build configuration; a kernel.config key the rules read
  // (sysctl_values.conf) that the trace does not hold is "unknown", so that
  // another trace taken as a target never inherits the recording's.
  static Profile from_header(const common::Header& h);

 private:
  std::map<std::string, std::string> values_;
};

// kernel.config.NAME values as integers (the rules' KCONFIG_* constants:
// Kconfig's tristate order, and absent below n).
inline constexpr std::string_view kKernelConfigPrefix = "kernel.config.";
inline constexpr int64_t kKconfigAbsent = -1, kKconfigN = 0, kKconfigM = 1, kKconfigY = 2;

// "net/ipv4/ip_forward" -> "net.ipv4.ip_forward"; in slash form a dot is part
// of a name and becomes '/' (sysctl(8) and sysctl.d(5) agree on this).
std::string normalize_key(std::string_view key);

// RLIMIT_* number -> "MEMLOCK"; nullptr when unknown.
const char* rlimit_name(int64_t resource);

struct ParseError {
  int line = 0;  // 1-based; 0 for a flag
  std::string message;
};

struct ProfileParse {
  Profile profile;
  std::vector<ParseError> errors;
};

// sysctl.conf(5)/sysctl.d(5) syntax: "#" and ";" comments, blank lines,
// "key = value", a leading "-" (ignore failure when applying; irrelevant here),
// "/" or "." separators. A NUL byte (a binary file), an overlong line or a
// value out of its range is an error; errors quote the bytes they show.
ProfileParse parse_sysctl_conf(std::string_view text);

// Bounds for a profile file: a line longer than this is refused (the kernel
// takes at most a page per sysctl write), and parsing stops after
// kMaxProfileErrors errors.
inline constexpr size_t kMaxProfileLineBytes = 4096;
inline constexpr size_t kMaxProfileErrors = 20;

// One KEY=VALUE flag (--sysctl). The value of a key the rules read
// (analyze/data/sysctl_values.conf, rlimit.NAME.soft|hard) must be one the
// kernel accepts, else the flag is refused.
std::optional<ParseError> parse_sysctl_flag(std::string_view flag, Profile& into);

// Why VALUE is not one the kernel accepts for KEY (dotted form); nullopt
// when it is, or when KEY is not one the rules read.
std::optional<std::string> check_sysctl_value(std::string_view key, std::string_view value);

// Every value of the profile checked as above; one message per bad key.
std::vector<std::string> check_profile_values(const Profile& profile);

// Named profiles shipped with the tool. "host" is the recording host's own
// snapshot and so is an empty overlay.
std::vector<std::string> named_profiles();
std::optional<ProfileParse> named_profile(std::string_view name);

}  // namespace capaudit::analyze
