#include "analyze/core/completeness.h"

namespace capaudit::analyze {

std::vector<std::string> incomplete_reasons(const common::ReadResult& read, bool has_header,
                                            const std::optional<common::Trailer>& trailer) {
  std::vector<std::string> why;
  if (read.status != common::ReadStatus::complete)
    why.push_back(std::string(common::to_string(read.status)) + (read.message.empty() ? "" : ": " + read.message));
  if (!has_header) why.push_back("no header");
  if (trailer) {
    const auto& t = *trailer;
    if (!t.clean_shutdown) why.push_back("recorder did not shut down cleanly (" + t.stop_reason + ")");
    if (t.continued) why.push_back(std::string(kSplitContinued) + " (" + t.stop_reason + ")");
    if (t.max_size_reached) why.push_back("--max-size ended the recording: the target ran on unrecorded");
    const auto& l = t.losses;
    auto add = [&](uint64_t n, const char* what) {
      if (n) why.push_back(std::to_string(n) + " " + what);
    };
    add(l.ringbuf_drops, "events dropped (ring buffer full)");
    add(l.task_map_full, "tasks not traced (task map full)");
    add(l.stack_map_full, "call paths lost (stack map full)");
    add(l.untraced_processes, "child processes not followed");
    add(l.outcomes_missed, "denied-syscall outcomes missed");
    add(l.decode_errors, "malformed records");
    add(l.hook_misses, "hook runs skipped (recursion: one was already running on that CPU)");
  } else if (read.status == common::ReadStatus::complete) {
    why.push_back("no trailer");
  }
  return why;
}

}  // namespace capaudit::analyze
