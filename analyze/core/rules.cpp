#include "analyze/core/rules.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include "analyze/core/embedded_data.h"
#include "analyze/core/names.h"
#include "common/syscalls.h"
#include "common/trace_io.h"

namespace capaudit::analyze {

// Tree of a parsed expression. Leaves: integer literals, operation fields
// (a0..a3, uid, gid, ret, descendant), named constants, profile keys (with an
// optional [field]) and rlimit_soft(x)/rlimit_hard(x).
struct Expr {
  enum class Kind { number, field, constant, key, rlimit, unary, binary } kind = Kind::number;
  int64_t number = 0;
  std::string name;   // field/constant/key name, operator, or "soft"/"hard"
  size_t index = 0;   // key field index
  std::shared_ptr<const Expr> lhs, rhs;
};

namespace {

using ExprPtr = std::shared_ptr<const Expr>;
using Val = std::optional<int64_t>;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  ExprPtr parse() {
    auto e = parse_binary(0);
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected '" + std::string(s_.substr(pos_)) + "'");
    return e;
  }

 private:
  [[noreturn]] void fail(const std::string& m) { throw std::invalid_argument(m); }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(std::string_view tok) {
    skip_ws();
    if (s_.substr(pos_, tok.size()) == tok) {
      pos_ += tok.size();
      return true;
    }
    return false;
  }

  // Precedence climbing; lowest first.
  static int precedence(std::string_view op) {
    if (op == "||") return 1;
    if (op == "&&") return 2;
    if (op == "==" || op == "!=") return 3;
    if (op == "<" || op == "<=" || op == ">" || op == ">=") return 4;
    if (op == "&") return 5;
    if (op == "+" || op == "-") return 6;
    if (op == "*") return 7;
    return -1;
  }
  std::string peek_op() {
    skip_ws();
    for (std::string_view op : {"||", "&&", "==", "!=", "<=", ">=", "<", ">", "&", "+", "-", "*"})
      if (s_.substr(pos_, op.size()) == op) return std::string(op);
    return {};
  }

  ExprPtr parse_binary(int min_prec) {
    auto lhs = parse_unary();
    for (;;) {
      auto op = peek_op();
      int prec = op.empty() ? -1 : precedence(op);
      if (prec < 0 || prec < min_prec || prec == 0) break;
      pos_ += op.size();
      auto rhs = parse_binary(prec + 1);
      auto e = std::make_shared<Expr>();
      e->kind = Expr::Kind::binary;
      e->name = op;
      e->lhs = lhs;
      e->rhs = rhs;
      lhs = e;
    }
    return lhs;
  }

  ExprPtr parse_unary() {
    if (eat("!") || (peek_is('-') && eat("-"))) {
      auto e = std::make_shared<Expr>();
      e->kind = Expr::Kind::unary;
      e->name = s_[pos_ - 1] == '!' ? "!" : "-";
      e->lhs = parse_unary();
      return e;
    }
    return parse_primary();
  }
  bool peek_is(char c) {
    skip_ws();
    return pos_ < s_.size() && s_[pos_] == c;
  }

