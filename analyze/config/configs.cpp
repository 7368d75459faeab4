#include "analyze/config/configs.h"

#include "analyze/core/quote.h"
#include "common/capabilities.h"

#include <linux/capability.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <sstream>

namespace capaudit::analyze {

namespace {

constexpr std::array<std::pair<ConfigFormat, std::string_view>, 9> kFormats{{
    {ConfigFormat::systemd, "systemd"},
    {ConfigFormat::docker, "docker"},
    {ConfigFormat::podman, "podman"},
    {ConfigFormat::compose, "compose"},
    {ConfigFormat::kubernetes, "kubernetes"},
    {ConfigFormat::setcap, "setcap"},
    {ConfigFormat::filecap, "filecap"},
    {ConfigFormat::c, "c"},
    {ConfigFormat::python, "python"},
}};

template <class F>
std::string join(const std::vector<int>& caps, std::string_view sep, F name) {
  std::string out;
  for (size_t i = 0; i < caps.size(); ++i) {
    if (i) out += sep;
    out += name(caps[i]);
  }
  return out;
}

// Every string below that comes from a trace or the command line (paths,
// names) goes through analyze/core/quote.h: comment_text() in comments,
// shell_quote() in shell words, yaml_scalar() in YAML, systemd_unit_name()
// in unit names. Nothing else reaches an output.

// For comments only.
std::string who(const ConfigInput& in) {
  std::string s = "uid " + std::to_string(in.uid);
  if (!in.user.empty()) s = comment_text(in.user) + " (" + s + ")";
  return s;
}

// A path as a command argument: one shell word, and never taken for an
// option (a relative path starting with '-' gets "./").
std::string shell_path(const std::string& path) {
  return shell_quote(!path.empty() && path[0] == '-' ? "./" + path : path);
}

std::string setcap_line(const ExecutableNeeds& e) {
  return "setcap " + join(caps_in(e.caps), ",", cap_name_libcap) + "=ep " + shell_path(e.path);
}

// An executable that only gains its capabilities through its own file
// capabilities at exec: no_new_privs would make the kernel ignore them.
bool relies_on_file_caps(const ConfigInput& in) {
  if (in.runs_as_root()) return false;
  for (const auto& e : in.executables) {
    if (e.caps != 0) return true;  // non-root with needs: file caps are the portable way
  }
  return false;
}

// The first executable whose exec gained privileges in the recording, and
// what it gained, for a comment: no_new_privs must stay off for it.
const ExecutableNeeds* exec_gainer(const ConfigInput& in) {
  for (const auto& e : in.executables) {
    if (e.exec_gain) return &e;
  }
  return nullptr;
}

std::string gain_text(const ExecutableNeeds& e) {
  const ExecPrivilegeGain& g = *e.exec_gain;
  std::string what;
  if (g.euid != g.uid) what = "uid " + std::to_string(g.uid) + " ran it with euid " + std::to_string(g.euid) + " (set-user-ID bit)";
  if (g.egid != g.gid) {
    what += (what.empty() ? "" : ", ") + std::string("gid ") + std::to_string(g.gid) + " ran it with egid " +
            std::to_string(g.egid) + " (set-group-ID bit)";
  }
  if (g.file_caps_permitted) {
    what += (what.empty() ? "" : ", ") + std::string("its file capabilities gave uid ") + std::to_string(g.euid) + " " +
            join(caps_in(g.file_caps_permitted), ",", cap_name_systemd);
  }
  return comment_text(e.path) + " gained privileges at exec: " + what;
}

// Lines explaining what the set is made of; shared by every format so the
// "why" reads the same everywhere. `comment` is the format's comment leader.
std::string preamble(const ConfigInput& in, std::string_view comment, std::string_view what) {
  std::ostringstream o;
  const auto caps = caps_in(in.all_caps());
  o << comment << "capaudit recommendation for " << comment_text(in.name) << ": " << what << "\n";
  if (caps.empty()) {
    o << comment << "No capability was needed in the recorded runs.\n";
  } else {
    o << comment << "Needed: " << join(caps, " ", cap_name_systemd) << "\n";
  }
  if (!in.evaluated_under.empty()) {
    // Already comment-safe (from_report.cpp); one comment line per line.
    std::istringstream lines("Evaluated under " + in.evaluated_under + ".");
    for (std::string line; std::getline(lines, line);) o << comment << line << "\n";
  }
  const auto startup = caps_in(in.all_startup_only());
  if (!startup.empty()) {
    o << comment << "Startup-only: " << join(startup, " ", cap_name_systemd)
      << " — kept here because this config applies to the whole run;\n"
      << comment << "  the program can drop them after initialization (see the C/Python snippets).\n";
  }
  return o.str();
}

std::string render_systemd(const ConfigInput& in) {
  std::ostringstream o;
  o << preamble(in, "# ", "systemd drop-in");
  // The unit name escaped as systemd does, the whole path quoted as a
  // shell word (the comment is meant to be pasted into a shell).
  const std::string unit = systemd_unit_name(in.name) + ".service";
  if (in.name.empty() || unit.size() > 255) {
    o << "# The name is empty or too long for a unit name (255 bytes once escaped); pick one with --name and save\n"
      << "# this as /etc/systemd/system/NAME.service.d/capabilities.conf, then run\n";
  } else {
    o << "# Save as " << shell_quote("/etc/systemd/system/" + unit + ".d/capabilities.conf") << ", then run\n";
  }
  o << "# systemctl daemon-reload and restart the service.\n";
  const auto caps = caps_in(in.all_caps());
  if (!in.runs_as_root() && !caps.empty()) {
    o << "# The service runs as " << who(in) << ": AmbientCapabilities= is what makes the\n"
      << "# capabilities effective for a non-root User= (the bounding set alone only limits).\n";
  }
  // Ambient capabilities need no exec-time gain, so no_new_privs is possible
  // even for a non-root User=, unless a binary brings its own file
  // capabilities: exec clears ambient for it and no_new_privs voids its file caps.
  const ExecutableNeeds* file_capped = nullptr;
  for (const auto& e : in.executables) {
    if (e.caps != 0 && e.declared_file_caps && e.declared_file_caps->permitted != 0) file_capped = &e;
  }
  const ExecutableNeeds* gainer = exec_gainer(in);
  const bool nnp = gainer == nullptr && (in.no_new_privs_recorded || in.runs_as_root() || file_capped == nullptr);
  if (gainer) {
    o << "# NoNewPrivileges=no: " << gain_text(*gainer) << ";\n"
      << "# no_new_privs would make the kernel ignore that at exec.\n";
  } else if (nnp) {
    o << "# NoNewPrivileges=yes: "
      << (in.no_new_privs_recorded ? "the program was recorded with no_new_privs set."
                                   : "nothing relied on gaining privileges at exec.")
      << "\n";
  } else {
    o << "# NoNewPrivileges=no: " << comment_text(file_capped->path) << " gets its capabilities from its file\n"
      << "# capabilities at exec, which no_new_privs would make the kernel ignore. Remove them\n"
      << "# (setcap -r) to rely on AmbientCapabilities= and switch to yes.\n";
  }
  o << "[Service]\n";
  o << "CapabilityBoundingSet=" << join(caps, " ", cap_name_systemd) << "\n";
  if (!in.runs_as_root() && !caps.empty()) {
    o << "AmbientCapabilities=" << join(caps, " ", cap_name_systemd) << "\n";
  }
  o << "NoNewPrivileges=" << (nnp ? "yes" : "no") << "\n";
  return o.str();
}

// Words for an executable the trace does not name; never a path.
std::string unknown_executable(const ExecutableNeeds& e) {
  std::string pids;
  for (uint32_t p : e.unknown_pids) pids += (pids.empty() ? "" : ", ") + std::to_string(p);
  return "the trace does not name the program of pid " + (pids.empty() ? std::string("?") : pids) +
         " (it was running before the recording and /proc did not tell)";
}

std::string container_warning(const ConfigInput& in, std::string_view tool) {
  std::ostringstream o;
  o << "# WARNING: the program runs as " << who(in) << ", not root. " << tool
    << " only puts added capabilities\n"
    << "# into the bounding and permitted sets of root; a non-root process does not get them unless\n"
    << "# the binary has file capabilities or the capabilities are ambient. " << tool << " cannot set\n"
    << "# ambient capabilities, so give the binaries file capabilities in the image, e.g.\n";
  for (const auto& e : in.executables) {
    if (e.caps == 0) continue;
    if (e.path.empty()) {
      o << "#   (" << unknown_executable(e) << ": give its binary " << join(caps_in(e.caps), ",", cap_name_libcap)
        << "=ep)\n";
      continue;
    }
    // A Dockerfile instruction is one line: a path with a line break (its
    // shell word keeps it literally) cannot be written there.
    const std::string line = setcap_line(e);
    if (line.find('\n') == std::string::npos) {
      o << "#   RUN " << line << "\n";
    } else {
      o << "#   (" << comment_text(e.path) << " cannot be written on one Dockerfile line: its name\n"
        << "#   contains a line break; set its file capabilities with the setcap config instead)\n";
    }
  }
  o << (tool == "Kubernetes" ? "# and keep allowPrivilegeEscalation: true"
                              : "# and keep no-new-privileges off")
    << " (no_new_privs makes the kernel ignore file capabilities).\n";
  return o.str();
}

// Podman (unlike Docker) makes the added capabilities ambient for a non-root
// --user: `podman run --user=65534:65534 --cap-add=NET_BIND_SERVICE` shows
// CapAmb 0x400 and binds port 80. Ambient capabilities survive no_new_privs;
// exec clears them only for a binary with file capabilities of its own.
std::string podman_nonroot_note(const ConfigInput& in, const ExecutableNeeds*& file_capped) {
  file_capped = nullptr;
  for (const auto& e : in.executables)
    if (e.caps != 0 && e.declared_file_caps && e.declared_file_caps->permitted != 0) file_capped = &e;
  std::ostringstream o;
  o << "# The program runs as " << who(in) << ", not root: podman gives a non-root --user the\n"
    << "# --cap-add capabilities as ambient capabilities, so no file capabilities are needed.\n";
  if (file_capped) {
    o << "# no-new-privileges stays off: " << comment_text(file_capped->path) << " has file capabilities of its\n"
      << "# own, so exec clears the ambient set for it and only its file capabilities count, which\n"
      << "# no_new_privs would make the kernel ignore.\n";
  }
  return o.str();
}

std::string render_run_flags(const ConfigInput& in, std::string_view tool) {
  std::ostringstream o;
  o << preamble(in, "# ", std::string(tool) + " run flags");
  const auto caps = caps_in(in.all_caps());
  bool nnp = !relies_on_file_caps(in) && !exec_gainer(in);
  if (relies_on_file_caps(in)) {
    if (tool == "podman") {
      const ExecutableNeeds* file_capped = nullptr;
      o << podman_nonroot_note(in, file_capped);
      nnp = file_capped == nullptr && !exec_gainer(in);
    } else {
      o << container_warning(in, "Docker");
    }
  }
  if (const auto* g = exec_gainer(in)) o << "# no-new-privileges stays off: " << gain_text(*g) << ".\n";
  o << tool << " run --cap-drop=ALL";
  for (int c : caps) o << " --cap-add=" << cap_name_container(c);
  if (!in.runs_as_root()) o << " --user=" << in.uid << ":" << in.gid;
  if (nnp) o << " --security-opt=no-new-privileges";
  o << " IMAGE\n";
  return o.str();
}

std::string render_compose(const ConfigInput& in) {
  std::ostringstream o;
  o << preamble(in, "# ", "compose service snippet");
  const auto caps = caps_in(in.all_caps());
  const bool nnp = !relies_on_file_caps(in) && !exec_gainer(in);
  if (relies_on_file_caps(in)) o << container_warning(in, "Compose");
  if (const auto* g = exec_gainer(in)) o << "# no-new-privileges stays off: " << gain_text(*g) << ".\n";
  // Compose accepts service names of [a-zA-Z0-9._-] only.
  std::string service;
  for (char ch : in.name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '.' || ch == '_' || ch == '-';
    service += ok ? ch : '_';
  }
  if (service.empty()) service = "app";
  if (service != in.name) {
    o << "# The service is named " << service << ": " << comment_text(in.name)
      << " is not a valid compose service name.\n";
  }
  o << "services:\n  " << yaml_scalar(service) << ":\n";
  if (!in.runs_as_root()) o << "    user: \"" << in.uid << ":" << in.gid << "\"\n";
  o << "    cap_drop:\n      - ALL\n";
  if (!caps.empty()) {
    o << "    cap_add:\n";
    for (int c : caps) o << "      - " << cap_name_container(c) << "\n";
  }
  if (nnp) o << "    security_opt:\n      - no-new-privileges:true\n";
  return o.str();
}

std::string render_kubernetes(const ConfigInput& in) {
  std::ostringstream o;
  o << preamble(in, "# ", "Kubernetes container securityContext");
  const auto caps = caps_in(in.all_caps());
  const bool sys_admin = (in.all_caps() >> CAP_SYS_ADMIN) & 1;
  const bool nnp = !relies_on_file_caps(in) && !sys_admin && !exec_gainer(in);
  if (relies_on_file_caps(in)) o << container_warning(in, "Kubernetes");
  if (const auto* g = exec_gainer(in)) o << "# allowPrivilegeEscalation stays true: " << gain_text(*g) << ".\n";
  if (sys_admin) {
    o << "# allowPrivilegeEscalation stays true: the API server rejects false together with SYS_ADMIN.\n";
  }
  o << "securityContext:\n";
  if (!in.runs_as_root()) {
    o << "  runAsNonRoot: true\n  runAsUser: " << in.uid << "\n  runAsGroup: " << in.gid << "\n";
  }
  o << "  allowPrivilegeEscalation: " << (nnp ? "false" : "true") << "\n";
  o << "  capabilities:\n    drop:\n      - ALL\n";
  if (!caps.empty()) {
    o << "    add:\n";
    for (int c : caps) o << "      - " << cap_name_container(c) << "\n";
  }
  return o.str();
}

std::string render_file_caps(const ConfigInput& in, bool use_filecap) {
  std::ostringstream o;
  o << preamble(in, "# ", use_filecap ? "file capabilities with libcap-ng's filecap"
                                      : "file capabilities with setcap");
  if (in.runs_as_root()) {
    o << "# Recorded as root: these lines are what lets the same binaries run as a non-root user.\n";
  }
  bool any = false;
  for (const auto& e : in.executables) {
    if (e.path.empty()) {
      // No path to write: say so, and what it needed, in words only.
      if (e.caps != 0) any = true;
      if (e.caps != 0)
        o << "# " << unknown_executable(e) << " needed " << join(caps_in(e.caps), " ", cap_name_capng)
          << ";\n# find its binary (readlink /proc/PID/exe while it runs) and give it these capabilities.\n";
      continue;
    }
    if (e.caps == 0) {
      if (e.declared_file_caps && e.declared_file_caps->permitted != 0) {
        o << "# " << comment_text(e.path) << " has file capabilities but needed none; remove them:\n"
          << (use_filecap ? "filecap " + shell_path(e.path) + " none\n" : "setcap -r " + shell_path(e.path) + "\n");
      }
      continue;
    }
    any = true;
    const auto caps = caps_in(e.caps);
    if (use_filecap) {
      // filecap puts the listed capabilities into permitted and effective.
      o << "filecap " << shell_path(e.path) << " " << join(caps, " ", cap_name_capng) << "\n";
    } else {
      o << setcap_line(e) << "\n";
    }
  }
  if (!any) o << "# No executable needs file capabilities.\n";
  return o.str();
}

// The C constant for a capability: the kernel header name when it has one.
std::string c_constant(int cap) { return cap <= CAP_LAST_CAP ? cap_name_systemd(cap) : std::to_string(cap); }
std::string py_constant(int cap) {
  return cap <= CAP_LAST_CAP ? "capng." + cap_name_systemd(cap) : std::to_string(cap);
}

std::string render_c(const ConfigInput& in) {
  std::ostringstream o;
  o << "/*\n" << preamble(in, " * ", "libcap-ng C snippet (link with -lcap-ng)");
  o << " * Call capaudit_keep_operational_caps() early in main(), before handling\n"
    << " * untrusted input, and capaudit_drop_startup_caps() once initialization is done.\n"
    << " * Every failure exits: the program never continues with more privileges than planned.\n */\n";
  o << "#include <cap-ng.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <unistd.h>\n\n";
  o << "static void capaudit_fail(const char *what)\n{\n"
    << "\tfprintf(stderr, \"capaudit: %s failed; refusing to run with more privileges than needed\\n\", what);\n"
    << "\texit(1);\n}\n\n";
  const auto caps = caps_in(in.all_caps());
  o << "void capaudit_keep_operational_caps(void)\n{\n";
  o << "\tcapng_clear(CAPNG_SELECT_BOTH);\n";
  for (int c : caps) {
    o << "\tif (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET, " << c_constant(c)
      << "))\n\t\tcapaudit_fail(\"capng_update\");\n";
  }
  if (in.runs_as_root()) {
    o << "\t/* Runs as root: only the capability sets change. */\n"
      << "\tif (capng_apply(CAPNG_SELECT_BOTH))\n\t\tcapaudit_fail(\"capng_apply\");\n";
  } else {
    o << "\t/* Limit the bounding set first, while CAP_SETPCAP is still there; then switch to\n"
      << "\t * " << who(in) << " keeping exactly these capabilities, supplementary groups dropped. */\n"
      << "\tif (capng_apply(CAPNG_SELECT_BOUNDS))\n\t\tcapaudit_fail(\"limiting the bounding set\");\n"
      << "\tif (capng_change_id(" << in.uid << ", " << in.gid << ", CAPNG_DROP_SUPP_GRP))\n"
      << "\t\tcapaudit_fail(\"capng_change_id\");\n"
      << "\tif (getuid() != " << in.uid << " || geteuid() != " << in.uid << " || getgid() != " << in.gid
      << " || getegid() != " << in.gid << ")\n"
      << "\t\tcapaudit_fail(\"changing uid/gid\");\n";
  }
  o << "\tcapng_get_caps_process();\n";
  for (int c : caps) {
    o << "\tif (!capng_have_capability(CAPNG_EFFECTIVE, " << c_constant(c) << "))\n"
      << "\t\tcapaudit_fail(\"keeping " << cap_name_systemd(c) << "\");\n";
  }
  o << "}\n\n";
  const auto startup = caps_in(in.all_startup_only());
  o << "void capaudit_drop_startup_caps(void)\n{\n";
  if (startup.empty()) {
    o << "\t/* No capability was startup-only: nothing to drop. */\n";
  } else {
    o << "\tcapng_get_caps_process();\n";
    for (int c : startup) {
      o << "\tif (capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED, " << c_constant(c)
        << "))\n\t\tcapaudit_fail(\"capng_update\");\n";
    }
    o << "\tif (capng_apply(CAPNG_SELECT_CAPS))\n\t\tcapaudit_fail(\"dropping startup-only capabilities\");\n";
  }
  o << "}\n";
  return o.str();
}

std::string render_python(const ConfigInput& in) {
  std::ostringstream o;
  o << preamble(in, "# ", "python3-cap-ng snippet (Debian: python3-cap-ng)");
  o << "# Call keep_operational_caps() early, before handling untrusted input, and\n"
    << "# drop_startup_caps() once initialization is done. Every failure exits.\n";
  o << "import os\nimport sys\n\nimport capng\n\n";
  const auto caps = caps_in(in.all_caps());
  const auto startup = caps_in(in.all_startup_only());
  o << "KEEP = [" << join(caps, ", ", py_constant) << "]\n";
  o << "STARTUP_ONLY = [" << join(startup, ", ", py_constant) << "]\n";
  o << "RUN_AS_UID = " << in.uid << "\nRUN_AS_GID = " << in.gid << "\n\n\n";
  o << "def _fail(what):\n"
    << "    sys.stderr.write(\"capaudit: %s failed; refusing to run with more privileges than needed\\n\" % what)\n"
    << "    os._exit(1)\n\n\n";
  o << "def keep_operational_caps():\n"
    << "    capng.capng_clear(capng.CAPNG_SELECT_BOTH)\n"
    << "    for cap in KEEP:\n"
    << "        if capng.capng_update(capng.CAPNG_ADD,\n"
    << "                              capng.CAPNG_EFFECTIVE | capng.CAPNG_PERMITTED | capng.CAPNG_BOUNDING_SET,\n"
    << "                              cap) != 0:\n"
    << "            _fail(\"capng_update\")\n"
    << "    if RUN_AS_UID == 0:\n"
    << "        if capng.capng_apply(capng.CAPNG_SELECT_BOTH) != 0:\n"
    << "            _fail(\"capng_apply\")\n"
    << "    else:\n"
    << "        # Limit the bounding set while CAP_SETPCAP is still there, then switch ids.\n"
    << "        if capng.capng_apply(capng.CAPNG_SELECT_BOUNDS) != 0:\n"
    << "            _fail(\"limiting the bounding set\")\n"
    << "        if capng.capng_change_id(RUN_AS_UID, RUN_AS_GID, capng.CAPNG_DROP_SUPP_GRP) != 0:\n"
    << "            _fail(\"capng_change_id\")\n"
    << "        if (os.getuid(), os.geteuid(), os.getgid(), os.getegid()) != (RUN_AS_UID, RUN_AS_UID,\n"
    << "                                                                   RUN_AS_GID, RUN_AS_GID):\n"
    << "            _fail(\"changing uid/gid\")\n"
    << "    capng.capng_get_caps_process()\n"
    << "    for cap in KEEP:\n"
    << "        if not capng.capng_have_capability(capng.CAPNG_EFFECTIVE, cap):\n"
    << "            _fail(\"keeping capability %d\" % cap)\n\n\n";
  o << "def drop_startup_caps():\n"
    << "    if not STARTUP_ONLY:\n"
    << "        return\n"
    << "    capng.capng_get_caps_process()\n"
    << "    for cap in STARTUP_ONLY:\n"
    << "        if capng.capng_update(capng.CAPNG_DROP, capng.CAPNG_EFFECTIVE | capng.CAPNG_PERMITTED, cap) != 0:\n"
    << "            _fail(\"capng_update\")\n"
    << "    if capng.capng_apply(capng.CAPNG_SELECT_CAPS) != 0:\n"
    << "        _fail(\"dropping startup-only capabilities\")\n";
  return o.str();
}

}  // namespace

uint64_t ConfigInput::all_caps() const {
  uint64_t m = 0;
  for (const auto& e : executables) m |= e.caps;
  return m;
}

uint64_t ConfigInput::all_startup_only() const {
  uint64_t startup = 0, operational = 0;
  for (const auto& e : executables) {
    startup |= e.startup_only & e.caps;
    operational |= e.caps & ~e.startup_only;
  }
  return startup & ~operational;
}

std::optional<ConfigFormat> parse_config_format(std::string_view name) {
  for (const auto& [f, n] : kFormats) {
    if (n == name) return f;
  }
  return std::nullopt;
}

std::string_view config_format_name(ConfigFormat format) {
  for (const auto& [f, n] : kFormats) {
    if (f == format) return n;
  }
  return "unknown";
}

const std::vector<ConfigFormat>& all_config_formats() {
  static const std::vector<ConfigFormat> all = [] {
    std::vector<ConfigFormat> v;
    for (const auto& [f, n] : kFormats) v.push_back(f);
    return v;
  }();
  return all;
}

std::string render_config(ConfigFormat format, const ConfigInput& input) {
  switch (format) {
    case ConfigFormat::systemd: return render_systemd(input);
    case ConfigFormat::docker: return render_run_flags(input, "docker");
    case ConfigFormat::podman: return render_run_flags(input, "podman");
    case ConfigFormat::compose: return render_compose(input);
    case ConfigFormat::kubernetes: return render_kubernetes(input);
    case ConfigFormat::setcap: return render_file_caps(input, false);
    case ConfigFormat::filecap: return render_file_caps(input, true);
    case ConfigFormat::c: return render_c(input);
    case ConfigFormat::python: return render_python(input);
  }
  return {};
}

std::string render_all_configs(const ConfigInput& input) {
  std::string out;
  for (ConfigFormat f : all_config_formats()) {
    if (!out.empty()) out += "\n";
    out += "--- ";
    out += config_format_name(f);
    out += " ---\n";
    out += render_config(f, input);
  }
  return out;
}

std::string cap_name_systemd(int cap) { return common::cap_name(cap, common::CapNameStyle::upper); }
std::string cap_name_container(int cap) {
  // An unknown number keeps its CAP_ prefix: a bare "41" would read as a count.
  return cap > common::last_known_cap() ? cap_name_systemd(cap) : common::cap_name(cap, common::CapNameStyle::bare);
}
std::string cap_name_libcap(int cap) { return common::cap_name(cap, common::CapNameStyle::lower); }
std::string cap_name_capng(int cap) {
  const std::string n = cap_name_libcap(cap);
  return n.rfind("cap_", 0) == 0 ? n.substr(4) : n;
}
std::optional<int> cap_from_any_name(std::string_view name) { return common::parse_cap(name); }
std::vector<int> caps_in(uint64_t mask) { return common::caps_in_mask(mask); }

}  // namespace capaudit::analyze
