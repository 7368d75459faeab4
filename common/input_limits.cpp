#include "common/input_limits.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "common/error.h"

namespace capaudit::common {

std::string format_size(size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= (1u << 10) && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string read_file_capped(const std::string& path, size_t max_bytes, const std::string& what) {
  // O_NONBLOCK only for the open: a FIFO without a writer must not hang it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) throw Error(errno_message("cannot read " + what + " " + path, errno));
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  std::string out;
  char buf[65536];
  for (;;) {
    // One byte more than allowed tells "exactly at the limit" from "beyond".
    const size_t want = std::min(sizeof buf, max_bytes + 1 - out.size());
    const ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      throw Error(errno_message("cannot read " + what + " " + path, err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      throw Error(what + " " + path + " is larger than " + format_size(max_bytes) + "; refusing to read it",
                  "is it the right file? a " + what + " is never that large");
    }
  }
  ::close(fd);
  return out;
}

namespace {

std::string escape(std::string_view text, size_t max_chars, bool escape_quote) {
  std::string out;
  const size_t n = std::min(text.size(), max_chars);
  for (size_t i = 0; i < n; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '\n': out += "\\n"; continue;
      case '\t': out += "\\t"; continue;
      case '\r': out += "\\r"; continue;
      case '\\': out += "\\\\"; continue;
      default: break;
    }
    if (c == '\'' && escape_quote) {
      out += "\\'";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

}  // namespace

std::string visible_bytes(std::string_view text, size_t max_chars) { return escape(text, max_chars, false); }

std::string quote_bytes(std::string_view text, size_t max_chars) {
  std::string out = "'" + escape(text, max_chars, true);
  // The cut mark goes after the closing quote: 'abc'...
  if (text.size() > max_chars) return out.substr(0, out.size() - 3) + "'...";
  return out + "'";
}

}  // namespace capaudit::common
