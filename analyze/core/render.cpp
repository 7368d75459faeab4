#include "analyze/core/render.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analyze/core/names.h"
#include "analyze/core/verdict.h"
#include "analyze/core/quote.h"

namespace capaudit::analyze {
namespace {

using Json = nlohmann::ordered_json;

Json opt_u64(const std::optional<uint64_t>& v) { return v ? Json(*v) : Json(nullptr); }
Json opt_bool(const std::optional<bool>& v) { return v ? Json(*v) : Json(nullptr); }

// Programs as people read them.
std::vector<std::string> executable_names(const std::vector<ExecutableName>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(executable_name_text(e));
  return out;
}

Json cap_names_json(CapMask m) {
  Json a = Json::array();
  for (int c = 0; c < 64; ++c)
    if (has_cap(m, c)) a.push_back(cap_name(c));
  return a;
}

Json to_json(const RuleHit& h) {
  return Json{{"rule", h.rule},
              {"operation", h.operation},
              {"inputs", h.inputs},
              {"needed_recorded", opt_bool(h.needed_recorded)},
              {"needed_target", opt_bool(h.needed_target)},
              {"impossible_target", h.impossible_target},
              {"check_observed", h.check_observed},
              {"count", h.count},
              {"kernel_fact", h.kernel_fact},
              {"remedy", h.remedy},
              {"frame", h.frame}};
}

Json user_paths_json(const CapFinding& f) {
  Json a = Json::array();
  for (const auto& p : f.user_paths) {
    Json frames = Json::array();
    for (const auto& u : p.frames)
      frames.push_back({{"ip", u.ip},
                        {"object", u.object},
                        {"build_id", u.build_id},
                        {"offset", u.offset ? Json(*u.offset) : Json(nullptr)},
                        {"function", u.function},
                        {"file", u.file},
                        {"line", u.line},
                        {"source", u.source.empty() ? Json(nullptr) : Json(u.source)},
                        {"problem", u.problem},
                        {"from_entry_sp", u.from_entry_sp}});
    a.push_back({{"syscall", p.syscall},
                 {"checks", p.checks},
                 {"call_site", p.call_site >= 0 ? Json(p.call_site) : Json(nullptr)},
                 {"wrapper", p.wrapper >= 0 ? Json(p.wrapper) : Json(nullptr)},
                 {"frames", frames}});
  }
  return a;
}

Json to_json(const CapFinding& f) {
  Json j{{"cap", f.cap},
         {"name", f.name},
         {"category", to_string(f.category)},
         {"recommended", f.recommended},
         {"startup_only", f.startup_only},
         {"predicted", f.predicted},
         {"noise_basis", to_string(f.noise_basis)},
         {"reason", reason_text(f)},
         {"granted", f.granted},
         {"denied", f.denied}};
  Json sys = Json::array();
  for (const auto& s : f.syscalls) sys.push_back({{"nr", s.nr}, {"name", s.name}, {"granted", s.granted}, {"denied", s.denied}});
  j["syscalls"] = sys;
  Json paths = Json::array();
  for (const auto& p : f.call_paths)
    paths.push_back({{"frames", p.frames}, {"checks", p.checks}, {"noise_entry", p.noise_entry}});
  j["call_paths"] = paths;
  j["user_paths"] = user_paths_json(f);
  j["user_paths_omitted"] = f.user_paths_omitted;
  Json rules = Json::array();
  for (const auto& h : f.rules) rules.push_back(to_json(h));
  j["rules"] = rules;
  if (f.denial) {
    const auto& d = *f.denial;
    j["denial"] = {{"assessment", to_string(d.summary())},
                   {"failed", d.failed},
                   {"succeeded_anyway", d.succeeded_anyway},
                   {"interrupted", d.interrupted},
                   {"other_error", d.other_error},
                   {"no_outcome", d.no_outcome},
                   {"not_tracked", d.not_tracked},
                   {"errors_seen", d.errors_seen}};
  } else {
    j["denial"] = nullptr;
  }
  j["first_use_ns"] = opt_u64(f.first_use_ns);
  j["last_use_ns"] = opt_u64(f.last_use_ns);
  j["coverage"] = {{"runs_seen", f.runs_seen}, {"runs_total", f.runs_total}, {"runs", f.runs}};
  j["executables"] = executable_names(f.executables);
  j["declared_by"] = declared_by_text(f);
  return j;
}

Json caps_json(const std::vector<CapFinding>& caps) {
  Json a = Json::array();
  for (const auto& c : caps) a.push_back(to_json(c));
  return a;
}

Json report_json(const Report& r) {
  Json j;
  j["schema_version"] = r.schema_version;
  j["tool_version"] = r.tool_version;
  j["complete"] = r.complete;
  Json runs = Json::array();
  for (const auto& ri : r.runs)
    runs.push_back({{"id", ri.id},
                    {"path", ri.path},
                    {"status", common::to_string(ri.status)},
                    {"message", ri.message},
                    {"incomplete", ri.incomplete},
                    {"incomplete_reasons", ri.incomplete_reasons},
                    {"hostname", ri.hostname},
                    {"kernel_release", ri.kernel_release},
                    {"arch", ri.arch},
                    {"boot_id", ri.boot_id},
                    {"hook", common::to_string(ri.hook)},
                    {"target", ri.target},
                    {"opts_available", ri.opts_available},
                    {"has_stacks", ri.has_stacks},
                    {"facts_source", common::to_string(ri.facts_source)},
                    {"outcome_tracking", common::to_string(ri.outcome_tracking)},
                    {"outcomes_from_ns", opt_u64(ri.outcomes_from_ns)},
                    {"cred_changes", ri.cred_changes},
                    {"events", ri.events},
                    {"processes", ri.processes},
                    {"duration_ns", ri.duration_ns},
                    {"exit_status", ri.exit_status ? Json(*ri.exit_status) : Json(nullptr)},
                    {"stop_reason", ri.stop_reason}});
  // Only with in_windows (trace format 1.6), so other reports stay as they were.
  for (size_t i = 0; i < r.runs.size(); ++i)
    if (r.runs[i].outcome_windows) {
      runs[i]["outcome_windows"] = *r.runs[i].outcome_windows;
      runs[i]["outcome_windows_ns"] = r.runs[i].outcome_windows_ns.value_or(0);
    }
  j["runs"] = runs;
  {
    const Verdict v = make_verdict(r);
    Json problems = Json::array();
    for (const auto& p : v.problems)
      problems.push_back({{"kind", to_string(p.kind)},
                          {"run", p.run},
                          {"detail", run_problem_text(p)},
                          {"cap", p.cap >= 0 ? Json(cap_name(p.cap)) : Json(nullptr)},
                          {"run_failed", p.run_failed()}});
    Json grants = Json::array();
    for (const auto& e : v.executables) {
      Json caps = Json::array();
      for (const auto& c : e.caps)
        caps.push_back({{"name", c.name},
                        {"purpose", c.purpose},
                        {"syscalls", c.syscalls},
                        {"conditional", c.conditional},
                        {"rule", c.rule},
                        {"startup_only", c.startup_only}});
      grants.push_back({{"path", e.path.empty() ? Json(nullptr) : Json(e.path)}, {"caps", caps}});
    }
    j["verdict"] = {{"run_failed", v.run_failed},
                    {"complete", v.complete},
                    {"grant", cap_names_json(v.grant)},
                    {"executables", grants},
                    {"problems", problems}};
  }
  Json settings = Json::array();
  for (const auto& s : r.profile.settings) settings.push_back({{"key", s.key}, {"recorded", s.recorded}, {"target", s.target}});
  j["profile"] = {{"name", r.profile.name}, {"settings", settings}};
  j["recommended"] = cap_names_json(r.recommended);
  j["startup_only"] = cap_names_json(r.startup_only);
  j["caps"] = caps_json(r.caps);
  Json exes = Json::array();
  for (const auto& e : r.executables) {
    Json x{{"path", e.path.empty() ? Json(nullptr) : Json(e.path)},
           {"runs", e.runs},
           {"processes", e.processes},
           {"uids", e.uids},
           {"euids", e.euids},
           {"ran_as_root", e.ran_as_root},
           {"ran_as_non_root", e.ran_as_non_root}};
    if (e.file_caps_permitted)
      x["file_caps"] = {{"permitted", cap_names_json(*e.file_caps_permitted)},
                        {"inheritable", cap_names_json(e.file_caps_inheritable.value_or(0))},
                        {"effective", e.file_caps_effective}};
    else
      x["file_caps"] = nullptr;
    if (e.path.empty()) x["unknown_pids"] = e.unknown_pids;
    if (const auto& g = e.exec_privilege_gain)
      x["exec_privilege_gain"] = {{"uid", g->uid},
                                  {"euid", g->euid},
                                  {"gid", g->gid},
                                  {"egid", g->egid},
                                  {"file_caps_permitted", cap_names_json(g->file_caps_permitted)}};
    else
      x["exec_privilege_gain"] = nullptr;
    if (e.runtime) x["runtime"] = true;  // absent: false
    x["capset_requested"] = cap_names_json(e.capset_requested);
    Json ops = Json::array();
    for (const auto& o : e.operations)
      ops.push_back({{"kind", common::to_string(o.kind)},
                     {"description", operation_text(o)},
                     {"args", o.args},
                     {"count", o.count},
                     {"last_ret", o.last_ret ? Json(*o.last_ret) : Json(nullptr)}});
    x["operations"] = ops;
    x["recommended"] = cap_names_json(e.recommended);
    x["startup_only"] = cap_names_json(e.startup_only);
    x["caps"] = caps_json(e.caps);
    exes.push_back(x);
  }
  j["executables"] = exes;
  Json ns = Json::array();
  for (const auto& n : r.namespaces) ns.push_back({{"run", n.run}, {"userns_inum", n.userns_inum}, {"caps", caps_json(n.caps)}});
  j["namespaces"] = ns;
  if (!r.containers.empty()) {  // absent: no process ran in a container
    Json cs = Json::array();
    for (const auto& c : r.containers)
      cs.push_back({{"id", c.id},
                    {"name", c.name.empty() ? Json(nullptr) : Json(c.name)},
                    {"engine", c.engine.empty() ? Json(nullptr) : Json(c.engine)},
                    {"runs", c.runs},
                    {"executables", executable_names(c.executables)},
                    {"recommended", cap_names_json(c.recommended)},
                    {"startup_only", cap_names_json(c.startup_only)},
                    {"caps", caps_json(c.caps)}});
    j["containers"] = cs;
  }
  Json ch = Json::array();
  for (const auto& c : r.changes)
    ch.push_back({{"cap", c.cap},
                  {"name", c.name},
                  {"executable", c.executable ? executable_name_text(*c.executable) : ""},
                  {"kind", to_string(c.kind)},
                  {"before", c.before ? Json(to_string(*c.before)) : Json(nullptr)},
                  {"after", c.after ? Json(to_string(*c.after)) : Json(nullptr)},
                  {"why", why_text(c)}});
  j["changes"] = ch;
  Json notes = Json::array();
  for (const auto& n : r.notes) notes.push_back(note_text(n));
  j["notes"] = notes;
  return j;
}

// JSON and YAML are Unicode text, trace strings are bytes: every string and
// key of the tree becomes valid UTF-8 here, once, for both outputs (an
// invalid byte becomes U+FFFD; docs/report-schema.md).
Json valid_utf8(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      Json o = Json::object();
      for (auto it = j.begin(); it != j.end(); ++it) o[utf8_or_replacement(it.key())] = valid_utf8(it.value());
      return o;
    }
    case Json::value_t::array: {
      Json a = Json::array();
      for (const auto& v : j) a.push_back(valid_utf8(v));
      return a;
    }
    case Json::value_t::string: return utf8_or_replacement(j.get_ref<const std::string&>());
    default: return j;
  }
}

