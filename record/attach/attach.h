// Stage 3 of opening the BPF side: the loaded programs attached, in an order
// that loses nothing (the cgroup filter first, lifecycle programs next, the
// capability hook last: a check is never recorded for a task whose fork was
// not seen). Decides where bind()/socket() facts come from (the cgroup
// programs when they attach, else the syscall exit) and how denied-syscall
// outcomes are tracked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "common/trace.h"
#include "record/bpf_config.h"
#include "record/load/load.h"

namespace capaudit::record {

struct AttachReport {
  common::FactsSource facts_source = common::FactsSource::sys_exit;
  std::string facts_reason;  // "cgroup programs bind4, bind6, sock_create on /sys/fs/cgroup"
  common::OutcomeTracking outcome_tracking = common::OutcomeTracking::from_start;
  // from_start: the syscall-exit program attached now, at this CLOCK_BOOTTIME (else 0).
  uint64_t outcomes_from_ns = 0;
  // fexit/kprobe: what became of the probes on callers that inline
  // cap_capable ("... 3 of 3 attached; ..."), and whether one is missing.
  std::optional<std::string> callers_text;
  bool callers_missing = false;
  // Link facts at may_linkat() (--facts sys_exit): attached for the whole
  // recording, and how, or why not (Header::link_facts_reason).
  bool link_facts = false;
  std::string link_reason;
};

// Attaches LOADED's programs for CHOSEN. A failure leaves what was attached to
// the skeleton's destruction.
common::Result<AttachReport> attach_programs(LoadedPrograms& loaded, const BpfConfig& config, common::Hook chosen);

// CLOCK_BOOTTIME in nanoseconds (the clock of the BPF side's timestamps).
uint64_t boottime_ns();

}  // namespace capaudit::record
