// Offline symbolization of user-space frames (issue 18): a frame names its
// file by build ID and file offset (common::UserFrame); this library finds a
// file with that build ID on the analysis machine and resolves the function
// and source line with elfutils' libdwfl. It reads files, so it lives beside
// the pure analyzer core, not in it: the CLI symbolizes a report after
// classification (analyze/symbolize/report.h).
//
// Where a file is looked for, in order (docs/analysis.md, "User-space call sites"):
//   debug info  DIR/.build-id/xx/rest.debug and DIR/usr/lib/debug/.build-id/xx/rest.debug
//               for each --debuginfo DIR, then /usr/lib/debug/.build-id/xx/rest.debug
//   the binary  the recorded path, then DIR/<recorded path> for each --debuginfo DIR
// A file whose build ID differs from the recorded one is refused, with the
// reason, and never used. The binary is needed to turn the file offset into
// an address (a separate debug file keeps no segment offsets).
//
// Everything read is untrusted: only regular files are opened, sizes are
// bounded, every libelf/libdw error becomes a problem string.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/trace.h"

namespace capaudit::analyze::symbolize {

// Where the function name (and line) came from, best first.
enum class SymbolSource : uint8_t {
  debuginfo,  // DWARF: function and source file:line
  symtab,     // the ELF symbol table (.symtab): function only
  dynsym,     // only the dynamic symbol table (.dynsym, a stripped file): exported functions only
  none,       // unsymbolized: shown as file+0xoffset
};
const char* to_string(SymbolSource s);

struct Symbol {
  std::string function;  // demangled; "" when unknown
  std::string file;      // source file (DWARF), "" when unknown
  uint32_t line = 0;     // 0 when unknown
  SymbolSource source = SymbolSource::none;
  // Why the result is less than debuginfo (or nothing at all): "no debuginfo
  // for build ID ...; function from .dynsym", "build ID mismatch: recorded X,
  // file has Y". "" when everything was found.
  std::string problem;
  std::string object;      // the binary the frame was resolved in ("" when none was usable)
  std::string debug_file;  // the separate debug file used, "" when none
};

struct Options {
  std::vector<std::string> debuginfo_dirs;  // --debuginfo DIR, in order
  // /usr/lib/debug/.build-id (turned off by tests that must not depend on the host).
  bool system_debuginfo = true;
  std::string system_debug_root = "/usr/lib/debug";
  // Larger files are not opened (hostile or absurd inputs).
  uint64_t max_file_bytes = uint64_t{4} << 30;
  // Distinct objects kept open; beyond it, results are still computed but
  // the least recently opened object is closed.
  size_t max_open_objects = 64;
};

// The frame as people read it without symbols: "/usr/bin/x+0x1234",
// "[unknown]+0x1234" without a path, "0x7f00..." without an offset.
std::string unsymbolized_text(const common::UserFrame& f);

class Symbolizer {
 public:
  explicit Symbolizer(Options opts = {});
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // `return_address`: the frame's ip is where a call returns to (every frame
  // of a stack walked from a syscall); the call is the byte before it, which
  // is looked up instead so the line is the call's, not the next statement's.
  Symbol symbolize(const common::UserFrame& f, bool return_address = true);

  const Options& options() const { return opts_; }

 public:
  struct Object;  // one binary (+ debug file) per recorded build ID and path; symbolize.cpp

 private:
  Object* object_for(const common::UserFrame& f);
  Options opts_;
  std::map<std::string, std::unique_ptr<Object>> objects_;  // key: build_id + '\0' + path
  std::vector<std::string> open_order_;
  std::map<std::string, Symbol> results_;  // key: object key + offset
};

// True when a file's build ID (hex) is the recorded one. The kernel reports a
// build ID in a 20-byte field: a shorter one comes back padded with zero bytes.
bool build_id_matches(const std::string& recorded, const std::string& file);

// The build ID of an ELF file as lowercase hex ("" when it has none), or an
// error string; never throws. For tests and `dump`.
struct BuildIdResult {
  std::string build_id;
  std::string error;
};
BuildIdResult read_build_id(const std::string& path, uint64_t max_file_bytes = uint64_t{4} << 30);

}  // namespace capaudit::analyze::symbolize
