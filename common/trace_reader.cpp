#include <fcntl.h>
#include <unistd.h>

#include <capnp/serialize.h>
#include <kj/exception.h>
// For ZSTD_getFrameHeader: checking the frame flags we always write catches a
// flipped header bit at the frame it hits rather than frames later.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <tuple>
#include <variant>

#include "common/error.h"
#include "common/trace_codec.h"
#include "common/trace_io.h"

namespace capaudit::common {
namespace {

// Bytes of input, either all in memory or pulled from an fd as needed.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::span<const uint8_t> available() const = 0;
  // Makes more bytes available; false at end of input (or on a read error,
  // then read_error() says which).
  virtual bool fill() = 0;
  virtual void consume(size_t n) = 0;
  uint64_t offset() const { return offset_; }
  const std::string& read_error() const { return read_error_; }

 protected:
  uint64_t offset_ = 0;  // file offset of available().data()
  std::string read_error_;
};

class SpanSource final : public Source {
 public:
  explicit SpanSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  std::span<const uint8_t> available() const override { return bytes_; }
  bool fill() override { return false; }
  void consume(size_t n) override {
    bytes_ = bytes_.subspan(n);
    offset_ += n;
  }

 private:
  std::span<const uint8_t> bytes_;
};

class FdSource final : public Source {
 public:
  FdSource(int fd, size_t max_buffer) : fd_(fd), max_buffer_(max_buffer), buf_(kChunk) {}
  std::span<const uint8_t> available() const override { return {buf_.data() + begin_, end_ - begin_}; }
  void consume(size_t n) override {
    begin_ += n;
    offset_ += n;
  }
  bool fill() override {
    if (eof_) return false;
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buf_.size()) {
      // Doubling keeps re-scanning a large partial frame O(n log n).
      if (buf_.size() >= max_buffer_) return false;
      buf_.resize(std::min(buf_.size() * 2, max_buffer_));
    }
    for (;;) {
      ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) read_error_ = std::strerror(errno);
      if (n <= 0) {
        eof_ = true;
        return false;
      }
      end_ += static_cast<size_t>(n);
      return true;
    }
  }
  bool buffer_full() const { return buf_.size() >= max_buffer_ && begin_ == 0 && end_ == buf_.size(); }

 private:
  static constexpr size_t kChunk = 1 << 20;
  int fd_;
  size_t max_buffer_;
  std::vector<uint8_t> buf_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
};

// Checks are handed to the visitor in chunks so memory stays bounded even for
// a batch that claims many events.
constexpr uint32_t kCheckChunk = 1u << 16;
// A frame this much larger than the message limit cannot be one of ours.
constexpr size_t kFrameSlack = 1 << 16;

uint32_t get_u32le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

bool is_skippable_frame(std::span<const uint8_t> f) {
  return f.size() >= 4 && (get_u32le(f.data()) & 0xFFFFFFF0u) == 0x184D2A50u;
}

class Reader {
 public:
  Reader(Source& src, TraceVisitor& visitor, const ReadLimits& limits)
      : src_(src), visitor_(visitor), limits_(limits), dctx_(ZSTD_createDCtx(), &ZSTD_freeDCtx) {}

  ReadResult run() {
    if (!dctx_) return fail(ReadStatus::error, "zstd: cannot allocate a decompression context", 0);
    if (auto r = read_preamble()) return *r;
    for (;;) {
      auto avail = src_.available();
      if (avail.empty() && !src_.fill()) break;
      avail = src_.available();
      if (avail.empty()) break;
      const uint64_t frame_offset = src_.offset();
      if (result_.has_trailer) {
        return fail(ReadStatus::corrupt, "data after the trailer at byte " + std::to_string(frame_offset), frame_offset);
      }
      const size_t size = ZSTD_findFrameCompressedSize(avail.data(), avail.size());
      if (ZSTD_isError(size)) {
        if (ZSTD_getErrorCode(size) != ZSTD_error_srcSize_wrong) {
          return fail(ReadStatus::corrupt,
                      "not a valid frame at byte " + std::to_string(frame_offset) + " (" + ZSTD_getErrorName(size) + ")",
                      frame_offset);
        }
        if (avail.size() > max_frame_bytes()) {
          return fail(ReadStatus::corrupt, "frame at byte " + std::to_string(frame_offset) + " exceeds the size limit",
                      frame_offset);
        }
        if (src_.fill()) continue;
        if (!src_.read_error().empty()) return read_failed();
        return truncated("incomplete frame at byte " + std::to_string(frame_offset), frame_offset);
      }
      if (auto r = handle_frame(avail.first(size), frame_offset)) return *r;
      src_.consume(size);
    }
    if (!src_.read_error().empty()) return read_failed();
    if (!result_.has_trailer) return truncated("no trailer, file ends at byte " + std::to_string(src_.offset()), src_.offset());
    result_.status = ReadStatus::complete;
    result_.message = std::to_string(result_.batches) + " batches read, trailer present";
    return result_;
  }