  ExprPtr parse_primary() {
    skip_ws();
    if (eat("(")) {
      auto e = parse_binary(0);
      if (!eat(")")) fail("missing ')'");
      return e;
    }
    if (pos_ >= s_.size()) fail("expression ends early");
    auto e = std::make_shared<Expr>();
    if (std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      int base = 10;
      if (s_.substr(pos_, 2) == "0x") {
        base = 16;
        pos_ += 2;
      }
      auto [p, ec] = std::from_chars(s_.data() + pos_, s_.data() + s_.size(), e->number, base);
      if (ec != std::errc()) fail("bad number");
      pos_ = static_cast<size_t>(p - s_.data());
      return e;
    }
    size_t start = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' ||
                                s_[pos_] == '.' || (s_[pos_] == '-' && pos_ > start && s_[pos_ - 1] != ' ')))
      ++pos_;
    std::string ident(s_.substr(start, pos_ - start));
    // A trailing '-' belongs to an operator, not to the name.
    while (!ident.empty() && ident.back() == '-') {
      ident.pop_back();
      --pos_;
    }
    if (ident.empty()) fail("unexpected '" + std::string(s_.substr(start)) + "'");
    if (ident == "s32") {
      // the low 32 bits as a signed int: an int argument in a 64-bit register
      if (!eat("(")) fail("expected '(' after s32");
      e->kind = Expr::Kind::unary;
      e->name = "s32";
      e->lhs = parse_binary(0);
      if (!eat(")")) fail("missing ')'");
      return e;
    }
    if (ident == "rlimit_soft" || ident == "rlimit_hard") {
      if (!eat("(")) fail("expected '(' after " + ident);
      e->kind = Expr::Kind::rlimit;
      e->name = ident == "rlimit_soft" ? "soft" : "hard";
      e->lhs = parse_binary(0);
      if (!eat(")")) fail("missing ')'");
      return e;
    }
    if (ident.find('.') != std::string::npos) {
      e->kind = Expr::Kind::key;
      e->name = normalize_key(ident);
      if (eat("[")) {
        skip_ws();
        size_t b = pos_;
        while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
        if (b == pos_) fail("expected a field index");
        e->index = std::stoul(std::string(s_.substr(b, pos_ - b)));
        if (!eat("]")) fail("missing ']'");
      }
      return e;
    }
    static const char* const kFields[] = {"a0",   "a1",   "a2",   "a3",   "uid", "gid", "ret", "descendant", "nr",
                                          "arg0", "arg1", "arg2", "arg3", "arg4", "arg5", "u0", "u1", "u2",
                                          "u3",   "u4",   "u5",   "locked_vm", "pid", "src_uid", "src_gid",
                                          "src_mode", "fsuid", "fsgid", "src_in_groups"};
    for (const char* f : kFields)
      if (ident == f) {
        e->kind = Expr::Kind::field;
        e->name = ident;
        return e;
      }
    e->kind = Expr::Kind::constant;
    e->name = ident;
    return e;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// An operation field by name; unknown when the fact does not carry it.
Val field_value(std::string_view n, const OpValues& op) {
  auto indexed = [&](std::string_view prefix, const std::vector<int64_t>& v) -> std::optional<Val> {
    if (n.size() != prefix.size() + 1 || n.substr(0, prefix.size()) != prefix) return std::nullopt;
    size_t i = static_cast<size_t>(n.back() - '0');
    return i < v.size() ? Val{v[i]} : Val{};
  };
  if (n.size() == 2 && n[0] == 'a') return op.a[n[1] - '0'];
  if (auto v = indexed("arg", op.args)) return *v;
  if (auto v = indexed("u", op.user_words)) return *v;
  if (n == "uid") return op.uid;
  if (n == "gid") return op.gid;
  if (n == "ret") return op.ret;
  if (n == "nr") return op.syscall_nr;
  if (n == "locked_vm") return op.locked_vm;
  if (n == "pid") return op.pid;
  if (n == "src_uid") return op.src_uid;
  if (n == "src_gid") return op.src_gid;
  if (n == "src_mode") return op.src_mode;
  if (n == "fsuid") return op.fsuid;
  if (n == "fsgid") return op.fsgid;
  if (n == "src_in_groups") return op.src_in_groups;
  if (n == "descendant") return op.descendant ? Val{*op.descendant ? 1 : 0} : Val{};
  return {};
}

// NR_<NAME> names a syscall: its number on ARCH, from the syscall table
// (common/syscalls.h), unless [constants] defines it.
std::optional<int32_t> syscall_constant(std::string_view name, std::string_view arch) {
  if (name.size() <= 3 || name.substr(0, 3) != "NR_") return std::nullopt;
  std::string sys(name.substr(3));
  for (auto& ch : sys) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return syscall_from_name(sys, arch);
}

Val eval(const Expr& e, const OpValues& op, const Profile& profile, const RuleSet& set) {
  switch (e.kind) {
    case Expr::Kind::number: return e.number;
    case Expr::Kind::constant: {
      auto it = set.constants.find(e.name);
      if (it != set.constants.end()) return it->second;
      if (auto nr = syscall_constant(e.name, op.arch)) return *nr;
      return {};
    }
    case Expr::Kind::field: return field_value(e.name, op);
    case Expr::Kind::key: return key_value(e.name, e.index, op, profile);
    case Expr::Kind::rlimit: {
      auto r = eval(*e.lhs, op, profile, set);
      const char* n = r ? rlimit_name(*r) : nullptr;
      if (!n) return {};
      return key_value(std::string("rlimit.") + n + "." + e.name, 0, op, profile);
    }
    case Expr::Kind::unary: {
      auto v = eval(*e.lhs, op, profile, set);
      if (!v) return {};
      if (e.name == "s32") return static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(*v)));
      return e.name == "!" ? Val{*v == 0 ? 1 : 0} : Val{-*v};
    }
    case Expr::Kind::binary: {
      auto l = eval(*e.lhs, op, profile, set);
      // Kleene logic: a known deciding side wins over an unknown one.
      if (e.name == "&&" || e.name == "||") {
        bool is_and = e.name == "&&";
        if (l && ((*l != 0) != is_and)) return is_and ? 0 : 1;
        auto r = eval(*e.rhs, op, profile, set);
        if (r && ((*r != 0) != is_and)) return is_and ? 0 : 1;
        if (!l || !r) return {};
        return is_and ? 1 : 0;
      }
      auto r = eval(*e.rhs, op, profile, set);
      if (!l || !r) return {};
      const auto& o = e.name;
      if (o == "==") return *l == *r;
      if (o == "!=") return *l != *r;
      if (o == "<") return *l < *r;
      if (o == "<=") return *l <= *r;
      if (o == ">") return *l > *r;
      if (o == ">=") return *l >= *r;
      if (o == "&") return *l & *r;
      if (o == "+") return *l + *r;
      if (o == "-") return *l - *r;
      if (o == "*") return *l * *r;
      return {};
    }
  }
  return {};
}

