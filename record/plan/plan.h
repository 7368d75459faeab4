// Before anything is loaded: what to record and how, from the options. Every
// mistake a user can make (two targets, an unknown user, a bad unit, a
// container that does not run, a pid that does not exist) fails here, so a
// refused recording loads nothing and leaves no file behind. Missing
// privileges (CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN) fail here too, once the
// target is known and before the target's details are looked up.
#pragma once

#include <sys/types.h>

#include <vector>

#include "common/result.h"
#include "record/bpf_config.h"
#include "record/host/launch.h"
#include "record/recorder.h"

namespace capaudit::record {

struct RecordPlan {
  // The options with --service and --container resolved: the unit's command
  // in `command`, the container's cgroup in `cgroup` and its name in `container`.
  RecordOptions options;
  BpfConfig bpf;             // what to ask of the BPF side
  LaunchOptions launch;      // -- CMD: how to start it (argv, user, capabilities)
  std::vector<pid_t> tree;   // -p: the process and its descendants now
};

common::Result<RecordPlan> plan_recording(const RecordOptions& given);

}  // namespace capaudit::record
