// Internal to common/ and to tests of the format: the byte layout of a trace
// file and the conversions between common/trace.h values and Cap'n Proto.
// Code outside common/ uses common/trace_io.h instead.
#pragma once

#include <capnp/message.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/trace.h"
#include "schema/trace.capnp.h"

struct ZSTD_CCtx_s;

namespace capaudit::common::codec {

// Preamble: 8-byte magic, u32 LE container version, u32 LE flags (none defined;
// readers ignore unknown flag bits — anything that changes interpretation
// bumps the container version instead).
inline constexpr std::array<uint8_t, 8> kMagic = {'C', 'A', 'P', 'A', 'U', 'D', 'I', 'T'};
inline constexpr uint32_t kContainerVersion = 1;
inline constexpr size_t kPreambleSize = 16;
inline constexpr uint32_t kFormatMajor = 1;
// 1.1: time delta byte planes; 1.2: cred changes, facts source; 1.3: Losses.hookMisses;
// 1.4: CapCheckColumns.timeSpreadNs; 1.5: HookSection.outcomeMechanism/outcomeReason,
// Trailer.maxSizeReached, OpKind capCheck, OperationFact cap/granted/stackId/args/userWords/state,
// CapCheckColumns.checkedCred/checkedEuid; 1.6: user stacks (CapCheckColumns.userStackId,
// EventBatch.userStacks/mappedFiles, SamplingSection.userStackDepth, EventCounts.userStacks,
// Losses.userStackFail;
// RecorderSection.containers; outcome windows and split pieces); 1.7: UserStack.leaf,
// SamplingSection.pathsPerKey/pathFrames/pathFreeChecks, Losses.pathsFull/pathsUnchecked;
// 1.8: OpKind setpriority, operation facts of kinds 3..17 and 19 taken at syscall exit;
// 1.9: HostSection.kernelConfig
inline constexpr uint32_t kFormatMinor = 9;

// Most checks a batch holds with no column storing a value per check (every
// column empty or one shared value); ReadLimits::max_uncarried_checks.
inline constexpr uint32_t kMaxSharedChecks = 1u << 16;

// Longest build ID a reader accepts (MappedFile.buildId): sha256-sized.
inline constexpr size_t kMaxBuildIdBytes = 32;

// HostSection.kernelConfig (1.9): a recorder writes the few symbols the rules
// read; more, or longer text, is not a recording.
inline constexpr size_t kMaxKernelConfigSymbols = 64;
inline constexpr size_t kMaxKernelConfigNameBytes = 128;
inline constexpr size_t kMaxKernelConfigValueBytes = 1024;
inline constexpr size_t kMaxKernelConfigPathBytes = 4096;  // PATH_MAX

std::array<uint8_t, kPreambleSize> preamble(uint32_t container_version = kContainerVersion, uint32_t flags = 0);

// Compresses one message into one self-delimiting zstd frame (content size and
// checksum included, so truncation and bit flips are both detectable).
class FrameEncoder {
 public:
  explicit FrameEncoder(int level);
  ~FrameEncoder();
  FrameEncoder(const FrameEncoder&) = delete;
  FrameEncoder& operator=(const FrameEncoder&) = delete;

  // The returned span stays valid until the next call.
  std::span<const uint8_t> encode(capnp::MessageBuilder& message);

 private:
  ZSTD_CCtx_s* cctx_;
  std::vector<uint8_t> out_;
};

void to_capnp(const Header& h, schema::Header::Builder b);
void to_capnp(std::span<const ProcessInfo> procs, schema::ProcessSnapshot::Builder b);
void to_capnp(const Trailer& t, uint64_t batches, schema::Trailer::Builder b);

// Per-kind buffers of one batch, in value form.
struct Batch {
  std::vector<CapCheck> checks;
  std::vector<ForkEvent> forks;
  std::vector<ExecEvent> execs;
  std::vector<ExitEvent> exits;
  std::vector<SyscallOutcome> outcomes;
  std::vector<CapsetEvent> capsets;
  std::vector<OperationFact> operations;
  std::vector<KernelStack> stacks;
  std::vector<UserStack> user_stacks;
  std::vector<OutcomeWindow> windows;

  size_t size() const;
  void clear();  // keeps capacity
};
// Writes the batch's user stacks with their file dictionary; every build ID
// must pass is_build_id_hex.
void to_capnp(const Batch& batch, uint64_t seq, schema::EventBatch::Builder b);
// Empty, or an even number of lowercase hex digits of at most kMaxBuildIdBytes bytes.
bool is_build_id_hex(const std::string& s);

// Readers throw kj::Exception or std::exception on malformed input; the trace
// reader converts both into ReadStatus::corrupt.
Header from_capnp(schema::Header::Reader r);
std::vector<ProcessInfo> from_capnp(schema::ProcessSnapshot::Reader r);
Trailer from_capnp(schema::Trailer::Reader r);
// Everything except cap checks; those are decoded in chunks by decode_cap_checks.
void from_capnp(schema::EventBatch::Reader r, Batch& out);
// The columns of one batch's checks, each list fetched once (every fetch
// counts against the traversal limit) and validated: length 0, 1 or count.
struct CheckColumns {
  uint32_t count = 0;
  uint64_t time_base_ns = 0;
  capnp::List<uint64_t>::Reader time_deltas;
  int64_t time_delta_min = 0;
  unsigned time_delta_width = 0;
  capnp::Data::Reader time_delta_planes;
  capnp::List<uint32_t>::Reader pid, tid;
  capnp::List<int32_t>::Reader cap;
  capnp::List<bool>::Reader granted;
  capnp::List<int32_t>::Reader syscall_nr;
  capnp::List<uint32_t>::Reader opts;
  capnp::List<uint64_t>::Reader target_userns_inum;
  capnp::List<uint32_t>::Reader stack_id;
  capnp::List<uint64_t>::Reader time_spread_ns;
  capnp::List<uint8_t>::Reader checked_cred;
  capnp::List<uint32_t>::Reader checked_euid;
  capnp::List<uint32_t>::Reader user_stack_id;
};
// Throws on malformed columns.
CheckColumns open_columns(schema::CapCheckColumns::Reader r);
// Whether some column stores one value per check (so the message's bytes
// grow with the claimed count), rather than every column being shared.
bool has_per_check_column(const CheckColumns& c);
// Decodes checks [first, first+out.size()). Chunks must be decoded in order:
// running_time starts at time_base_ns and carries the sum of deltas so far.
void decode_cap_checks(const CheckColumns& c, uint32_t first, std::span<CapCheck> out, uint64_t& running_time);

Hook from_capnp(schema::Hook h);
TargetMode from_capnp(schema::TargetMode m);
OpKind from_capnp(schema::OpKind k);

inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

}  // namespace capaudit::common::codec
