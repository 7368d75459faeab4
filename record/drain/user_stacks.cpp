#include "record/drain/user_stacks.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

namespace capaudit::record {
namespace {

std::string hex(const uint8_t* p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

// The GNU build-ID note in DATA (a run of notes), if any.
std::string build_id_in(Elf_Data* data) {
  if (!data) return {};
  size_t offset = 0, next;
  GElf_Nhdr nhdr;
  size_t name_off, desc_off;
  while ((next = gelf_getnote(data, offset, &nhdr, &name_off, &desc_off)) > 0) {
    const auto* base = static_cast<const uint8_t*>(data->d_buf);
    if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 && std::memcmp(base + name_off, "GNU", 4) == 0 &&
        nhdr.n_descsz > 0 && nhdr.n_descsz <= 64)
      return hex(base + desc_off, nhdr.n_descsz);
    offset = next;
  }
  return {};
}

}  // namespace

std::vector<Mapping> parse_maps(std::istream& in) {
  std::vector<Mapping> out;
  std::string line;
  while (std::getline(in, line)) {
    unsigned long long start, end, pgoff, inode;
    unsigned major, minor;
    char perms[8];
    int path_at = 0;
    if (sscanf(line.c_str(), "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff, &major, &minor, &inode,
               &path_at) < 7)
      continue;
    if (path_at <= 0 || static_cast<size_t>(path_at) >= line.size() || line[static_cast<size_t>(path_at)] != '/')
      continue;  // anonymous, [heap], [stack], [vdso], ...
    Mapping m;
    m.start = start;
    m.end = end;
    m.pgoff = pgoff;
    m.dev = makedev(major, minor);
    m.inode = inode;
    m.path = line.substr(static_cast<size_t>(path_at));
    static const std::string deleted = " (deleted)";
    if (m.path.size() > deleted.size() && m.path.compare(m.path.size() - deleted.size(), deleted.size(), deleted) == 0) {
      m.path.resize(m.path.size() - deleted.size());
      m.deleted = true;
    }
    m.executable = std::strchr(perms, 'x') != nullptr;
    out.push_back(std::move(m));
  }
  return out;
}

std::string read_build_id(int fd) {
  if (elf_version(EV_CURRENT) == EV_NONE) return {};
  std::unique_ptr<Elf, int (*)(Elf*)> elf(elf_begin(fd, ELF_C_READ_MMAP, nullptr), elf_end);
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return {};
  // Program headers first: what the kernel reads too, and present in
  // stripped files whose section headers are gone.
  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) == 0) {
    for (size_t i = 0; i < phnum; ++i) {
      GElf_Phdr ph;
      if (!gelf_getphdr(elf.get(), static_cast<int>(i), &ph) || ph.p_type != PT_NOTE) continue;
      auto id = build_id_in(elf_getdata_rawchunk(elf.get(), static_cast<int64_t>(ph.p_offset), ph.p_filesz, ELF_T_NHDR));
      if (!id.empty()) return id;
    }
  }
  Elf_Scn* scn = nullptr;
  while ((scn = elf_nextscn(elf.get(), scn)) != nullptr) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE) continue;
    auto id = build_id_in(elf_getdata(scn, nullptr));
    if (!id.empty()) return id;
  }
  return {};
}

std::optional<std::vector<Mapping>> ProcFiles::maps(uint32_t pid) {
  std::ifstream in(proc_ + "/" + std::to_string(pid) + "/maps");
  if (!in) return std::nullopt;
  auto m = parse_maps(in);
  if (m.empty()) return std::nullopt;  // gone between open and read, or a kernel thread
  return m;
}

std::string ProcFiles::build_id(uint32_t pid, const Mapping& m) {
  const auto key = std::make_pair(m.dev, m.inode);
  if (auto it = ids_.find(key); it != ids_.end()) return it->second;
  // map_files opens the very file mapped, even a replaced one, but needs
  // CAP_CHECKPOINT_RESTORE, which the recorder gave up after attaching; the
  // path through the process's root works for what the recorder may read,
  // and is trusted only while it is still the mapped inode.
  char range[64];
  snprintf(range, sizeof(range), "/map_files/%llx-%llx", static_cast<unsigned long long>(m.start),
           static_cast<unsigned long long>(m.end));
  const std::string base = proc_ + "/" + std::to_string(pid);
  for (const std::string& path : {base + range, base + "/root" + m.path}) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) continue;
    struct stat st {};
    std::string id;
    const bool same = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_ino == m.inode && st.st_dev == m.dev;
    if (same) id = read_build_id(fd);
    ::close(fd);
    if (!same) continue;
    ids_.emplace(key, id);
    return id;
  }
  return {};  // not cached: another process may let us read it
}

