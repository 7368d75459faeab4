// User-space call paths: what the kernel walked, named by file so the
// analysis machine can symbolize without this host (format 1.6).
//
// The kernel names most frames itself (build ID + file offset, read in the
// BPF program). Where it could not (status IP: mmap lock busy, the note's page
// not cached, no build ID), the raw address is resolved here against the
// process's /proc/PID/maps while the process lives, and the build ID read from
// the mapped file when it is still the same inode. Nothing is made up: a frame
// neither side could name keeps only its address.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/trace.h"
#include "record/drain/event_decode.h"

namespace capaudit::record {

// One file-backed mapping of /proc/PID/maps.
struct Mapping {
  uint64_t start = 0, end = 0;  // [start, end)
  uint64_t pgoff = 0;           // file offset of start
  uint64_t dev = 0;             // makedev(major, minor)
  uint64_t inode = 0;
  std::string path;             // " (deleted)" removed; see deleted
  bool deleted = false;         // the file was unlinked or replaced since it was mapped
  bool executable = false;
};

// File-backed mappings only (anonymous, [heap], [vdso] ... are left out).
std::vector<Mapping> parse_maps(std::istream& in);

// The GNU build ID (NT_GNU_BUILD_ID) of the ELF file at FD, lowercase hex;
// empty when it has none or is no ELF file.
std::string read_build_id(int fd);

// Where frames' files are looked up: /proc in production, a directory of
// fake PID/maps files in tests.
class ProcessFiles {
 public:
  virtual ~ProcessFiles() = default;
  // The mappings of PID now; nullopt when they cannot be read (gone, no access).
  virtual std::optional<std::vector<Mapping>> maps(uint32_t pid) = 0;
  // The build ID of the file M maps into PID, when it can be read and is
  // still the mapped inode; empty otherwise.
  virtual std::string build_id(uint32_t pid, const Mapping& m) = 0;
};

class ProcFiles final : public ProcessFiles {
 public:
  explicit ProcFiles(std::string proc = "/proc") : proc_(std::move(proc)) {}
  std::optional<std::vector<Mapping>> maps(uint32_t pid) override;
  std::string build_id(uint32_t pid, const Mapping& m) override;

 private:
  std::string proc_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> ids_;  // (dev, inode) -> build ID
};

// How the frames of the stacks resolved so far were named (for the
// recorder's summary and the tests).
struct ResolveStats {
  uint64_t by_kernel = 0;      // build ID + offset from the kernel
  uint64_t by_maps = 0;        // file + offset from /proc/PID/maps (build ID when readable)
  uint64_t address_only = 0;   // neither: the raw address alone
  uint64_t leaves_named = 0;   // leaf words in an executable file mapping (named as a frame would be)
  uint64_t leaves_unnamed = 0; // leaf words read but not in one (or not known to be)
};

// Resolves raw stacks of one process at a time, caching each process's maps
// until it execs or exits (forget) or an address falls outside them.
class UserStackResolver {
 public:
  explicit UserStackResolver(ProcessFiles& files) : files_(files) {}
  std::vector<common::UserFrame> resolve(uint32_t pid, const RawUserStack& raw);
  // The stack's leaf word (RAW.leaf) as a fact: always its value and the
  // code before it when read; named by file and offset like a frame only
  // when it lies in an executable file mapping (the kernel's bpf_find_vma,
  // else /proc/PID/maps). Its build ID is that of a frame of FRAMES (RAW
  // resolved) in the same mapping, else read from the mapped file. Whether
  // it is a frame is not decided here (the analyzer does).
  std::optional<common::UserLeaf> resolve_leaf(uint32_t pid, const RawUserStack& raw,
                                               const std::vector<common::UserFrame>& frames);
  void forget(uint32_t pid) { maps_.erase(pid); }
  // FILE was seen with this build ID (an exec, a mapping read): a frame the
  // kernel names by that ID gets it as its path hint when its process's maps
  // are gone by the time it is resolved (short-lived processes).
  void note_file(const std::string& build_id, const std::string& path);
  const ResolveStats& stats() const { return stats_; }

 private:
  const Mapping* find(uint32_t pid, uint64_t ip);
  ProcessFiles& files_;
  std::unordered_map<uint32_t, std::vector<Mapping>> maps_;
  std::unordered_map<std::string, std::string> paths_;  // build ID -> last path seen with it
  ResolveStats stats_;
};

// Content-addressed store, as StackTable for kernel stacks: the same frames
// always get the same id (>= 1).
class UserStackTable {
 public:
  // The leaf word is part of the identity: the same walk under two
  // different callers of a wrapper is two call paths.
  uint32_t intern(const std::vector<common::UserFrame>& frames, bool* is_new) { return intern(frames, std::nullopt, is_new); }
  uint32_t intern(const std::vector<common::UserFrame>& frames, const std::optional<common::UserLeaf>& leaf, bool* is_new);
  size_t size() const { return ids_.size(); }

 private:
  using Key = std::vector<std::tuple<uint64_t, std::string, std::string, uint64_t, bool>>;
  std::map<Key, uint32_t> ids_;
};

}  // namespace capaudit::record
