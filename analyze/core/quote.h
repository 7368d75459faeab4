// Output quoting: the one place where text from a trace (paths, argv, user
// and host names — attacker-controlled) is made safe for each output language
// (STYLE 16). Every renderer and CLI printer goes through these functions;
// docs/configs.md and docs/report-schema.md describe the rules.
#pragma once

#include <string>
#include <string_view>

namespace capaudit::analyze {

// For people (terminal text: dump, info, the text report): one line of
// printable text that shows every byte. Backslash becomes "\\"; newline, tab
// and carriage return "\n" "\t" "\r"; other control bytes, DEL and bytes that
// are not valid UTF-8 "\xHH"; valid but invisible or line-breaking code
// points (C1 controls incl. NEL, U+2028/2029, bidi overrides, BOM) "\u{HHHH}".
// Other UTF-8 text stays as it is.
std::string visible(std::string_view s);

// visible(), wrapped in double quotes with '"' escaped as \" — for a field
// that must stay one word (dump's argv).
std::string visible_quoted(std::string_view s);

// The text of a comment line in any generated config (shell, Python, C,
// systemd, YAML): visible(), and "*/" written "*\x2f" so a C comment cannot
// be closed early ("/*" written "/\x2a": gcc -Wall warns about it). The result
// never contains a line break.
std::string comment_text(std::string_view s);

// One POSIX sh word that expands to exactly `s` (dash, bash, busybox).
// Left bare when every byte is in [A-Za-z0-9_@%+=:,./-]; otherwise single
// quoted ('\'' for a quote), and runs of bytes that are not printable text
// (control bytes, DEL, invalid UTF-8, invisible code points) are written as
// "$(printf '\NNN')" so the word is printable ASCII. A line break stays a
// literal line break inside the quotes: POSIX sh has no other way to write
// it in one word ("$(...)" strips trailing line breaks, $'...' is not in
// dash). `s` must not contain NUL (a path cannot).
std::string shell_quote(std::string_view s);

// A YAML double-quoted scalar that loads back to exactly `s` when `s` is
// valid UTF-8 (YAML is Unicode text: an invalid byte becomes U+FFFD). The
// output is printable ASCII: everything else is escaped (\n, \xHH, \uHHHH).
std::string yaml_str(std::string_view s);

// A YAML scalar that loads as the string `s`: plain when it is a simple
// word ([A-Za-z][A-Za-z0-9._-]*) that no YAML 1.1/1.2 reader takes for a
// bool or null ("yes", "off", "null", ...), else yaml_str(s).
std::string yaml_scalar(std::string_view s);

// `s` as valid UTF-8: each byte that does not belong to a valid UTF-8
// sequence (also overlong forms and surrogates) becomes U+FFFD. JSON and YAML
// reports go through this: they are Unicode text.
std::string utf8_or_replacement(std::string_view s);
bool is_valid_utf8(std::string_view s);

// A name as the prefix of a systemd unit name: the characters unit names
// allow ([A-Za-z0-9:_.-]) stay, every other byte ('/', '@', '\\', spaces,
// controls, non-ASCII) becomes "\xHH", systemd's escape (systemd-escape(1)).
std::string systemd_unit_name(std::string_view s);

}  // namespace capaudit::analyze
