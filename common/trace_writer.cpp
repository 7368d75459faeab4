#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <capnp/message.h>

#include <cerrno>

#include "common/error.h"
#include "common/log.h"
#include "common/result.h"
#include "common/trace_codec.h"
#include "common/trace_io.h"

namespace capaudit::common {
namespace {

class FdTraceWriter final : public TraceWriter {
 public:
  FdTraceWriter(int fd, bool owns_fd, std::string name, const OutputOptions& opts)
      : fd_(fd), owns_fd_(owns_fd), name_(std::move(name)), opts_(opts), encoder_(opts.zstd_level) {
    if (opts_.batch_events == 0) opts_.batch_events = 1;
    start_offset_ = ::lseek(fd_, 0, SEEK_CUR);  // -1 on a pipe: nothing can be cut back there
    auto pre = codec::preamble();
    write_all(pre.data(), pre.size());
  }

  ~FdTraceWriter() override {
    // An unfinished trace (exception, early return) still gets its buffered
    // events out; the reader then reports it as truncated, which is the truth.
    if (!finished_ && header_written_ && !failed_) {
      try {
        flush();
      } catch (const std::exception& e) {
        log_warn(std::string("could not flush unfinished trace ") + name_ + ": " + e.what());
      }
    }
    if (owns_fd_ && fd_ >= 0) ::close(fd_);
  }

  void write_header(const Header& header) override {
    if (header_written_) throw Error("trace writer: header written twice");
    capnp::MallocMessageBuilder msg;
    codec::to_capnp(header, msg.initRoot<schema::Frame>().initHeader());
    write_frame(msg);
    header_written_ = true;
  }

  void write_processes(std::span<const ProcessInfo> procs) override {
    require_open("write_processes");
    capnp::MallocMessageBuilder msg;
    codec::to_capnp(procs, msg.initRoot<schema::Frame>().initProcesses());
    write_frame(msg);
  }

  void add(const CapCheck& e) override { push(batch_.checks, e, counts_.cap_checks); }
  void add(const ForkEvent& e) override { push(batch_.forks, e, counts_.forks); }
  void add(const ExecEvent& e) override { push(batch_.execs, e, counts_.execs); }
  void add(const ExitEvent& e) override { push(batch_.exits, e, counts_.exits); }
  void add(const SyscallOutcome& e) override { push(batch_.outcomes, e, counts_.outcomes); }
  void add(const CapsetEvent& e) override { push(batch_.capsets, e, counts_.capsets); }
  void add(const OperationFact& e) override { push(batch_.operations, e, counts_.operations); }
  void add(const KernelStack& s) override { push(batch_.stacks, s, counts_.stacks); }
  void add(const UserStack& s) override {
    // Checked here, so a bad value fails its own add() rather than a later flush.
    for (const auto& f : s.frames)
      if (!codec::is_build_id_hex(f.build_id)) throw Error("trace writer: build ID '" + f.build_id + "' is not lowercase hex");
    if (s.leaf && !codec::is_build_id_hex(s.leaf->word.build_id))
      throw Error("trace writer: build ID '" + s.leaf->word.build_id + "' is not lowercase hex");
    push(batch_.user_stacks, s, counts_.user_stacks);
  }
  void add(const OutcomeWindow& w) override { push(batch_.windows, w, windows_); }

  void flush_if_due(uint64_t now_ns) override {
    // The first call starts the clock (the writer cannot know the caller's
    // clock before) and seals whatever is pending, so early events reach the
    // file quickly too.
    const bool due = !have_flush_time_ || now_ns >= last_flush_ns_ + opts_.flush_interval_ns;
    if (!have_flush_time_) {
      have_flush_time_ = true;
      last_flush_ns_ = now_ns;
    }
    if (pending_ == 0 || !due) return;
    flush();
    last_flush_ns_ = now_ns;
  }

  void flush() override {
    require_open("flush");
    if (pending_ == 0) return;
    capnp::MallocMessageBuilder msg(kFirstSegmentWords);
    codec::to_capnp(batch_, batches_, msg.initRoot<schema::Frame>().initBatch());
    write_frame(msg);
    ++batches_;
    batch_.clear();
    pending_ = 0;
  }

  void finish(const Trailer& trailer) override {
    require_open("finish");
    flush();
    Trailer t = trailer;
    // Counts are what this writer actually wrote, whatever the caller believed.
    t.counts = counts_;
    capnp::MallocMessageBuilder msg;
    codec::to_capnp(t, batches_, msg.initRoot<schema::Frame>().initTrailer());
    write_frame(msg);
    finished_ = true;
  }

