#include "analyze/symbolize/symbolize.h"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace capaudit::analyze::symbolize {
namespace {

// Bounds on what one file may make us walk (hostile ELF files).
constexpr size_t kMaxSections = 1 << 16;
constexpr size_t kMaxSegments = 4096;
constexpr size_t kMaxCachedResults = 1 << 17;
constexpr size_t kMaxNameBytes = 4096;

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string hex_bytes(const void* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i) {
    out += digits[b[i] >> 4];
    out += digits[b[i] & 15];
  }
  return out;
}

std::string bounded(const char* s) {
  if (!s) return {};
  size_t n = strnlen(s, kMaxNameBytes);
  return std::string(s, n);
}

std::string elf_error() { return bounded(elf_errmsg(-1)); }

void init_libelf() {
  static const bool ok = elf_version(EV_CURRENT) != EV_NONE;
  (void)ok;
}

// One opened ELF file: a regular file, bounded in size, that libelf accepts.
struct ElfFile {
  int fd = -1;
  Elf* elf = nullptr;
  std::string build_id;  // lowercase hex, "" when the file has none
  ElfFile() = default;
  ElfFile(const ElfFile&) = delete;
  ElfFile& operator=(const ElfFile&) = delete;
  ~ElfFile() {
    if (elf) elf_end(elf);
    if (fd >= 0) ::close(fd);
  }
};

// Opens `path` as an ELF file; on failure returns nullptr and sets `error`
// (missing files say "not found").
std::unique_ptr<ElfFile> open_elf(const std::string& path, uint64_t max_bytes, std::string& error) {
  init_libelf();
  auto f = std::make_unique<ElfFile>();
  // A device named by a hostile trace is never opened (opening some has
  // effects); O_NONBLOCK keeps a FIFO swapped in meanwhile from hanging the
  // open, and the fstat below checks what was opened.
  struct stat pre{};
  if (::stat(path.c_str(), &pre) != 0) {
    error = errno == ENOENT ? "not found" : std::strerror(errno);
    return nullptr;
  }
  if (!S_ISREG(pre.st_mode)) {
    error = "not a regular file";
    return nullptr;
  }
  f->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (f->fd < 0) {
    error = errno == ENOENT ? "not found" : std::strerror(errno);
    return nullptr;
  }
  struct stat st{};
  if (::fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "not a regular file";
    return nullptr;
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    error = "larger than " + std::to_string(max_bytes) + " bytes";
    return nullptr;
  }
  f->elf = elf_begin(f->fd, ELF_C_READ_MMAP, nullptr);
  if (!f->elf) {
    error = "not readable as ELF: " + elf_error();
    return nullptr;
  }
  GElf_Ehdr eh;
  if (elf_kind(f->elf) != ELF_K_ELF || !gelf_getehdr(f->elf, &eh)) {
    error = "not an ELF file";
    return nullptr;
  }
  const void* id = nullptr;
  ssize_t n = dwelf_elf_gnu_build_id(f->elf, &id);
  if (n > 0 && id && n <= 64) f->build_id = hex_bytes(id, static_cast<size_t>(n));
  return f;
}

bool has_section_type(Elf* elf, GElf_Word type) {
  size_t count = 0;
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn && count < kMaxSections; scn = elf_nextscn(elf, scn), ++count) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) && sh.sh_type == type) return true;
  }
  return false;
}

struct Segment {
  uint64_t offset = 0, filesz = 0, vaddr = 0;
};

std::vector<Segment> load_segments(Elf* elf) {
  std::vector<Segment> out;
  size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) != 0) return out;
  phnum = std::min(phnum, kMaxSegments);
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (gelf_getphdr(elf, static_cast<int>(i), &ph) && ph.p_type == PT_LOAD && ph.p_filesz > 0)
      out.push_back({ph.p_offset, ph.p_filesz, ph.p_vaddr});
  }
  return out;
}

std::string demangle(const std::string& name) {
  if (name.size() < 2 || name.compare(0, 2, "_Z") != 0) return name;
  int status = 0;
  char* d = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  if (status != 0 || !d) return name;
  std::string out = bounded(d);
  std::free(d);
  return out;
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

}  // namespace

