// Output quoting (analyze/core/quote.h) and every generated artefact fed
// hostile names (issue 14, items 1 and 4): each config must parse, in the
// language it is written in, to exactly what the config for a plain name
// parses to, and carry the path back byte for byte where it names it.
// Synthetic input: the real recording of such a binary is test_hostile_recording.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <sstream>

#include "analyze/config/configs.h"
#include "analyze/core/quote.h"
#include "analyze/core/render.h"
#include "reparse.h"

namespace capaudit::analyze::test {
namespace {

namespace fs = std::filesystem;
using capaudit::test::Ran;
using capaudit::test::run;

uint64_t bit(int cap) { return uint64_t{1} << cap; }

class Quoting : public ::testing::Test {
 protected:
  void SetUp() override {
    scratch_ = std::make_unique<capaudit::test::ScratchDir>("capaudit-quoting");
    ASSERT_TRUE(scratch_->ok());
    dir_ = scratch_->path();
  }
  std::unique_ptr<capaudit::test::ScratchDir> scratch_;
  fs::path dir_;
};

// What sh makes of a word: printf '%s' WORD, through dash and bash.
std::string through_shell(const fs::path& dir, const std::string& word, const std::string& shell) {
  capaudit::test::write_text(dir / "word.sh", "printf '%s' " + word + "\n");
  const Ran r = run(shell + " " + (dir / "word.sh").string());
  EXPECT_EQ(r.status, 0) << word;
  return r.out;
}

TEST_F(Quoting, ShellWordsExpandToTheExactBytesAndArePrintable) {
  std::vector<std::string> words = capaudit::test::hostile_components();
  words.insert(words.end(), {"", "plain/path-1.2_x", "'", "''", "\n", "a\n\n", "\x01\x7f", "é ü", "%s%n"});
  for (const auto& s : words) {
    SCOPED_TRACE(visible(s));
    const std::string q = shell_quote(s);
    // One line unless the word contains a line break (kept literal in quotes).
    EXPECT_EQ(q.find('\n') != std::string::npos, s.find('\n') != std::string::npos) << q;
    for (unsigned char c : q) {
      if (c == '\n') continue;
      if (c >= 0x80) {
        // Only valid, visible UTF-8 stays raw.
        EXPECT_TRUE(is_valid_utf8(s)) << q;
        continue;
      }
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << q;
    }
    EXPECT_EQ(through_shell(dir_, q, "dash"), s) << q;
    EXPECT_EQ(through_shell(dir_, q, "bash"), s) << q;
  }
  EXPECT_EQ(shell_quote("/usr/sbin/webd"), "/usr/sbin/webd");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote("d\necho x"), "'d\necho x'");
  EXPECT_EQ(shell_quote("t\x1b[1m"), "'t'\"$(printf '\\033')\"'[1m'");
}

TEST_F(Quoting, VisibleTextIsOneLineAndShowsEveryByte) {
  EXPECT_EQ(visible("a\nb\tc\\d"), "a\\nb\\tc\\\\d");
  EXPECT_EQ(visible("\x1b[31m\xff"), "\\x1b[31m\\xff");
  EXPECT_EQ(visible("\xc2\x85\xe2\x80\xae"), "\\u{0085}\\u{202e}");
  EXPECT_EQ(visible("é"), "é");
  EXPECT_EQ(visible_quoted("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(comment_text("a */ b /* c"), "a *\\x2f b /\\x2a c");
  for (const auto& s : capaudit::test::hostile_components()) {
    for (const std::string& v : {visible(s), comment_text(s)}) {
      EXPECT_EQ(v.find('\n'), std::string::npos) << v;
      EXPECT_TRUE(capaudit::test::printable_text(v)) << v;
    }
    EXPECT_EQ(comment_text(s).find("*/"), std::string::npos);
    EXPECT_EQ(comment_text(s).find("/*"), std::string::npos);
  }
}

TEST_F(Quoting, YamlScalarsLoadBackExactly) {
  std::vector<std::string> words = capaudit::test::hostile_components();
  words.insert(words.end(), {"", "yes", "No", "null", "true", "1.5", "~", "- x", "a: b", "#c", "é", "\x7f"});
  for (const auto& s : words) {
    SCOPED_TRACE(visible(s));
    for (const std::string& y : {yaml_str(s), yaml_scalar(s)}) {
      EXPECT_TRUE(capaudit::test::printable_text(y)) << y;
      const YAML::Node n = YAML::Load("k: " + y + "\n");
      EXPECT_EQ(n["k"].as<std::string>(), utf8_or_replacement(s)) << y;
    }
  }
  EXPECT_EQ(yaml_scalar("webd"), "webd");
  EXPECT_EQ(yaml_scalar("yes"), "\"yes\"");
  EXPECT_EQ(utf8_or_replacement("a\xff"), "a\xef\xbf\xbd");
  EXPECT_EQ(utf8_or_replacement("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");  // overlong '/'
  EXPECT_EQ(utf8_or_replacement("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  EXPECT_EQ(systemd_unit_name("my-svc.v2"), "my-svc.v2");
  EXPECT_EQ(systemd_unit_name("a/b c@\n"), "a\\x2fb\\x20c\\x40\\x0a");
}

// A deployment with every branch that prints a path or a name: a non-root
// account (container warnings with RUN setcap lines), a binary with stale file
// capabilities (removal lines), one that gained privileges at exec.
ConfigInput deployment(const std::string& dir, const std::string& name, const std::string& user) {
  ConfigInput in;
  in.name = name;
  in.user = user;
  in.uid = in.gid = 65534;
  in.executables.push_back({dir + "/srv", bit(CAP_NET_BIND_SERVICE) | bit(CAP_NET_RAW), bit(CAP_NET_RAW), std::nullopt});
  common::FileCaps stale;
  stale.version = 2;
  stale.permitted = bit(CAP_SYS_ADMIN);
  in.executables.push_back({dir + "/stale", 0, 0, stale});
  ExecPrivilegeGain gain{65534, 0, 65534, 65534, 0};
  in.executables.push_back({dir + "/suid", bit(CAP_CHOWN), 0, std::nullopt, gain});
  return in;
}

ConfigInput root_deployment(const std::string& path, const std::string& name) {
  ConfigInput in;
  in.name = name;
  in.executables.push_back({path, bit(CAP_NET_BIND_SERVICE), 0, std::nullopt});
  return in;
}

// Each format parsed in its own language, compared with the plain name's.
// The Python, YAML and C parses are batched (one python3 run, one shell
// loop over gcc): a process per file would make this test slow.
class Meaning {
 public:
  explicit Meaning(fs::path dir) : dir_(std::move(dir)) {}

  void expect_same(const ConfigInput& hostile, const ConfigInput& plain) {
    for (ConfigFormat f : all_config_formats()) {
      SCOPED_TRACE(std::string(config_format_name(f)));
      const std::string text = render_config(f, hostile), plain_text = render_config(f, plain);
      const fs::path h = dir_ / (std::to_string(++n_) + "." + std::string(config_format_name(f)));
      const fs::path p = dir_ / (std::to_string(++n_) + ".plain." + std::string(config_format_name(f)));
      capaudit::test::write_text(h, text);
      capaudit::test::write_text(p, plain_text);
      // Line breaks only where a shell word holds one (setcap, filecap).
      EXPECT_TRUE(capaudit::test::printable_text(text)) << text;
      switch (f) {
        case ConfigFormat::systemd:
          EXPECT_EQ(capaudit::test::code_lines(text, "#"), capaudit::test::code_lines(plain_text, "#"));
          break;
        case ConfigFormat::docker:
        case ConfigFormat::podman:
          EXPECT_EQ(run("sh -n " + h.string()).status, 0) << text;
          EXPECT_EQ(capaudit::test::code_lines(text, "#"), capaudit::test::code_lines(plain_text, "#"));
          break;
        case ConfigFormat::compose: {
          // The service key is the name made compose-safe; the rest is identical.
          const YAML::Node n = YAML::Load(text);
          ASSERT_TRUE(n["services"].IsMap()) << text;
          ASSERT_EQ(n["services"].size(), 1u);
          const std::string key = n["services"].begin()->first.as<std::string>();
          EXPECT_EQ(key.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"),
                    std::string::npos)
              << key;
          const std::string plain_key = YAML::Load(plain_text)["services"].begin()->first.as<std::string>();
          python_.push_back({"yaml", h, p, {"\"" + plain_key + "\"", "\"" + key + "\""}, text});
          break;
        }
        case ConfigFormat::kubernetes:
          EXPECT_NO_THROW(YAML::Load(text)) << text;
          python_.push_back({"yaml", h, p, {}, text});
          break;
        case ConfigFormat::setcap:
        case ConfigFormat::filecap:
          expect_shell_calls(f, h, hostile, text);
          break;
        case ConfigFormat::c:
          c_.push_back({"c", h, p, {}, text});
          break;
        case ConfigFormat::python:
          python_.push_back({"ast", h, p, {}, text});
          break;
      }
    }
  }

  // Runs the batched parsers and compares each hostile file with its plain twin.
  void finish() {
    std::string cmd = "python3 -c 'import ast,json,sys,yaml\n"
                      "for kind, f in zip(sys.argv[1::2], sys.argv[2::2]):\n"
                      "  src = open(f, \"rb\").read()\n"
                      "  try:\n"
                      "    print(ast.dump(ast.parse(src)) if kind == \"ast\" else json.dumps(yaml.safe_load(src), sort_keys=True))\n"
                      "  except Exception as e:\n"
                      "    print(\"ERROR\", f, repr(e))\n'";
    for (const auto& j : python_) cmd += " " + j.kind + " " + j.hostile.string() + " " + j.kind + " " + j.plain.string();
    compare(python_, run(cmd));
    std::string loop = "for f in";
    for (const auto& j : c_) loop += " " + j.hostile.string() + " " + j.plain.string();
    loop += "; do gcc -fpreprocessed -dD -E -P -x c $f | tr '\\n' ' ' || echo ERROR $f; echo; done";
    compare(c_, run(loop));
    std::string cc = "gcc -fsyntax-only -Wall -Werror -x c";
    for (const auto& j : c_) cc += " " + j.hostile.string();
    const Ran r = run(cc);
    EXPECT_EQ(r.status, 0) << r.out;
  }

 private:
  struct Job {
    std::string kind;
    fs::path hostile, plain;
    std::pair<std::string, std::string> rename;  // in the plain parse: from, to
    std::string text;
  };

  void compare(const std::vector<Job>& jobs, const Ran& r) {
    ASSERT_EQ(r.status, 0) << r.out;
    std::vector<std::string> lines;
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    ASSERT_EQ(lines.size(), 2 * jobs.size()) << r.out;
    for (size_t i = 0; i < jobs.size(); ++i) {
      std::string want = lines[2 * i + 1];
      const auto& [from, to] = jobs[i].rename;
      if (!from.empty()) want.replace(want.find(from), from.size(), to);
      EXPECT_EQ(lines[2 * i].rfind("ERROR", 0), std::string::npos) << lines[2 * i];
      EXPECT_EQ(lines[2 * i], want) << jobs[i].kind << " " << jobs[i].hostile << "\n" << jobs[i].text;
    }
  }

  // Runs the script with stand-ins for setcap/filecap (dash and bash): one
  // call per executable that needs a line, each with the exact path.
  void expect_shell_calls(ConfigFormat f, const fs::path& h, const ConfigInput& hostile, const std::string& text) {
    EXPECT_EQ(run("sh -n " + h.string()).status, 0) << text;
    std::vector<std::vector<std::string>> want;
    for (const auto& e : hostile.executables) {
      const std::string arg = e.path[0] == '-' ? "./" + e.path : e.path;
      const bool stale = e.caps == 0 && e.declared_file_caps;
      if (e.caps == 0 && !stale) continue;
      std::string caps;
      for (int c : caps_in(e.caps)) caps += (caps.empty() ? "" : ",") + cap_name_libcap(c);
      if (f == ConfigFormat::setcap) {
        want.push_back(stale ? std::vector<std::string>{"setcap", "-r", arg}
                             : std::vector<std::string>{"setcap", caps + "=ep", arg});
      } else {
        std::vector<std::string> call{"filecap", arg};
        if (stale) call.push_back("none");
        for (int c : caps_in(e.caps)) call.push_back(cap_name_capng(c));
        want.push_back(call);
      }
    }
    const fs::path sandbox = dir_ / "standins";
    fs::remove_all(sandbox);
    capaudit::test::StandIns tools(sandbox, {"setcap", "filecap"});
    for (const std::string shell : {"dash", "bash"}) {
      tools.clear();
      const Ran r = tools.run_script(h, shell);
      EXPECT_EQ(r.status, 0) << r.out;
      EXPECT_EQ(r.out.find("INJECTED"), std::string::npos) << r.out;
      EXPECT_EQ(tools.calls(), want) << shell << "\n" << text;
    }
  }

  fs::path dir_;
  int n_ = 0;
  std::vector<Job> python_, c_;
};

TEST_F(Quoting, EveryConfigMeansTheSameForAHostileName) {
  Meaning m(dir_);
  for (const auto& h : capaudit::test::hostile_components()) {
    SCOPED_TRACE(visible(h));
    m.expect_same(deployment("/opt/" + h + "/bin", h, h), deployment("/opt/x/bin", "app", "nobody"));
    // Root deployment, and the component as the file name itself (relative
    // when it starts with '-': never taken for an option).
    const std::string path = h[0] == '-' ? h : "/usr/sbin/" + h;
    m.expect_same(root_deployment(path, h), root_deployment("/usr/sbin/app", "app"));
  }
  m.finish();
}

TEST_F(Quoting, TheSystemdSaveAsPathIsOneShellWordNamingAValidUnit) {
  for (const auto& h : capaudit::test::hostile_components()) {
    SCOPED_TRACE(visible(h));
    const std::string text = render_config(ConfigFormat::systemd, root_deployment("/usr/sbin/x", h));
    const size_t at = text.find("# Save as ");
    ASSERT_NE(at, std::string::npos) << text;
    const std::string word = text.substr(at + 10, text.find(", then run", at) - at - 10);
    const std::string path = through_shell(dir_, word, "sh");
    EXPECT_EQ(path, "/etc/systemd/system/" + systemd_unit_name(h) + ".service.d/capabilities.conf");
    const std::string unit = fs::path(path).parent_path().filename().string();
    EXPECT_EQ(unit.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.-\\"),
              std::string::npos)
        << unit;
  }
  const std::string text = render_config(ConfigFormat::systemd, root_deployment("/usr/sbin/x", std::string(300, 'a')));
  EXPECT_NE(text.find("too long for a unit name"), std::string::npos) << text;
  const std::string empty = render_config(ConfigFormat::systemd, root_deployment("/usr/sbin/x", ""));
  EXPECT_NE(empty.find("empty or too long for a unit name"), std::string::npos) << empty;
}

TEST_F(Quoting, ADockerfileLineIsRefusedForAPathWithALineBreak) {
  ConfigInput in = deployment("/opt/x", "app", "nobody");
  in.executables[0].path = "/opt/x/d\necho INJECTED-/srv";
  const std::string text = render_config(ConfigFormat::docker, in);
  EXPECT_NE(text.find("cannot be written on one Dockerfile line"), std::string::npos) << text;
  EXPECT_EQ(text.find("RUN setcap cap_net_bind_service,cap_net_raw=ep"), std::string::npos) << text;
}

// Reports: JSON stays valid (invalid UTF-8 becomes U+FFFD, documented), YAML
// loads to the same strings, text shows escapes instead of raw bytes.
TEST_F(Quoting, ReportsStayValidWithHostileStrings) {
  for (const auto& h : capaudit::test::hostile_components()) {
    SCOPED_TRACE(visible(h));
    Report r;
    RunInfo ri;
    ri.id = "run1";
    ri.path = "/tmp/" + h + ".cap";
    ri.target = "/opt/" + h + " --flag";
    ri.hostname = h;
    r.runs.push_back(ri);
    ExecutableFindings e;
    e.path = "/opt/" + h;
    e.recommended = bit(CAP_NET_RAW);
    r.executables.push_back(e);
    r.notes.push_back("note about " + h);

    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(render_json(r)));
    EXPECT_EQ(j["executables"][0]["path"], utf8_or_replacement(e.path));
    EXPECT_EQ(j["runs"][0]["hostname"], utf8_or_replacement(h));

    const std::string yaml = render_yaml(r);
    EXPECT_TRUE(capaudit::test::printable_text(yaml));
    YAML::Node y;
    ASSERT_NO_THROW(y = YAML::Load(yaml));
    EXPECT_EQ(y["executables"][0]["path"].as<std::string>(), utf8_or_replacement(e.path));
    capaudit::test::write_text(dir_ / "report.yaml", yaml);
    const Ran py = capaudit::test::python_yaml(dir_ / "report.yaml");
    EXPECT_EQ(py.status, 0) << py.out;
    EXPECT_EQ(nlohmann::json::parse(py.out)["executables"][0]["path"], utf8_or_replacement(e.path));

    TextOptions opts;
    opts.width = 100000;  // the path stays on one line
    opts.appendix = render_all_configs(root_deployment(e.path, h));
    const std::string text = render_text(r, opts);
    EXPECT_TRUE(capaudit::test::printable_text(text)) << text;
    // The report itself: every line its own. The appended configs may hold a
    // line break inside a quoted shell word (tested above).
    const std::string body = text.substr(0, text.find(opts.appendix));
    EXPECT_NE(body.find(visible(e.path)), std::string::npos) << body;
    for (const char* fake : {"\necho INJECTED", "\nprint(", "\n- injected"}) {
      EXPECT_EQ(body.find(fake), std::string::npos) << fake;
    }
  }
}

}  // namespace
}  // namespace capaudit::analyze::test
