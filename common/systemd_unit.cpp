#include "common/systemd_unit.h"

#include "common/capabilities.h"
#include "common/error.h"
#include "common/input_limits.h"

#include <linux/capability.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <sstream>
#include <utility>

namespace capaudit::common {

namespace {

constexpr size_t kMaxUnitWarnings = 20;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// systemd's parse_boolean().
std::optional<bool> parse_bool(std::string_view v) {
  const std::string s = lower(v);
  if (s == "1" || s == "yes" || s == "y" || s == "true" || s == "t" || s == "on") return true;
  if (s == "0" || s == "no" || s == "n" || s == "false" || s == "f" || s == "off") return false;
  return std::nullopt;
}

// systemd accepts capability names case-insensitively with the CAP_ prefix,
// and plain numbers; only capabilities it knows.
std::optional<int> capability_from_word(std::string_view word) {
  const bool numeric = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!numeric && lower(word).rfind("cap_", 0) != 0) return std::nullopt;
  auto cap = parse_cap(word);
  if (!cap || *cap > CAP_LAST_CAP) return std::nullopt;
  return cap;
}

bool valid_user_name(std::string_view s) {
  // systemd's relaxed rule: no empty name, no whitespace, ':' or '/', not
  // purely numeric (that would be an id), not starting with '-'.
  if (s.empty() || s.size() > 256 || s.front() == '-') return false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c)) || c == ':' || c == '/' || c == '\0') return false;
  }
  return true;
}

std::variant<UnitId, std::string> parse_user_or_group(std::string_view value) {
  const bool numeric_like = !value.empty() && (std::isdigit(static_cast<unsigned char>(value.front())) ||
                                               (value.front() == '-' && value.size() > 1 &&
                                                std::isdigit(static_cast<unsigned char>(value[1]))) ||
                                               value.front() == '+');
  if (numeric_like) {
    auto id = parse_unit_id(value);
    if (auto* err = std::get_if<std::string>(&id)) return *err;
    return UnitId{std::string(value), std::get<uint32_t>(id)};
  }
  if (!valid_user_name(value)) return "invalid user/group name " + quote_bytes(value);
  return UnitId{std::string(value), std::nullopt};
}

// Applies one CapabilityBoundingSet=/AmbientCapabilities= assignment the way
// systemd's config_parse_capability_set() does: "" resets to empty, "~" alone
// means all, a later line ORs (or, with "~", ANDs) into an earlier one.
void apply_capability_assignment(std::string_view value, bool& assigned, uint64_t& set,
                                 std::vector<std::string>& warnings, int line) {
  bool invert = false;
  if (!value.empty() && value.front() == '~') {
    invert = true;
    value.remove_prefix(1);
  }
  uint64_t sum = 0;
  std::istringstream words{std::string(value)};
  for (std::string word; words >> word;) {
    if (auto cap = capability_from_word(word)) {
      sum |= uint64_t{1} << *cap;
    } else {
      // Bounded: a file of nothing but unknown words must not grow a list as large as itself.
      if (warnings.size() < kMaxUnitWarnings) {
        warnings.push_back("line " + std::to_string(line) + ": unknown capability " + quote_bytes(word) +
                           " ignored (systemd ignores it too)");
      } else if (warnings.size() == kMaxUnitWarnings) {
        warnings.push_back("more unknown capability names not listed");
      }
    }
  }
  const uint64_t all = known_capability_mask();
  if (sum == 0 || !assigned) {
    set = invert ? (~sum & all) : sum;
  } else if (invert) {
    set &= ~sum;
  } else {
    set |= sum;
  }
  assigned = true;
}

