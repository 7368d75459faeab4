#include "analyze/core/catalogue.h"

#include <stdexcept>

#include "analyze/core/embedded_data.h"
#include "analyze/core/names.h"

namespace capaudit::analyze {

std::string_view frame_function(std::string_view frame) {
  frame = trim(frame);
  auto cut = frame.find_first_of("+ [");
  if (cut != std::string_view::npos) frame = frame.substr(0, cut);
  // Compiler-generated clones ("foo.isra.0", "foo.constprop.0") are still foo.
  auto dot = frame.find('.');
  if (dot != std::string_view::npos) frame = frame.substr(0, dot);
  return frame;
}

const NoiseEntry* Catalogue::match(int cap, const std::vector<std::string>& frames) const {
  for (const auto& f : frames) {
    auto fn = frame_function(f);
    for (const auto& e : functions)
      if ((e.cap < 0 || e.cap == cap) && e.function == fn) return &e;
  }
  return nullptr;
}

const NoiseFallback* Catalogue::match_fallback(int cap, int32_t syscall_nr, std::string_view arch) const {
  for (const auto& f : fallbacks)
    if (f.cap == cap && syscall_nr >= 0 && syscall_from_name(f.syscall, arch) == syscall_nr) return &f;
  return nullptr;
}

CatalogueParse parse_catalogue(std::string_view text) {
  CatalogueParse out;
  enum class Section { none, function, fallback } section = Section::none;
  int line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      auto name = trim(line.substr(1, line.size() - 2));
      if (name == "fallback") {
        section = Section::fallback;
      } else if (name.rfind("function ", 0) == 0) {
        section = Section::function;
        out.catalogue.functions.push_back({std::string(trim(name.substr(9))), -1, ""});
      } else {
        out.errors.push_back({line_no, "unknown section [" + std::string(name) + "]"});
        section = Section::none;
      }
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      out.errors.push_back({line_no, "expected 'key = value'"});
      continue;
    }
    auto key = trim(line.substr(0, eq));
    auto value = trim(line.substr(eq + 1));
    if (section == Section::function) {
      auto& e = out.catalogue.functions.back();
      if (key == "capability") {
        if (value == "ANY") {
          e.cap = -1;
        } else if (auto c = cap_from_name(value)) {
          e.cap = *c;
        } else {
          out.errors.push_back({line_no, "unknown capability '" + std::string(value) + "'"});
        }
      } else if (key == "meaning") {
        e.meaning = std::string(value);
      } else {
        out.errors.push_back({line_no, "unknown key '" + std::string(key) + "'"});
      }
    } else if (section == Section::fallback) {
      auto sp = key.find(' ');
      auto c = cap_from_name(trim(key.substr(0, sp)));
      auto sys_name = sp == std::string_view::npos ? std::string_view{} : trim(key.substr(sp + 1));
      auto nr = syscall_from_name(sys_name, {});
      if (!c || !nr) {
        out.errors.push_back({line_no, "expected 'CAPABILITY SYSCALL = meaning'"});
        continue;
      }
      out.catalogue.fallbacks.push_back({*c, *nr, std::string(sys_name), std::string(value)});
    } else {
      out.errors.push_back({line_no, "key outside a section"});
    }
  }
  return out;
}

const Catalogue& builtin_catalogue() {
  static const Catalogue cat = parse_embedded("noise_paths.conf", parse_catalogue).catalogue;
  return cat;
}

}  // namespace capaudit::analyze
