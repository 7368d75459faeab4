// Hostile names and the checks that a generated config still means what it
// should when a path or a name carries shell, Python, C, YAML or terminal
// syntax (issue 14). Shared by test_quoting (generator input built in the
// test) and test_hostile_recording (a real recording of such a binary).
//
// The strongest check is a comparison: a config for a hostile name must parse
// to the same program / document as the config for a plain name — comments
// and quoted words may differ, code may not.
#pragma once

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/run_command.h"

namespace capaudit::test {

// Path components an attacker can choose. Each one breaks at least one
// output language when printed raw (the first two are issue 14's own).
inline std::vector<std::string> hostile_components() {
  return {
      "d\necho INJECTED-",           // shell: a second command
      "app\nprint(\"X\")\n#",        // Python: code after the comment
      "c */ int injected; /* x",     // C: closes the comment
      "y\n- injected: true\n#",      // YAML: a new list item
      "t\x1b]0;owned\x07\x1b[31mred",  // terminal escapes (title, colour)
      "bad\xff\xfeutf8",             // not UTF-8
      "q'uote\"s $(echo INJECTED-) `x` \\n;&|<>*?[]{}~#=%",  // shell metacharacters
      "nel\xc2\x85sep\xe2\x80\xa8rlo\xe2\x80\xae" "end",  // NEL, U+2028, RLO
      "-rf",                         // an option, as a relative path
      "trailing-newline\n",          // command substitution would strip it
  };
}

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

inline std::string shell_word(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Lines that are not comments (leader `comment`) or blank.
inline std::string code_lines(const std::string& text, const std::string& comment) {
  std::string out, line;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != '\n') {
      line += text[i];
      continue;
    }
    if (!line.empty() && line.rfind(comment, 0) != 0) out += line + "\n";
    line.clear();
  }
  return out;
}

// No byte a terminal or a line-based reader could misread: no controls but
// newline and tab, no DEL, valid UTF-8 only, and none of C1 (NEL, CSI),
// U+2028/2029 or bidi overrides. (The fixed texts use a few non-ASCII
// characters such as the em dash.)
inline bool printable_text(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return false;
      ++i;
      continue;
    }
    const size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || i + len > text.size()) return false;
    uint32_t cp = c & (0x7f >> len);
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < (len == 2 ? 0x80u : len == 3 ? 0x800u : 0x10000u) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
    if (cp < 0xa0 || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) return false;
    i += len;
  }
  return true;
}

// The normalized program a Python source defines (comments gone).
inline Ran python_ast(const std::filesystem::path& file) {
  return run("python3 -c 'import ast,sys; print(ast.dump(ast.parse(open(sys.argv[1], \"rb\").read())))' " +
             file.string());
}

// A C source with comments removed (no include expansion), and a compile.
inline Ran c_without_comments(const std::filesystem::path& file) {
  return run("gcc -fpreprocessed -dD -E -P -x c " + file.string());
}
inline Ran c_compiles(const std::filesystem::path& file) {
  return run("gcc -fsyntax-only -Wall -Werror -x c " + file.string());
}

// YAML as PyYAML (YAML 1.1, the stricter reader about line breaks) sees it,
// normalized as JSON.
inline Ran python_yaml(const std::filesystem::path& file) {
  return run("python3 -c 'import yaml,json,sys; print(json.dumps(yaml.safe_load(open(sys.argv[1], \"rb\")), "
             "sort_keys=True))' " +
             file.string());
}

// What `sh` passes to each command of a script: a stand-in for every tool in
// `tools` records its argv (one file per call, NUL-separated), so running the
// script proves which words reached which command and that nothing else ran.
struct StandIns {
  std::filesystem::path bin, log;
  StandIns(const std::filesystem::path& dir, const std::vector<std::string>& tools) : bin(dir / "bin"), log(dir / "calls") {
    std::filesystem::create_directories(bin);
    std::filesystem::create_directories(log);
    for (const auto& t : tools) {
      write_text(bin / t, "#!/bin/sh\nn=$(ls " + log.string() + " | wc -l)\nprintf '%s\\0' " + t + " \"$@\" > " +
                              log.string() + "/$n\n");
      std::filesystem::permissions(bin / t, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                                 std::filesystem::perms::others_exec);
    }
  }
  // Runs `script` with sh; PATH has only the stand-ins and printf's home.
  Ran run_script(const std::filesystem::path& script, const std::string& shell = "sh") const {
    return run("env PATH=" + bin.string() + ":/usr/bin:/bin " + shell + " " + script.string());
  }
  std::vector<std::vector<std::string>> calls() const {
    std::vector<std::vector<std::string>> out;
    for (size_t i = 0; std::filesystem::exists(log / std::to_string(i)); ++i) {
      std::ifstream in(log / std::to_string(i), std::ios::binary);
      std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::vector<std::string> argv;
      size_t start = 0;
      for (size_t p; (p = all.find('\0', start)) != std::string::npos; start = p + 1) argv.push_back(all.substr(start, p - start));
      out.push_back(argv);
    }
    return out;
  }
  void clear() const {
    std::filesystem::remove_all(log);
    std::filesystem::create_directories(log);
  }
};

}  // namespace capaudit::test