void UserStackResolver::note_file(const std::string& build_id, const std::string& path) {
  if (!build_id.empty() && !path.empty()) paths_[build_id] = path;
}

const Mapping* UserStackResolver::find(uint32_t pid, uint64_t ip) {
  auto lookup = [&](const std::vector<Mapping>& maps) -> const Mapping* {
    for (const auto& m : maps)
      if (ip >= m.start && ip < m.end) return &m;
    return nullptr;
  };
  auto it = maps_.find(pid);
  if (it != maps_.end()) {
    if (const Mapping* m = lookup(it->second)) return m;
  }
  // Not cached, or mapped since: read again (once per frame at most).
  auto fresh = files_.maps(pid);
  if (!fresh) return nullptr;
  auto& slot = maps_[pid];
  slot = std::move(*fresh);
  return lookup(slot);
}

namespace {
constexpr uint64_t kMaxPlausibleFileOffset = uint64_t{1} << 47;
}  // namespace

std::vector<common::UserFrame> UserStackResolver::resolve(uint32_t pid, const RawUserStack& raw) {
  // The two walks read the same frames unless the stack changed in between
  // (another thread writing it): then the raw addresses are not trusted to
  // line up with the kernel's names, and only the named walk is used.
  const bool both = !raw.ips.empty() && !raw.named.empty();
  bool aligned = !both || raw.ips.size() == raw.named.size();
  if (both && aligned) {
    for (size_t i = 0; i < raw.named.size(); ++i)
      if (raw.named[i].status == KernelNamedFrame::Status::ip && raw.named[i].offset_or_ip != raw.ips[i]) aligned = false;
  }
  size_t n = raw.named.empty() ? raw.ips.size() : raw.named.size();
  // A walk can end on a zero return address (the outermost frame's saved
  // rbp/return slot): a frame that names nothing is not kept.
  while (n > 0) {
    const size_t i = n - 1;
    const bool named = i < raw.named.size() && raw.named[i].status == KernelNamedFrame::Status::valid;
    const bool addr = (i < raw.ips.size() && raw.ips[i]) ||
                      (i < raw.named.size() && raw.named[i].status == KernelNamedFrame::Status::ip && raw.named[i].offset_or_ip);
    if (named || addr) break;
    --n;
  }
  std::vector<common::UserFrame> out(n);
  for (size_t i = 0; i < n; ++i) {
    common::UserFrame& f = out[i];
    const KernelNamedFrame* k = i < raw.named.size() ? &raw.named[i] : nullptr;
    if (aligned && i < raw.ips.size()) f.ip = raw.ips[i];
    else if (k && k->status == KernelNamedFrame::Status::ip) f.ip = k->offset_or_ip;
    const Mapping* m = f.ip ? find(pid, f.ip) : nullptr;
    // The kernel names a frame by the first mapping that ENDS above the
    // address (find_vma), even when the address lies below its start: a
    // garbage return address from a frame-pointer-less caller then comes back
    // "valid" with an offset that wrapped below zero. No file is 2^47 bytes
    // long, so such a name is not used.
    if (k && k->status == KernelNamedFrame::Status::valid && k->offset_or_ip >= kMaxPlausibleFileOffset) {
      ++stats_.address_only;
      continue;
    }
    if (k && k->status == KernelNamedFrame::Status::valid) {
      f.build_id = hex(k->build_id.data(), k->build_id.size());
      f.file_offset = k->offset_or_ip;
      f.has_offset = true;
      // The path is only a hint, and only when the mapping agrees with the
      // kernel about where in the file this address is.
      if (m && f.ip - m->start + m->pgoff == f.file_offset) {
        f.path = m->path;
        // The kernel reads at most 20 bytes and pads a shorter ID with zeros:
        // the file's own note says how long it really is.
        std::string own = files_.build_id(pid, *m);
        if (!own.empty() && own.size() < f.build_id.size() && f.build_id.compare(0, own.size(), own) == 0 &&
            f.build_id.find_first_not_of('0', own.size()) == std::string::npos)
          f.build_id = own;
        note_file(f.build_id, f.path);
      } else if (auto it = paths_.find(f.build_id); it != paths_.end()) {
        f.path = it->second;
      }
      ++stats_.by_kernel;
      continue;
    }
    if (m) {
      f.path = m->path;
      f.file_offset = f.ip - m->start + m->pgoff;
      f.has_offset = true;
      f.build_id = files_.build_id(pid, *m);  // empty unless still the mapped inode
      note_file(f.build_id, f.path);
      ++stats_.by_maps;
      continue;
    }
    ++stats_.address_only;
  }
  return out;
}

