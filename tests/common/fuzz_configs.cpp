// libFuzzer target for output quoting (issue 14): the config generators and
// report renderers fed hostile paths, names and user names. Every output must
// re-parse to what it should mean, or the fuzzer aborts:
//   - shell (setcap, filecap, docker, podman): a strict parser of the POSIX sh
//     subset the generators may emit (bare words, '...', \', "$(printf '\NNN')",
//     # comments) accepts every line, finds no other syntax, and the path
//     word expands to exactly the path;
//   - compose, Kubernetes, the YAML report: yaml-cpp loads them and yields the
//     capability lists / the path back;
//   - the JSON report: nlohmann parses it and yields the path (invalid UTF-8
//     as U+FFFD, docs/report-schema.md);
//   - Python, C, systemd: the lines that are not comments are the same as for
//     a plain name, and a C comment is never closed early;
//   - every output: no control byte but newline and tab.
// Built with -DCAPAUDIT_BUILD_FUZZ=ON (clang); scripts/test runs it when CI=true.
//
// Input: up to three NUL-separated strings: path, name, user. The first
// byte's low bits pick root/non-root, an exec privilege gain and stale file caps.
#include <linux/capability.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analyze/config/configs.h"
#include "analyze/core/quote.h"
#include "analyze/core/render.h"

