#include "analyze/core/quote.h"

#include <cstdint>
#include <cstdio>

namespace capaudit::analyze {
namespace {

struct Utf8Char {
  uint32_t cp = 0;
  size_t len = 0;  // 0: the byte at the position starts no valid sequence
};

// Decodes one UTF-8 sequence at `i`; rejects overlong forms, surrogates and
// code points above U+10FFFF (RFC 3629).
Utf8Char decode(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  size_t len;
  uint32_t cp, min;
  if ((b0 & 0xe0) == 0xc0) len = 2, cp = b0 & 0x1f, min = 0x80;
  else if ((b0 & 0xf0) == 0xe0) len = 3, cp = b0 & 0x0f, min = 0x800;
  else if ((b0 & 0xf8) == 0xf0) len = 4, cp = b0 & 0x07, min = 0x10000;
  else return {};
  if (i + len > s.size()) return {};
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return {};
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {};
  return {cp, len};
}

// A code point a terminal, an editor or a YAML/Python/C/shell reader could
// take for something other than a plain character: controls, DEL, C1
// (NEL is a YAML 1.1 line break, CSI a terminal escape), line and paragraph
// separators, bidi embeddings/overrides/isolates and marks, BOM.
bool invisible(uint32_t cp) {
  return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
         cp == 0xfeff;
}

std::string hex_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", b);
  return buf;
}

std::string escape_visible(std::string_view s, bool quote_dq, bool break_comment_end) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = decode(s, i);
    if (c.len == 0) {
      out += hex_byte(static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (c.cp == '\\') out += "\\\\";
    else if (c.cp == '\n') out += "\\n";
    else if (c.cp == '\t') out += "\\t";
    else if (c.cp == '\r') out += "\\r";
    else if (c.cp == '"' && quote_dq) out += "\\\"";
    else if (c.cp == '/' && break_comment_end && !out.empty() && out.back() == '*') out += "\\x2f";
    else if (c.cp == '*' && break_comment_end && !out.empty() && out.back() == '/') out += "\\x2a";
    else if (c.cp < 0x80 && invisible(c.cp)) out += hex_byte(static_cast<unsigned char>(c.cp));
    else if (invisible(c.cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u{%04x}", c.cp);
      out += buf;
    } else {
      out.append(s.substr(i, c.len));
    }
    i += c.len;
  }
  return out;
}

bool shell_safe_bare(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
         std::string_view("_@%+=:,./-").find(ch) != std::string_view::npos;
}

}  // namespace

std::string visible(std::string_view s) { return escape_visible(s, false, false); }

std::string visible_quoted(std::string_view s) { return "\"" + escape_visible(s, true, false) + "\""; }

std::string comment_text(std::string_view s) { return escape_visible(s, false, true); }

std::string shell_quote(std::string_view s) {
  if (!s.empty()) {
    bool bare = true;
    for (char ch : s) bare = bare && shell_safe_bare(ch);
    if (bare) return std::string(s);
  }
  std::string out;
  bool in_quotes = false;
  auto open = [&] {
    if (!in_quotes) out += '\'';
    in_quotes = true;
  };
  auto close = [&] {
    if (in_quotes) out += '\'';
    in_quotes = false;
  };
  std::string octal;  // a pending run of bytes written through printf
  auto flush_octal = [&] {
    if (octal.empty()) return;
    close();
    out += "\"$(printf '" + octal + "')\"";
    octal.clear();
  };
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = decode(s, i);
    const size_t len = c.len ? c.len : 1;
    // A line break stays literal: "$(printf '\012')" would expand to nothing.
    if (c.len == 0 || (invisible(c.cp) && c.cp != '\n')) {
      for (size_t k = 0; k < len; ++k) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\%03o", static_cast<unsigned char>(s[i + k]));
        octal += buf;
      }
    } else {
      flush_octal();
      if (s[i] == '\'') {
        close();
        out += "\\'";
      } else {
        open();
        out.append(s.substr(i, len));
      }
    }
    i += len;
  }
  flush_octal();
  if (out.empty()) return "''";
  close();
  return out;
}

std::string yaml_str(std::string_view s) {
  const std::string u = utf8_or_replacement(s);
  std::string out = "\"";
  for (size_t i = 0; i < u.size();) {
    const Utf8Char c = decode(u, i);
    char buf[16];
    if (c.cp == '"') out += "\\\"";
    else if (c.cp == '\\') out += "\\\\";
    else if (c.cp == '\n') out += "\\n";
    else if (c.cp == '\t') out += "\\t";
    else if (c.cp == '\r') out += "\\r";
    else if (c.cp >= 0x20 && c.cp < 0x7f) out += static_cast<char>(c.cp);
    else {
      if (c.cp < 0x100) std::snprintf(buf, sizeof buf, "\\x%02x", c.cp);
      else if (c.cp < 0x10000) std::snprintf(buf, sizeof buf, "\\u%04x", c.cp);
      else std::snprintf(buf, sizeof buf, "\\U%08x", c.cp);
      out += buf;
    }
    i += c.len;
  }
  return out + "\"";
}

std::string yaml_scalar(std::string_view s) {
  bool plain = !s.empty() && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'));
  for (char ch : s) {
    plain = plain && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '.' || ch == '_' || ch == '-');
  }
  if (plain) {
    std::string lower;
    for (char ch : s) lower += static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    for (const char* word : {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}) {
      if (lower == word) plain = false;
    }
  }
  return plain ? std::string(s) : yaml_str(s);
}

std::string utf8_or_replacement(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = decode(s, i);
    if (c.len == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
    } else {
      out.append(s.substr(i, c.len));
      i += c.len;
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const Utf8Char c = decode(s, i);
    if (c.len == 0) return false;
    i += c.len;
  }
  return true;
}

std::string systemd_unit_name(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                       ch == ':' || ch == '_' || ch == '.' || ch == '-';
    if (plain) out += ch;
    else out += hex_byte(static_cast<unsigned char>(ch));
  }
  return out;
}

}  // namespace capaudit::analyze
