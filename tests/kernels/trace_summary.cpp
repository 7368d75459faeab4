// capaudit-trace-summary: reduces a trace to the facts the kernel matrix
// compares across kernels and hooks, as one JSON object on stdout.
//   capaudit-trace-summary TRACE
// It reads through the same common/ reader as the analyzer, so a trace that
// a guest kernel produced is proven readable on the host, and it uses no
// analyzer code, so the matrix also works while the analyzer is changing.
#include <cap-ng.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "common/trace_io.h"

namespace {

using namespace capaudit::common;

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string cap_name(int32_t cap) {
  const char* name = capng_capability_to_name(static_cast<unsigned int>(cap));
  if (name == nullptr) return "cap_" + std::to_string(cap);
  return std::string("cap_") + name;
}

struct PerCap {
  uint64_t granted = 0;
  uint64_t denied = 0;
  std::set<int32_t> syscalls;
  std::set<uint32_t> opts;
  std::set<uint32_t> stack_ids;
};

class Summary : public TraceVisitor {
 public:
  void on_header(const Header& h) override { header_ = h; }
  void on_cap_checks(std::span<const CapCheck> checks) override {
    for (const auto& c : checks) {
      auto& p = caps_[c.cap];
      (c.granted ? p.granted : p.denied)++;
      p.syscalls.insert(c.syscall_nr);
      p.opts.insert(c.opts);
      if (c.stack_id != 0) p.stack_ids.insert(c.stack_id);
    }
  }
  void on_execs(std::span<const ExecEvent> execs) override { execs_ += execs.size(); }
  void on_outcomes(std::span<const SyscallOutcome> o) override { outcomes_ += o.size(); }
  // The facts a re-evaluation needs, by what they say (not by time or source).
  void on_operations(std::span<const OperationFact> ops) override {
    for (const auto& o : ops) {
      // check contexts follow the stack budget and the kernel's own paths: compared as checks, not facts
      if (o.kind == OpKind::cap_check) {
        ++check_contexts_;
        continue;
      }
      std::string key = std::string(to_string(o.kind)) + ":" + std::to_string(o.a0) + ":" + std::to_string(o.a1);
      if (o.kind == OpKind::bind) {
        auto ps = o.state_at(StateSlot::port_start);
        key += ":ps" + (ps ? std::to_string(*ps) : std::string("?"));
      }
      if (o.kind == OpKind::socket) key += ":" + std::to_string(o.a2);
      operations_.insert(key);
    }
  }
  void on_stacks(std::span<const KernelStack> stacks) override {
    for (const auto& s : stacks) stacks_[s.id] = s.frames;
  }
  void on_trailer(const Trailer& t) override { trailer_ = t; }

  void print(const ReadResult& r) const {
    std::printf("{\"status\":%s,\"message\":%s", json_string(to_string(r.status)).c_str(),
                json_string(r.message).c_str());
    std::printf(",\"kernel_release\":%s,\"hook\":%s,\"opts_available\":%s",
                json_string(header_.kernel_release).c_str(), json_string(to_string(header_.hook)).c_str(),
                header_.opts_available ? "true" : "false");
    std::printf(",\"hook_attempts\":[");
    const char* sep = "";
    for (const auto& a : header_.hook_attempts) {
      std::printf("%s{\"hook\":%s,\"used\":%s,\"reason\":%s}", sep, json_string(to_string(a.hook)).c_str(),
                  a.used ? "true" : "false", json_string(a.reason).c_str());
      sep = ",";
    }
    std::printf("],\"execs\":%llu,\"outcomes\":%llu,\"clean_shutdown\":%s",
                static_cast<unsigned long long>(execs_), static_cast<unsigned long long>(outcomes_),
                trailer_.clean_shutdown ? "true" : "false");
    const auto& l = trailer_.losses;
    std::printf(",\"check_contexts\":%llu", static_cast<unsigned long long>(check_contexts_));
    std::printf(",\"operations\":[");
    sep = "";
    for (const auto& o : operations_) {
      std::printf("%s%s", sep, json_string(o).c_str());
      sep = ",";
    }
    std::printf("]");
    std::printf(",\"ringbuf_drops\":%llu,\"hook_misses\":%llu,\"caps\":{", static_cast<unsigned long long>(l.ringbuf_drops),
                static_cast<unsigned long long>(l.hook_misses));
    sep = "";
    for (const auto& [cap, p] : caps_) {
      std::printf("%s%s:{\"granted\":%llu,\"denied\":%llu,\"syscalls\":[", sep, json_string(cap_name(cap)).c_str(),
                  static_cast<unsigned long long>(p.granted), static_cast<unsigned long long>(p.denied));
      print_list(p.syscalls);
      std::printf("],\"opts\":[");
      print_list(p.opts);
      // The call paths let the comparison tell a gating check from advisory
      // noise without this tool knowing any kernel function names.
      std::printf("],\"paths\":[");
      const char* psep = "";
      for (uint32_t id : p.stack_ids) {
        auto it = stacks_.find(id);
        if (it == stacks_.end()) continue;
        std::printf("%s[", psep);
        const char* fsep = "";
        for (const auto& f : it->second) {
          std::printf("%s%s", fsep, json_string(f).c_str());
          fsep = ",";
        }
        std::printf("]");
        psep = ",";
      }
      std::printf("]}");
      sep = ",";
    }
    std::printf("}}\n");
  }

 private:
  template <typename Set>
  static void print_list(const Set& s) {
    const char* sep = "";
    for (auto v : s) {
      std::printf("%s%lld", sep, static_cast<long long>(v));
      sep = ",";
    }
  }

  Header header_;
  Trailer trailer_;
  std::map<int32_t, PerCap> caps_;
  std::map<uint32_t, std::vector<std::string>> stacks_;
  uint64_t execs_ = 0;
  uint64_t outcomes_ = 0;
  std::set<std::string> operations_;
  uint64_t check_contexts_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: capaudit-trace-summary TRACE\n");
    return 2;
  }
  Summary summary;
  const ReadResult r = read_trace(argv[1], summary);
  summary.print(r);
  return r.status == ReadStatus::error ? 1 : 0;
}
