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
  // cap_check facts (format 1.5): the syscall's argument registers (arg0..arg5),
  // the words at its pointer argument (u0..u5), mm->locked_vm.
  std::vector<int64_t> args, user_words;
  std::optional<int64_t> locked_vm;
  // link facts (format 1.9): the source inode's owner, group and mode, the
  // caller's fsuid/fsgid, whether the source's group is one of the caller's
  // supplementary groups (1/0) — src_uid, src_gid, src_mode, fsuid, fsgid,
  // src_in_groups.
  std::optional<int64_t> src_uid, src_gid, src_mode, fsuid, fsgid, src_in_groups;
  std::optional<int64_t> pid;  // the process that did it
  // Profile keys whose value the kernel reported with the operation (the
  // operation's own network namespace, the task's rlimits at the check):
  // they win over the recorded snapshot, and a target overlay wins over them.
  std::map<std::string, int64_t> at_op;
  const Profile* overlay = nullptr;  // set while evaluating under a target profile
  // The trace's architecture (Header::arch; empty: this build's): syscall
  // numbers, and the NR_<name> constants of the rules, are its numbers.
  std::string arch;
};

// A profile key as a rule reads it for OP: the overlay, else the value
// recorded with the operation, else the profile.
std::optional<int64_t> key_value(const std::string& key, size_t index, const OpValues& op, const Profile& profile);
std::optional<std::string> key_text(const std::string& key, const OpValues& op, const Profile& profile);

struct Rule {
  std::string id;
  common::OpKind operation = common::OpKind::unknown;
  int cap = -1;
  bool evaluable = true;     // false: the recorder does not record this operation yet
  // `check = F1, F2`: a rule about capability checks (operation cap_check)
  // whose call path holds one of these kernel functions.
  std::vector<std::string> frames;
  // `at_exit = KIND`: a check rule that also reads KIND operation facts taken
  // at the syscall's exit (--facts sys_exit), where no check may have
  // happened: a stricter profile predicts the capability from them. Their
  // state is what the syscall left, so `applies_at_exit` / `needed_at_exit`
  // may replace `applies` / `needed` for them.
  common::OpKind at_exit = common::OpKind::unknown;
  std::string describe;      // "bind to port {a1}" ({a0}..{a3}, {arg0}.., {u0}.., {uid}, {gid}, {locked_vm})
  std::string kernel;        // the kernel fact behind the rule
  std::string remedy;        // the alternative to granting the capability
  // at_exit rules: what it means when the target profile leaves a prediction
  // unknown, and how to state it (report note); "" = generic words.
  std::string unknown;
  std::vector<std::string> inputs;  // profile keys the rule reads (for reports)
  std::shared_ptr<const Expr> applies, needed, impossible;
  std::shared_ptr<const Expr> applies_at_exit, needed_at_exit;  // null: `applies`, `needed`
  int line = 0;              // where it is defined
};

// A narrower capability the kernel tries before a broad one for the same
// operation (perfmon_capable(): CAP_PERFMON, then CAP_SYS_ADMIN). When a run
// shows the narrow one denied and the broad one granted in the same syscall,
// the narrow one is what the program needs.
struct Alternative {
  std::string id;
  int narrow = -1, broad = -1;
  std::string why;
  int line = 0;
};

struct RuleSet {
  std::vector<Rule> rules;
  std::vector<Alternative> alternatives;
  std::map<std::string, int64_t> constants;
};

struct RuleParse {
  RuleSet set;
  std::vector<ParseError> errors;
};

RuleParse parse_rules(std::string_view text);
// The rules compiled into the analyzer; a parse error there is a bug (throws).
const RuleSet& builtin_rules();

// An operation field by name (a0..a3, arg0..arg5, u0..u5, uid, gid, ret, nr,
// locked_vm, descendant, the link fields); unknown when the fact does not carry it.
std::optional<int64_t> op_field(std::string_view name, const OpValues& op);
// The profile keys a cap_check fact's kernel state stands for (StateSlot ->
// "rlimit.MEMLOCK.soft", "net.ipv4.ip_unprivileged_port_start", ...), into OP.
void state_keys(const std::vector<int64_t>& state, OpValues& op);

std::optional<bool> evaluate(const Expr& e, const OpValues& op, const Profile& profile, const RuleSet& set);
std::string describe_operation(const Rule& r, const OpValues& op, const RuleSet* set = nullptr);

}  // namespace capaudit::analyze
