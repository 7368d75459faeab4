// `check` and `diff`: compare what the traces showed with what a deployment
// grants (a systemd unit, a Kubernetes manifest, a compose file, a list), or
// with what older traces showed. Pure functions; the CLI does the I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/systemd_unit.h"

namespace capaudit::analyze {

// Where some of a grant's capabilities come from: the setting that grants them.
struct GrantPart {
  uint64_t caps = 0;
  std::string origin;  // "AmbientCapabilities", "container web: capabilities.add", "runtime default set"
};

// The capabilities a deployment description makes available to the program.
struct Grant {
  uint64_t caps = 0;
  std::string source;               // "unit foo.service", "kubernetes container web", "--caps"
  std::vector<std::string> notes;   // what the reader must know about the assumption made
  std::vector<GrantPart> parts;     // the union of their caps is `caps`
  // A Kubernetes manifest or compose file: the needs to compare with are the
  // container runtime's (config evaluates those formats under the docker profile).
  bool container = false;
};

// Docker's and containerd's default capability set, what a container gets
// when its manifest neither drops ALL nor adds anything.
uint64_t container_default_caps();

// Root service: its bounding set. Non-root (User=, DynamicUser=): ambient
// capabilities limited by the bounding set; file capabilities of the binary
// are not visible from the unit and are noted.
Grant grant_from_unit(const common::ServiceUnit& unit, const std::string& name);

// A Kubernetes manifest (any kind, several documents, every container's
// securityContext) or a compose file (services.*.cap_add/cap_drop). Several
// containers/services are united and named in the notes. Returns an error
// text for YAML that is neither.
std::variant<Grant, std::string> grant_from_manifest(std::string_view yaml_text, const std::string& name);

// "CAP_NET_RAW,net_bind_service 12": any spelling, comma or space separated.
std::variant<Grant, std::string> grant_from_caps_list(std::string_view list);

// A plain list file: names as above, any number per line, '#' comments.
// Errors name the file and the line.
std::variant<Grant, std::string> grant_from_caps_file(std::string_view text, const std::string& name);

// A deployment file of any kind the analyzer reads: a systemd unit or
// drop-in (a [Service] section, or a .service/.conf name), a Kubernetes
// manifest or compose file (.yaml/.yml, or any "key:" line), else a plain
// list file. `name` is how messages and parts name the file. Errors name the
// file and, when the parser knows it, the line.
std::variant<Grant, std::string> grant_from_deployment(std::string_view text, const std::string& name);

struct CheckResult {
  uint64_t required = 0;  // recommended by the analysis
  uint64_t granted = 0;
  uint64_t missing = 0;   // required, not granted: the deployment will fail
  uint64_t excess = 0;    // granted, never observed: coverage gap or unneeded grant
  bool pass(bool allow_excess) const { return missing == 0 && (allow_excess || excess == 0); }
};

CheckResult check_grant(uint64_t required, const Grant& grant);
std::string render_check(const CheckResult& result, const Grant& grant, bool allow_excess);
// The same as a JSON object (docs/configs.md): required, granted, missing,
// excess (capability names), source, notes, allow_excess, pass.
std::string render_check_json(const CheckResult& result, const Grant& grant, bool allow_excess);

// One capability's conclusion in a set of runs, as diff compares it.
struct CapStatus {
  int cap = 0;
  std::string category;  // analyzer category name ("required", "denied_only", ...)
  bool recommended = false;
  std::string reason;
};

enum class DeltaKind { gained, lost, changed };

struct CapDelta {
  int cap = 0;
  DeltaKind kind = DeltaKind::changed;
  CapStatus before;  // cap and category empty when absent
  CapStatus after;
};

// gained: recommended now, not before. lost: recommended before, not now.
// changed: the category differs otherwise (e.g. required -> conditional,
// denied_only appearing). Sorted by capability.
std::vector<CapDelta> diff_caps(const std::vector<CapStatus>& before, const std::vector<CapStatus>& after);
std::string render_diff(const std::vector<CapDelta>& deltas);
// {"differ": bool, "gained"|"lost"|"changed": [{cap, before, after, ...}]} (docs/configs.md).
std::string render_diff_json(const std::vector<CapDelta>& deltas);

}  // namespace capaudit::analyze
