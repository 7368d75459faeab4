#include "analyze/config/check.h"

#include <linux/capability.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "analyze/config/configs.h"
#include "analyze/core/quote.h"
#include "common/input_limits.h"

namespace capaudit::analyze {

namespace {

uint64_t bit(int cap) { return uint64_t{1} << cap; }

// Bounds for a deployment YAML, checked on the parser's events before any
// node is built or walked: yaml-cpp shares an aliased node rather than
// copying it, so a document whose aliases nest ("billion laughs") or refer
// to the node that holds them (`a: &a [*a]`) is cheap to load but infinite
// or exponential to walk. Real manifests and compose files stay far below.
constexpr uint64_t kMaxYamlNodes = 250'000;  // per file, counting every alias as the nodes it stands for
constexpr uint64_t kMaxYamlAliases = 10'000;
constexpr size_t kMaxYamlDepth = 100;

struct YamlLimitError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class YamlBudget final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {
    sizes_.clear();
    open_.clear();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t anchor) override { leaf(m, anchor); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(m, anchor);
  }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t anchor) override {
    if (++aliases_ > kMaxYamlAliases)
      fail(m, "more than " + std::to_string(kMaxYamlAliases) + " aliases");
    for (const auto& f : open_)
      if (f.anchor == anchor) fail(m, "an alias refers to the node that contains it (a structure without end)");
    auto it = sizes_.find(anchor);
    add(m, it == sizes_.end() ? 1 : it->second);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(m, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    YAML::anchor_t anchor;
    uint64_t size;
    YAML::Mark mark;
  };
  [[noreturn]] static void fail(const YAML::Mark& m, const std::string& why) {
    throw YamlLimitError("line " + std::to_string(m.line + 1) + ": " + why);
  }
  void add(const YAML::Mark& m, uint64_t n) {
    total_ += n;
    if (total_ > kMaxYamlNodes)
      fail(m, "more than " + std::to_string(kMaxYamlNodes) + " nodes once aliases are expanded" +
                  (aliases_ ? " (nested aliases multiply)" : ""));
    if (!open_.empty()) open_.back().size += n;
  }
  void leaf(const YAML::Mark& m, YAML::anchor_t anchor) {
    add(m, 1);
    if (anchor) sizes_[anchor] = 1;
  }
  void open(const YAML::Mark& m, YAML::anchor_t anchor) {
    if (open_.size() >= kMaxYamlDepth) fail(m, "nested deeper than " + std::to_string(kMaxYamlDepth) + " levels");
    add(m, 1);
    open_.push_back({anchor, 1, m});
  }
  void close() {
    const Frame f = open_.back();
    open_.pop_back();
    if (f.anchor) sizes_[f.anchor] = f.size;
    if (!open_.empty()) open_.back().size += f.size - 1;  // the 1 was added at open()
  }
  std::vector<Frame> open_;
  std::map<YAML::anchor_t, uint64_t> sizes_;
  uint64_t total_ = 0;
  uint64_t aliases_ = 0;
};

// Throws YamlLimitError or YAML::Exception.
void check_yaml_budget(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  YamlBudget budget;
  while (parser.HandleNextDocument(budget)) {
  }
}

std::string names(uint64_t mask) {
  std::string out;
  for (int c : caps_in(mask)) {
    if (!out.empty()) out += " ";
    out += cap_name_systemd(c);
  }
  return out.empty() ? "(none)" : out;
}

// Reads a list of capability names from a YAML sequence; "ALL" is reported
// separately because it means "every capability" in both Docker and Kubernetes.
std::variant<uint64_t, std::string> yaml_caps(const YAML::Node& seq, bool& all, const std::string& where) {
  uint64_t m = 0;
  if (!seq) return m;
  if (!seq.IsSequence()) return where + " is not a list";
  for (const auto& item : seq) {
    if (!item.IsScalar()) return where + " holds a non-string entry";
    const std::string s = item.as<std::string>();
    if (s == "ALL" || s == "all") {
      all = true;
      continue;
    }
    auto cap = cap_from_any_name(s);
    if (!cap) return "line " + std::to_string(item.Mark().line + 1) + ": " + where + ": unknown capability " + common::quote_bytes(s);
    m |= bit(*cap);
  }
  return m;
}

// Effective grant of one container: runtime default minus drop plus add,
// added to `g` with the setting each capability comes from.
std::optional<std::string> add_container_grant(Grant& g, const YAML::Node& add_node, const YAML::Node& drop_node,
                                               const std::string& where, const std::string& add_key,
                                               const std::string& drop_key) {
  bool add_all = false, drop_all = false;
  auto add = yaml_caps(add_node, add_all, where + " add");
  if (auto* e = std::get_if<std::string>(&add)) return *e;
  auto drop = yaml_caps(drop_node, drop_all, where + " drop");
  if (auto* e = std::get_if<std::string>(&drop)) return *e;
  if (add_all) {
    g.caps |= common::known_capability_mask();
    g.parts.push_back({common::known_capability_mask(), where + ": " + add_key + " ALL"});
    return std::nullopt;
  }
  const uint64_t dropped = std::get<uint64_t>(drop);
  const uint64_t base = drop_all ? 0 : container_default_caps() & ~dropped;
  const uint64_t added = std::get<uint64_t>(add);
  if (base)
    g.parts.push_back({base, where + ": runtime default set (no " + drop_key + " ALL" + (dropped ? ", minus " + drop_key : "") + ")"});
  if (added) g.parts.push_back({added, where + ": " + add_key});
  g.caps |= base | added;
  return std::nullopt;
}

// Finds every container-level securityContext in a Kubernetes object tree:
// any map with "containers"/"initContainers"/"ephemeralContainers" lists.
void collect_k8s_containers(const YAML::Node& node, std::vector<std::pair<std::string, YAML::Node>>& out) {
  if (node.IsMap()) {
    for (const char* key : {"initContainers", "containers", "ephemeralContainers"}) {
      const YAML::Node list = node[key];
      if (!list || !list.IsSequence()) continue;
      for (const auto& c : list) {
        if (!c.IsMap()) continue;
        const std::string name = c["name"] && c["name"].IsScalar() ? c["name"].as<std::string>() : "(unnamed)";
        out.emplace_back(name, c);
      }
    }
    for (const auto& kv : node) {
      const std::string k = kv.first.IsScalar() ? kv.first.as<std::string>() : "";
      if (k == "containers" || k == "initContainers" || k == "ephemeralContainers") continue;
      collect_k8s_containers(kv.second, out);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) collect_k8s_containers(item, out);
  }
}

const char* kNonRootNote =
    "runs as a non-root user: added capabilities are effective only through file capabilities on the binary "
    "(or ambient capabilities, which this runtime does not set)";

}  // namespace

