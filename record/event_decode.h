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

// The size the header at the start of BYTES gives its event, when it is at
// least a header and fits in BYTES.
std::optional<size_t> event_size(std::span<const uint8_t> bytes);

std::optional<DecodedEvent> decode_event(std::span<const uint8_t> record);

// A ring-buffer record holds one event or, for checks without a stack, up to
// CAPAUDIT_BATCH_CHECKS back to back, each sized by its header. Hands EACH
// the bytes of every event in RECORD, in order; returns false when the record
// does not split cleanly (a header that is short, or sized past the record's
// end), in which case the bytes from that header on are not handed out.
template <typename F>
bool for_each_event(std::span<const uint8_t> record, F&& each) {
  while (!record.empty()) {
    auto size = event_size(record);
    if (!size) return false;
    each(record.first(*size));
    record = record.subspan(*size);
  }
  return true;
}

}  // namespace capaudit::record
