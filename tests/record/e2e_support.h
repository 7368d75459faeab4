// Shared pieces of the recorder's end-to-end tests: run capaudit-record for
// real (root, real BPF) and read its trace back through the public reader.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "common/trace_io.h"
#include "record/recorder.h"
#include "tests/record/helper/run_helper.h"
#include "tests/support/collector.h"

namespace capaudit::test {

#define CAPAUDIT_REQUIRE_ROOT()                                                   \
  do {                                                                            \
    if (!::capaudit::test::running_as_root()) GTEST_SKIP() << "needs root (real BPF)"; \
  } while (0)

inline const char* recorder_path() { return CAPAUDIT_RECORD_BIN; }

// Everything in a trace, kept in memory (test traces are small), and how
// the read went.
struct Trace : CollectingVisitor {
  common::ReadResult read;

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

// The standard output of a shell command (binutils in the user-stack tests).
inline std::string command_output(const std::string& cmd) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  std::string out;
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p.get())) > 0) out.append(buf, n);
  return out;
}

// "Build ID: <hex>" of `readelf -n PATH`; "" when it has none.
inline std::string readelf_build_id(const std::string& path) {
  std::istringstream in(command_output("readelf -n '" + path + "'"));
  std::string line;
  while (std::getline(in, line))
    if (auto at = line.find("Build ID: "); at != std::string::npos) return line.substr(at + 10);
  return {};
}

inline std::string read_sysctl(const std::string& path) {
  std::ifstream in(path);
  std::string v;
  std::getline(in, v);
  return v;
}

}  // namespace capaudit::test