const char* to_string(SymbolSource s) {
  switch (s) {
    case SymbolSource::debuginfo: return "debuginfo";
    case SymbolSource::symtab: return "symtab";
    case SymbolSource::dynsym: return "dynsym";
    case SymbolSource::none: return "none";
  }
  return "none";
}

std::string unsymbolized_text(const common::UserFrame& f) {
  if (!f.has_offset) return hex(f.ip);
  return (f.path.empty() ? std::string("[unknown]") : f.path) + "+" + hex(f.file_offset);
}

bool build_id_matches(const std::string& recorded, const std::string& file) {
  if (recorded.empty() || file.empty()) return false;
  if (recorded == file) return true;
  // The kernel's 20-byte field, zero-padded after a shorter ID.
  if (recorded.size() == 40 && file.size() < 40 && recorded.compare(0, file.size(), file) == 0)
    return recorded.find_first_not_of('0', file.size()) == std::string::npos;
  return false;
}

BuildIdResult read_build_id(const std::string& path, uint64_t max_file_bytes) {
  BuildIdResult r;
  auto f = open_elf(path, max_file_bytes, r.error);
  if (f) r.build_id = f->build_id;
  return r;
}

// One object (binary + optional debug file) as resolved for a recorded build ID and path.
struct Symbolizer::Object {
  std::string build_id;      // recorded
  std::string binary;        // path of the binary used ("" when none)
  std::string debug_file;    // path of the verified debug file ("" when none)
  std::string problem;       // why nothing can be resolved ("" when the binary is usable)
  std::string debug_note;    // why no debug file was used
  bool unverified = false;   // no build ID recorded: the binary could not be checked
  bool binary_symtab = false, debug_symtab = false;
  std::vector<Segment> segments;
  std::unique_ptr<ElfFile> debug;  // kept open: handed to libdwfl on demand
  Dwfl* dwfl = nullptr;
  Dwfl_Module* mod = nullptr;
  GElf_Addr bias = 0;
  ~Object() {
    if (dwfl) dwfl_end(dwfl);
  }
};