namespace {

using namespace capaudit::analyze;

[[noreturn]] void fail(const char* what, const std::string& text) {
  std::fprintf(stderr, "fuzz_configs: %s\n---\n%s\n---\n", what, visible(text).c_str());
  std::abort();
}

void check(bool ok, const char* what, const std::string& text) {
  if (!ok) fail(what, text);
}

bool no_controls(const std::string& s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

// The sh subset the generators emit, parsed strictly: a list of commands,
// each a list of words. Anything else (an unquoted metacharacter, $, `, ")
// outside the printf form is a failure: it would be shell syntax.
std::vector<std::vector<std::string>> parse_sh(const std::string& t) {
  std::vector<std::vector<std::string>> cmds(1);
  std::string word;
  bool in_word = false;
  auto end_word = [&] {
    if (in_word) cmds.back().push_back(word);
    word.clear();
    in_word = false;
  };
  const std::string printf_open = "\"$(printf '", printf_close = "')\"";
  for (size_t i = 0; i < t.size();) {
    const char c = t[i];
    if (c == ' ' || c == '\t') {
      end_word();
      ++i;
    } else if (c == '\n') {
      end_word();
      if (!cmds.back().empty()) cmds.emplace_back();
      ++i;
    } else if (c == '#' && !in_word) {
      while (i < t.size() && t[i] != '\n') ++i;
    } else if (c == '\'') {
      const size_t close = t.find('\'', i + 1);
      check(close != std::string::npos, "unterminated single quote", t);
      word += t.substr(i + 1, close - i - 1);
      in_word = true;
      i = close + 1;
    } else if (c == '\\') {
      check(i + 1 < t.size() && t[i + 1] == '\'', "backslash other than \\'", t);
      word += '\'';
      in_word = true;
      i += 2;
    } else if (t.compare(i, printf_open.size(), printf_open) == 0) {
      const size_t close = t.find(printf_close, i);
      check(close != std::string::npos, "unterminated printf", t);
      const std::string fmt = t.substr(i + printf_open.size(), close - i - printf_open.size());
      check(fmt.size() % 4 == 0 && !fmt.empty(), "printf format is not \\NNN...", t);
      for (size_t k = 0; k < fmt.size(); k += 4) {
        check(fmt[k] == '\\' && fmt[k + 1] >= '0' && fmt[k + 1] <= '3' && fmt[k + 2] >= '0' && fmt[k + 2] <= '7' &&
                  fmt[k + 3] >= '0' && fmt[k + 3] <= '7',
              "printf format is not \\NNN...", t);
        const int byte = (fmt[k + 1] - '0') * 64 + (fmt[k + 2] - '0') * 8 + (fmt[k + 3] - '0');
        check(byte != '\n' && byte != 0, "printf of a byte it would lose", t);
        word += static_cast<char>(byte);
      }
      in_word = true;
      i = close + printf_close.size();
    } else {
      check(std::string_view("|&;<>()$`\"*?[]~{}").find(c) == std::string_view::npos, "unquoted shell syntax", t);
      word += c;
      in_word = true;
      ++i;
    }
  }
  end_word();
  if (cmds.back().empty()) cmds.pop_back();
  return cmds;
}

// Lines that are not comments. For C, comment lines are those of the
// header block and the indented /* ... */ ones the generator writes.
std::string code_lines(const std::string& text, bool c_lang) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    const std::string_view l = std::string_view(line).substr(first);
    if (c_lang ? (l.rfind("/*", 0) == 0 || l.rfind("*", 0) == 0) : l.rfind("#", 0) == 0) continue;
    out += line + "\n";
  }
  return out;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

ConfigInput input(const std::string& path, const std::string& name, const std::string& user, uint8_t flags) {
  ConfigInput in;
  in.name = name;
  in.user = user;
  if (flags & 1) in.uid = in.gid = 65534;
  ExecutableNeeds e{path, (uint64_t{1} << CAP_NET_BIND_SERVICE) | (uint64_t{1} << CAP_NET_RAW), 0, std::nullopt};
  if (flags & 2) e.exec_gain = ExecPrivilegeGain{65534, 0, 65534, 65534, 0};
  in.executables.push_back(e);
  if (flags & 4) {
    capaudit::common::FileCaps stale;
    stale.version = 2;
    stale.permitted = uint64_t{1} << CAP_SYS_ADMIN;
    in.executables.push_back({path + "2", 0, 0, stale});
  }
  return in;
}

std::vector<std::string> yaml_list(const YAML::Node& n) {
  std::vector<std::string> out;
  for (const auto& v : n) out.push_back(v.as<std::string>());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::vector<std::string> parts(1);
  for (size_t i = 1; i < size && parts.size() <= 3; ++i) {
    if (data[i] == 0) parts.emplace_back();
    else parts.back() += static_cast<char>(data[i]);
  }
  parts.resize(3);
  const std::string& path = parts[0].empty() ? std::string("/x") : parts[0];
  const std::string& name = parts[1];
  const std::string& user = parts[2];

  // Quoting primitives.
  check(parse_sh("w " + shell_quote(path) + "\n") == std::vector<std::vector<std::string>>{{"w", path}},
        "shell word does not round-trip", shell_quote(path));
  for (const std::string& s : {visible(path), comment_text(path), yaml_str(path)}) {
    check(no_controls(s) && s.find('\n') == std::string::npos, "escaped text has a control byte", s);
  }
  check(comment_text(path).find("*/") == std::string::npos, "comment can be closed", path);
  try {
    check(YAML::Load("k: " + yaml_str(path))["k"].as<std::string>() == utf8_or_replacement(path), "yaml_str round trip",
          yaml_str(path));
    check(YAML::Load("k: " + yaml_scalar(name))["k"].as<std::string>() == utf8_or_replacement(name),
          "yaml_scalar round trip", yaml_scalar(name));
  } catch (const YAML::Exception& e) {
    fail(e.what(), path);
  }

  const ConfigInput in = input(path, name, user, flags);
  const ConfigInput plain = input("/x", "app", "nobody", flags);
  const std::string arg = path[0] == '-' ? "./" + path : path;
  for (ConfigFormat f : all_config_formats()) {
    const std::string text = render_config(f, in), plain_text = render_config(f, plain);
    check(no_controls(text), "config has a control byte", text);
    switch (f) {
      case ConfigFormat::setcap:
      case ConfigFormat::filecap: {
        const auto cmds = parse_sh(text);
        check(cmds.size() == in.executables.size(), "one command per executable", text);
        for (const auto& c : cmds) {
          check(c.size() >= 2 && c[0] == (f == ConfigFormat::setcap ? "setcap" : "filecap"), "wrong command", text);
        }
        check(cmds[0][f == ConfigFormat::setcap ? 2 : 1] == arg, "path word is not the path", text);
        break;
      }
      case ConfigFormat::docker:
      case ConfigFormat::podman: {
        const auto cmds = parse_sh(text);
        check(cmds.size() == 1 && cmds == parse_sh(plain_text), "run flags differ from a plain name's", text);
        break;
      }
      case ConfigFormat::compose:
      case ConfigFormat::kubernetes:
        try {
          const YAML::Node y = YAML::Load(text), p = YAML::Load(plain_text);
          if (f == ConfigFormat::compose) {
            check(y["services"].IsMap() && y["services"].size() == 1, "one service", text);
            const YAML::Node svc = y["services"].begin()->second, psvc = p["services"].begin()->second;
            check(yaml_list(svc["cap_add"]) == yaml_list(psvc["cap_add"]), "cap_add differs", text);
            check(YAML::Dump(svc) == YAML::Dump(psvc), "service differs from a plain name's", text);
          } else {
            check(YAML::Dump(y) == YAML::Dump(p), "securityContext differs from a plain name's", text);
          }
        } catch (const YAML::Exception& e) {
          fail(e.what(), text);
        }
        break;
      case ConfigFormat::systemd:
      case ConfigFormat::python:
        check(code_lines(text, false) == code_lines(plain_text, false), "code differs from a plain name's", text);
        break;
      case ConfigFormat::c:
        check(code_lines(text, true) == code_lines(plain_text, true), "code differs from a plain name's", text);
        check(count(text, "*/") == count(plain_text, "*/") && count(text, "/*") == count(plain_text, "/*"),
              "comment delimiters differ", text);
        break;
    }
  }

  // Reports.
  Report r;
  RunInfo ri;
  ri.id = "run1";
  ri.path = name;
  ri.target = path + " " + user;
  ri.hostname = user;
  r.runs.push_back(ri);
  ExecutableFindings e;
  e.path = path;
  e.recommended = uint64_t{1} << CAP_NET_RAW;
  r.executables.push_back(e);
  r.notes.push_back(name);
  try {
    const auto j = nlohmann::json::parse(render_json(r));
    check(j["executables"][0]["path"] == utf8_or_replacement(path), "JSON path", path);
  } catch (const nlohmann::json::exception& ex) {
    fail(ex.what(), path);
  }
  try {
    const YAML::Node y = YAML::Load(render_yaml(r));
    check(y["executables"][0]["path"].as<std::string>() == utf8_or_replacement(path), "YAML path", path);
  } catch (const YAML::Exception& ex) {
    fail(ex.what(), path);
  }
  const std::string text = render_text(r);
  check(no_controls(text), "text report has a control byte", text);
  return 0;
}