 private:
  size_t max_frame_bytes() const {
    return ZSTD_compressBound(static_cast<size_t>(limits_.max_message_bytes)) + kFrameSlack;
  }

  ReadResult fail(ReadStatus status, std::string message, uint64_t offset) {
    result_.status = status;
    result_.message = std::move(message);
    result_.error_offset = offset;
    return result_;
  }

  ReadResult truncated(const std::string& why, uint64_t offset) {
    return fail(ReadStatus::truncated, "truncated after " + std::to_string(result_.batches) + " batches (" + why + ")",
                offset);
  }

  ReadResult read_failed() {
    return fail(ReadStatus::error, "read failed at byte " + std::to_string(src_.offset()) + ": " + src_.read_error(),
                src_.offset());
  }

  std::optional<ReadResult> read_preamble() {
    while (src_.available().size() < codec::kPreambleSize && src_.fill()) {
    }
    auto avail = src_.available();
    if (!src_.read_error().empty()) return read_failed();
    const size_t have = std::min(avail.size(), codec::kMagic.size());
    if (avail.empty() || std::memcmp(avail.data(), codec::kMagic.data(), have) != 0) {
      if (avail.empty()) return truncated("empty file", 0);
      return fail(ReadStatus::error, "not a capaudit trace (bad magic)", 0);
    }
    if (avail.size() < codec::kPreambleSize) return truncated("file ends inside the preamble", 0);
    const uint32_t version = get_u32le(avail.data() + 8);
    if (version != codec::kContainerVersion) {
      return fail(ReadStatus::error,
                  "unsupported trace container version " + std::to_string(version) + " (this build reads " +
                      std::to_string(codec::kContainerVersion) + ")",
                  8);
    }
    src_.consume(codec::kPreambleSize);
    return std::nullopt;
  }