std::variant<ExecCommand, std::string> parse_exec(std::string_view value) {
  ExecCommand cmd;
  bool argv0_given = false;
  // Prefixes may be combined in any order, each at most once.
  for (;;) {
    if (value.substr(0, 2) == "!!") {
      return std::string("ExecStart= prefix '!!' is not supported: it only differs from '!' on kernels "
                         "without ambient capabilities, so capaudit cannot tell what systemd would run; "
                         "use '!' or no prefix");
    }
    if (value.empty()) break;
    const char c = value.front();
    if (c == '+') {
      return std::string("ExecStart= prefix '+' runs the command with full privileges, ignoring User=, "
                         "CapabilityBoundingSet= and the sandbox; recording it would not show what the "
                         "service needs — remove the '+' to record the configured service");
    }
    if (c == '-' && !cmd.ignore_failure) {
      cmd.ignore_failure = true;
    } else if (c == '@' && !argv0_given) {
      argv0_given = true;
    } else if (c == ':' && !cmd.no_env_expansion) {
      cmd.no_env_expansion = true;
    } else if (c == '!' && !cmd.keep_credentials) {
      cmd.keep_credentials = true;
    } else if (c == '-' || c == '@' || c == ':' || c == '!') {
      return std::string("ExecStart= prefix '") + c + "' given twice";
    } else {
      break;
    }
    value.remove_prefix(1);
  }
  auto words = split_unit_words(value);
  if (auto* err = std::get_if<std::string>(&words)) return *err;
  auto& argv = std::get<std::vector<std::string>>(words);
  if (argv.empty()) return std::string("ExecStart= has no command");
  cmd.path = argv.front();
  if (argv0_given) {
    if (argv.size() < 2) return std::string("ExecStart= prefix '@' needs the command and its argv[0]");
    argv.erase(argv.begin());
  }
  cmd.argv = std::move(argv);
  if (cmd.path.empty()) return std::string("ExecStart= has an empty command");
  return cmd;
}

struct LogicalLine {
  int line = 0;
  std::string text;
};

// Joins backslash continuations (the backslash becomes a space) and drops
// comment lines, also those inside a continuation, as systemd does.
std::vector<LogicalLine> logical_lines(std::string_view text) {
  std::vector<LogicalLine> out;
  std::optional<LogicalLine> pending;
  int number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    const std::string_view t = trim(raw);
    if (!t.empty() && (t.front() == '#' || t.front() == ';')) {
      if (pos > text.size() && pending) out.push_back(*std::exchange(pending, std::nullopt));
      continue;
    }
    const bool continues = !raw.empty() && raw.back() == '\\';
    std::string_view body = continues ? raw.substr(0, raw.size() - 1) : raw;
    if (!pending) pending = LogicalLine{number, {}};
    else pending->text += ' ';
    pending->text += body;
    if (!continues || pos > text.size()) out.push_back(*std::exchange(pending, std::nullopt));
  }
  return out;
}

}  // namespace

uint64_t known_capability_mask() {
  return CAP_LAST_CAP >= 63 ? ~uint64_t{0} : (uint64_t{1} << (CAP_LAST_CAP + 1)) - 1;
}

bool ServiceUnit::runs_as_root() const {
  if (dynamic_user) return false;
  if (!user) return true;
  if (user->numeric) return *user->numeric == 0;
  return user->text == "root";
}

std::variant<uint32_t, std::string> parse_unit_id(std::string_view text) {
  const std::string shown = quote_bytes(text);
  if (text.empty()) return std::string("empty id");
  if (text.front() == '-') return "id " + shown + " is negative";
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "id " + shown + " is not a decimal number";
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > UINT32_MAX) {
    return "id " + shown + " does not fit in 32 bits";
  }
  if (v == 4294967295u) return "id " + shown + " is (uid_t)-1, which means 'no change' to the kernel";
  if (v == 65535u) return "id " + shown + " is the 16-bit overflow id, which systemd refuses";
  return static_cast<uint32_t>(v);
}

