// Turns the kernel side's ring-buffer records (bpf/capaudit.h) into trace
// values. Pure and bounds-checked: a short or unknown record is a decode
// error, never a crash, so it is unit-tested with hand-made bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include "common/trace.h"

namespace capaudit::record {

struct DecodedCheck {
  common::CapCheck check;             // stack_id still 0: the recorder interns the stack
  std::span<const uint64_t> stack;    // raw kernel return addresses, innermost first; may be empty
  bool unsampled = false;             // no stack by design: past the per-key budget
  // Rebuilt at the exit of a caller that inlined cap_capable() (fexit/kprobe):
  // the stack then starts at that caller. Not in the trace (format unchanged).
  bool synthesized = false;
};

using DecodedEvent = std::variant<DecodedCheck, common::ForkEvent, common::ExecEvent, common::ExitEvent,
                                  common::SyscallOutcome, common::CapsetEvent, common::OperationFact>;

std::optional<DecodedEvent> decode_event(std::span<const uint8_t> record);

}  // namespace capaudit::record
