// What the load stage keeps of a trace besides its per-process shapes, and
// the findings reuse: capability masks, how denied checks' syscalls ended,
// a user stack as the analysis reads it. Below the findings model
// (findings.h): the load stage (aggregate.h, load.cpp) includes only this.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/trace.h"

namespace capaudit::analyze {

// A set of capabilities as a bit mask (bit n = capability n). 64 bits covers
// every capability the kernel defines (40 as of 6.18) with room to grow.
using CapMask = uint64_t;

inline constexpr CapMask cap_bit(int cap) { return cap >= 0 && cap < 64 ? CapMask{1} << cap : 0; }
inline constexpr bool has_cap(CapMask m, int cap) { return (m & cap_bit(cap)) != 0; }

// How a denied check's syscall ended.
enum class DenialOutcome : uint8_t {
  failed,            // -EPERM / -EACCES: the program lost the operation
  succeeded_anyway,  // the syscall succeeded: a fallback path, or the check was optional
  interrupted,       // -EINTR / restart: inconclusive
  other_error,       // some other errno: the denial may not be what failed
  no_outcome,        // the recorder was tracking outcomes and saw no syscall exit for it
  not_tracked,       // the recorder was not tracking outcomes then (Header::outcome_tracking)
};
const char* to_string(DenialOutcome o);

struct DenialAssessment {
  uint64_t failed = 0;
  uint64_t succeeded_anyway = 0;
  uint64_t interrupted = 0;
  uint64_t other_error = 0;
  uint64_t no_outcome = 0;
  uint64_t not_tracked = 0;
  std::vector<int64_t> errors_seen;  // distinct negative return values (other_error)
  // The one-word verdict a reader sees first: failed beats succeeded_anyway
  // beats interrupted beats other_error beats no_outcome beats not_tracked
  // (an exit the recorder watched for and missed says more than none sought).
  DenialOutcome summary() const;
  uint64_t total() const { return failed + succeeded_anyway + interrupted + other_error + no_outcome + not_tracked; }
};

// The C library and the dynamic loader, by the mapped file's name: where
// syscall wrappers live, never the program's own decision to make the call.
bool is_runtime_library(const std::string& object);

// True when CODE_BEFORE, the 8 bytes that end at an address (little-endian:
// the byte at address-1 is the top one), ends with an x86-64 call
// instruction: call rel32 (e8), call through the GOT (ff 15 disp32), or
// call *reg / *(reg) / *disp(reg) (ff /2, with SIB forms). A return address
// always does; an arbitrary word rarely.
bool ends_with_call(uint64_t code_before);

// A user stack's frames as the analysis uses them. The walked frames, and
// the stack's leaf word (the word at [sp] at syscall entry) as frame 1 when
// it passes every test of a return address into the wrapper's caller:
//   - frame 0 is in the C library or the loader (their syscall wrappers are
//     leaves: they push nothing before `syscall`);
//   - the word lies in an executable file mapping (the recorder named its
//     file and offset);
//   - the bytes before it, read at the check, end with a call instruction;
//   - it is not frame 0 itself.
// When the walk's frame 1 already is that address (the wrapper kept a frame
// pointer), it is marked and not repeated. Anything else (a word the wrapper
// pushed, a syscall made by a function with a frame) is left out: the trace
// keeps it, no frame is made of it.
struct UserStackView {
  std::vector<common::UserFrame> frames;
  int entry_sp = -1;  // index of the frame the leaf word gave or confirmed; -1 none
};
UserStackView user_frames_of(const common::UserStack& s);

}  // namespace capaudit::analyze