namespace {

// libdwfl asks for a separate debug file only when the binary lacks DWARF (or
// a symbol table): hand it the one already found and verified by build ID.
int find_verified_debuginfo(Dwfl_Module*, void** userdata, const char*, Dwarf_Addr, const char*, const char*,
                            GElf_Word, char** debuginfo_file_name) {
  auto* obj = static_cast<Symbolizer::Object*>(*userdata);
  if (!obj || !obj->debug) return -1;
  int fd = ::fcntl(obj->debug->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return -1;
  *debuginfo_file_name = ::strdup(obj->debug_file.c_str());
  return fd;
}

const Dwfl_Callbacks kCallbacks = {
    .find_elf = nullptr,
    .find_debuginfo = find_verified_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = nullptr,
};

}  // namespace

Symbolizer::Symbolizer(Options opts) : opts_(std::move(opts)) {}
Symbolizer::~Symbolizer() = default;

Symbolizer::Object* Symbolizer::object_for(const common::UserFrame& f) {
  const std::string key = f.build_id + '\0' + f.path;
  if (auto it = objects_.find(key); it != objects_.end()) return it->second.get();
  if (objects_.size() >= std::max<size_t>(1, opts_.max_open_objects) && !open_order_.empty()) {
    objects_.erase(open_order_.front());
    open_order_.erase(open_order_.begin());
  }
  auto obj = std::make_unique<Object>();
  Object& o = *obj;
  o.build_id = f.build_id;
  std::vector<std::string> refused;  // "PATH: build ID mismatch: ..." — said whatever else is found

  // The separate debug file, by build ID.
  std::vector<std::string> looked;
  if (f.build_id.size() >= 4) {
    const std::string rel = ".build-id/" + f.build_id.substr(0, 2) + "/" + f.build_id.substr(2) + ".debug";
    std::vector<std::string> roots;
    for (const auto& d : opts_.debuginfo_dirs) {
      roots.push_back(d);
      roots.push_back(d + "/usr/lib/debug");
    }
    if (opts_.system_debuginfo) roots.push_back(opts_.system_debug_root);
    for (const auto& root : roots) {
      const std::string path = root + "/" + rel;
      std::string err;
      auto df = open_elf(path, opts_.max_file_bytes, err);
      if (!df) {
        if (err != "not found") refused.push_back(path + ": " + err);
        continue;
      }
      if (!build_id_matches(f.build_id, df->build_id)) {
        refused.push_back(path + ": build ID mismatch: recorded " + f.build_id + ", file has " +
                          (df->build_id.empty() ? "none" : df->build_id));
        continue;
      }
      o.debug_symtab = has_section_type(df->elf, SHT_SYMTAB);
      o.debug = std::move(df);
      o.debug_file = path;
      break;
    }
    if (!o.debug) {
      std::vector<std::string> where;
      for (const auto& r : roots) where.push_back(r + "/.build-id");
      o.debug_note = "no debuginfo for build ID " + f.build_id +
                     (where.empty() ? std::string(" (no debuginfo root)") : " in " + join(where, ", "));
    }
  } else {
    o.debug_note = "no build ID recorded: debuginfo cannot be looked up";
  }

  // The binary: the recorded path, then the same path under each --debuginfo root.
  std::unique_ptr<ElfFile> bin;
  if (!f.path.empty()) {
    std::vector<std::string> candidates{f.path};
    if (f.path.front() == '/')
      for (const auto& d : opts_.debuginfo_dirs) candidates.push_back(d + f.path);
    std::vector<std::string> missing;
    for (const auto& path : candidates) {
      std::string err;
      auto b = open_elf(path, opts_.max_file_bytes, err);
      if (!b) {
        (err == "not found" ? missing : refused).push_back(err == "not found" ? path : path + ": " + err);
        continue;
      }
      if (f.build_id.empty()) {
        o.unverified = true;  // nothing to check it against: used, and said so
      } else if (!build_id_matches(f.build_id, b->build_id)) {
        refused.push_back(path + ": build ID mismatch: recorded " + f.build_id + ", file has " +
                          (b->build_id.empty() ? "none" : b->build_id));
        continue;
      }
      bin = std::move(b);
      o.binary = path;
      break;
    }
    if (!bin && !missing.empty()) refused.push_back(join(missing, ", ") + ": not found");
  } else {
    refused.push_back("the trace names no file for this address");
  }

  if (bin) {
    o.segments = load_segments(bin->elf);
    o.binary_symtab = has_section_type(bin->elf, SHT_SYMTAB);
    o.dwfl = dwfl_begin(&kCallbacks);
    int fd = o.dwfl ? ::fcntl(bin->fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (fd >= 0) {
      // Base 0: addresses are the ELF's own virtual addresses (plus the bias libdwfl reports).
      o.mod = dwfl_report_elf(o.dwfl, o.binary.c_str(), o.binary.c_str(), fd, 0, false);
      if (!o.mod) ::close(fd);  // consumed only on success
    }
    if (o.mod) {
      dwfl_report_end(o.dwfl, nullptr, nullptr);
      void** ud = nullptr;
      dwfl_module_info(o.mod, &ud, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
      if (ud) *ud = &o;
      if (!dwfl_module_getelf(o.mod, &o.bias)) {
        o.problem = o.binary + ": " + bounded(dwfl_errmsg(-1));
        o.mod = nullptr;
      }
    } else {
      o.problem = o.binary + ": " + bounded(dwfl_errmsg(-1));
    }
  } else {
    o.problem = "no usable binary for build ID " + (f.build_id.empty() ? std::string("(none recorded)") : f.build_id);
    if (o.debug) o.problem += "; debuginfo " + o.debug_file + " exists, but only the binary maps file offsets to addresses";
  }
  if (!refused.empty()) {
    const std::string why = join(refused, "; ");
    o.problem += (o.problem.empty() ? "" : " (") + why + (o.problem.empty() ? "" : ")");
    if (o.mod && !o.debug) o.debug_note = why + "; " + o.debug_note;
  }
  // The debug file was kept open for libdwfl; the binary's fd was duplicated into it.
  Object* raw = obj.get();
  objects_.emplace(key, std::move(obj));
  open_order_.push_back(key);
  return raw;
}

Symbol Symbolizer::symbolize(const common::UserFrame& f, bool return_address) {
  Symbol s;
  if (!f.has_offset) {
    s.problem = "no file offset recorded for this address";
    return s;
  }
  const std::string rkey = f.build_id + '\0' + f.path + '\0' + std::to_string(f.file_offset) + (return_address ? "r" : "");
  if (auto it = results_.find(rkey); it != results_.end()) return it->second;
  if (results_.size() >= kMaxCachedResults) results_.clear();

  Object* o = object_for(f);
  s.object = o->binary;
  s.debug_file = o->debug_file;
  if (!o->mod) {
    s.problem = o->problem;
    return results_[rkey] = s;
  }
  const Segment* seg = nullptr;
  for (const auto& g : o->segments)
    if (f.file_offset >= g.offset && f.file_offset - g.offset < g.filesz) seg = &g;
  if (!seg) {
    s.problem = "offset " + hex(f.file_offset) + " lies in no loadable segment of " + o->binary;
    return results_[rkey] = s;
  }
  GElf_Addr addr = seg->vaddr + (f.file_offset - seg->offset) + o->bias;
  if (return_address && addr > 0) --addr;

  GElf_Off sym_off = 0;
  GElf_Sym sym{};
  GElf_Word shndx = 0;
  Elf* sym_elf = nullptr;
  Dwarf_Addr sym_bias = 0;
  const char* name = dwfl_module_addrinfo(o->mod, addr, &sym_off, &sym, &shndx, &sym_elf, &sym_bias);
  // A sized symbol that ends before the address (a static function after an
  // exported one in .dynsym) does not name it.
  if (name && sym.st_size > 0 && sym_off >= sym.st_size) name = nullptr;
  if (name) s.function = demangle(bounded(name));

  if (Dwfl_Line* line = dwfl_module_getsrc(o->mod, addr)) {
    int lineno = 0;
    const char* file = dwfl_lineinfo(line, nullptr, &lineno, nullptr, nullptr, nullptr);
    if (file && lineno > 0) {
      s.file = bounded(file);
      s.line = static_cast<uint32_t>(lineno);
      // Relative to the compilation directory, as the developer knows it.
      Dwarf_Addr cu_bias = 0;
      if (Dwarf_Die* cu = dwfl_module_addrdie(o->mod, addr, &cu_bias)) {
        Dwarf_Attribute attr;
        const char* comp_dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
        std::string dir = bounded(comp_dir);
        if (!dir.empty() && dir.back() != '/') dir += '/';
        if (!dir.empty() && s.file.size() > dir.size() && s.file.compare(0, dir.size(), dir) == 0)
          s.file = s.file.substr(dir.size());
        // A name that climbs out of the compilation directory (ccache's base_dir
        // rewrite, out-of-tree builds: "../../src/x.c") says more made whole.
        if (s.file.rfind("../", 0) == 0 && !dir.empty() && dir.front() == '/')
          s.file = std::filesystem::path(dir + s.file).lexically_normal().string();
      }
    }
  }

  const bool symtab = o->binary_symtab || o->debug_symtab;
  if (s.line > 0) {
    s.source = SymbolSource::debuginfo;
  } else if (!s.function.empty()) {
    s.source = symtab ? SymbolSource::symtab : SymbolSource::dynsym;
    s.problem = symtab ? "no DWARF line information (" + o->debug_note + ")"
                       : "no symbol table (stripped; " + o->debug_note + "): function from .dynsym";
  } else {
    s.problem = "no symbol covers " + hex(f.file_offset) + " in " + o->binary +
                (symtab ? std::string() : " (stripped; " + o->debug_note + ")");
  }
  if (o->unverified)
    s.problem = std::string("unverified: the trace has no build ID for this frame") + (s.problem.empty() ? "" : "; ") + s.problem;
  return results_[rkey] = s;
}

}  // namespace capaudit::analyze::symbolize
