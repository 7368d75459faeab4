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
  return out;
}

}  // namespace capaudit::analyze::symbolize
