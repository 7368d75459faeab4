// The existing processes of a -p target, read from /proc.
#pragma once

#include <sys/types.h>

#include <span>
#include <vector>

#include "common/trace.h"

namespace capaudit::record {

// ROOT and all its descendant processes (tgids); empty if ROOT does not exist.
std::vector<pid_t> process_tree(pid_t root);

// A snapshot of each process for the trace (processes that vanished meanwhile are skipped).
std::vector<common::ProcessInfo> process_infos(std::span<const pid_t> pids);

}  // namespace capaudit::record