std::optional<common::UserLeaf> UserStackResolver::resolve_leaf(uint32_t pid, const RawUserStack& raw,
                                                                const std::vector<common::UserFrame>& frames) {
  if (!raw.leaf) return std::nullopt;
  const RawLeaf& r = *raw.leaf;
  common::UserLeaf out;
  out.word.ip = r.word;
  out.has_code = r.code.has_value();
  out.code_before = r.code.value_or(0);
  // The mapping: the kernel's (exact, at the check), else /proc/PID/maps now.
  uint64_t start = 0, end = 0, pgoff = 0;
  bool exec_file = false;
  const Mapping* m = nullptr;
  if (r.vma) {
    start = r.vma->start;
    end = r.vma->end;
    pgoff = r.vma->pgoff;
    exec_file = r.vma->exec && r.vma->file && r.word >= start && r.word < end;
  } else if (r.word && (m = find(pid, r.word)) != nullptr) {
    start = m->start;
    end = m->end;
    pgoff = m->pgoff;
    exec_file = m->executable;
  }
  if (!exec_file) {
    ++stats_.leaves_unnamed;
    return out;
  }
  out.word.has_offset = true;
  out.word.file_offset = r.word - start + pgoff;
  // The file: a frame the kernel named in the same mapping at the offset the
  // mapping gives it (the executable's text, typically: the wrapper's caller
  // lives beside the caller's caller the walk found).
  for (size_t i = 0; i < frames.size() && out.word.build_id.empty(); ++i) {
    const auto& f = frames[i];
    if (f.ip && f.ip >= start && f.ip < end && f.has_offset && f.file_offset == f.ip - start + pgoff &&
        (!f.build_id.empty() || !f.path.empty())) {
      out.word.build_id = f.build_id;
      out.word.path = f.path;
    }
  }
  if (out.word.build_id.empty() && out.word.path.empty()) {
    if (!m) m = find(pid, r.word);
    if (m && m->start == start && m->pgoff == pgoff) {
      out.word.path = m->path;
      out.word.build_id = files_.build_id(pid, *m);
      note_file(out.word.build_id, out.word.path);
    }
  }
  ++stats_.leaves_named;
  return out;
}

uint32_t UserStackTable::intern(const std::vector<common::UserFrame>& frames, const std::optional<common::UserLeaf>& leaf,
                                bool* is_new) {
  Key key;
  key.reserve(frames.size() + 2);
  for (const auto& f : frames) key.emplace_back(f.ip, f.build_id, f.path, f.file_offset, f.has_offset);
  if (leaf) {  // after a marker no frame has (has_offset true, offset ~0, ip 0)
    key.emplace_back(0, "leaf", "", ~uint64_t{0}, true);
    key.emplace_back(leaf->word.ip, leaf->word.build_id, leaf->word.path, leaf->word.file_offset, leaf->word.has_offset);
    key.emplace_back(leaf->code_before, "", "", 0, leaf->has_code);
  }
  auto [it, inserted] = ids_.try_emplace(std::move(key), static_cast<uint32_t>(ids_.size() + 1));
  *is_new = inserted;
  return it->second;
}

}  // namespace capaudit::record
