// Reading outside input at a bounded cost, and showing its bytes safely in
// messages. Every file the tools read that a user names (profiles, units,
// manifests) goes through read_file_capped(): /dev/zero, a FIFO or a huge
// file is refused after `max_bytes`, never slurped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace capaudit::common {

// Largest deployment description (systemd unit, Kubernetes manifest, compose
// file, capability list) the tools read. Kubernetes itself refuses objects
// above ~1.5 MiB (etcd's request limit).
inline constexpr size_t kMaxDeploymentFileBytes = 4u << 20;
// Largest sysctl.conf profile; real ones are a few KiB.
inline constexpr size_t kMaxProfileFileBytes = 1u << 20;

// Reads at most max_bytes of PATH (any kind of file: regular, FIFO,
// character device). Throws common::Error naming the file when it cannot be
// read or holds more than max_bytes. `what` names the file's role in the
// message ("sysctl profile").
std::string read_file_capped(const std::string& path, size_t max_bytes, const std::string& what);

// The text with every byte that is not printable ASCII (and the quote and
// backslash) shown as a C escape (\n, \t, \x1b, \xff), cut after max_chars
// input bytes with "..." appended, inside single quotes: safe on a terminal
// and in a log line whatever the input held.
std::string quote_bytes(std::string_view text, size_t max_chars = 80);

// quote_bytes() without the quotes (and with ' left as is): for text that is
// put on one line of a message or a comment.
std::string visible_bytes(std::string_view text, size_t max_chars = 200);

// "4 MiB", "512 KiB", "100 bytes".
std::string format_size(size_t bytes);

}  // namespace capaudit::common