void emit_yaml(YAML::Emitter& out, const Json& j) {
  switch (j.type()) {
    case Json::value_t::object:
      out << YAML::BeginMap;
      for (auto it = j.begin(); it != j.end(); ++it) {
        out << YAML::Key << it.key() << YAML::Value;
        emit_yaml(out, it.value());
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& v : j) emit_yaml(out, v);
      out << YAML::EndSeq;
      break;
    case Json::value_t::string: out << YAML::DoubleQuoted << j.get<std::string>(); break;
    case Json::value_t::boolean: out << j.get<bool>(); break;
    case Json::value_t::number_integer: out << j.get<int64_t>(); break;
    case Json::value_t::number_unsigned: out << j.get<uint64_t>(); break;
    case Json::value_t::number_float: out << j.get<double>(); break;
    default: out << YAML::Null; break;
  }
}

// ---- text ----

class Text {
 public:
  explicit Text(const TextOptions& o) : o_(o) {}
  // Trace strings are shown with visible escapes (analyze/core/quote.h):
  // heading() and line() escape the text they are given, raw() does not.
  void heading(const std::string& h) {
    s_ << '\n' << (o_.colour ? "\033[1m" : "") << visible(h) << (o_.colour ? "\033[0m" : "") << '\n';
  }
  // Writes `text` wrapped at the width, continuation lines indented by `indent`.
  void line(const std::string& text, size_t indent = 2, size_t hang = 6) {
    size_t width = static_cast<size_t>(std::max(40, o_.width));
    std::string pad(indent, ' ');
    std::istringstream words(visible(text));
    std::string w, cur = pad;
    bool first = true;
    while (words >> w) {
      if (cur.size() > pad.size() && cur.size() + 1 + w.size() > width) {
        s_ << cur << '\n';
        cur = std::string(first ? hang : hang, ' ');
        pad = cur;
        first = false;
      }
      if (cur.size() > pad.size()) cur += ' ';
      cur += w;
    }
    s_ << cur << '\n';
  }
  void raw(const std::string& t) { s_ << t; }
  std::string str() const { return s_.str(); }

