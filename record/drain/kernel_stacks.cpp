#include "record/drain/kernel_stacks.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <sstream>

namespace capaudit::record {

KernelSymbols KernelSymbols::parse(std::istream& in) {
  std::vector<std::pair<uint64_t, std::string>> entries;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string addr_text, type, name, module;
    if (!(fields >> addr_text >> type >> name)) continue;
    // Only code: data symbols never appear in a call path.
    if (type != "t" && type != "T" && type != "w" && type != "W") continue;
    uint64_t addr = std::strtoull(addr_text.c_str(), nullptr, 16);
    if (addr == 0) continue;
    if (fields >> module) name += " " + module;
    entries.emplace_back(addr, std::move(name));
  }
  std::sort(entries.begin(), entries.end());
  KernelSymbols out;
  out.addrs_.reserve(entries.size());
  out.names_.reserve(entries.size());
  for (auto& [a, n] : entries) {
    out.addrs_.push_back(a);
    out.names_.push_back(std::move(n));
  }
  return out;
}

KernelSymbols KernelSymbols::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  return parse(in);
}

std::string KernelSymbols::describe(uint64_t addr) const {
  char buf[64];
  auto it = std::upper_bound(addrs_.begin(), addrs_.end(), addr);
  if (it == addrs_.begin()) {
    snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(addr));
    return buf;
  }
  size_t i = static_cast<size_t>(it - addrs_.begin()) - 1;
  const std::string& name = names_[i];
  snprintf(buf, sizeof(buf), "+0x%llx", static_cast<unsigned long long>(addr - addrs_[i]));
  auto space = name.find(' ');
  if (space == std::string::npos) return name + buf;
  return name.substr(0, space) + buf + name.substr(space);
}

namespace {

// Frames of the tracing machinery itself (the BPF program, the tracepoint
// dispatcher, a trampoline): the same in every stack, so not a fact about
// the check. Only leading frames are dropped.
bool is_tracing_frame(const std::string& frame) {
  for (const char* prefix : {"bpf_prog_", "bpf_trace_run", "__bpf_trace_", "bpf_trampoline_", "__bpf_prog_enter",
                             "__bpf_prog_exit", "kretprobe_trampoline", "__kretprobe_trampoline", "0x"})
    if (frame.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace

uint32_t StackTable::intern(std::span<const uint64_t> ips, common::KernelStack* new_stack, bool* is_new) {
  std::vector<uint64_t> key(ips.begin(), ips.end());
  auto [it, inserted] = ids_.try_emplace(std::move(key), static_cast<uint32_t>(ids_.size() + 1));
  *is_new = inserted;
  if (inserted && new_stack) {
    new_stack->id = it->second;
    new_stack->frames.clear();
    size_t first = 0;
    while (first < ips.size() && is_tracing_frame(symbols_.describe(ips[first]))) ++first;
    for (size_t i = first; i < ips.size(); ++i) new_stack->frames.push_back(symbols_.describe(ips[i]));
  }
  return it->second;
}

}  // namespace capaudit::record