  Result<> finish_incomplete(const Trailer& trailer) override {
    if (finished_) return fail("the trace was already finished");
    if (!header_written_) return fail("the header was never written");
    if (!failed_) {
      try {
        flush();
      } catch (const std::exception&) {
        // failed_ is set: handled below
      }
    }
    if (failed_) {
      // What could not be written is not in the file, so not in the counts.
      counts_.cap_checks -= batch_.checks.size();
      counts_.forks -= batch_.forks.size();
      counts_.execs -= batch_.execs.size();
      counts_.exits -= batch_.exits.size();
      counts_.outcomes -= batch_.outcomes.size();
      counts_.capsets -= batch_.capsets.size();
      counts_.operations -= batch_.operations.size();
      counts_.stacks -= batch_.stacks.size();
      counts_.user_stacks -= batch_.user_stacks.size();
      windows_ -= batch_.windows.size();
      batch_.clear();
      pending_ = 0;
      if (bytes_ != good_bytes_) {
        struct stat st {};
        if (start_offset_ < 0 || ::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) ||
            ::ftruncate(fd_, start_offset_ + static_cast<off_t>(good_bytes_)) != 0 ||
            ::lseek(fd_, start_offset_ + static_cast<off_t>(good_bytes_), SEEK_SET) < 0)
          return fail("the output ends inside a partly written frame and cannot be cut back");
        bytes_ = good_bytes_;
      }
    }
    Trailer t = trailer;
    t.counts = counts_;
    try {
      capnp::MallocMessageBuilder msg;
      codec::to_capnp(t, batches_, msg.initRoot<schema::Frame>().initTrailer());
      write_frame(msg);
    } catch (const std::exception& e) {
      if (bytes_ != good_bytes_ && start_offset_ >= 0 &&
          ::ftruncate(fd_, start_offset_ + static_cast<off_t>(good_bytes_)) == 0)
        bytes_ = good_bytes_;
      return fail(e.what());
    }
    finished_ = true;
    return {};
  }

  uint64_t bytes_written() const override { return bytes_; }

 private:
  // Large enough that a full default batch of hot-loop checks fits one segment.
  static constexpr unsigned kFirstSegmentWords = 1u << 17;

  template <typename V, typename E>
  void push(V& vec, const E& e, uint64_t& count) {
    require_open("add");
    vec.push_back(e);
    ++count;
    if (++pending_ >= opts_.batch_events) flush();
  }

  void require_open(const char* what) const {
    if (!header_written_) throw Error(std::string("trace writer: ") + what + " before write_header");
    if (finished_) throw Error(std::string("trace writer: ") + what + " after finish");
  }

  void write_frame(capnp::MessageBuilder& msg) {
    auto bytes = encoder_.encode(msg);
    write_all(bytes.data(), bytes.size());
    good_bytes_ = bytes_;
  }

  void write_all(const uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        failed_ = true;
        throw Error(errno_message("writing trace " + name_, err),
                    err == EPIPE ? "the program reading the trace closed its end (e.g. head); nothing more can be written"
                                 : "check free space and that the output is writable");
      }
      p += w;
      n -= static_cast<size_t>(w);
      bytes_ += static_cast<uint64_t>(w);
    }
  }

  int fd_;
  bool owns_fd_;
  std::string name_;
  OutputOptions opts_;
  codec::FrameEncoder encoder_;
  codec::Batch batch_;
  size_t pending_ = 0;
  uint64_t batches_ = 0;
  uint64_t bytes_ = 0;
  uint64_t good_bytes_ = 0;  // bytes_ at the end of the last complete frame
  off_t start_offset_ = -1;  // file offset where the trace starts (regular files)
  bool failed_ = false;      // a write failed: the file may end inside a frame
  uint64_t last_flush_ns_ = 0;
  bool have_flush_time_ = false;
  bool header_written_ = false;
  bool finished_ = false;
  EventCounts counts_;
  uint64_t windows_ = 0;  // outcome window records (not events)
};

}  // namespace

std::unique_ptr<TraceWriter> TraceWriter::create(const std::string& path, const OutputOptions& opts) {
  if (path == "-") return from_fd(STDOUT_FILENO, false, opts);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) {
      throw Error("refusing to overwrite existing file " + path, "choose another output path or remove the file first");
    }
    if (err == ELOOP) throw Error("refusing to write through symbolic link " + path, "give the real path");
    throw Error(errno_message("cannot create " + path, err));
  }
  if (opts.owner_uid >= 0 || opts.owner_gid >= 0) {
    if (::fchown(fd, static_cast<uid_t>(opts.owner_uid), static_cast<gid_t>(opts.owner_gid)) != 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      throw Error(errno_message("cannot chown " + path, err));
    }
  }
  try {
    return std::make_unique<FdTraceWriter>(fd, true, path, opts);
  } catch (...) {
    ::close(fd);
    ::unlink(path.c_str());
    throw;
  }
}

std::unique_ptr<TraceWriter> TraceWriter::from_fd(int fd, bool owns_fd, const OutputOptions& opts) {
  return std::make_unique<FdTraceWriter>(fd, owns_fd, fd == STDOUT_FILENO ? "<stdout>" : "fd " + std::to_string(fd), opts);
}

}  // namespace capaudit::common
