// Config generators: pure functions from a small summary of the findings to
// ready-to-paste text (systemd, containers, Kubernetes, file capabilities,
// libcap-ng code). Nothing here reads files or the environment; the analyzer
// builds a ConfigInput from its findings and the CLI prints the result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/core/findings.h"
#include "common/trace.h"

namespace capaudit::analyze {

// What one executable (real path from the trace) needs.
struct ExecutableNeeds {
  std::string path;  // "" when the trace does not name it (unknown_pids)
  uint64_t caps = 0;          // recommended: required + conditional
  uint64_t startup_only = 0;  // subset of caps only used during start-up
  std::optional<common::FileCaps> declared_file_caps;  // as found on the binary
  // Its exec gained privileges in the recording (setuid/setgid bit, file
  // capabilities): no_new_privs would take them away.
  std::optional<ExecPrivilegeGain> exec_gain = std::nullopt;
  std::vector<uint32_t> unknown_pids = {};  // path "": the processes whose program the trace does not name
};

struct ConfigInput {
  std::vector<ExecutableNeeds> executables;
  // The account the program runs as in deployment. Root (uid 0) needs no
  // ambient/file capabilities; any other uid does.
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;  // name for messages ("www-data"); empty = numeric only
  bool no_new_privs_recorded = false;  // the program ran with no_new_privs set
  std::string name = "app";            // service/container name used in snippets
  // Which system profile the needs were evaluated under, as a comment line
  // ("the docker profile (...)"); empty = say nothing (the recorded host).
  std::string evaluated_under;

  uint64_t all_caps() const;          // union over executables
  uint64_t all_startup_only() const;  // caps that are startup-only in every executable using them
  bool runs_as_root() const { return uid == 0; }
};

enum class ConfigFormat { systemd, docker, podman, compose, kubernetes, setcap, filecap, c, python };

std::optional<ConfigFormat> parse_config_format(std::string_view name);
std::string_view config_format_name(ConfigFormat format);
// Every format, in the order the text report shows them.
const std::vector<ConfigFormat>& all_config_formats();

// The text of one config. Deterministic for a given input (golden-tested).
std::string render_config(ConfigFormat format, const ConfigInput& input);

// All configs with a heading each, for the analyzer's text report.
std::string render_all_configs(const ConfigInput& input);

// Capability names in the spellings each consumer expects; unknown numbers
// become "CAP_41" / "41" so nothing is silently dropped.
std::string cap_name_systemd(int cap);     // CAP_NET_BIND_SERVICE
std::string cap_name_container(int cap);   // NET_BIND_SERVICE (Docker, compose, Kubernetes)
std::string cap_name_libcap(int cap);      // cap_net_bind_service (setcap)
std::string cap_name_capng(int cap);       // net_bind_service (filecap)
std::optional<int> cap_from_any_name(std::string_view name);  // any of the above, case-insensitive
std::vector<int> caps_in(uint64_t mask);

}  // namespace capaudit::analyze