 private:
  const TextOptions& o_;
  std::ostringstream s_;
};

std::string ms(uint64_t ns) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(ns < 10'000'000 ? 3 : 1);
  o << static_cast<double>(ns) / 1e6 << " ms";
  return o.str();
}

std::string syscalls_text(const CapFinding& f) {
  std::string out;
  for (const auto& s : f.syscalls) {
    uint64_t n = s.granted + s.denied;
    out += (out.empty() ? "" : ", ") + s.name + " x" + std::to_string(n);
  }
  return out.empty() ? "-" : out;
}

std::string coverage_text(const CapFinding& f) {
  return "seen in " + std::to_string(f.runs_seen) + " of " + std::to_string(f.runs_total) + (f.runs_total == 1 ? " run" : " runs");
}

std::string exes_text(const CapFinding& f) {
  std::string out;
  for (const auto& e : f.executables) out += (out.empty() ? "" : ", ") + executable_name_text(e);
  return out.empty() ? "-" : out;
}

// Why a frame has no name, in a few words for the short text: the build-ID
// refusal in full (it is the point), else "stripped" or "unsymbolized".
std::string short_problem(const std::string& problem) {
  if (auto at = problem.find("build ID mismatch"); at != std::string::npos)
    return problem.substr(at, problem.find_first_of(";)", at) - at);
  return problem.find("stripped") != std::string::npos ? "stripped, no debuginfo" : "unsymbolized";
}

