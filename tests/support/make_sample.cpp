// Writes synthetic traces.
//   make_sample basic OUT.cap      the committed samples/synthetic-basic/trace.cap
//                                  (once; committed samples are never regenerated)
//   make_sample fuzz-seeds DIR     seeds for tests/common/fuzz_read_trace: the
//                                  basic trace as a file (mode byte 0) and each
//                                  of its messages alone (mode byte 1)
#include <sys/mman.h>
#include <unistd.h>
#include <zstd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "common/error.h"
#include "tests/support/synthetic.h"
#include "tests/support/trace_builder.h"

namespace {

template <typename Write>
std::vector<uint8_t> trace_bytes(Write write) {
  const int fd = ::memfd_create("seed", MFD_CLOEXEC);
  if (fd < 0) throw capaudit::common::Error("memfd_create failed");
  capaudit::common::OutputOptions opts;
  opts.batch_events = capaudit::test::kSyntheticBasicBatchEvents;
  write(*capaudit::common::TraceWriter::from_fd(fd, false, opts));
  std::vector<uint8_t> bytes(static_cast<size_t>(::lseek(fd, 0, SEEK_END)));
  if (::pread(fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    throw capaudit::common::Error("reading memfd failed");
  }
  ::close(fd);
  return bytes;
}

void write_seed(const std::filesystem::path& path, uint8_t mode, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.put(static_cast<char>(mode));
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

// NAME-file (the trace) and NAME-message-K (each message alone); returns how many.
size_t write_trace_seeds(const std::filesystem::path& dir, const std::string& name, const std::vector<uint8_t>& trace) {
  write_seed(dir / (name + "-file"), 0, trace.data(), trace.size());
  size_t at = 16, n = 0;  // after the preamble: one zstd frame per message
  while (at < trace.size()) {
    const size_t size = ZSTD_findFrameCompressedSize(trace.data() + at, trace.size() - at);
    const unsigned long long content = ZSTD_getFrameContentSize(trace.data() + at, size);
    if (ZSTD_isError(size) || content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN) break;
    std::vector<uint8_t> message(content);
    ZSTD_decompress(message.data(), message.size(), trace.data() + at, size);
    write_seed(dir / (name + "-message-" + std::to_string(n++)), 1, message.data(), message.size());
    at += size;
  }
  return n + 1;
}

// A hot loop as format 1.4 records it: timed checks with untimed repeats
// between them, so the seeds reach the timeSpreadNs column.
void write_repeats(capaudit::common::TraceWriter& w) {
  w.write_header(capaudit::test::example_header());
  for (uint64_t i = 0; i < 64; ++i) {
    capaudit::common::CapCheck c{.time_ns = 1'000'000 + i / 8 * 16'000, .pid = 42, .tid = 42, .cap = 7, .granted = true,
                                 .syscall_nr = 105};
    if (i % 8 != 0 && i % 8 != 7) c.time_spread_ns = 14'000;
    w.add(c);
  }
  w.finish({});
}

// User stacks as format 1.6 records them: frames named by build ID, by path
// only and by address only, in two batches with their own file dictionaries.
void write_user_stacks(capaudit::common::TraceWriter& w) {
  using namespace capaudit::common;
  Header h = capaudit::test::example_header();
  h.user_stacks = true;
  h.user_stack_depth = 32;
  w.write_header(h);
  const std::string id = "95ff61706a0a1adef7adb985ecb5408d8069a7cf";
  for (uint32_t s = 1; s <= 2; ++s) {
    w.add(UserStack{s, {UserFrame{0x7f0000001234 + s, "93ac61ec5a8eb1396f9fbd350e3169a558528a40", "/usr/lib/libc.so.6",
                                  0x10a787, true},
                        UserFrame{0x555500003f32, id, "/usr/bin/helper", 0x3f32 + s, true},
                        UserFrame{0, id, "", 0x2000, true}, UserFrame{0x7ffd00000010, "", "", 0, false}}});
    CapCheck c{.time_ns = 1000 * s, .pid = 42, .tid = 42, .cap = 10, .granted = true, .syscall_nr = 49};
    c.user_stack_id = s;
    w.add(c);
    w.flush();
  }
  w.finish({});
}

int fuzz_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  size_t n = write_trace_seeds(dir, "basic", trace_bytes([](auto& w) { capaudit::test::write_synthetic_basic(w); }));
  n += write_trace_seeds(dir, "repeats", trace_bytes(write_repeats));
  n += write_trace_seeds(dir, "user-stacks", trace_bytes(write_user_stacks));
  std::cerr << "wrote " << n << " seeds to " << dir << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc == 3 ? argv[1] : "";
  try {
    if (mode == "fuzz-seeds") return fuzz_seeds(argv[2]);
    if (mode == "basic") {
      capaudit::common::OutputOptions opts;
      opts.batch_events = capaudit::test::kSyntheticBasicBatchEvents;
      auto w = capaudit::common::TraceWriter::create(argv[2], opts);
      capaudit::test::write_synthetic_basic(*w);
      std::cerr << "wrote " << w->bytes_written() << " bytes to " << argv[2] << "\n";
      return 0;
    }
  } catch (const capaudit::common::Error& e) {
    std::cerr << "make_sample: " << e.what() << (e.hint.empty() ? "" : " (" + e.hint + ")") << "\n";
    return e.exit_code;
  }
  std::cerr << "usage: make_sample basic OUT.cap | make_sample fuzz-seeds DIR\n";
  return 1;
}
