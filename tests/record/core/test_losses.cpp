// What the recorder counts as lost, and recursion misses read from real
// kernel program info.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "record/attach/bpf_session.h"
#include "record/recorder.h"
#include "tests/record/helper/run_helper.h"

namespace capaudit::record {
namespace {

TEST(TotalLost, CountsEveryMissingEventButNotSamplingOrTruncation) {
  common::Losses l;
  l.stacks_unsampled = 100;   // the stack budget at work: the checks are there
  l.strings_truncated = 100;  // shortened, not missing
  l.untraced_processes = 100; // the same tasks as task_map_full
  EXPECT_EQ(total_lost(l), 0u);
  l.ringbuf_drops = 1;
  l.task_map_full = 2;
  l.stack_map_full = 4;
  l.outcomes_missed = 8;
  l.decode_errors = 16;
  EXPECT_EQ(total_lost(l), 31u);
  l.hook_misses = 32;
  EXPECT_EQ(total_lost(l), 63u);
}

TEST(RecursionMisses, ProgramsThatAreNotThereCountNothing) {
  const int not_bpf = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(not_bpf, 0);
  const std::vector<int> fds = {-1, -22, not_bpf};
  EXPECT_EQ(recursion_misses(fds), 0u);
  ::close(not_bpf);
  EXPECT_EQ(recursion_misses({}), 0u);
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  return bpf_insn{code, dst, src, off, imm};
}

// A raw tracepoint program on bpf_trace_printk that itself calls
// bpf_trace_printk("x"). Run once by BPF_PROG_TEST_RUN (no recursion guard
// there), its printk fires the tracepoint, which runs the attached program;
// that run's printk fires the tracepoint again while the program is active on
// this CPU, so the kernel skips it: one recursion miss per test run (more if
// another program on the host calls bpf_trace_printk meanwhile). The same
// guard skips our hooks when a check interrupts one of them.
TEST(RecursionMisses, CountsEveryRunTheGuardRefused) {
  if (!test::running_as_root()) GTEST_SKIP() << "needs root (real BPF)";
  const bpf_insn prog[] = {
      insn(BPF_ST | BPF_MEM | BPF_DW, BPF_REG_10, 0, -8, 'x'),  // "x\0" on the stack
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_10, 0, 0),
      insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, -8),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, 2),
      insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_trace_printk),
      insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  Fd p(bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "capaudit_misses", "GPL", prog, std::size(prog), nullptr));
  ASSERT_GE(p.fd, 0) << "loading: " << std::strerror(errno);
  const std::vector<int> fds = {p.fd};
  EXPECT_EQ(recursion_misses(fds), 0u);

  constexpr uint64_t kRuns = 5;
  {
    Fd link(bpf_raw_tracepoint_open("bpf_trace_printk", p.fd));
    ASSERT_GE(link.fd, 0) << "attaching to bpf_trace_printk: " << std::strerror(errno);
    for (uint64_t i = 0; i < kRuns; ++i) {
      LIBBPF_OPTS(bpf_test_run_opts, run);
      ASSERT_EQ(bpf_prog_test_run_opts(p.fd, &run), 0) << std::strerror(errno);
    }
  }  // detached: the count stays put from here on
  const uint64_t misses = recursion_misses(fds);
  EXPECT_GE(misses, kRuns);
  // Summed over programs, as BpfSession::hook_misses() sums its own.
  const std::vector<int> twice = {p.fd, -1, p.fd};
  EXPECT_EQ(recursion_misses(twice), 2 * misses);
}

}  // namespace
}  // namespace capaudit::record