// A user-space frame in words: "`main_bind80` (helper.c:123)", the function
// with where its name came from when there is no line, "file+0xoffset"
// unsymbolized. `why`: 0 none, 1 short, 2 the whole problem.
std::string user_frame_text(const UserFrameInfo& u, int why) {
  char off[32] = "";
  if (u.offset) std::snprintf(off, sizeof off, "+0x%llx", static_cast<unsigned long long>(*u.offset));
  const std::string where = u.offset ? (u.object.empty() ? "[unknown]" : u.object) + off : [&] {
    char ip[32];
    std::snprintf(ip, sizeof ip, "0x%llx", static_cast<unsigned long long>(u.ip));
    return std::string(ip);
  }();
  if (u.function.empty()) {
    if (!why || u.source.empty()) return "`" + where + "`";  // "" source: symbolization was off
    return "`" + where + "` (" + (why == 2 && !u.problem.empty() ? "unsymbolized: " + u.problem : short_problem(u.problem)) + ")";
  }
  std::string out = "`" + u.function + "`";
  if (u.line) return out + " (" + u.file + ":" + std::to_string(u.line) + ")";
  if (!why) return out;
  if (u.source == "dynsym") return out + " (" + (why == 2 ? where + ", " : "") + "stripped: name from .dynsym, no line)";
  return out + " (" + (why == 2 ? where + ", " : "") + "no debuginfo: no line)";
}

