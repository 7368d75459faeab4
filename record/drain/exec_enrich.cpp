#include "record/drain/exec_enrich.h"

#include <dirent.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <memory>

#include "record/host/filecaps.h"

namespace capaudit::record {
namespace {

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

std::string CgroupNames::name(uint64_t id, uint64_t now_ns) {
  if (auto it = names_.find(id); it != names_.end()) return it->second;
  if (now_ns - last_scan_ns_ >= 1'000'000'000ull) {
    last_scan_ns_ = now_ns;
    for (const char* root : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
      struct statfs fs {};
      if (statfs(root, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) {
        scan(root, "", 0);
        break;
      }
    }
  }
  auto it = names_.find(id);
  return it == names_.end() ? std::string() : it->second;
}

void CgroupNames::scan(const std::string& dir, const std::string& rel, int depth) {
  struct stat st {};
  if (stat(dir.c_str(), &st) == 0) names_[st.st_ino] = rel.empty() ? "/" : rel;
  if (depth > 32) return;
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir(dir.c_str()), closedir);
  if (!d) return;
  while (auto* ent = readdir(d.get())) {
    if (ent->d_type != DT_DIR || ent->d_name[0] == '.') continue;
    scan(dir + "/" + ent->d_name, rel + "/" + ent->d_name, depth + 1);
  }
}

void ExecEnricher::enrich(common::ExecEvent& e) {
  // A relative name, or one through /proc or /dev/fd (fexecve, "exec myself"
  // via /proc/self/exe), names no file a config could point at: take the
  // real path while the process still runs. Race-free enough: exec just
  // happened and the link names the same file for the life of the image.
  if (e.filename.empty() || e.filename[0] != '/' || e.filename.rfind("/proc/", 0) == 0 ||
      e.filename.rfind("/dev/fd/", 0) == 0) {
    char buf[4096];
    ssize_t n = readlink(("/proc/" + std::to_string(e.pid) + "/exe").c_str(), buf, sizeof(buf) - 1);
    if (n > 0) e.filename.assign(buf, static_cast<size_t>(n));
  }
  e.cgroup = cgroups_.name(e.cgroup_id, monotonic_ns());
  if (!e.filename.empty() && e.filename[0] == '/') {
    if (auto caps = read_file_caps(e.filename)) e.file_caps = *caps;
  }
}

}  // namespace capaudit::record