uint64_t container_default_caps() {
  return bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) | bit(CAP_FSETID) | bit(CAP_FOWNER) | bit(CAP_MKNOD) |
         bit(CAP_NET_RAW) | bit(CAP_SETGID) | bit(CAP_SETUID) | bit(CAP_SETFCAP) | bit(CAP_SETPCAP) |
         bit(CAP_NET_BIND_SERVICE) | bit(CAP_SYS_CHROOT) | bit(CAP_KILL) | bit(CAP_AUDIT_WRITE);
}

Grant grant_from_unit(const common::ServiceUnit& unit, const std::string& name) {
  Grant g;
  g.source = "unit " + name;
  const bool keep_credentials = !unit.exec_start.empty() && unit.exec_start.front().keep_credentials;
  const uint64_t ambient = unit.ambient_capabilities & unit.effective_bounding_set();
  if (ambient) g.parts.push_back({ambient, "AmbientCapabilities"});
  if (unit.runs_as_root() || keep_credentials) {
    g.caps = unit.effective_bounding_set();
    if (const uint64_t rest = g.caps & ~ambient)
      g.parts.push_back({rest, unit.capability_bounding_set ? "CapabilityBoundingSet"
                                                            : "no CapabilityBoundingSet= (a root service keeps every capability)"});
    if (keep_credentials && !unit.runs_as_root()) {
      g.notes.push_back("ExecStart= has the '!' prefix: the command starts as root and changes ids itself");
    }
    if (!unit.capability_bounding_set) g.notes.push_back("no CapabilityBoundingSet=: every capability is granted");
  } else {
    g.caps = unit.ambient_capabilities & unit.effective_bounding_set();
    g.notes.push_back("non-root service: only AmbientCapabilities= (within the bounding set) count; file "
                      "capabilities of the binary are not visible from the unit");
  }
  for (const auto& w : unit.warnings) g.notes.push_back(w);
  return g;
}