std::variant<std::vector<std::string>, std::string> split_unit_words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    while (i < n && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= n) break;
    std::string word;
    char quote = 0;
    for (; i < n; ++i) {
      const char c = text[i];
      if (!quote && std::isspace(static_cast<unsigned char>(c))) break;
      if (!quote && (c == '"' || c == '\'')) {
        quote = c;
        continue;
      }
      if (quote && c == quote) {
        quote = 0;
        continue;
      }
      if (c == '%') {
        if (i + 1 < n && text[i + 1] == '%') {
          word += '%';
          ++i;
          continue;
        }
        word += c;  // other specifiers need the unit's context; kept literally
        continue;
      }
      if (c == '\\' && i + 1 < n) {
        const char e = text[++i];
        switch (e) {
          case 'n': word += '\n'; break;
          case 't': word += '\t'; break;
          case 'r': word += '\r'; break;
          case 'a': word += '\a'; break;
          case 'b': word += '\b'; break;
          case 'f': word += '\f'; break;
          case 'v': word += '\v'; break;
          case 's': word += ' '; break;
          case 'x':
            if (i + 2 < n && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
                std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
              word += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
              i += 2;
              break;
            }
            return std::string("invalid \\x escape in command line");
          default: word += e; break;  // \\, \", \', \; and others stand for themselves
        }
        continue;
      }
      word += c;
    }
    if (quote) return std::string("unbalanced quote in command line");
    words.push_back(std::move(word));
  }
  return words;
}

UnitParseResult parse_service_unit(std::string_view text) {
  if (text.size() > kMaxDeploymentFileBytes)
    return UnitError{0, "unit file larger than " + format_size(kMaxDeploymentFileBytes) + "; a unit is never that large"};
  ServiceUnit unit;
  std::string section;
  uint64_t bounding = known_capability_mask();
  bool bounding_set = false;
  bool ambient_set = false;
  for (const auto& [line, body] : logical_lines(text)) {
    const std::string_view t = trim(body);
    if (t.empty()) continue;
    if (t.front() == '[') {
      if (t.back() != ']') return UnitError{line, "malformed section header"};
      section = std::string(t.substr(1, t.size() - 2));
      continue;
    }
    const size_t eq = t.find('=');
    if (eq == std::string_view::npos) return UnitError{line, "expected KEY=VALUE"};
    if (section != "Service") continue;
    const std::string_view key = trim(t.substr(0, eq));
    const std::string_view value = trim(t.substr(eq + 1));
    // Init-capture: clang < 16 cannot capture a structured binding (the fuzz build uses clang).
    auto fail = [&, at = line](std::string msg) { return UnitError{at, std::string(key) + "=: " + msg}; };

    if (key == "ExecStart") {
      if (value.empty()) {
        unit.exec_start.clear();
        continue;
      }
      auto cmd = parse_exec(value);
      if (auto* err = std::get_if<std::string>(&cmd)) return UnitError{line, *err};
      unit.exec_start.push_back(std::move(std::get<ExecCommand>(cmd)));
    } else if (key == "User" || key == "Group") {
      std::optional<UnitId>& slot = key == "User" ? unit.user : unit.group;
      if (value.empty()) {
        slot.reset();
        continue;
      }
      auto id = parse_user_or_group(value);
      if (auto* err = std::get_if<std::string>(&id)) return fail(*err);
      slot = std::get<UnitId>(id);
    } else if (key == "SupplementaryGroups") {
      if (value.empty()) {
        unit.supplementary_groups.clear();
        continue;
      }
      auto words = split_unit_words(value);
      if (auto* err = std::get_if<std::string>(&words)) return fail(*err);
      for (const auto& w : std::get<std::vector<std::string>>(words)) {
        auto id = parse_user_or_group(w);
        if (auto* err = std::get_if<std::string>(&id)) return fail(*err);
        unit.supplementary_groups.push_back(std::get<UnitId>(id));
      }
    } else if (key == "DynamicUser" || key == "NoNewPrivileges") {
      auto b = parse_bool(value);
      if (!b) return fail(quote_bytes(value) + " is not a boolean");
      if (key == "DynamicUser") unit.dynamic_user = *b;
      else unit.no_new_privileges = *b;
    } else if (key == "CapabilityBoundingSet") {
      apply_capability_assignment(value, bounding_set, bounding, unit.warnings, line);
    } else if (key == "AmbientCapabilities") {
      apply_capability_assignment(value, ambient_set, unit.ambient_capabilities, unit.warnings, line);
    }
  }
  if (bounding_set) unit.capability_bounding_set = bounding;
  return unit;
}

UnitParseResult load_service_unit(const std::string& path) {
  try {
    return parse_service_unit(read_file_capped(path, kMaxDeploymentFileBytes, "unit file"));
  } catch (const Error& e) {
    return UnitError{0, e.what()};
  }
}

}  // namespace capaudit::common
