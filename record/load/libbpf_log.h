// libbpf reports through one process-wide callback. We keep its last lines so
// a refused hook or program can say *why* (in the trace's hook attempts and in
// errors), and echo them to stderr only with -v. Used by every stage that
// calls libbpf: probe, load, attach and the attached session.
#pragma once

#include <string>

namespace capaudit::record {

// Installs the callback (and libbpf's strict mode); VERBOSE echoes libbpf's
// non-debug messages to stderr.
void install_libbpf_log(bool verbose);

// Forgets what libbpf said so far: the next failure_reason() names only what
// came after.
void clear_libbpf_log();

// "load refused: Invalid argument (EINVAL): <the log's last line>", from
// STAGE, the errno ERR and what libbpf said since the last clear; clears it.
std::string failure_reason(const char* stage, int err);

}  // namespace capaudit::record