// "call site: `bind` in `main_bind80` (helper.c:123)" for the most frequent
// user-space paths; with detail, each whole path.
void user_sites(Text& t, const CapFinding& f, bool detail) {
  const size_t shown = detail ? f.user_paths.size() : std::min<size_t>(f.user_paths.size(), 3);
  for (size_t i = 0; i < shown; ++i) {
    const auto& p = f.user_paths[i];
    if (p.call_site < 0) continue;
    std::string wrapper = "`" + p.syscall + "`";
    if (p.wrapper >= 0 && !p.frames[static_cast<size_t>(p.wrapper)].function.empty())
      wrapper = "`" + p.frames[static_cast<size_t>(p.wrapper)].function + "`";
    // Through a wrapper (libc's bind) the site is where the program's walk
    // resumes: a frame-pointer walk skips the function that called a library
    // built without frame pointers, so the site may be that function's caller
    // ("reached from") — unless the site is the return address read at [sp]
    // at syscall entry right after the wrapper: then it is the caller ("in").
    // With no frame of the program walked at all, the wrapper is all there is.
    const auto& at = p.frames[static_cast<size_t>(p.call_site)];
    const bool direct = p.wrapper < 0 || (at.from_entry_sp && p.call_site == p.wrapper + 1);
    const std::string site = user_frame_text(at, detail ? 2 : 1);
    std::string line = p.caller_not_walked ? "call site: " + site + "; its caller was not walked"
                                           : "call site: " + wrapper + (direct ? " in " : " reached from ") + site;
    if (f.user_paths.size() > 1) line += ", " + std::to_string(p.checks) + (p.checks == 1 ? " check" : " checks");
    t.line(line, 4, 9);
    if (detail) {
      std::string path;
      for (const auto& u : p.frames)
        path += (path.empty() ? "" : " <- ") + user_frame_text(u, 0) + (u.from_entry_sp ? " [return address at sp]" : "");
      t.line("user stack: " + path, 6, 11);
    }
  }
  const uint64_t more = f.user_paths.size() - shown + f.user_paths_omitted;
  if (more) t.line("(+" + std::to_string(more) + " more user-space call paths" + (detail ? "" : "; --full or -f json") + ")", 4, 9);
}

void cap_block(Text& t, const CapFinding& f, bool detail) {
  std::string head = f.name + "  [" + exes_text(f) + "]  " + syscalls_text(f) + "; " + coverage_text(f);
  if (f.first_use_ns) head += "; first use +" + ms(*f.first_use_ns) + ", last +" + ms(*f.last_use_ns);
  t.line(head, 2, 6);
  t.line("why: " + reason_text(f), 4, 9);
  user_sites(t, f, detail);
  // The alternative to the grant, next to the capability a rule made conditional.
  if (f.category == Category::conditional) {
    std::vector<std::string> seen;
    for (const auto& h : f.rules)
      if (!h.remedy.empty() && h.needed_target != false && std::find(seen.begin(), seen.end(), h.rule) == seen.end()) {
        seen.push_back(h.rule);
        t.line("remedy (" + h.rule + "): " + h.remedy, 4, 9);
      }
  }
  if (detail && !f.call_paths.empty()) {
    // The path that holds the frame a rule decided on, shown down to that frame.
    const CallPath* p = &f.call_paths.front();
    std::string decided;
    for (const auto& h : f.rules)
      if (!h.frame.empty())
        for (const auto& cp : f.call_paths)
          if (decided.empty() && std::find(cp.frames.begin(), cp.frames.end(), h.frame) != cp.frames.end()) {
            p = &cp;
            decided = h.frame;
          }
    size_t shown = 6;
    if (!decided.empty())
      shown = std::max<size_t>(shown, static_cast<size_t>(std::find(p->frames.begin(), p->frames.end(), decided) -
                                                          p->frames.begin()) + 1);
    std::string path;
    for (size_t i = 0; i < p->frames.size() && i < shown; ++i) path += (i ? " <- " : "") + p->frames[i];
    t.line("call path: " + path + (f.call_paths.size() > 1 ? " (+" + std::to_string(f.call_paths.size() - 1) + " more)" : ""), 4, 9);
  }
}

}  // namespace

