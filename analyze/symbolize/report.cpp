#include "analyze/symbolize/report.h"

#include <set>
#include <tuple>

namespace capaudit::analyze::symbolize {

common::UserFrame to_user_frame(const UserFrameInfo& u) {
  common::UserFrame f;
  f.ip = u.ip;
  f.build_id = u.build_id;
  f.path = u.object;
  f.has_offset = u.offset.has_value();
  f.file_offset = u.offset.value_or(0);
  return f;
}

ReportSymbols symbolize_report(Report& r, Symbolizer& s) {
  ReportSymbols out;
  std::set<std::tuple<std::string, std::string, uint64_t, uint64_t>> seen;
  size_t unnamed_sites = 0;
  auto fill = [&](std::vector<CapFinding>& caps) {
    for (auto& c : caps)
      for (auto& p : c.user_paths)
        for (size_t i = 0; i < p.frames.size(); ++i) {
          auto& u = p.frames[i];
          const Symbol sym = s.symbolize(to_user_frame(u), true);
          u.function = sym.function;
          u.file = sym.file;
          u.line = sym.line;
          u.source = to_string(sym.source);
          u.problem = sym.problem;
          // The text shows call sites (advisory noise has none): only an unnamed one asks the reader to act.
          if (c.category != Category::advisory && static_cast<int>(i) == p.call_site && sym.source == SymbolSource::none)
            ++unnamed_sites;
          if (!seen.insert({u.build_id, u.object, u.offset.value_or(0), u.offset ? 0 : u.ip}).second) continue;
          ++out.frames;
          switch (sym.source) {
            case SymbolSource::debuginfo: ++out.debuginfo; break;
            case SymbolSource::symtab: ++out.symtab; break;
            case SymbolSource::dynsym: ++out.dynsym; break;
            case SymbolSource::none: ++out.none; break;
          }
        }
  };
  fill(r.caps);
  for (auto& e : r.executables) fill(e.caps);
  for (auto& n : r.namespaces) fill(n.caps);
  // One short note, and only when a call site the text shows has no name:
  // the counts of every frame are in JSON and --full.
  if (unnamed_sites)
    r.notes.push_back("User-space frames: " + std::to_string(out.none) + " of " + std::to_string(out.frames) +
                      " unsymbolized, shown as file+offset; install the debug packages or use --debuginfo DIR.");
  return out;
}

}  // namespace capaudit::analyze::symbolize
