#include "common/trace_codec.h"

#include <capnp/serialize.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

#include "common/error.h"

namespace capaudit::common::codec {
namespace {

kj::StringPtr sp(const std::string& s) { return kj::StringPtr(s.c_str(), s.size()); }
std::string str(capnp::Text::Reader t) { return std::string(t.begin(), t.size()); }

template <typename Builder>
void set_strings(Builder list, const std::vector<std::string>& v) {
  for (unsigned i = 0; i < v.size(); ++i) list.set(i, sp(v[i]));
}

std::vector<std::string> strings(capnp::List<capnp::Text>::Reader list) {
  std::vector<std::string> out;
  out.reserve(list.size());
  for (auto t : list) out.push_back(str(t));
  return out;
}

void put_u32le(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

schema::Hook to_capnp(Hook h) {
  switch (h) {
    case Hook::tp_btf: return schema::Hook::TP_BTF;
    case Hook::fexit: return schema::Hook::FEXIT;
    case Hook::kprobe: return schema::Hook::KPROBE;
    case Hook::unknown: break;
  }
  return schema::Hook::UNKNOWN;
}

schema::TargetMode to_capnp(TargetMode m) {
  switch (m) {
    case TargetMode::command: return schema::TargetMode::COMMAND;
    case TargetMode::pid: return schema::TargetMode::PID;
    case TargetMode::cgroup: return schema::TargetMode::CGROUP;
    case TargetMode::unknown: break;
  }
  return schema::TargetMode::UNKNOWN;
}

// OpKind and schema::OpKind share numbering by construction (both append-only).
schema::OpKind to_capnp(OpKind k) { return static_cast<schema::OpKind>(static_cast<uint16_t>(k)); }

void put_caps(const CapSets& c, schema::CapSets::Builder b) {
  b.setEffective(c.effective);
  b.setPermitted(c.permitted);
  b.setInheritable(c.inheritable);
  b.setBounding(c.bounding);
  b.setAmbient(c.ambient);
}

CapSets get_caps(schema::CapSets::Reader r) {
  return {r.getEffective(), r.getPermitted(), r.getInheritable(), r.getBounding(), r.getAmbient()};
}

void put_file_caps(const FileCaps& f, schema::FileCaps::Builder b) {
  b.setVersion(f.version);
  b.setPermitted(f.permitted);
  b.setInheritable(f.inheritable);
  b.setEffective(f.effective);
  b.setRootid(f.rootid);
}

FileCaps get_file_caps(schema::FileCaps::Reader r) {
  return {r.getVersion(), r.getPermitted(), r.getInheritable(), r.getEffective(), r.getRootid()};
}

void put_kvs(const std::vector<KeyValue>& v, capnp::List<schema::KeyValue>::Builder l) {
  for (unsigned i = 0; i < v.size(); ++i) {
    l[i].setKey(sp(v[i].key));
    l[i].setValue(sp(v[i].value));
  }
}

std::vector<KeyValue> get_kvs(capnp::List<schema::KeyValue>::Reader l) {
  std::vector<KeyValue> out;
  out.reserve(l.size());
  for (auto kv : l) out.push_back({str(kv.getKey()), str(kv.getValue())});
  return out;
}

// Column encoding (see CapCheckColumns in trace.capnp): omit a column whose
// values are all the default, store one value when all are equal.
template <typename T, typename Get, typename Init>
void put_column(const std::vector<CapCheck>& v, T def, Get get, Init init) {
  const T first = get(v[0]);
  size_t i = 1;
  while (i < v.size() && get(v[i]) == first) ++i;
  if (i == v.size()) {
    if (first != def) init(1).set(0, first);
    return;
  }
  auto list = init(static_cast<unsigned>(v.size()));
  for (unsigned j = 0; j < v.size(); ++j) list.set(j, get(v[j]));
}

template <typename List>
void check_column(List list, uint32_t count, const char* name) {
  const auto n = list.size();
  if (n != 0 && n != 1 && n != count) {
    throw std::runtime_error(std::string("cap check column ") + name + " has " + std::to_string(n) +
                             " values for " + std::to_string(count) + " events");
  }
}

// Fills one field of out[k] from column value first+k.
template <typename T, typename List, typename Set>
void get_column(List list, uint32_t first, std::span<CapCheck> out, T def, Set set) {
  const auto n = list.size();
  if (n == 0 || n == 1) {
    const T value = n == 0 ? def : static_cast<T>(list[0]);
    for (auto& e : out) set(e, value);
    return;
  }
  for (size_t k = 0; k < out.size(); ++k) set(out[k], static_cast<T>(list[first + static_cast<uint32_t>(k)]));
}

// Times as deltas from the previous check. The base is chosen so the first
// delta equals the smallest later one: a steady loop then has one repeated
// delta (stored once), and a jittery one has small offsets from the minimum
// (stored as byte planes, so the always-zero high bytes form long runs).
void put_time_column(const std::vector<CapCheck>& v, schema::CapCheckColumns::Builder c) {
  const size_t n = v.size();
  std::vector<int64_t> d(n);
  int64_t min = 0;
  for (size_t i = 1; i < n; ++i) {
    d[i] = static_cast<int64_t>(v[i].time_ns - v[i - 1].time_ns);
    if (i == 1 || d[i] < min) min = d[i];
  }
  d[0] = min;
  c.setTimeBaseNs(v[0].time_ns - static_cast<uint64_t>(min));
  bool same = true;
  uint64_t max_offset = 0;
  for (size_t i = 1; i < n; ++i) {
    same = same && d[i] == min;
    max_offset = std::max(max_offset, static_cast<uint64_t>(d[i]) - static_cast<uint64_t>(min));
  }
  // A batch larger than a reader accepts without a value per check
  // (ReadLimits::max_uncarried_checks) keeps its planes even when every
  // delta is the same: its claimed count is then carried by bytes.
  if (same && n <= kMaxSharedChecks) {
    if (min != 0) c.initTimeDeltas(1).set(0, zigzag(min));
    return;
  }
  unsigned width = 1;
  while (width < 8 && (max_offset >> (8 * width)) != 0) ++width;
  c.setTimeDeltaMin(min);
  c.setTimeDeltaWidth(static_cast<uint8_t>(width));
  auto planes = c.initTimeDeltaPlanes(static_cast<unsigned>(n * width));
  uint8_t* out = planes.begin();
  for (size_t i = 0; i < n; ++i) {
    const uint64_t u = static_cast<uint64_t>(d[i]) - static_cast<uint64_t>(min);
    for (unsigned k = 0; k < width; ++k) out[k * n + i] = static_cast<uint8_t>(u >> (8 * k));
  }
}

// Build IDs: lowercase hex in memory, bytes on disk.
std::vector<uint8_t> build_id_bytes(const std::string& hex) {
  auto nibble = [&](char c) -> uint8_t {
    if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
    throw Error("build ID '" + hex + "' is not lowercase hex");
  };
  if (hex.size() % 2 != 0) throw Error("build ID '" + hex + "' has an odd number of digits");
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return out;
}

std::string build_id_hex(capnp::Data::Reader bytes) {
  // GNU build IDs are 20 bytes (sha1), at most 32 (sha256) elsewhere; the
  // kernel reads at most 20 (BUILD_ID_SIZE_MAX). More is damage.
  if (bytes.size() > kMaxBuildIdBytes)
    throw std::runtime_error("build ID of " + std::to_string(bytes.size()) + " bytes (at most " +
                             std::to_string(kMaxBuildIdBytes) + ")");
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

// A user stack's columns (UserStack in trace.capnp): omitted when every frame
// has the default, else one value per frame.
template <typename T, typename Get, typename Init>
void put_frame_column(const std::vector<UserFrame>& frames, Get get, Init init) {
  bool any = false;
  for (const auto& f : frames) any = any || get(f) != T{};
  if (!any) return;
  auto list = init(static_cast<unsigned>(frames.size()));
  for (unsigned j = 0; j < frames.size(); ++j) list.set(j, get(frames[j]));
}

void put_user_stacks(const std::vector<UserStack>& stacks, schema::EventBatch::Builder b) {
  // The batch's file dictionary: each (build ID, path) once, in first-use order.
  std::map<std::pair<std::string, std::string>, uint32_t> index;
  std::vector<const UserFrame*> files;
  std::vector<std::vector<uint32_t>> refs(stacks.size());
  std::vector<uint32_t> leaf_refs(stacks.size(), 0);
  auto ref_of = [&](const UserFrame& f) -> uint32_t {
    if (f.build_id.empty() && f.path.empty()) return 0;
    auto [it, added] = index.try_emplace({f.build_id, f.path}, static_cast<uint32_t>(files.size() + 1));
    if (added) files.push_back(&f);
    return it->second;
  };
  for (size_t i = 0; i < stacks.size(); ++i) {
    for (const auto& f : stacks[i].frames) refs[i].push_back(ref_of(f));
    if (stacks[i].leaf) leaf_refs[i] = ref_of(stacks[i].leaf->word);
  }
  auto l = b.initUserStacks(static_cast<unsigned>(stacks.size()));
  for (unsigned i = 0; i < stacks.size(); ++i) {
    const auto& frames = stacks[i].frames;
    auto o = l[i];
    o.setId(stacks[i].id);
    put_frame_column<uint64_t>(frames, [](const UserFrame& f) { return f.ip; }, [&](unsigned n) { return o.initIp(n); });
    bool any_file = false;
    for (uint32_t r : refs[i]) any_file = any_file || r != 0;
    if (any_file) {
      auto list = o.initFile(static_cast<unsigned>(frames.size()));
      for (unsigned j = 0; j < frames.size(); ++j) list.set(j, refs[i][j]);
    }
    put_frame_column<uint64_t>(frames, [](const UserFrame& f) { return f.has_offset ? f.file_offset : 0; },
                               [&](unsigned n) { return o.initFileOffset(n); });
    put_frame_column<bool>(frames, [](const UserFrame& f) { return f.has_offset; }, [&](unsigned n) { return o.initHasOffset(n); });
    if (const auto& leaf = stacks[i].leaf) {
      auto w = o.initLeaf();
      w.setIp(leaf->word.ip);
      w.setFile(leaf_refs[i]);
      w.setHasOffset(leaf->word.has_offset);
      if (leaf->word.has_offset) w.setFileOffset(leaf->word.file_offset);
      w.setHasCode(leaf->has_code);
      if (leaf->has_code) w.setCodeBefore(leaf->code_before);
    }
  }
  if (files.empty()) return;
  auto m = b.initMappedFiles(static_cast<unsigned>(files.size()));
  for (unsigned i = 0; i < files.size(); ++i) {
    auto bytes = build_id_bytes(files[i]->build_id);
    m[i].setBuildId(kj::arrayPtr(bytes.data(), bytes.size()));
    m[i].setPath(sp(files[i]->path));
  }
}

std::vector<UserStack> get_user_stacks(schema::EventBatch::Reader r) {
  std::vector<UserStack> out;
  auto stacks = r.getUserStacks();
  if (stacks.size() == 0) return out;
  struct File {
    std::string build_id, path;
  };
  std::vector<File> files;
  for (auto m : r.getMappedFiles()) files.push_back({build_id_hex(m.getBuildId()), str(m.getPath())});
  out.reserve(stacks.size());
  for (auto s : stacks) {
    auto ip = s.getIp();
    auto file = s.getFile();
    auto offset = s.getFileOffset();
    auto has_offset = s.getHasOffset();
    const unsigned n = std::max({ip.size(), file.size(), offset.size(), has_offset.size()});
    for (auto [len, name] : {std::pair{ip.size(), "ip"}, std::pair{file.size(), "file"},
                             std::pair{offset.size(), "fileOffset"}, std::pair{has_offset.size(), "hasOffset"}}) {
      if (len != 0 && len != n)
        throw std::runtime_error("user stack " + std::to_string(s.getId()) + " column " + name + " has " +
                                 std::to_string(len) + " values for " + std::to_string(n) + " frames");
    }
    UserStack u;
    u.id = s.getId();
    u.frames.resize(n);
    for (unsigned j = 0; j < n; ++j) {
      UserFrame& f = u.frames[j];
      if (ip.size()) f.ip = ip[j];
      if (file.size() && file[j] != 0) {
        if (file[j] > files.size())
          throw std::runtime_error("user stack " + std::to_string(u.id) + " names file " + std::to_string(file[j]) +
                                   " of a batch with " + std::to_string(files.size()));
        f.build_id = files[file[j] - 1].build_id;
        f.path = files[file[j] - 1].path;
      }
      f.has_offset = has_offset.size() && has_offset[j];
      if (f.has_offset && offset.size()) f.file_offset = offset[j];
    }
    if (s.hasLeaf()) {  // 1.7
      auto w = s.getLeaf();
      UserLeaf leaf;
      leaf.word.ip = w.getIp();
      if (const uint32_t ref = w.getFile(); ref != 0) {
        if (ref > files.size())
          throw std::runtime_error("user stack " + std::to_string(u.id) + " leaf names file " + std::to_string(ref) +
                                   " of a batch with " + std::to_string(files.size()));
        leaf.word.build_id = files[ref - 1].build_id;
        leaf.word.path = files[ref - 1].path;
      }
      leaf.word.has_offset = w.getHasOffset();
      if (leaf.word.has_offset) leaf.word.file_offset = w.getFileOffset();
      leaf.has_code = w.getHasCode();
      if (leaf.has_code) leaf.code_before = w.getCodeBefore();
      u.leaf = leaf;
    }
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace

bool is_build_id_hex(const std::string& s) {
  if (s.size() % 2 != 0 || s.size() > 2 * kMaxBuildIdBytes) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::array<uint8_t, kPreambleSize> preamble(uint32_t container_version, uint32_t flags) {
  std::array<uint8_t, kPreambleSize> p{};
  std::memcpy(p.data(), kMagic.data(), kMagic.size());
  put_u32le(p.data() + 8, container_version);
  put_u32le(p.data() + 12, flags);
  return p;
}

FrameEncoder::FrameEncoder(int level) : cctx_(ZSTD_createCCtx()) {
  if (cctx_ == nullptr) throw Error("zstd: cannot allocate a compression context");
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, 1);
}

FrameEncoder::~FrameEncoder() { ZSTD_freeCCtx(cctx_); }

std::span<const uint8_t> FrameEncoder::encode(capnp::MessageBuilder& message) {
  kj::Array<capnp::word> flat = capnp::messageToFlatArray(message);
  auto bytes = flat.asBytes();
  out_.resize(ZSTD_compressBound(bytes.size()));
  size_t n = ZSTD_compress2(cctx_, out_.data(), out_.size(), bytes.begin(), bytes.size());
  if (ZSTD_isError(n)) throw Error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  return {out_.data(), n};
}

void to_capnp(const Header& h, schema::Header::Builder b) {
  b.setFormatMajor(kFormatMajor);
  b.setFormatMinor(kFormatMinor);

  auto rec = b.initRecorder();
  rec.setVersion(sp(h.recorder_version));
  set_strings(rec.initArgv(static_cast<unsigned>(h.recorder_argv.size())), h.recorder_argv);
  rec.setTargetMode(to_capnp(h.target_mode));
  rec.setTarget(sp(h.target));
  if (!h.containers.empty()) {
    auto cs = rec.initContainers(static_cast<unsigned>(h.containers.size()));
    for (unsigned i = 0; i < h.containers.size(); ++i) {
      cs[i].setId(sp(h.containers[i].id));
      cs[i].setName(sp(h.containers[i].name));
      cs[i].setEngine(sp(h.containers[i].engine));
      cs[i].setCgroup(sp(h.containers[i].cgroup));
    }
  }

  auto host = b.initHost();
  host.setHostname(sp(h.hostname));
  host.setKernelRelease(sp(h.kernel_release));
  host.setKernelVersion(sp(h.kernel_version));
  host.setArch(sp(h.arch));
  host.setBootId(sp(h.boot_id));
  host.setLockdown(sp(h.lockdown));
  set_strings(host.initLsms(static_cast<unsigned>(h.lsms.size())), h.lsms);
  host.setInitUsernsInum(h.init_userns_inum);
  if (!h.kernel_config_source.empty() || !h.kernel_config.empty() || !h.kernel_config_missing.empty()) {
    auto kc = host.initKernelConfig();
    kc.setSource(sp(h.kernel_config_source));
    put_kvs(h.kernel_config, kc.initSymbols(static_cast<unsigned>(h.kernel_config.size())));
    kc.setMissing(sp(h.kernel_config_missing));
  }

  auto clock = b.initClock();
  clock.setBoottimeNs(h.clock_boottime_ns);
  clock.setRealtimeNs(h.clock_realtime_ns);

  auto sys = b.initSysctls();
  put_kvs(h.sysctls_global, sys.initGlobal(static_cast<unsigned>(h.sysctls_global.size())));
  put_kvs(h.sysctls_netns, sys.initNetns(static_cast<unsigned>(h.sysctls_netns.size())));
  sys.setTargetNetnsInum(h.target_netns_inum);
  auto rl = sys.initTargetRlimits(static_cast<unsigned>(h.target_rlimits.size()));
  for (unsigned i = 0; i < h.target_rlimits.size(); ++i) {
    const auto& r = h.target_rlimits[i];
    rl[i].setResource(r.resource);
    rl[i].setName(sp(r.name));
    rl[i].setSoft(r.soft);
    rl[i].setHard(r.hard);
  }

  auto hook = b.initHook();
  hook.setHook(to_capnp(h.hook));
  auto att = hook.initAttempts(static_cast<unsigned>(h.hook_attempts.size()));
  for (unsigned i = 0; i < h.hook_attempts.size(); ++i) {
    att[i].setHook(to_capnp(h.hook_attempts[i].hook));
    att[i].setUsed(h.hook_attempts[i].used);
    att[i].setReason(sp(h.hook_attempts[i].reason));
  }
  hook.setOptsAvailable(h.opts_available);
  hook.setFactsSource(static_cast<schema::FactsSource>(h.facts_source));
  hook.setFactsReason(sp(h.facts_reason));
  hook.setCredChanges(h.cred_changes);
  hook.setOutcomeTracking(static_cast<schema::OutcomeTracking>(h.outcome_tracking));
  hook.setOutcomeMechanism(static_cast<schema::OutcomeMechanism>(h.outcome_mechanism));
  hook.setOutcomeReason(sp(h.outcome_reason));
  hook.setOutcomeWindowNs(h.outcome_window_ns);
  hook.setLinkFacts(h.link_facts);
  hook.setLinkFactsReason(sp(h.link_facts_reason));

  if (!h.split_run_id.empty()) {
    auto sp_ = b.initSplit();
    sp_.setRunId(sp(h.split_run_id));
    sp_.setPiece(h.split_piece);
  }

  auto s = b.initSampling();
  s.setStacksPerKey(h.stacks_per_key);
  s.setUserStacks(h.user_stacks);
  s.setRingbufBytes(h.ringbuf_bytes);
  s.setMaxTasks(h.max_tasks);
  s.setMaxStacks(h.max_stacks);
  s.setUserStackDepth(h.user_stack_depth);
  s.setPathsPerKey(h.paths_per_key);
  s.setPathFrames(h.path_frames);
  s.setPathFreeChecks(h.path_free_checks);
}

void to_capnp(std::span<const ProcessInfo> procs, schema::ProcessSnapshot::Builder b) {
  auto l = b.initProcesses(static_cast<unsigned>(procs.size()));
  for (unsigned i = 0; i < procs.size(); ++i) {
    const auto& p = procs[i];
    auto o = l[i];
    o.setPid(p.pid);
    o.setPpid(p.ppid);
    o.setStartTimeNs(p.start_time_ns);
    o.setExe(sp(p.exe));
    set_strings(o.initArgv(static_cast<unsigned>(p.argv.size())), p.argv);
    o.setUid(p.uid);
    o.setGid(p.gid);
    o.setEuid(p.euid);
    o.setEgid(p.egid);
    put_caps(p.caps, o.initCaps());
    if (p.file_caps) put_file_caps(*p.file_caps, o.initFileCaps());
    o.setCgroup(sp(p.cgroup));
  }
}

void to_capnp(const Trailer& t, uint64_t batches, schema::Trailer::Builder b) {
  b.setCleanShutdown(t.clean_shutdown);
  b.setEndTimeNs(t.end_time_ns);
  b.setStopReason(sp(t.stop_reason));
  b.setHasTargetExitStatus(t.target_exit_status.has_value());
  b.setTargetExitStatus(t.target_exit_status.value_or(0));
  auto c = b.initCounts();
  c.setCapChecks(t.counts.cap_checks);
  c.setForks(t.counts.forks);
  c.setExecs(t.counts.execs);
  c.setExits(t.counts.exits);
  c.setOutcomes(t.counts.outcomes);
  c.setCapsets(t.counts.capsets);
  c.setOperations(t.counts.operations);
  c.setStacks(t.counts.stacks);
  c.setUserStacks(t.counts.user_stacks);
  auto l = b.initLosses();
  l.setRingbufDrops(t.losses.ringbuf_drops);
  l.setTaskMapFull(t.losses.task_map_full);
  l.setStackMapFull(t.losses.stack_map_full);
  l.setStacksUnsampled(t.losses.stacks_unsampled);
  l.setUntracedProcesses(t.losses.untraced_processes);
  l.setOutcomesMissed(t.losses.outcomes_missed);
  l.setStringsTruncated(t.losses.strings_truncated);
  l.setDecodeErrors(t.losses.decode_errors);
  l.setHookMisses(t.losses.hook_misses);
  l.setUserStackFail(t.losses.user_stack_fail);
  l.setPathsFull(t.losses.paths_full);
  l.setPathsUnchecked(t.losses.paths_unchecked);
  b.setBatches(batches);
  b.setOutcomesFromNs(t.outcomes_from_ns);
  b.setMaxSizeReached(t.max_size_reached);
  b.setOutcomeWindows(t.outcome_windows);
  b.setOutcomeWindowsNs(t.outcome_windows_ns);
  b.setContinued(t.continued);
}

size_t Batch::size() const {
  return checks.size() + forks.size() + execs.size() + exits.size() + outcomes.size() + capsets.size() +
         operations.size() + stacks.size() + user_stacks.size() + windows.size();
}

void Batch::clear() {
  checks.clear();
  forks.clear();
  execs.clear();
  exits.clear();
  outcomes.clear();
  capsets.clear();
  operations.clear();
  stacks.clear();
  user_stacks.clear();
  windows.clear();
}

void to_capnp(const Batch& batch, uint64_t seq, schema::EventBatch::Builder b) {
  b.setSeq(seq);
  if (!batch.checks.empty()) {
    const auto& v = batch.checks;
    auto c = b.initCapChecks();
    c.setCount(static_cast<uint32_t>(v.size()));
    c.setTimeBaseNs(v[0].time_ns);
    put_time_column(v, c);
    put_column<uint32_t>(v, 0u, [](const CapCheck& e) { return e.pid; }, [&](unsigned n) { return c.initPid(n); });
    put_column<uint32_t>(v, 0u, [](const CapCheck& e) { return e.tid; }, [&](unsigned n) { return c.initTid(n); });
    put_column<int32_t>(v, 0, [](const CapCheck& e) { return e.cap; }, [&](unsigned n) { return c.initCap(n); });
    put_column<bool>(v, false, [](const CapCheck& e) { return e.granted; }, [&](unsigned n) { return c.initGranted(n); });
    put_column<int32_t>(v, -1, [](const CapCheck& e) { return e.syscall_nr; }, [&](unsigned n) { return c.initSyscallNr(n); });
    put_column<uint32_t>(v, 0u, [](const CapCheck& e) { return e.opts; }, [&](unsigned n) { return c.initOpts(n); });
    put_column<uint64_t>(v, 0ull, [](const CapCheck& e) { return e.target_userns_inum; }, [&](unsigned n) { return c.initTargetUsernsInum(n); });
    put_column<uint32_t>(v, 0u, [](const CapCheck& e) { return e.stack_id; }, [&](unsigned n) { return c.initStackId(n); });
    put_column<uint64_t>(v, 0ull, [](const CapCheck& e) { return e.time_spread_ns; }, [&](unsigned n) { return c.initTimeSpreadNs(n); });
    put_column<uint8_t>(v, uint8_t{0}, [](const CapCheck& e) { return static_cast<uint8_t>(e.checked_cred); }, [&](unsigned n) { return c.initCheckedCred(n); });
    put_column<uint32_t>(v, 0u, [](const CapCheck& e) { return e.checked_euid; }, [&](unsigned n) { return c.initCheckedEuid(n); });
    put_column<uint32_t>(v, 0u, [](const CapCheck& e) { return e.user_stack_id; }, [&](unsigned n) { return c.initUserStackId(n); });
  }
  if (!batch.forks.empty()) {
    auto l = b.initForks(static_cast<unsigned>(batch.forks.size()));
    for (unsigned i = 0; i < batch.forks.size(); ++i) {
      const auto& e = batch.forks[i];
      l[i].setTimeNs(e.time_ns);
      l[i].setParentPid(e.parent_pid);
      l[i].setParentTid(e.parent_tid);
      l[i].setChildPid(e.child_pid);
      l[i].setChildTid(e.child_tid);
      l[i].setIsThread(e.is_thread);
      l[i].setChildStartTimeNs(e.child_start_time_ns);
    }
  }
  if (!batch.execs.empty()) {
    auto l = b.initExecs(static_cast<unsigned>(batch.execs.size()));
    for (unsigned i = 0; i < batch.execs.size(); ++i) {
      const auto& e = batch.execs[i];
      auto o = l[i];
      o.setTimeNs(e.time_ns);
      o.setPid(e.pid);
      o.setTid(e.tid);
      o.setOldTid(e.old_tid);
      o.setStartTimeNs(e.start_time_ns);
      o.setFilename(sp(e.filename));
      set_strings(o.initArgv(static_cast<unsigned>(e.argv.size())), e.argv);
      o.setArgvTruncated(e.argv_truncated);
      o.setUid(e.uid);
      o.setGid(e.gid);
      o.setEuid(e.euid);
      o.setEgid(e.egid);
      put_caps(e.caps, o.initCaps());
      if (e.file_caps) put_file_caps(*e.file_caps, o.initFileCaps());
      o.setCgroupId(e.cgroup_id);
      o.setCgroup(sp(e.cgroup));
      o.setUsernsInum(e.userns_inum);
      o.setNetnsInum(e.netns_inum);
    }
  }
  if (!batch.exits.empty()) {
    auto l = b.initExits(static_cast<unsigned>(batch.exits.size()));
    for (unsigned i = 0; i < batch.exits.size(); ++i) {
      const auto& e = batch.exits[i];
      l[i].setTimeNs(e.time_ns);
      l[i].setPid(e.pid);
      l[i].setTid(e.tid);
      l[i].setExitCode(e.exit_code);
      l[i].setGroupDead(e.group_dead);
    }
  }
  if (!batch.outcomes.empty()) {
    auto l = b.initOutcomes(static_cast<unsigned>(batch.outcomes.size()));
    for (unsigned i = 0; i < batch.outcomes.size(); ++i) {
      const auto& e = batch.outcomes[i];
      l[i].setTimeNs(e.time_ns);
      l[i].setPid(e.pid);
      l[i].setTid(e.tid);
      l[i].setSyscallNr(e.syscall_nr);
      l[i].setRet(e.ret);
    }
  }
  if (!batch.windows.empty()) {
    auto l = b.initOutcomeWindows(static_cast<unsigned>(batch.windows.size()));
    for (unsigned i = 0; i < batch.windows.size(); ++i) {
      const auto& w = batch.windows[i];
      l[i].setStartNs(w.start_ns);
      l[i].setEndNs(w.end_ns);
      l[i].setTriggerTimeNs(w.trigger_time_ns);
      l[i].setTriggerPid(w.trigger_pid);
      l[i].setTriggerTid(w.trigger_tid);
      l[i].setTriggerCap(w.trigger_cap);
      l[i].setTriggerSyscall(w.trigger_syscall);
      l[i].setClosedBy(static_cast<schema::WindowEnd>(w.closed_by));
      l[i].setDenials(w.denials);
    }
  }
  if (!batch.capsets.empty()) {
    auto l = b.initCapsets(static_cast<unsigned>(batch.capsets.size()));
    for (unsigned i = 0; i < batch.capsets.size(); ++i) {
      const auto& e = batch.capsets[i];
      l[i].setTimeNs(e.time_ns);
      l[i].setPid(e.pid);
      l[i].setTid(e.tid);
      l[i].setEffective(e.effective);
      l[i].setPermitted(e.permitted);
      l[i].setInheritable(e.inheritable);
      if (e.source == CapsetSource::cred_change) l[i].setSource(schema::CapsetSource::CRED_CHANGE);
      l[i].setAmbient(e.ambient);
      if (e.ids) {
        l[i].setHasIds(true);
        l[i].setUid(e.ids->uid);
        l[i].setEuid(e.ids->euid);
        l[i].setGid(e.ids->gid);
        l[i].setEgid(e.ids->egid);
      }
    }
  }
  if (!batch.operations.empty()) {
    auto l = b.initOperations(static_cast<unsigned>(batch.operations.size()));
    for (unsigned i = 0; i < batch.operations.size(); ++i) {
      const auto& e = batch.operations[i];
      auto o = l[i];
      o.setTimeNs(e.time_ns);
      o.setPid(e.pid);
      o.setTid(e.tid);
      o.setKind(to_capnp(e.kind));
      o.setSyscallNr(e.syscall_nr);
      o.setA0(e.a0);
      o.setA1(e.a1);
      o.setA2(e.a2);
      o.setA3(e.a3);
      o.setUid(e.uid);
      o.setGid(e.gid);
      o.setHasRet(e.ret.has_value());
      o.setRet(e.ret.value_or(0));
      o.setCap(e.cap);
      o.setGranted(e.granted);
      o.setStackId(e.stack_id);
      auto put = [](auto list, const std::vector<int64_t>& v) {
        for (unsigned j = 0; j < v.size(); ++j) list.set(j, v[j]);
      };
      if (!e.args.empty()) put(o.initArgs(static_cast<unsigned>(e.args.size())), e.args);
      if (!e.user_words.empty()) put(o.initUserWords(static_cast<unsigned>(e.user_words.size())), e.user_words);
      if (!e.state.empty()) put(o.initState(static_cast<unsigned>(e.state.size())), e.state);
    }
  }
  if (!batch.stacks.empty()) {
    auto l = b.initStacks(static_cast<unsigned>(batch.stacks.size()));
    for (unsigned i = 0; i < batch.stacks.size(); ++i) {
      l[i].setId(batch.stacks[i].id);
      set_strings(l[i].initFrames(static_cast<unsigned>(batch.stacks[i].frames.size())), batch.stacks[i].frames);
    }
  }
  if (!batch.user_stacks.empty()) put_user_stacks(batch.user_stacks, b);
}

Hook from_capnp(schema::Hook h) {
  switch (h) {
    case schema::Hook::TP_BTF: return Hook::tp_btf;
    case schema::Hook::FEXIT: return Hook::fexit;
    case schema::Hook::KPROBE: return Hook::kprobe;
    default: return Hook::unknown;  // includes values from newer writers
  }
}

TargetMode from_capnp(schema::TargetMode m) {
  switch (m) {
    case schema::TargetMode::COMMAND: return TargetMode::command;
    case schema::TargetMode::PID: return TargetMode::pid;
    case schema::TargetMode::CGROUP: return TargetMode::cgroup;
    default: return TargetMode::unknown;
  }
}

OpKind from_capnp(schema::OpKind k) {
  const auto v = static_cast<uint16_t>(k);
  // Values past the last one this build knows come from newer writers.
  return v <= static_cast<uint16_t>(OpKind::setpriority) ? static_cast<OpKind>(v) : OpKind::unknown;
}

Header from_capnp(schema::Header::Reader r) {
  Header h;
  h.format_major = r.getFormatMajor();
  h.format_minor = r.getFormatMinor();
  auto rec = r.getRecorder();
  h.recorder_version = str(rec.getVersion());
  h.recorder_argv = strings(rec.getArgv());
  h.target_mode = from_capnp(rec.getTargetMode());
  h.target = str(rec.getTarget());
  for (auto c : rec.getContainers())
    h.containers.push_back({str(c.getId()), str(c.getName()), str(c.getEngine()), str(c.getCgroup())});
  auto host = r.getHost();
  h.hostname = str(host.getHostname());
  h.kernel_release = str(host.getKernelRelease());
  h.kernel_version = str(host.getKernelVersion());
  h.arch = str(host.getArch());
  h.boot_id = str(host.getBootId());
  h.lockdown = str(host.getLockdown());
  h.lsms = strings(host.getLsms());
  h.init_userns_inum = host.getInitUsernsInum();
  if (host.hasKernelConfig()) {
    auto kc = host.getKernelConfig();
    auto too_long = [](const char* what, size_t n, size_t max) {
      if (n > max)
        throw std::runtime_error(std::string("kernel config ") + what + " of " + std::to_string(n) + " bytes (at most " +
                                 std::to_string(max) + ")");
    };
    too_long("source", kc.getSource().size(), kMaxKernelConfigPathBytes);
    too_long("reason", kc.getMissing().size(), kMaxKernelConfigPathBytes);
    const auto symbols = kc.getSymbols();
    if (symbols.size() > kMaxKernelConfigSymbols)
      throw std::runtime_error("kernel config of " + std::to_string(symbols.size()) + " symbols (at most " +
                               std::to_string(kMaxKernelConfigSymbols) + ")");
    for (auto kv : symbols) {
      too_long("symbol name", kv.getKey().size(), kMaxKernelConfigNameBytes);
      too_long("value", kv.getValue().size(), kMaxKernelConfigValueBytes);
    }
    h.kernel_config_source = str(kc.getSource());
    h.kernel_config = get_kvs(symbols);
    h.kernel_config_missing = str(kc.getMissing());
  }
  auto clock = r.getClock();
  h.clock_boottime_ns = clock.getBoottimeNs();
  h.clock_realtime_ns = clock.getRealtimeNs();
  auto sys = r.getSysctls();
  h.sysctls_global = get_kvs(sys.getGlobal());
  h.sysctls_netns = get_kvs(sys.getNetns());
  h.target_netns_inum = sys.getTargetNetnsInum();
  for (auto rl : sys.getTargetRlimits()) {
    h.target_rlimits.push_back({rl.getResource(), str(rl.getName()), rl.getSoft(), rl.getHard()});
  }
  auto hook = r.getHook();
  h.hook = from_capnp(hook.getHook());
  for (auto a : hook.getAttempts()) h.hook_attempts.push_back({from_capnp(a.getHook()), a.getUsed(), str(a.getReason())});
  h.opts_available = hook.getOptsAvailable();
  // Enumerants from a newer writer keep the oldest meaning rather than a made-up one.
  auto facts = hook.getFactsSource();
  h.facts_source = facts <= schema::FactsSource::NONE ? static_cast<FactsSource>(facts) : FactsSource::sys_exit;
  h.facts_reason = str(hook.getFactsReason());
  h.cred_changes = hook.getCredChanges();
  auto tracking = hook.getOutcomeTracking();
  h.outcome_tracking =
      tracking <= schema::OutcomeTracking::IN_WINDOWS ? static_cast<OutcomeTracking>(tracking) : OutcomeTracking::from_start;
  auto mechanism = hook.getOutcomeMechanism();
  h.outcome_mechanism = mechanism <= schema::OutcomeMechanism::NONE ? static_cast<OutcomeMechanism>(mechanism)
                                                                    : OutcomeMechanism::sys_exit;
  h.outcome_reason = str(hook.getOutcomeReason());
  h.outcome_window_ns = hook.getOutcomeWindowNs();
  h.link_facts = hook.getLinkFacts();
  h.link_facts_reason = str(hook.getLinkFactsReason());
  if (r.hasSplit()) {
    h.split_run_id = str(r.getSplit().getRunId());
    h.split_piece = r.getSplit().getPiece();
  }
  auto s = r.getSampling();
  h.stacks_per_key = s.getStacksPerKey();
  h.user_stacks = s.getUserStacks();
  h.ringbuf_bytes = s.getRingbufBytes();
  h.max_tasks = s.getMaxTasks();
  h.max_stacks = s.getMaxStacks();
  h.user_stack_depth = s.getUserStackDepth();
  h.paths_per_key = s.getPathsPerKey();
  h.path_frames = s.getPathFrames();
  h.path_free_checks = s.getPathFreeChecks();
  return h;
}

std::vector<ProcessInfo> from_capnp(schema::ProcessSnapshot::Reader r) {
  std::vector<ProcessInfo> out;
  auto list = r.getProcesses();
  out.reserve(list.size());
  for (auto p : list) {
    ProcessInfo o;
    o.pid = p.getPid();
    o.ppid = p.getPpid();
    o.start_time_ns = p.getStartTimeNs();
    o.exe = str(p.getExe());
    o.argv = strings(p.getArgv());
    o.uid = p.getUid();
    o.gid = p.getGid();
    o.euid = p.getEuid();
    o.egid = p.getEgid();
    o.caps = get_caps(p.getCaps());
    if (p.hasFileCaps()) o.file_caps = get_file_caps(p.getFileCaps());
    o.cgroup = str(p.getCgroup());
    out.push_back(std::move(o));
  }
  return out;
}

Trailer from_capnp(schema::Trailer::Reader r) {
  Trailer t;
  t.clean_shutdown = r.getCleanShutdown();
  t.end_time_ns = r.getEndTimeNs();
  t.stop_reason = str(r.getStopReason());
  if (r.getHasTargetExitStatus()) t.target_exit_status = r.getTargetExitStatus();
  auto c = r.getCounts();
  t.counts = {c.getCapChecks(), c.getForks(), c.getExecs(), c.getExits(),
              c.getOutcomes(), c.getCapsets(), c.getOperations(), c.getStacks(), c.getUserStacks()};
  auto l = r.getLosses();
  t.losses = {l.getRingbufDrops(), l.getTaskMapFull(), l.getStackMapFull(), l.getStacksUnsampled(),
              l.getUntracedProcesses(), l.getOutcomesMissed(), l.getStringsTruncated(), l.getDecodeErrors(),
              l.getHookMisses(), l.getUserStackFail(), l.getPathsFull(), l.getPathsUnchecked()};
  t.outcomes_from_ns = r.getOutcomesFromNs();
  t.max_size_reached = r.getMaxSizeReached();
  t.outcome_windows = r.getOutcomeWindows();
  t.outcome_windows_ns = r.getOutcomeWindowsNs();
  t.continued = r.getContinued();
  return t;
}

void from_capnp(schema::EventBatch::Reader r, Batch& out) {
  out.clear();
  for (auto e : r.getForks()) {
    out.forks.push_back({e.getTimeNs(), e.getParentPid(), e.getParentTid(), e.getChildPid(), e.getChildTid(),
                         e.getIsThread(), e.getChildStartTimeNs()});
  }
  for (auto e : r.getExecs()) {
    ExecEvent o;
    o.time_ns = e.getTimeNs();
    o.pid = e.getPid();
    o.tid = e.getTid();
    o.old_tid = e.getOldTid();
    o.start_time_ns = e.getStartTimeNs();
    o.filename = str(e.getFilename());
    o.argv = strings(e.getArgv());
    o.argv_truncated = e.getArgvTruncated();
    o.uid = e.getUid();
    o.gid = e.getGid();
    o.euid = e.getEuid();
    o.egid = e.getEgid();
    o.caps = get_caps(e.getCaps());
    if (e.hasFileCaps()) o.file_caps = get_file_caps(e.getFileCaps());
    o.cgroup_id = e.getCgroupId();
    o.cgroup = str(e.getCgroup());
    o.userns_inum = e.getUsernsInum();
    o.netns_inum = e.getNetnsInum();
    out.execs.push_back(std::move(o));
  }
  for (auto e : r.getExits()) {
    out.exits.push_back({e.getTimeNs(), e.getPid(), e.getTid(), e.getExitCode(), e.getGroupDead()});
  }
  for (auto e : r.getOutcomes()) {
    out.outcomes.push_back({e.getTimeNs(), e.getPid(), e.getTid(), e.getSyscallNr(), e.getRet()});
  }
  for (auto e : r.getCapsets()) {
    CapsetEvent o{e.getTimeNs(), e.getPid(), e.getTid(), e.getEffective(), e.getPermitted(), e.getInheritable()};
    o.source = e.getSource() == schema::CapsetSource::CRED_CHANGE ? CapsetSource::cred_change
                                                                   : CapsetSource::capset_syscall;
    o.ambient = e.getAmbient();
    if (e.getHasIds()) o.ids = CredIds{e.getUid(), e.getEuid(), e.getGid(), e.getEgid()};
    out.capsets.push_back(o);
  }
  for (auto e : r.getOperations()) {
    OperationFact o;
    o.time_ns = e.getTimeNs();
    o.pid = e.getPid();
    o.tid = e.getTid();
    o.kind = from_capnp(e.getKind());
    o.syscall_nr = e.getSyscallNr();
    o.a0 = e.getA0();
    o.a1 = e.getA1();
    o.a2 = e.getA2();
    o.a3 = e.getA3();
    o.uid = e.getUid();
    o.gid = e.getGid();
    if (e.getHasRet()) o.ret = e.getRet();
    o.cap = e.getCap();
    o.granted = e.getGranted();
    o.stack_id = e.getStackId();
    // Bounded by what a fact can mean: longer lists are damage, not data.
    auto get = [](auto list, size_t max, std::vector<int64_t>& v) {
      for (unsigned j = 0; j < list.size() && j < max; ++j) v.push_back(list[j]);
    };
    get(e.getArgs(), 6, o.args);
    get(e.getUserWords(), 16, o.user_words);
    get(e.getState(), 64, o.state);
    out.operations.push_back(o);
  }
  for (auto s : r.getStacks()) out.stacks.push_back({s.getId(), strings(s.getFrames())});
  out.user_stacks = get_user_stacks(r);
  for (auto w : r.getOutcomeWindows()) {
    OutcomeWindow o{w.getStartNs(), w.getEndNs(), w.getTriggerTimeNs(), w.getTriggerPid(), w.getTriggerTid(),
                    w.getTriggerCap(), w.getTriggerSyscall()};
    const auto end = w.getClosedBy();
    o.closed_by = end <= schema::WindowEnd::RECORDING_END ? static_cast<WindowEnd>(end) : WindowEnd::open;
    o.denials = w.getDenials();
    out.windows.push_back(o);
  }
}

CheckColumns open_columns(schema::CapCheckColumns::Reader r) {
  CheckColumns c;
  c.count = r.getCount();
  c.time_base_ns = r.getTimeBaseNs();
  c.time_deltas = r.getTimeDeltas();
  c.time_delta_planes = r.getTimeDeltaPlanes();
  c.time_delta_min = r.getTimeDeltaMin();
  c.time_delta_width = r.getTimeDeltaWidth();
  if (c.time_delta_planes.size() != 0) {
    if (c.time_deltas.size() != 0) throw std::runtime_error("cap check times stored twice");
    if (c.time_delta_width < 1 || c.time_delta_width > 8 ||
        c.time_delta_planes.size() != uint64_t{c.count} * c.time_delta_width) {
      throw std::runtime_error("cap check time planes: " + std::to_string(c.time_delta_planes.size()) +
                               " bytes for " + std::to_string(c.count) + " events of width " +
                               std::to_string(c.time_delta_width));
    }
  }
  c.pid = r.getPid();
  c.tid = r.getTid();
  c.cap = r.getCap();
  c.granted = r.getGranted();
  c.syscall_nr = r.getSyscallNr();
  c.opts = r.getOpts();
  c.target_userns_inum = r.getTargetUsernsInum();
  c.stack_id = r.getStackId();
  c.time_spread_ns = r.getTimeSpreadNs();
  c.checked_cred = r.getCheckedCred();
  c.checked_euid = r.getCheckedEuid();
  c.user_stack_id = r.getUserStackId();
  check_column(c.time_deltas, c.count, "timeDeltas");
  check_column(c.pid, c.count, "pid");
  check_column(c.tid, c.count, "tid");
  check_column(c.cap, c.count, "cap");
  check_column(c.granted, c.count, "granted");
  check_column(c.syscall_nr, c.count, "syscallNr");
  check_column(c.opts, c.count, "opts");
  check_column(c.target_userns_inum, c.count, "targetUsernsInum");
  check_column(c.stack_id, c.count, "stackId");
  check_column(c.time_spread_ns, c.count, "timeSpreadNs");
  check_column(c.checked_cred, c.count, "checkedCred");
  check_column(c.checked_euid, c.count, "checkedEuid");
  check_column(c.user_stack_id, c.count, "userStackId");
  return c;
}

bool has_per_check_column(const CheckColumns& c) {
  if (c.count <= 1) return true;
  return c.time_delta_planes.size() != 0 || c.time_deltas.size() == c.count || c.pid.size() == c.count ||
         c.tid.size() == c.count || c.cap.size() == c.count || c.granted.size() == c.count ||
         c.syscall_nr.size() == c.count || c.opts.size() == c.count || c.target_userns_inum.size() == c.count ||
         c.stack_id.size() == c.count || c.time_spread_ns.size() == c.count || c.user_stack_id.size() == c.count;
}

void decode_cap_checks(const CheckColumns& c, uint32_t first, std::span<CapCheck> out, uint64_t& running_time) {
  if (out.empty()) return;
  uint64_t t = running_time;
  if (c.time_delta_planes.size() != 0) {
    const uint8_t* planes = c.time_delta_planes.begin();
    const size_t n = c.count;
    const uint64_t min = static_cast<uint64_t>(c.time_delta_min);
    const unsigned width = c.time_delta_width;
    for (size_t k = 0; k < out.size(); ++k) {
      const size_t i = first + k;
      uint64_t u = planes[i];
      for (unsigned b = 1; b < width; ++b) u |= uint64_t{planes[b * n + i]} << (8 * b);
      t += min + u;
      out[k].time_ns = t;
    }
  } else if (c.time_deltas.size() <= 1) {
    const uint64_t d = c.time_deltas.size() == 0 ? 0 : static_cast<uint64_t>(unzigzag(c.time_deltas[0]));
    for (auto& e : out) {
      t += d;
      e.time_ns = t;
    }
  } else {
    for (size_t k = 0; k < out.size(); ++k) {
      t += static_cast<uint64_t>(unzigzag(c.time_deltas[first + static_cast<uint32_t>(k)]));
      out[k].time_ns = t;
    }
  }
  running_time = t;
  get_column<uint32_t>(c.pid, first, out, 0u, [](CapCheck& e, uint32_t v) { e.pid = v; });
  get_column<uint32_t>(c.tid, first, out, 0u, [](CapCheck& e, uint32_t v) { e.tid = v; });
  get_column<int32_t>(c.cap, first, out, 0, [](CapCheck& e, int32_t v) { e.cap = v; });
  get_column<bool>(c.granted, first, out, false, [](CapCheck& e, bool v) { e.granted = v; });
  get_column<int32_t>(c.syscall_nr, first, out, -1, [](CapCheck& e, int32_t v) { e.syscall_nr = v; });
  get_column<uint32_t>(c.opts, first, out, 0u, [](CapCheck& e, uint32_t v) { e.opts = v; });
  get_column<uint64_t>(c.target_userns_inum, first, out, 0ull, [](CapCheck& e, uint64_t v) { e.target_userns_inum = v; });
  get_column<uint32_t>(c.stack_id, first, out, 0u, [](CapCheck& e, uint32_t v) { e.stack_id = v; });
  get_column<uint64_t>(c.time_spread_ns, first, out, 0ull, [](CapCheck& e, uint64_t v) { e.time_spread_ns = v; });
  // Values a newer writer may add read as foreign: never the program's own.
  get_column<uint8_t>(c.checked_cred, first, out, uint8_t{0},
                      [](CapCheck& e, uint8_t v) { e.checked_cred = v <= 2 ? static_cast<CheckedCred>(v) : CheckedCred::foreign; });
  get_column<uint32_t>(c.checked_euid, first, out, 0u, [](CapCheck& e, uint32_t v) { e.checked_euid = v; });
  get_column<uint32_t>(c.user_stack_id, first, out, 0u, [](CapCheck& e, uint32_t v) { e.user_stack_id = v; });
}

}  // namespace capaudit::common::codec