std::variant<Grant, std::string> grant_from_manifest(std::string_view yaml_text, const std::string& name) {
  if (yaml_text.size() > common::kMaxDeploymentFileBytes)
    return name + ": larger than " + common::format_size(common::kMaxDeploymentFileBytes) +
           "; a manifest or compose file is never that large";
  std::vector<YAML::Node> docs;
  const std::string text(yaml_text);
  try {
    check_yaml_budget(text);
    docs = YAML::LoadAll(text);
  } catch (const YamlLimitError& e) {
    return name + ": refused: " + e.what();
  } catch (const YAML::Exception& e) {
    return name + ": not valid YAML: " + e.what();
  }
  Grant g;
  bool found = false;
  try {
    for (const auto& doc : docs) {
      if (!doc.IsMap()) continue;
      if (doc["services"] && doc["services"].IsMap()) {
        for (const auto& kv : doc["services"]) {
          const std::string svc = kv.first.as<std::string>();
          if (auto e = add_container_grant(g, kv.second["cap_add"], kv.second["cap_drop"], "service " + svc, "cap_add",
                                           "cap_drop"))
            return name + ": " + *e;
          g.source += (g.source.empty() ? "compose service " : ", ") + svc;
          const YAML::Node user = kv.second["user"];
          if (user && user.IsScalar() && user.as<std::string>().rfind("0", 0) != 0 && user.as<std::string>() != "root") {
            g.notes.push_back("service " + svc + " " + kNonRootNote);
          }
          found = true;
        }
        continue;
      }
      std::vector<std::pair<std::string, YAML::Node>> containers;
      collect_k8s_containers(doc, containers);
      // A bare container securityContext, as `config --config kubernetes`
      // prints it for pasting into a container spec.
      if (containers.empty() && doc["securityContext"] && doc["securityContext"].IsMap())
        containers.emplace_back("(securityContext snippet)", doc);
      for (const auto& [cname, c] : containers) {
        const YAML::Node sc = c["securityContext"];
        const YAML::Node caps_node = sc ? sc["capabilities"] : YAML::Node();
        if (auto e = add_container_grant(g, caps_node ? caps_node["add"] : YAML::Node(),
                                         caps_node ? caps_node["drop"] : YAML::Node(), "container " + cname,
                                         "capabilities.add", "capabilities.drop"))
          return name + ": " + *e;
        g.source += (g.source.empty() ? "kubernetes container " : ", ") + cname;
        if (sc && sc["runAsUser"] && sc["runAsUser"].as<int64_t>() != 0) {
          g.notes.push_back("container " + cname + " " + kNonRootNote);
        }
        found = true;
      }
    }
  } catch (const YAML::Exception& e) {
    return name + ": unexpected structure: " + e.what();
  }
  if (!found) return name + ": neither a compose file (services:) nor a Kubernetes manifest with containers";
  g.source = name + " (" + g.source + ")";
  g.container = true;
  g.notes.push_back("entries that do not drop ALL start from the Docker/containerd default set");
  return g;
}

std::variant<Grant, std::string> grant_from_caps_list(std::string_view list) {
  Grant g;
  g.source = "--caps";
  std::string text(list);
  std::replace(text.begin(), text.end(), ',', ' ');
  std::istringstream in(text);
  for (std::string word; in >> word;) {
    auto cap = cap_from_any_name(word);
    if (!cap) return "unknown capability " + common::quote_bytes(word) + " in --caps";
    g.caps |= bit(*cap);
  }
  if (g.caps) g.parts.push_back({g.caps, "--caps"});
  return g;
}

std::variant<Grant, std::string> grant_from_caps_file(std::string_view text, const std::string& name) {
  Grant g;
  g.source = name;
  std::istringstream lines{std::string(text)};
  int n = 0;
  for (std::string line; std::getline(lines, line);) {
    ++n;
    line = line.substr(0, line.find('#'));
    std::replace(line.begin(), line.end(), ',', ' ');
    std::istringstream words(line);
    for (std::string word; words >> word;) {
      auto cap = cap_from_any_name(word);
      if (!cap) return name + ":" + std::to_string(n) + ": unknown capability " + common::quote_bytes(word);
      g.caps |= bit(*cap);
    }
  }
  if (g.caps) g.parts.push_back({g.caps, "listed"});
  return g;
}

std::variant<Grant, std::string> grant_from_deployment(std::string_view text, const std::string& name) {
  if (text.size() > common::kMaxDeploymentFileBytes)
    return name + ": larger than " + common::format_size(common::kMaxDeploymentFileBytes) +
           "; a unit, manifest or capability list is never that large";
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  const bool yaml_name = ends_with(".yaml") || ends_with(".yml");
  if (!yaml_name && (ends_with(".service") || ends_with(".conf") || text.find("[Service]") != std::string_view::npos)) {
    auto unit = common::parse_service_unit(text);
    if (auto* e = std::get_if<common::UnitError>(&unit))
      return name + (e->line ? ":" + std::to_string(e->line) : std::string()) + ": " + e->message;
    return grant_from_unit(std::get<common::ServiceUnit>(unit), name);
  }
  // A capability name never holds a ':', a YAML mapping always does.
  bool yaml = yaml_name;
  std::istringstream lines{std::string(text)};
  for (std::string line; !yaml && std::getline(lines, line);)
    yaml = line.substr(0, line.find('#')).find(':') != std::string::npos;
  if (yaml) return grant_from_manifest(text, name);
  return grant_from_caps_file(text, name);
}