// The profile keys an expression reads, for reports. An rlimit indexed by an
// operation field stays symbolic ("rlimit.{a0}.hard") until a hit resolves it.
void collect_keys(const Expr* e, const std::map<std::string, int64_t>& constants, std::vector<std::string>& out) {
  if (!e) return;
  std::string key;
  if (e->kind == Expr::Kind::key) key = e->name;
  if (e->kind == Expr::Kind::rlimit) {
    const Expr& r = *e->lhs;
    std::optional<int64_t> res;
    if (r.kind == Expr::Kind::number) res = r.number;
    if (r.kind == Expr::Kind::constant && constants.count(r.name)) res = constants.at(r.name);
    const char* n = res ? rlimit_name(*res) : nullptr;
    key = n ? std::string("rlimit.") + n + "." + e->name
            : r.kind == Expr::Kind::field ? "rlimit.{" + r.name + "}." + e->name : "";
  }
  if (!key.empty() && std::find(out.begin(), out.end(), key) == out.end()) out.push_back(key);
  if (e->kind != Expr::Kind::rlimit) {
    collect_keys(e->lhs.get(), constants, out);
    collect_keys(e->rhs.get(), constants, out);
  }
}

void check_constants(const Expr* e, const RuleSet& set, std::vector<std::string>& missing) {
  if (!e) return;
  // an NR_ name must be a syscall of the architectures the recorder builds for
  if (e->kind == Expr::Kind::constant && !set.constants.count(e->name) &&
      !(syscall_constant(e->name, "x86_64") || syscall_constant(e->name, "aarch64")))
    missing.push_back(e->name);
  check_constants(e->lhs.get(), set, missing);
  check_constants(e->rhs.get(), set, missing);
}

