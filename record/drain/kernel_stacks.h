// Kernel call paths: symbolized from /proc/kallsyms (readable with real
// addresses only while privileged, so it is loaded before dropping caps) and
// stored once per unique path.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "common/trace.h"

namespace capaudit::record {

class KernelSymbols {
 public:
  // Parses kallsyms text ("ffffffff81000000 T _stext [module]"). Symbols with
  // all-zero addresses (kptr_restrict hid them) are ignored.
  static KernelSymbols parse(std::istream& in);
  static KernelSymbols load(const std::string& path = "/proc/kallsyms");

  bool empty() const { return addrs_.empty(); }
  size_t size() const { return addrs_.size(); }
  // "func+0x1a" or "func+0x1a [module]"; the raw hex address when unknown.
  std::string describe(uint64_t addr) const;

 private:
  std::vector<uint64_t> addrs_;  // sorted
  std::vector<std::string> names_;
};

// Content-addressed stack store: the same path always gets the same id.
class StackTable {
 public:
  explicit StackTable(const KernelSymbols& symbols) : symbols_(symbols) {}
  // Returns the id of IPS; NEW_STACK receives the symbolized stack the first
  // time a path is seen (the caller writes it to the trace once).
  uint32_t intern(std::span<const uint64_t> ips, common::KernelStack* new_stack, bool* is_new);
  size_t size() const { return ids_.size(); }

 private:
  const KernelSymbols& symbols_;
  std::map<std::vector<uint64_t>, uint32_t> ids_;
};

}  // namespace capaudit::record
