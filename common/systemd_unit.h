// A systemd service unit, reduced to what decides a service's capabilities:
// the command line and the credential/capability settings of [Service].
// Used by `capaudit-record --service` (to start ExecStart= the way systemd
// would) and by `capaudit-analyze check --against UNIT` (to compare grants
// with observations). Parsing is pure: no user lookups, no files touched
// other than the text handed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace capaudit::common {

// Every capability the parser knows by name (0..CAP_LAST_CAP of the build
// headers). `~` inversions are taken relative to this set, like systemd does.
uint64_t known_capability_mask();

// One ExecStart= line, prefixes decoded.
struct ExecCommand {
  std::string path;               // what to execute
  std::vector<std::string> argv;  // argv[0] is path unless '@' gave another one
  bool ignore_failure = false;    // '-': a non-zero exit is not a failure
  bool no_env_expansion = false;  // ':': $VAR and ${VAR} are kept literally
  bool keep_credentials = false;  // '!': User=/Group=/SupplementaryGroups= not applied
};

// A user or group as written in the unit: a name (resolved at start time by
// the caller) or a numeric id that was validated while parsing.
struct UnitId {
  std::string text;
  std::optional<uint32_t> numeric;
  bool operator==(const UnitId&) const = default;
};

struct ServiceUnit {
  std::vector<ExecCommand> exec_start;  // several only for Type=oneshot
  std::optional<UnitId> user;
  std::optional<UnitId> group;
  std::vector<UnitId> supplementary_groups;
  bool dynamic_user = false;
  // Unset = systemd leaves the bounding set alone (all capabilities).
  std::optional<uint64_t> capability_bounding_set;
  uint64_t ambient_capabilities = 0;
  std::optional<bool> no_new_privileges;
  // Non-fatal findings, e.g. unknown capability names systemd would ignore.
  std::vector<std::string> warnings;

  // The bounding set the service really runs with.
  uint64_t effective_bounding_set() const {
    return capability_bounding_set.value_or(known_capability_mask());
  }
  // Whether the service runs as root (no User=, or User= root/0) and is not
  // given a dynamic user.
  bool runs_as_root() const;
};

struct UnitError {
  int line = 0;  // 1-based line of the offending setting; 0 = whole file
  std::string message;
};

using UnitParseResult = std::variant<ServiceUnit, UnitError>;

// Parses unit file text. `+` and `!!` ExecStart= prefixes and invalid ids are
// errors: the caller cannot reproduce what systemd would do with them.
UnitParseResult parse_service_unit(std::string_view text);

// Reads and parses a file; an unreadable file is a UnitError with line 0.
UnitParseResult load_service_unit(const std::string& path);

// A uid/gid as systemd accepts it: decimal, 0..4294967294, and not 65535
// (the 16-bit "nobody" overflow id) nor 4294967295 ((uid_t)-1). Returns the
// reason on failure.
std::variant<uint32_t, std::string> parse_unit_id(std::string_view text);

// Splits a command line the way systemd does for ExecStart= (double/single
// quotes, C escapes, `%%`). Returns an error message for unbalanced quotes.
std::variant<std::vector<std::string>, std::string> split_unit_words(std::string_view text);

}  // namespace capaudit::common