std::optional<common::OpKind> op_from_name(std::string_view n) {
  for (int k = 0; k <= 64; ++k) {
    auto kind = static_cast<common::OpKind>(k);
    if (n == common::to_string(kind)) return kind;
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> op_field(std::string_view name, const OpValues& op) { return field_value(name, op); }

void state_keys(const std::vector<int64_t>& state, OpValues& op) {
  using common::StateSlot;
  auto at = [&](StateSlot s) -> std::optional<int64_t> {
    auto i = static_cast<size_t>(s);
    if (i >= state.size() || state[i] == common::kStateUnset) return std::nullopt;
    return state[i];
  };
  // RLIM_INFINITY arrives as -1 (all ones): the profile reads it as INT64_MAX.
  auto limit = [](int64_t v) { return v < 0 ? INT64_MAX : v; };
  if (auto v = at(StateSlot::locked_vm)) op.locked_vm = *v;
  op.src_uid = at(StateSlot::link_src_uid);
  op.src_gid = at(StateSlot::link_src_gid);
  op.src_mode = at(StateSlot::link_src_mode);
  op.fsuid = at(StateSlot::fsuid);
  op.fsgid = at(StateSlot::fsgid);
  op.src_in_groups = at(StateSlot::link_src_in_groups);
  if (auto v = at(StateSlot::memlock_soft)) op.at_op["rlimit.MEMLOCK.soft"] = limit(*v);
  if (auto v = at(StateSlot::rtprio_soft)) op.at_op["rlimit.RTPRIO.soft"] = limit(*v);
  if (auto v = at(StateSlot::nice_soft)) op.at_op["rlimit.NICE.soft"] = limit(*v);
  if (auto v = at(StateSlot::mmap_min_addr)) op.at_op["vm.mmap_min_addr"] = *v;
  if (auto v = at(StateSlot::port_start)) op.at_op["net.ipv4.ip_unprivileged_port_start"] = *v;
  if (auto v = at(StateSlot::arg_rlimit_hard)) {
    // setrlimit(resource, ...), prlimit64(pid, resource, ...)
    const auto nr = std::optional<int32_t>(op.syscall_nr);
    std::optional<int64_t> res = nr == common::known_syscall_nr(common::KnownSyscall::setrlimit, op.arch)   ? op_field("arg0", op)
                                 : nr == common::known_syscall_nr(common::KnownSyscall::prlimit64, op.arch) ? op_field("arg1", op)
                                                                                                           : std::nullopt;
    if (const char* n = res ? rlimit_name(*res) : nullptr) op.at_op[std::string("rlimit.") + n + ".hard"] = limit(*v);
  }
}

std::optional<int64_t> key_value(const std::string& key, size_t index, const OpValues& op, const Profile& profile) {
  if (op.overlay && op.overlay->get(key)) return op.overlay->get_int(key, index);
  if (index == 0)
    if (auto it = op.at_op.find(key); it != op.at_op.end()) return it->second;
  return profile.get_int(key, index);
}

std::optional<std::string> key_text(const std::string& key, const OpValues& op, const Profile& profile) {
  if (op.overlay)
    if (auto v = op.overlay->get(key)) return v;
  if (auto it = op.at_op.find(key); it != op.at_op.end())
    return it->second == INT64_MAX ? std::string("unlimited") : std::to_string(it->second);
  return profile.get(key);
}

std::optional<bool> evaluate(const Expr& e, const OpValues& op, const Profile& profile, const RuleSet& set) {
  auto v = eval(e, op, profile, set);
  if (!v) return std::nullopt;
  return *v != 0;
}

RuleParse parse_rules(std::string_view text) {
  RuleParse out;
  enum class Section { none, constants, rule, alternative } section = Section::none;
  Rule* cur = nullptr;
  Alternative* alt = nullptr;
  std::map<std::string, std::pair<std::string, int>> exprs;  // per rule: key -> (text, line)
  auto finish = [&]() {
    if (!cur) return;
    for (auto& [k, tl] : exprs) {
      try {
        auto e = Parser(tl.first).parse();
        std::vector<std::string> missing;
        check_constants(e.get(), out.set, missing);
        if (!missing.empty()) out.errors.push_back({tl.second, "unknown constant '" + missing[0] + "'"});
        collect_keys(e.get(), out.set.constants, cur->inputs);
        (k == "applies"           ? cur->applies
         : k == "needed"          ? cur->needed
         : k == "applies_at_exit" ? cur->applies_at_exit
         : k == "needed_at_exit"  ? cur->needed_at_exit
                                  : cur->impossible) = e;
      } catch (const std::invalid_argument& ex) {
        out.errors.push_back({tl.second, k + ": " + ex.what()});
      }
    }
    if (cur->operation == common::OpKind::unknown) out.errors.push_back({cur->line, "rule " + cur->id + ": no operation"});
    if (cur->cap < 0) out.errors.push_back({cur->line, "rule " + cur->id + ": no capability"});
    if (cur->evaluable && !cur->needed) out.errors.push_back({cur->line, "rule " + cur->id + ": no 'needed'"});
    if (cur->at_exit != common::OpKind::unknown && cur->operation != common::OpKind::cap_check)
      out.errors.push_back({cur->line, "rule " + cur->id + ": at_exit belongs to a check rule"});
    if (cur->at_exit == common::OpKind::unknown && !cur->unknown.empty())
      out.errors.push_back({cur->line, "rule " + cur->id + ": unknown without at_exit"});
    if (cur->at_exit == common::OpKind::unknown && (cur->applies_at_exit || cur->needed_at_exit))
      out.errors.push_back({cur->line, "rule " + cur->id + ": applies_at_exit/needed_at_exit without at_exit"});
    exprs.clear();
  };
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      finish();
      cur = nullptr;
      if (alt && (alt->narrow < 0 || alt->broad < 0))
        out.errors.push_back({alt->line, "alternative " + alt->id + ": needs narrow and broad"});
      alt = nullptr;
      auto name = trim(line.substr(1, line.size() - 2));
      if (name == "constants") {
        section = Section::constants;
      } else if (name.rfind("alternative ", 0) == 0) {
        section = Section::alternative;
        out.set.alternatives.push_back(Alternative{});
        alt = &out.set.alternatives.back();
        alt->id = std::string(trim(name.substr(12)));
        alt->line = line_no;
      } else if (name.rfind("rule ", 0) == 0) {
        section = Section::rule;
        out.set.rules.push_back(Rule{});
        cur = &out.set.rules.back();
        cur->id = std::string(trim(name.substr(5)));
        cur->line = line_no;
      } else {
        out.errors.push_back({line_no, "unknown section [" + std::string(name) + "]"});
        section = Section::none;
      }
      continue;
    }
    auto eq = line.find('=');
    // "==" inside an expression is not the key separator: the key is a bare word.
    if (eq == std::string_view::npos) {
      out.errors.push_back({line_no, "expected 'key = value'"});
      continue;
    }
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (section == Section::constants) {
      int64_t v = 0;
      int base = value.rfind("0x", 0) == 0 ? 16 : 10;
      const char* b = value.data() + (base == 16 ? 2 : 0);
      auto [p, ec] = std::from_chars(b, value.data() + value.size(), v, base);
      if (ec != std::errc() || p != value.data() + value.size())
        out.errors.push_back({line_no, "constant " + key + ": not an integer"});
      else
        out.set.constants[key] = v;
    } else if (section == Section::alternative) {
      if (key == "narrow" || key == "broad") {
        auto c = cap_from_name(value);
        if (!c) out.errors.push_back({line_no, "unknown capability '" + value + "'"});
        else (key == "narrow" ? alt->narrow : alt->broad) = *c;
      } else if (key == "why") {
        alt->why = value;
      } else {
        out.errors.push_back({line_no, "unknown key '" + key + "'"});
      }
    } else if (section == Section::rule) {
      if (key == "check") {
        // comma-separated kernel functions; the rule is about capability checks
        cur->operation = common::OpKind::cap_check;
        std::string_view rest = value;
        while (!rest.empty()) {
          auto c = rest.find(',');
          auto f = trim(rest.substr(0, c));
          if (!f.empty()) cur->frames.emplace_back(f);
          rest = c == std::string_view::npos ? std::string_view{} : rest.substr(c + 1);
        }
        if (cur->frames.empty()) out.errors.push_back({line_no, "check: no kernel function"});
      } else if (key == "operation") {
        auto k = op_from_name(value);
        if (!k) out.errors.push_back({line_no, "unknown operation '" + value + "'"});
        else cur->operation = *k;
      } else if (key == "capability") {
        auto c = cap_from_name(value);
        if (!c) out.errors.push_back({line_no, "unknown capability '" + value + "'"});
        else cur->cap = *c;
      } else if (key == "status") {
        if (value != "evaluable" && value != "not_yet_evaluable")
          out.errors.push_back({line_no, "status must be evaluable or not_yet_evaluable"});
        cur->evaluable = value == "evaluable";
      } else if (key == "at_exit") {
        auto k = op_from_name(value);
        if (!k || *k == common::OpKind::cap_check) out.errors.push_back({line_no, "unknown operation '" + value + "'"});
        else cur->at_exit = *k;
      } else if (key == "applies" || key == "needed" || key == "impossible" || key == "applies_at_exit" ||
                 key == "needed_at_exit") {
        exprs[key] = {value, line_no};
      } else if (key == "describe") {
        cur->describe = value;
      } else if (key == "kernel") {
        cur->kernel = cur->kernel.empty() ? value : cur->kernel + " " + value;
      } else if (key == "remedy") {
        cur->remedy = value;
      } else if (key == "unknown") {
        cur->unknown = value;
      } else {
        out.errors.push_back({line_no, "unknown key '" + key + "'"});
      }
    } else {
      out.errors.push_back({line_no, "key outside a section"});
    }
  }
  finish();
  if (alt && (alt->narrow < 0 || alt->broad < 0))
    out.errors.push_back({alt->line, "alternative " + alt->id + ": needs narrow and broad"});
  return out;
}

const RuleSet& builtin_rules() {
  static const RuleSet set = parse_embedded("sysctl_rules.conf", parse_rules).set;
  return set;
}

std::string describe_operation(const Rule& r, const OpValues& op, const RuleSet* set) {
  std::string out;
  std::string_view d = r.describe.empty() ? common::to_string(r.operation) : std::string_view(r.describe);
  for (size_t i = 0; i < d.size(); ++i) {
    if (d[i] == '{') {
      auto close = d.find('}', i);
      if (close != std::string_view::npos) {
        auto f = d.substr(i + 1, close - i - 1);
        // a field, or an expression over fields and constants ("{u0 & U32}")
        Val v = field_value(f, op);
        if (!v && set) {
          try {
            v = eval(*Parser(f).parse(), op, Profile{}, *set);
          } catch (const std::invalid_argument&) {
          }
        }
        out += v ? std::to_string(*v) : "?";
        i = close;
        continue;
      }
    }
    out += d[i];
  }
  return out;
}

}  // namespace capaudit::analyze
