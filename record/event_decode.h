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
  // CAPAUDIT_CAP_UNTIMED: check.time_ns is the latest this repeat can have
  // happened; decode_record() turns it into the trace's earliest + spread.
  bool untimed = false;
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

// Decodes every event of RECORD in order and hands each to EACH. An untimed
// repeat gets its bounds here: it came after the timed check before it in the
// record (a batch always starts with a timed one) and by the time the kernel
// wrote for it. Returns the events that could not be decoded, plus one when
// the record does not split cleanly.
template <typename F>
uint64_t decode_record(std::span<const uint8_t> record, F&& each) {
  uint64_t errors = 0, last_timed_ns = 0;
  bool whole = for_each_event(record, [&](std::span<const uint8_t> bytes) {
    auto decoded = decode_event(bytes);
    if (!decoded) {
      ++errors;
      return;
    }
    if (auto* c = std::get_if<DecodedCheck>(&*decoded)) {
      if (!c->untimed) {
        last_timed_ns = c->check.time_ns;
      } else if (last_timed_ns == 0 || c->check.time_ns < last_timed_ns) {
        ++errors;  // no earlier bound: the record is not one the kernel side writes
        return;
      } else {
        c->check.time_spread_ns = c->check.time_ns - last_timed_ns;
        c->check.time_ns = last_timed_ns;
      }
    }
    each(*decoded);
  });
  return errors + (whole ? 0 : 1);
}

}  // namespace capaudit::record
