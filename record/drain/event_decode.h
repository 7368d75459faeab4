// Turns the kernel side's ring-buffer records (bpf/capaudit.h) into trace
// values. Pure and bounds-checked: a short or unknown record is a decode
// error, never a crash, so it is unit-tested with hand-made bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "common/trace.h"

namespace capaudit::record {

// A user-space stack as the kernel side sent it (CAPAUDIT_CAP_HAS_USTACK):
// the raw walk and the kernel's build-ID naming of the same walk, not yet
// resolved against the process's mappings (record/drain/user_stacks.h does that).
struct KernelNamedFrame {
  enum class Status : uint8_t { empty, valid, ip };  // bpf_stack_build_id.status
  Status status = Status::empty;
  std::array<uint8_t, 20> build_id{};  // valid: as the kernel read it, zero-padded to 20 bytes
  uint64_t offset_or_ip = 0;           // valid: offset in the file; ip: the raw address
};
// The word at the user stack pointer at syscall entry (CAPAUDIT_LEAF_READ),
// with what the kernel side read about it.
struct RawLeaf {
  uint64_t word = 0;
  std::optional<uint64_t> code;  // the 8 bytes of memory ending at word
  struct Vma {
    uint64_t start = 0, end = 0, pgoff = 0;  // pgoff: file offset of start, in bytes
    bool exec = false, file = false;
  };
  std::optional<Vma> vma;  // the mapping holding word (bpf_find_vma)
  int vma_error = 0;       // bpf_find_vma's -errno when vma is empty
};
struct RawUserStack {
  std::vector<uint64_t> ips;              // raw addresses, innermost first
  int ips_error = 0;                      // the raw walk failed with this -errno (ips empty)
  std::vector<KernelNamedFrame> named;    // the same frames named by the kernel
  int named_error = 0;                    // that walk failed with this -errno (named empty)
  std::optional<RawLeaf> leaf;            // not read (outside a syscall, unreadable stack)
};

struct DecodedCheck {
  common::CapCheck check;             // stack_id still 0: the recorder interns the stack
  std::span<const uint64_t> stack;    // raw kernel return addresses, innermost first; may be empty
  bool unsampled = false;             // no stack by design: past the per-key budget
  // Rebuilt at the exit of a caller that inlined cap_capable() (fexit/kprobe):
  // the stack then starts at that caller. Not in the trace (format unchanged).
  bool synthesized = false;
  // CAPAUDIT_CAP_UNTIMED: check.time_ns is 0, or the latest this repeat can
  // have happened; decode_record() turns it into the trace's earliest + spread.
  bool untimed = false;
  // CAPAUDIT_CAP_HAS_CTX: the check's context as a cap_check fact (time,
  // ids, cap, verdict, syscall, args, user words, state); the recorder sets
  // its stack_id once the stack is interned.
  std::optional<common::OperationFact> context;
  // CAPAUDIT_CAP_HAS_USTACK: the user-space stack, for the recorder to resolve and intern.
  std::optional<RawUserStack> user_stack;
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

// Decodes every event of RECORD in order and hands each to EACH (a
// DecodedEvent&). An untimed repeat gets its bounds here: it came after the
// timed check before it in the record and before the next check that carries
// a time (see CAPAUDIT_CAP_UNTIMED), so it waits for that one. Returns the
// events that could not be decoded or bounded, plus one when the record does
// not split cleanly.
template <typename F>
uint64_t decode_record(std::span<const uint8_t> record, F&& each) {
  uint64_t errors = 0, earliest = 0;
  std::vector<DecodedCheck> waiting;  // untimed repeats, in order, until a later time shows
  auto settle = [&](uint64_t latest) {
    for (auto& w : waiting) {
      w.check.time_ns = earliest;
      w.check.time_spread_ns = latest - earliest;
      DecodedEvent e = w;
      each(e);
    }
    waiting.clear();
  };
  bool whole = for_each_event(record, [&](std::span<const uint8_t> bytes) {
    auto decoded = decode_event(bytes);
    if (!decoded) {
      ++errors;
      return;
    }
    auto* c = std::get_if<DecodedCheck>(&*decoded);
    const uint64_t t = c ? c->check.time_ns : 0;
    if (c && c->untimed && earliest == 0) {
      ++errors;  // no timed check before it: not a record the kernel side writes
      return;
    }
    if (c && t != 0 && t < earliest) {  // time ran backwards: the bounds would lie
      errors += waiting.size() + 1;
      waiting.clear();
      return;
    }
    if (c && c->untimed) {
      waiting.push_back(*c);
      if (t != 0) settle(t);
      return;
    }
    if (c) {
      settle(t);
      earliest = t;
    } else {
      errors += waiting.size();  // only checks share a record
      waiting.clear();
    }
    each(*decoded);
  });
  errors += waiting.size();  // nothing later carried a time
  return errors + (whole ? 0 : 1);
}

}  // namespace capaudit::record
