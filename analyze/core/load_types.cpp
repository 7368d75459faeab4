#include "analyze/core/load_types.h"

namespace capaudit::analyze {

const char* to_string(DenialOutcome o) {
  switch (o) {
    case DenialOutcome::failed: return "failed";
    case DenialOutcome::succeeded_anyway: return "succeeded_anyway";
    case DenialOutcome::interrupted: return "interrupted";
    case DenialOutcome::other_error: return "other_error";
    case DenialOutcome::no_outcome: return "no_outcome";
    case DenialOutcome::not_tracked: return "not_tracked";
  }
  return "unknown";
}

DenialOutcome DenialAssessment::summary() const {
  if (failed) return DenialOutcome::failed;
  if (succeeded_anyway) return DenialOutcome::succeeded_anyway;
  if (interrupted) return DenialOutcome::interrupted;
  if (other_error) return DenialOutcome::other_error;
  if (no_outcome) return DenialOutcome::no_outcome;
  return not_tracked ? DenialOutcome::not_tracked : DenialOutcome::no_outcome;
}

bool is_runtime_library(const std::string& object) {
  const std::string base = object.substr(object.rfind('/') + 1);
  for (const char* prefix : {"libc.so", "libc-", "libpthread", "ld-linux", "ld-musl", "libc.musl", "ld64.so", "ld.so"})
    if (base.rfind(prefix, 0) == 0) return true;
  return false;
}

bool ends_with_call(uint64_t code_before) {
  uint8_t b[8];  // b[7] is the byte just before the address
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(code_before >> (8 * i));
  auto modrm_call = [](uint8_t m, int mod) { return (m & 0x38) == 0x10 && (m >> 6) == mod; };
  if (b[3] == 0xe8) return true;                                    // call rel32
  if (b[2] == 0xff && b[3] == 0x15) return true;                    // call *disp32(%rip)
  if (b[6] == 0xff && modrm_call(b[7], 3)) return true;             // call *%reg
  if (b[6] == 0xff && modrm_call(b[7], 0) && (b[7] & 7) != 4 && (b[7] & 7) != 5) return true;  // call *(%reg)
  if (b[5] == 0xff && modrm_call(b[6], 0) && (b[6] & 7) == 4 && (b[7] & 7) != 5) return true;  // call *(%base,%idx)
  if (b[5] == 0xff && modrm_call(b[6], 1) && (b[6] & 7) != 4) return true;                     // call *d8(%reg)
  if (b[4] == 0xff && modrm_call(b[5], 1) && (b[5] & 7) == 4) return true;                     // call *d8(%base,%idx)
  if (b[2] == 0xff && modrm_call(b[3], 2) && (b[3] & 7) != 4) return true;                     // call *d32(%reg)
  if (b[1] == 0xff && modrm_call(b[2], 2) && (b[2] & 7) == 4) return true;                     // call *d32(%base,%idx)
  return false;
}

UserStackView user_frames_of(const common::UserStack& s) {
  UserStackView v;
  v.frames = s.frames;
  if (!s.leaf || v.frames.empty()) return v;
  const common::UserFrame& w = s.leaf->word;
  const common::UserFrame& f0 = v.frames[0];
  if (f0.path.empty() || !is_runtime_library(f0.path)) return v;
  if (!w.ip || !w.has_offset || (w.build_id.empty() && w.path.empty())) return v;
  if (!s.leaf->has_code || !ends_with_call(s.leaf->code_before)) return v;
  if (w.ip == f0.ip) return v;
  auto same = [&](const common::UserFrame& f) {
    if (f.ip && w.ip) return f.ip == w.ip;
    return f.has_offset && f.file_offset == w.file_offset && f.build_id == w.build_id && f.path == w.path;
  };
  if (v.frames.size() > 1 && same(v.frames[1])) {
    v.entry_sp = 1;
    return v;
  }
  v.frames.insert(v.frames.begin() + 1, w);
  v.entry_sp = 1;
  return v;
}

}  // namespace capaudit::analyze