  std::optional<ReadResult> handle_frame(std::span<const uint8_t> frame, uint64_t offset) {
    // Skippable frames are the container's room for out-of-band data; skip.
    if (is_skippable_frame(frame)) return std::nullopt;
    const std::string where = " at byte " + std::to_string(offset);
    ZSTD_frameHeader fh{};
    if (ZSTD_getFrameHeader(&fh, frame.data(), frame.size()) != 0 || fh.frameType != ZSTD_frame || !fh.checksumFlag ||
        fh.dictID != 0) {
      return fail(ReadStatus::corrupt, "frame header" + where + " lacks the checksum every capaudit frame has", offset);
    }
    const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
    if (content == ZSTD_CONTENTSIZE_ERROR || content == ZSTD_CONTENTSIZE_UNKNOWN) {
      return fail(ReadStatus::corrupt, "frame without content size" + where, offset);
    }
    if (content > limits_.max_message_bytes) {
      return fail(ReadStatus::corrupt,
                  "message of " + std::to_string(content) + " bytes" + where + " exceeds the limit of " +
                      std::to_string(limits_.max_message_bytes),
                  offset);
    }
    // Checked before decompressing: the content size is in the frame header.
    if (content > limits_.expansion_floor_bytes && content / frame.size() >= limits_.max_expansion_ratio) {
      return fail(ReadStatus::corrupt,
                  "frame" + where + " of " + std::to_string(frame.size()) + " bytes claims to decompress to " +
                      std::to_string(content) + " bytes, more than " + std::to_string(limits_.max_expansion_ratio) +
                      " times its size (a decompression bomb; no capaudit message compresses that well)",
                  offset);
    }
    if (content % sizeof(capnp::word) != 0 || content == 0) {
      return fail(ReadStatus::corrupt, "message size " + std::to_string(content) + where + " is not whole words", offset);
    }
    const size_t words = static_cast<size_t>(content / sizeof(capnp::word));
    if (words > capacity_words_) {
      buffer_.reset(new uint64_t[words]);
      capacity_words_ = words;
    }
    const size_t got = ZSTD_decompressDCtx(dctx_.get(), buffer_.get(), words * sizeof(uint64_t), frame.data(), frame.size());
    if (ZSTD_isError(got) || got != content) {
      return fail(ReadStatus::corrupt,
                  std::string("cannot decompress frame") + where + ": " +
                      (ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size mismatch"),
                  offset);
    }
    return decode_and_deliver(kj::arrayPtr(reinterpret_cast<const capnp::word*>(buffer_.get()), words), offset);
  }

  // Decoding (which throws on bad input) is separated from delivery (visitor
  // code, whose exceptions are the caller's business and must pass through).
  std::optional<ReadResult> decode_and_deliver(kj::ArrayPtr<const capnp::word> words, uint64_t offset) {
    const std::string where = " at byte " + std::to_string(offset);
    enum class Kind { header, processes, batch, trailer, unknown } kind = Kind::unknown;
    std::string problem;
    std::optional<capnp::FlatArrayMessageReader> message;
    codec::CheckColumns columns;
    try {
      capnp::ReaderOptions options;
      options.traversalLimitInWords = limits_.traversal_limit_words;
      options.nestingLimit = limits_.nesting_limit;
      message.emplace(words, options);
      if (message->getEnd() != words.end()) throw std::runtime_error("bytes after the message");
      auto frame = message->getRoot<schema::Frame>();
      switch (frame.which()) {
        case schema::Frame::HEADER:
          kind = Kind::header;
          header_ = codec::from_capnp(frame.getHeader());
          break;
        case schema::Frame::PROCESSES:
          kind = Kind::processes;
          processes_ = codec::from_capnp(frame.getProcesses());
          break;
        case schema::Frame::BATCH: {
          kind = Kind::batch;
          auto b = frame.getBatch();
          if (b.getSeq() != result_.batches) {
            throw std::runtime_error("batch sequence " + std::to_string(b.getSeq()) + ", expected " +
                                     std::to_string(result_.batches) + " (a batch is missing or repeated)");
          }
          codec::from_capnp(b, batch_);
          columns = codec::open_columns(b.getCapChecks());
          if (columns.count > limits_.max_batch_events) {
            throw std::runtime_error("batch claims " + std::to_string(columns.count) +
                                     " capability checks, more than the limit of " +
                                     std::to_string(limits_.max_batch_events));
          }
          // A claim must be paid for in bytes: either some column holds a
          // value per check, or the batch is no larger than the writer makes.
          if (columns.count > limits_.max_uncarried_checks && !codec::has_per_check_column(columns)) {
            throw std::runtime_error("batch claims " + std::to_string(columns.count) +
                                     " capability checks but stores no value per check (at most " +
                                     std::to_string(limits_.max_uncarried_checks) + " may share every value)");
          }
          break;
        }
        case schema::Frame::TRAILER: {
          kind = Kind::trailer;
          auto t = frame.getTrailer();
          trailer_ = codec::from_capnp(t);
          if (t.getBatches() != result_.batches) {
            throw std::runtime_error("trailer counts " + std::to_string(t.getBatches()) + " batches, file has " +
                                     std::to_string(result_.batches));
          }
          // The writer's trailer counts exactly what it wrote: a difference
          // means batches were forged or altered, never a real recording.
          const EventCounts& c = trailer_.counts;
          const EventCounts& d = delivered_;
          for (const auto& [what, claimed, held] :
               {std::tuple{"capability checks", c.cap_checks, d.cap_checks}, std::tuple{"forks", c.forks, d.forks},
                std::tuple{"execs", c.execs, d.execs}, std::tuple{"exits", c.exits, d.exits},
                std::tuple{"outcomes", c.outcomes, d.outcomes}, std::tuple{"capsets", c.capsets, d.capsets},
                std::tuple{"operations", c.operations, d.operations}, std::tuple{"stacks", c.stacks, d.stacks},
                std::tuple{"user stacks", c.user_stacks, d.user_stacks}}) {
            if (claimed != held)
              throw std::runtime_error("trailer counts " + std::to_string(claimed) + " " + what + ", the batches hold " +
                                       std::to_string(held));
          }
          break;
        }
        default:
          break;  // a frame kind from a newer writer: skip
      }
    } catch (const kj::Exception& e) {
      problem = e.getDescription().cStr();
    } catch (const std::exception& e) {
      problem = e.what();
    }
    if (!problem.empty()) return fail(ReadStatus::corrupt, "corrupt message" + where + ": " + problem, offset);

    if (kind == Kind::unknown) return std::nullopt;
    if (kind != Kind::header && !result_.has_header) {
      return fail(ReadStatus::corrupt, "first message" + where + " is not a header", offset);
    }
    switch (kind) {
      case Kind::header:
        if (result_.has_header) return fail(ReadStatus::corrupt, "second header" + where, offset);
        if (header_.format_major != codec::kFormatMajor) {
          // A new major version means this reader would misread the rest.
          return fail(ReadStatus::error,
                      "unsupported trace format " + std::to_string(header_.format_major) + "." +
                          std::to_string(header_.format_minor) + " (this build reads format " +
                          std::to_string(codec::kFormatMajor) + ".x)",
                      offset);
        }
        result_.has_header = true;
        visitor_.on_header(header_);
        break;
      case Kind::processes:
        visitor_.on_processes(processes_);
        break;
      case Kind::batch:
        if (auto r = deliver_batch(columns, where, offset)) return r;
        ++result_.batches;
        break;
      case Kind::trailer:
        result_.has_trailer = true;
        visitor_.on_trailer(trailer_);
        break;
      case Kind::unknown:
        break;
    }
    return std::nullopt;
  }

  // Delivery order within a batch: stacks first (checks refer to them), then
  // lifecycle, then checks and what follows from them, exits last.
  std::optional<ReadResult> deliver_batch(const codec::CheckColumns& columns, const std::string& where, uint64_t offset) {
    if (!batch_.stacks.empty()) visitor_.on_stacks(batch_.stacks);
    if (!batch_.user_stacks.empty()) visitor_.on_user_stacks(batch_.user_stacks);
    if (!batch_.forks.empty()) visitor_.on_forks(batch_.forks);
    if (!batch_.execs.empty()) visitor_.on_execs(batch_.execs);
    if (!batch_.capsets.empty()) visitor_.on_capsets(batch_.capsets);
    if (!batch_.windows.empty()) visitor_.on_outcome_windows(batch_.windows);
    const uint32_t count = columns.count;
    uint64_t running_time = columns.time_base_ns;
    for (uint32_t first = 0; first < count; first += kCheckChunk) {
      const uint32_t n = std::min(kCheckChunk, count - first);
      checks_.resize(n);
      std::string problem;
      try {
        codec::decode_cap_checks(columns, first, checks_, running_time);
      } catch (const kj::Exception& e) {
        problem = e.getDescription().cStr();
      } catch (const std::exception& e) {
        problem = e.what();
      }
      if (!problem.empty()) return fail(ReadStatus::corrupt, "corrupt capability checks" + where + ": " + problem, offset);
      visitor_.on_cap_checks(checks_);
    }
    delivered_.cap_checks += count;
    delivered_.forks += batch_.forks.size();
    delivered_.execs += batch_.execs.size();
    delivered_.exits += batch_.exits.size();
    delivered_.outcomes += batch_.outcomes.size();
    delivered_.capsets += batch_.capsets.size();
    delivered_.operations += batch_.operations.size();
    delivered_.stacks += batch_.stacks.size();
    delivered_.user_stacks += batch_.user_stacks.size();
    if (!batch_.outcomes.empty()) visitor_.on_outcomes(batch_.outcomes);
    if (!batch_.operations.empty()) visitor_.on_operations(batch_.operations);
    if (!batch_.exits.empty()) visitor_.on_exits(batch_.exits);
    visitor_.on_batch_end(result_.batches);
    return std::nullopt;
  }

  Source& src_;
  TraceVisitor& visitor_;
  ReadLimits limits_;
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx_;
  std::unique_ptr<uint64_t[]> buffer_;  // decompressed message, word-aligned for Cap'n Proto
  size_t capacity_words_ = 0;
  ReadResult result_;
  Header header_;
  std::vector<ProcessInfo> processes_;
  codec::Batch batch_;
  std::vector<CapCheck> checks_;
  Trailer trailer_;
  EventCounts delivered_;  // what the batches held, to compare with the trailer
};

}  // namespace

ReadResult read_trace_bytes(std::span<const uint8_t> bytes, TraceVisitor& visitor, const ReadLimits& limits) {
  SpanSource src(bytes);
  return Reader(src, visitor, limits).run();
}

ReadResult read_trace(const std::string& path, TraceVisitor& visitor, const ReadLimits& limits) {
  int fd = STDIN_FILENO;
  if (path != "-") {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      ReadResult r;
      r.status = ReadStatus::error;
      r.message = errno_message("cannot open " + path, errno);
      return r;
    }
  }
  const size_t max_buffer = ZSTD_compressBound(static_cast<size_t>(limits.max_message_bytes)) + 2 * kFrameSlack;
  // Closes the file even when a visitor throws.
  std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) {
    if (*f != STDIN_FILENO) ::close(*f);
  });
  FdSource src(fd, max_buffer);
  return Reader(src, visitor, limits).run();
}

}  // namespace capaudit::common