CheckResult check_grant(uint64_t required, const Grant& grant) {
  CheckResult r;
  r.required = required;
  r.granted = grant.caps;
  r.missing = required & ~grant.caps;
  r.excess = grant.caps & ~required;
  return r;
}

std::string render_check(const CheckResult& r, const Grant& grant, bool allow_excess) {
  std::ostringstream o;
  o << "check against " << grant.source << "\n";
  o << "  required: " << names(r.required) << "\n";
  o << "  granted:  " << names(r.granted) << "\n";
  o << "  missing:  " << names(r.missing) << (r.missing ? "   <- required but not granted: the deployment fails" : "")
    << "\n";
  o << "  excess:   " << names(r.excess)
    << (r.excess ? "   <- granted but never observed: a coverage gap or an unneeded grant" : "") << "\n";
  for (const auto& n : grant.notes) o << "  note: " << visible(n) << "\n";
  o << "result: " << (r.pass(allow_excess) ? "PASS" : "FAIL");
  if (r.excess && allow_excess && r.missing == 0) o << " (excess allowed)";
  o << "\n";
  return o.str();
}

std::vector<CapDelta> diff_caps(const std::vector<CapStatus>& before, const std::vector<CapStatus>& after) {
  std::map<int, std::pair<CapStatus, CapStatus>> by_cap;
  for (const auto& s : before) by_cap[s.cap].first = s;
  for (const auto& s : after) by_cap[s.cap].second = s;
  std::vector<CapDelta> out;
  for (auto& [cap, pair] : by_cap) {
    auto& [b, a] = pair;
    b.cap = a.cap = cap;
    CapDelta d{cap, DeltaKind::changed, b, a};
    if (a.recommended && !b.recommended) {
      d.kind = DeltaKind::gained;
    } else if (b.recommended && !a.recommended) {
      d.kind = DeltaKind::lost;
    } else if (a.category != b.category) {
      d.kind = DeltaKind::changed;
    } else {
      continue;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::string render_diff(const std::vector<CapDelta>& deltas) {
  std::ostringstream o;
  if (deltas.empty()) {
    o << "no difference in capabilities between the two sets of runs\n";
    return o.str();
  }
  auto state = [](const CapStatus& s) { return s.category.empty() ? std::string("not seen") : s.category; };
  for (const char* section : {"gained", "lost", "changed"}) {
    bool header = false;
    for (const auto& d : deltas) {
      const char* k = d.kind == DeltaKind::gained ? "gained" : d.kind == DeltaKind::lost ? "lost" : "changed";
      if (std::string_view(k) != section) continue;
      if (!header) {
        o << section << ":\n";
        header = true;
      }
      o << "  " << cap_name_systemd(d.cap) << ": " << state(d.before) << " -> " << state(d.after) << "\n";
      // Reasons name executables: trace text, shown with visible escapes.
      if (!d.after.reason.empty()) o << "    now:    " << visible(d.after.reason) << "\n";
      if (!d.before.reason.empty()) o << "    before: " << visible(d.before.reason) << "\n";
    }
  }
  return o.str();
}

namespace {
nlohmann::json names_json(uint64_t mask) {
  nlohmann::json out = nlohmann::json::array();
  for (int c = 0; c < 64; ++c)
    if (mask & bit(c)) out.push_back(cap_name_systemd(c));
  return out;
}
}  // namespace

std::string render_check_json(const CheckResult& r, const Grant& grant, bool allow_excess) {
  nlohmann::json j{{"source", grant.source},
                   {"required", names_json(r.required)},
                   {"granted", names_json(r.granted)},
                   {"missing", names_json(r.missing)},
                   {"excess", names_json(r.excess)},
                   {"notes", grant.notes},
                   {"allow_excess", allow_excess},
                   {"pass", r.pass(allow_excess)}};
  return j.dump(2) + "\n";
}

std::string render_diff_json(const std::vector<CapDelta>& deltas) {
  auto status = [](const CapStatus& s) -> nlohmann::json {
    if (s.category.empty()) return nullptr;
    return {{"category", s.category}, {"recommended", s.recommended}, {"reason", s.reason}};
  };
  nlohmann::json j{{"differ", !deltas.empty()},
                   {"gained", nlohmann::json::array()},
                   {"lost", nlohmann::json::array()},
                   {"changed", nlohmann::json::array()}};
  for (const auto& d : deltas) {
    const char* k = d.kind == DeltaKind::gained ? "gained" : d.kind == DeltaKind::lost ? "lost" : "changed";
    j[k].push_back({{"cap", cap_name_systemd(d.cap)}, {"before", status(d.before)}, {"after", status(d.after)}});
  }
  return j.dump(2) + "\n";
}

}  // namespace capaudit::analyze