std::string cap_list(CapMask m, const char* sep) {
  std::string out;
  for (int c = 0; c < 64; ++c)
    if (has_cap(m, c)) out += (out.empty() ? "" : sep) + cap_name(c);
  return out;
}

std::string render_json(const Report& r) { return valid_utf8(report_json(r)).dump(2) + "\n"; }

std::string render_yaml(const Report& r) {
  YAML::Emitter out;
  // Pure ASCII: yaml-cpp leaves DEL and U+2028/2029 raw otherwise, which YAML
  // does not allow / YAML 1.1 readers take for line breaks.
  out.SetOutputCharset(YAML::EscapeNonAscii);
  emit_yaml(out, valid_utf8(report_json(r)));
  return std::string(out.c_str()) + "\n";
}

std::string render_text(const Report& r, const TextOptions& opts) {
  Text t(opts);
  t.raw("capaudit report (schema " + r.schema_version + "): " + std::to_string(r.runs.size()) +
        (r.runs.size() == 1 ? " run" : " runs") + ", profile " + visible(r.profile.name) +
        (r.complete ? "" : "  ** INCOMPLETE INPUT **") + "\n");
  // The answer first; then only what has content (everything with opts.full).
  const bool full = opts.full;
  t.raw("\n" + render_verdict_text(make_verdict(r)));

  t.heading("Context");
  for (const auto& ri : r.runs) {
    t.line(ri.id + "  " + ri.path + "  host " + (ri.hostname.empty() ? "?" : ri.hostname) + ", kernel " +
           (ri.kernel_release.empty() ? "?" : ri.kernel_release) + ", hook " + common::to_string(ri.hook) + ", " +
           std::to_string(ri.events) + " events, " + std::to_string(ri.processes) + " process images" +
           (ri.duration_ns ? ", " + ms(ri.duration_ns) : "") + ", " + common::to_string(ri.status) +
           (ri.target.empty() ? "" : ", target: " + ri.target));
    if (!full) {
      // How facts were gathered matters only where there is something to read them on.
    } else if (ri.outcome_tracking == common::OutcomeTracking::from_first_denial)
      t.line("denied-syscall outcomes tracked from the first denial on" +
                 (ri.outcomes_from_ns ? " (+" + ms(*ri.outcomes_from_ns) + ")" : std::string(" (no start recorded)")),
             6, 8);
    else if (ri.outcome_tracking == common::OutcomeTracking::in_windows)
      t.line("denied-syscall outcomes tracked in " + std::to_string(ri.outcome_windows.value_or(0)) +
                 " window(s) after denials, " + ms(ri.outcome_windows_ns.value_or(0)) +
                 " in all; denials outside them have no outcome recorded",
             6, 8);
    else if (ri.outcome_tracking == common::OutcomeTracking::off)
      t.line("denied-syscall outcomes not tracked", 6, 8);
    if (!full) {
    } else if (ri.facts_source == common::FactsSource::cgroup_hooks)
      t.line("bind/socket facts from cgroup hooks (no return values, refused ping sockets unseen)", 6, 8);
    else if (ri.facts_source == common::FactsSource::none)
      t.line("no bind/socket facts recorded", 6, 8);
    for (const auto& why : ri.incomplete_reasons) t.line("incomplete: " + why, 6, 8);
  }
  if (!r.profile.settings.empty()) {
    t.line("re-evaluated against profile " + r.profile.name + ":");
    for (const auto& s : r.profile.settings)
      t.line(s.key + " = " + s.target + "  (recorded: " + (s.recorded.empty() ? "unknown" : s.recorded) + ")", 6, 8);
  }

  auto section = [&](const char* title, auto pred, bool detail) {
    std::vector<const CapFinding*> sel;
    for (const auto& c : r.caps)
      if (pred(c)) sel.push_back(&c);
    if (sel.empty() && !full) return;
    t.heading(std::string(title) + " (" + std::to_string(sel.size()) + ")");
    if (sel.empty()) t.line("none");
    for (const auto* c : sel) cap_block(t, *c, detail && full);
  };
  section("Required", [](const CapFinding& c) { return c.category == Category::required; }, true);
  section("Conditional on sysctls/rlimits", [](const CapFinding& c) { return c.category == Category::conditional; }, false);
  section("Not needed under the target profile", [](const CapFinding& c) { return c.category == Category::not_needed; }, false);

  {
    std::vector<const CapFinding*> adv;
    for (const auto& c : r.caps)
      if (c.category == Category::advisory) adv.push_back(&c);
    if (!adv.empty() || full) t.heading("Advisory / noise, never recommended (" + std::to_string(adv.size()) + ")");
    if (adv.empty() && full) t.line("none");
    for (const auto* c : adv)
      t.line(c->name + ": " + std::to_string(c->granted + c->denied) + " checks - " + reason_text(*c) + " [" +
             to_string(c->noise_basis) + "]");
  }

  {
    std::vector<const CapFinding*> den;
    for (const auto& c : r.caps)
      if (c.category == Category::denied_only) den.push_back(&c);
    if (!den.empty() || full) t.heading("Denied only, never added automatically (" + std::to_string(den.size()) + ")");
    if (den.empty() && full) t.line("none");
    for (const auto* c : den) {
      cap_block(t, *c, false);
      if (c->denial) {
        const auto& d = *c->denial;
        t.line("assessment: " + std::string(to_string(d.summary())) + " (failed EPERM/EACCES " + std::to_string(d.failed) +
                   ", succeeded anyway " + std::to_string(d.succeeded_anyway) + ", interrupted " +
                   std::to_string(d.interrupted) + ", other " + std::to_string(d.other_error) + ", no outcome " +
                   std::to_string(d.no_outcome) + (d.not_tracked ? ", not tracked " + std::to_string(d.not_tracked) : "") + ")",
               4, 9);
      }
    }
  }
  section("Capset-only: requested, never used", [](const CapFinding& c) { return c.category == Category::capset_only; }, false);
  if (full || std::any_of(r.executables.begin(), r.executables.end(), [](const auto& e) { return e.startup_only != 0; })) {
    t.heading("Startup-only: could be dropped after start-up");
    bool any = false;
    for (const auto& e : r.executables)
      if (e.startup_only) {
        t.line(display_name(e) + ": " + cap_list(e.startup_only));
        any = true;
      }
    if (!any) t.line("none");
  }
  {
    // One line per declaration: a unit without CapabilityBoundingSet= grants everything.
    std::vector<std::pair<std::string, std::string>> by_reason;  // reason, capability names
    size_t count = 0;
    for (const auto& c : r.caps) {
      if (c.category != Category::declared_unobserved) continue;
      ++count;
      const std::string reason = reason_text(c);
      auto it = std::find_if(by_reason.begin(), by_reason.end(), [&](const auto& p) { return p.first == reason; });
      if (it == by_reason.end()) by_reason.emplace_back(reason, c.name);
      else it->second += ", " + c.name;
    }
    if (count || full) t.heading("Declared but unobserved (" + std::to_string(count) + ")");
    if (by_reason.empty() && full) t.line("none");
    for (const auto& [reason, names] : by_reason) t.line(names + ": " + reason, 2, 6);
  }

  if (!r.namespaces.empty()) {
    t.heading("Checks in other user namespaces (grant nothing on the host)");
    for (const auto& n : r.namespaces)
      for (const auto& c : n.caps)
        t.line(n.run + " userns " + std::to_string(n.userns_inum) + ": " + c.name + " " + to_string(c.category) + ", " +
               syscalls_text(c));
  }

  if (!r.changes.empty() || r.profile.name != "recorded") {
    // With one executable its changes repeat the merged ones.
    std::vector<const Change*> shown;
    for (const auto& c : r.changes)
      if (!c.executable || r.executables.size() > 1) shown.push_back(&c);
    t.heading("Changes against the recorded profile (" + std::to_string(shown.size()) + ")");
    if (shown.empty()) t.line("none");
    for (const auto* c : shown) {
      const std::string where = c->executable ? executable_name_text(*c->executable) : "all executables";
      t.line(c->name + " " + to_string(c->kind) + " (" + where + ", " + (c->before ? to_string(*c->before) : "absent") +
             " -> " + (c->after ? to_string(*c->after) : "absent") + "): " + why_text(*c));
    }
  }

  {
    bool any = false;
    for (const auto& e : r.executables) any = any || !e.operations.empty();
    if (any) {
      t.heading("Operations recorded (sysctl/rlimit-sensitive)");
      for (const auto& e : r.executables)
        for (const auto& o : e.operations)
          t.line(display_name(e) + ": " + operation_text(o) + " x" + std::to_string(o.count) +
                 (o.last_ret ? ", returned " + std::to_string(*o.last_ret) : ""));
    }
  }

  // With one run, "seen in 1 of 1" says nothing the sections did not.
  if (full || r.runs.size() > 1) t.heading("Coverage (observation, not confidence)");
  if (r.caps.empty() && full) t.line("no capability checks");
  for (const auto& c : r.caps) {
    if (!full && r.runs.size() <= 1) break;
    std::string runs;
    for (const auto& id : c.runs) runs += (runs.empty() ? "" : ",") + id;
    t.line(c.name + ": " + coverage_text(c) + (runs.empty() ? "" : " (" + runs + ")") + ", " + to_string(c.category));
  }

  if (full) {
    t.heading("Summary");
    size_t counts[7] = {};
    for (const auto& c : r.caps) ++counts[static_cast<size_t>(c.category)];
    std::string summary;
    for (size_t i = 0; i < 7; ++i)
      if (counts[i] || i < 2) summary += std::to_string(counts[i]) + " " + to_string(static_cast<Category>(i)) + ", ";
    t.line(summary + "analysis " +
           (r.complete ? "complete" : "INCOMPLETE: some runs lost data or were cut short (see Context)"));

    t.heading("Recommended");
    for (const auto& e : r.executables)
      if (e.recommended)
        t.line(display_name(e) + ": " + cap_list(e.recommended) +
               (e.startup_only ? "  (start-up only: " + cap_list(e.startup_only) + ")" : ""));
    t.line("all: " + (r.recommended ? cap_list(r.recommended) : std::string("(none)")));
  }  // full: the verdict says the same

  if (!r.containers.empty()) {
    t.heading("Per container (" + std::to_string(r.containers.size()) + ")");
    for (const auto& c : r.containers) {
      std::string programs;
      for (const auto& e : executable_names(c.executables)) programs += (programs.empty() ? "" : ", ") + e;
      t.line(display_name(c) + (c.engine.empty() ? "" : " (" + c.engine + " " + c.id.substr(0, 12) + ")") + ": " +
                 (c.recommended ? cap_list(c.recommended) : std::string("(none)")) +
                 (programs.empty() ? "" : "  (" + programs + ")"),
             2, 6);
    }
  }

  {
    bool any = false;
    for (const auto& e : r.executables) {
      if (!e.runtime || e.caps.empty()) continue;
      if (!any) t.heading("Container runtime / service manager: recorded, never recommended");
      any = true;
      std::vector<std::string> names;
      for (const auto& c : e.caps)
        if (c.granted) names.push_back(c.name + " x" + std::to_string(c.granted));
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      t.line(display_name(e) + ": " + (list.empty() ? std::string("denied checks only") : list), 2, 6);
    }
  }


  if (!r.notes.empty()) {
    t.heading("Notes");
    for (const auto& n : r.notes) t.line("- " + note_text(n), 2, 4);
  }
  if (!opts.appendix.empty()) t.raw("\n" + opts.appendix);
  return t.str();
}

}  // namespace capaudit::analyze
