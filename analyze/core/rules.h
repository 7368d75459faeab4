// Causal sysctl/rlimit rules (DESIGN section 5), loaded from
// analyze/data/sysctl_rules.conf. Each rule names the operation it governs,
// the capability, and three small expressions over the recorded operation and
// a profile: `applies` (is this operation one the rule is about), `needed`
// (does it need the capability under the profile) and `impossible` (does it
// fail whatever the capabilities). Expressions are three-valued: a value the
// profile does not know makes the answer unknown rather than false.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/core/profile.h"
#include "common/trace.h"

namespace capaudit::analyze {

struct Expr;  // parsed expression (rules.cpp)

// What an expression can read besides the profile.
struct OpValues {
  common::OpKind kind = common::OpKind::unknown;
  int32_t syscall_nr = -1;
  int64_t a[4] = {0, 0, 0, 0};
  uint32_t uid = 0, gid = 0;
  std::optional<int64_t> ret;
  std::optional<bool> descendant;  // ptrace target is a descendant of the caller (from the fork tree)
};

struct Rule {
  std::string id;
  common::OpKind operation = common::OpKind::unknown;
  int cap = -1;
  bool evaluable = true;     // false: the recorder does not record this operation yet
  std::string describe;      // "bind to port {a1}" ({a0}..{a3}, {uid}, {gid})
  std::string kernel;        // the kernel fact behind the rule
  std::string remedy;        // the alternative to granting the capability
  std::vector<std::string> inputs;  // profile keys the rule reads (for reports)
  std::shared_ptr<const Expr> applies, needed, impossible;
  int line = 0;              // where it is defined
};

struct RuleSet {
  std::vector<Rule> rules;
  std::map<std::string, int64_t> constants;
};

struct RuleParse {
  RuleSet set;
  std::vector<ParseError> errors;
};

RuleParse parse_rules(std::string_view text);
// The rules compiled into the analyzer; a parse error there is a bug (throws).
const RuleSet& builtin_rules();

std::optional<bool> evaluate(const Expr& e, const OpValues& op, const Profile& profile, const RuleSet& set);
std::string describe_operation(const Rule& r, const OpValues& op);

}  // namespace capaudit::analyze
