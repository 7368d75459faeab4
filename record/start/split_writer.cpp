#include "record/start/split_writer.h"

#include <sys/random.h>

#include <cstdio>
#include <filesystem>

#include "common/error.h"

namespace capaudit::record {

std::string piece_path(const std::string& path, uint32_t piece) {
  char num[16];
  snprintf(num, sizeof(num), ".%04u", piece);
  const std::filesystem::path p(path);
  const std::string ext = p.has_stem() && p.stem() != "." ? p.extension().string() : std::string();
  if (ext.empty()) return path + num;
  return path.substr(0, path.size() - ext.size()) + num + ext;
}

std::string new_run_id() {
  unsigned char bytes[16] = {};
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n <= 0) throw common::Error("getrandom failed: cannot name the run");
    got += static_cast<size_t>(n);
  }
  std::string out;
  char hex[3];
  for (unsigned char b : bytes) {
    snprintf(hex, sizeof(hex), "%02x", b);
    out += hex;
  }
  return out;
}

SplitWriter::SplitWriter(std::string path, const common::OutputOptions& out, const SplitOptions& split)
    : path_(std::move(path)), out_(out), split_(split) {
  open_piece();
}

void SplitWriter::open_piece() {
  ++piece_;
  current_path_ = piece_path(path_, piece_);
  w_ = common::TraceWriter::create(current_path_, out_);
  piece_start_ns_ = 0;
}

void SplitWriter::write_header(const common::Header& header) {
  header_ = header;
  if (header_.split_run_id.empty()) header_.split_run_id = new_run_id();
  header_.split_piece = piece_;
  w_->write_header(header_);
}

void SplitWriter::flush_if_due(uint64_t now_ns) {
  w_->flush_if_due(now_ns);
  if (!piece_start_ns_) piece_start_ns_ = now_ns;
  const bool full = split_.max_bytes && w_->bytes_written() >= split_.max_bytes;
  const bool old = split_.max_time_ns && now_ns >= piece_start_ns_ + split_.max_time_ns;
  if (!full && !old) return;
  // This piece ends here, whole: its own trailer, then the next one starts
  // with the same header. A failure throws, as any write does.
  common::Trailer t = running_ ? running_() : common::Trailer{};
  t.clean_shutdown = true;
  t.continued = true;
  t.stop_reason = "split: continued in " + piece_path(path_, piece_ + 1);
  t.target_exit_status.reset();
  w_->finish(t);
  done_bytes_ += w_->bytes_written();
  open_piece();
  header_.split_piece = piece_;
  w_->write_header(header_);
  piece_start_ns_ = now_ns;
}

}  // namespace capaudit::record
