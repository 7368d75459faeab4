// Shared pieces of the recorder's end-to-end tests: run capaudit-record for
// real (root, real BPF) and read its trace back through the public reader.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/trace_io.h"
#include "record/recorder.h"
#include "tests/record/helper/run_helper.h"

namespace capaudit::test {

#define CAPAUDIT_REQUIRE_ROOT()                                                   \
  do {                                                                            \
    if (!::capaudit::test::running_as_root()) GTEST_SKIP() << "needs root (real BPF)"; \
  } while (0)

inline const char* recorder_path() { return CAPAUDIT_RECORD_BIN; }

// Everything in a trace, kept in memory (test traces are small).
struct Trace : common::TraceVisitor {
  common::Header header;
  std::vector<common::ProcessInfo> processes;
  std::vector<common::CapCheck> checks;
  std::vector<common::ForkEvent> forks;
  std::vector<common::ExecEvent> execs;
  std::vector<common::ExitEvent> exits;
  std::vector<common::SyscallOutcome> outcomes;
  std::vector<common::CapsetEvent> capsets;
  std::vector<common::OperationFact> operations;
  std::vector<common::KernelStack> stacks;
  std::vector<common::UserStack> user_stacks;
  std::vector<common::OutcomeWindow> windows;
  common::Trailer trailer;
  common::ReadResult read;

  void on_header(const common::Header& h) override { header = h; }
  void on_processes(std::span<const common::ProcessInfo> p) override { processes.insert(processes.end(), p.begin(), p.end()); }
  void on_cap_checks(std::span<const common::CapCheck> s) override { checks.insert(checks.end(), s.begin(), s.end()); }
  void on_forks(std::span<const common::ForkEvent> s) override { forks.insert(forks.end(), s.begin(), s.end()); }
  void on_execs(std::span<const common::ExecEvent> s) override { execs.insert(execs.end(), s.begin(), s.end()); }
  void on_exits(std::span<const common::ExitEvent> s) override { exits.insert(exits.end(), s.begin(), s.end()); }
  void on_outcomes(std::span<const common::SyscallOutcome> s) override { outcomes.insert(outcomes.end(), s.begin(), s.end()); }
  void on_capsets(std::span<const common::CapsetEvent> s) override { capsets.insert(capsets.end(), s.begin(), s.end()); }
  void on_operations(std::span<const common::OperationFact> s) override { operations.insert(operations.end(), s.begin(), s.end()); }
  void on_stacks(std::span<const common::KernelStack> s) override { stacks.insert(stacks.end(), s.begin(), s.end()); }
  void on_user_stacks(std::span<const common::UserStack> s) override {
    user_stacks.insert(user_stacks.end(), s.begin(), s.end());
  }
  void on_outcome_windows(std::span<const common::OutcomeWindow> s) override { windows.insert(windows.end(), s.begin(), s.end()); }
  void on_trailer(const common::Trailer& t) override { trailer = t; }

  // The pid that exec'd first: the command the recorder started.
  uint32_t target_pid() const { return execs.empty() ? 0 : execs.front().pid; }
  // The operation facts (bind, socket), without the checks' contexts (cap_check, format 1.5).
  std::vector<common::OperationFact> facts() const {
    std::vector<common::OperationFact> out;
    for (const auto& o : operations)
      if (o.kind != common::OpKind::cap_check) out.push_back(o);
    return out;
  }
  std::vector<common::CapCheck> checks_of(int cap) const {
    std::vector<common::CapCheck> out;
    for (const auto& c : checks)
      if (c.cap == cap) out.push_back(c);
    return out;
  }
};

inline Trace load_trace(const std::string& path) {
  Trace t;
  t.read = common::read_trace(path, t);
  return t;
}

// A fresh path (not created: the recorder refuses to overwrite).
inline std::string temp_trace_path(const std::string& tag) {
  static int seq = 0;
  auto dir = std::filesystem::temp_directory_path();
  std::string p = (dir / ("capaudit-e2e-" + std::to_string(getpid()) + "-" + tag + "-" + std::to_string(seq++) + ".cat")).string();
  std::filesystem::remove(p);
  return p;
}

struct Recording {
  RunResult run;
  Trace trace;
  std::string path;
};

enum class StatusLine { off, as_the_recorder_decides };

// capaudit-record [--no-status] [EXTRA...] -o PATH -- CMD...
inline Recording record(const std::vector<std::string>& extra, const std::vector<std::string>& cmd,
                        const std::string& tag = "rec", StatusLine status = StatusLine::off) {
  Recording r;
  r.path = temp_trace_path(tag);
  std::vector<std::string> argv{recorder_path()};
  if (status == StatusLine::off) argv.push_back("--no-status");
  argv.insert(argv.end(), {"-o", r.path});
  argv.insert(argv.end(), extra.begin(), extra.end());
  if (!cmd.empty()) {
    argv.push_back("--");
    argv.insert(argv.end(), cmd.begin(), cmd.end());
  }
  r.run = run_program(argv);
  r.trace = load_trace(r.path);
  return r;
}

inline bool has_effective_cap(int cap) {
  std::ifstream in("/proc/self/status");
  std::string key, value;
  while (in >> key >> value)
    if (key == "CapEff:") return (std::strtoull(value.c_str(), nullptr, 16) >> cap) & 1;
  return false;
}

inline std::string read_sysctl(const std::string& path) {
  std::ifstream in(path);
  std::string v;
  std::getline(in, v);
  return v;
}

}  // namespace capaudit::test
