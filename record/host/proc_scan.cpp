#include "record/host/proc_scan.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "record/host/filecaps.h"
#include "record/host/privileges.h"

namespace capaudit::record {

namespace {

std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<uint32_t> as_id(const char* name) {
  if (!name || !*name) return std::nullopt;
  char* end = nullptr;
  unsigned long v = std::strtoul(name, &end, 10);
  if (*end != '\0' || v == 0 || v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(v);
}

std::vector<uint32_t> numeric_entries(const std::string& dir) {
  std::vector<uint32_t> ids;
  DIR* d = opendir(dir.c_str());
  if (!d) return ids;
  while (dirent* e = readdir(d))
    if (auto id = as_id(e->d_name)) ids.push_back(*id);
  closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// "Uid:\t0\t0\t0\t0" → {real, effective, saved, fs}
std::vector<uint32_t> id_line(const std::string& status, const std::string& key) {
  std::vector<uint32_t> ids;
  auto pos = status.find("\n" + key + ":");
  if (pos == std::string::npos) return ids;
  std::istringstream in(status.substr(pos + key.size() + 2, status.find('\n', pos + 1) - pos - key.size() - 2));
  uint32_t v;
  while (in >> v) ids.push_back(v);
  return ids;
}

void read_cgroup_procs(const std::string& dir, bool recursive, std::vector<uint32_t>& out) {
  if (auto text = slurp(dir + "/cgroup.procs")) {
    std::istringstream in(*text);
    uint32_t pid;
    while (in >> pid) out.push_back(pid);
  }
  if (!recursive) return;
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  std::vector<std::string> children;
  while (dirent* e = readdir(d))
    if (e->d_type == DT_DIR && e->d_name[0] != '.') children.push_back(dir + "/" + e->d_name);
  closedir(d);
  for (const auto& child : children) read_cgroup_procs(child, true, out);
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(const std::string& text) {
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  ProcStat st;
  st.pid = static_cast<uint32_t>(std::strtoul(text.c_str(), nullptr, 10));
  st.comm = text.substr(open + 1, close - open - 1);
  // Fields after comm start at field 3 (state).
  std::istringstream in(text.substr(close + 1));
  std::vector<std::string> fields;
  std::string f;
  while (in >> f) fields.push_back(f);
  if (fields.size() < 20 || fields[0].size() != 1) return std::nullopt;
  st.state = fields[0][0];
  st.ppid = static_cast<uint32_t>(std::strtoul(fields[1].c_str(), nullptr, 10));
  st.start_ticks = std::strtoull(fields[22 - 3].c_str(), nullptr, 10);
  return st;
}

uint64_t ticks_to_ns(uint64_t ticks, long ticks_per_second) {
  if (ticks_per_second <= 0) return 0;
  uint64_t hz = static_cast<uint64_t>(ticks_per_second);
  // Split to avoid overflow for long uptimes.
  return ticks / hz * 1'000'000'000ull + ticks % hz * 1'000'000'000ull / hz;
}

std::string cgroup_v2_path(const std::string& proc_cgroup_text) {
  std::istringstream in(proc_cgroup_text);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  return "";
}

std::vector<uint32_t> list_processes(const std::string& proc_root) { return numeric_entries(proc_root); }

std::vector<uint32_t> threads_of(uint32_t pid, const std::string& proc_root) {
  return numeric_entries(proc_root + "/" + std::to_string(pid) + "/task");
}

ProcessTree process_tree(uint32_t root, const std::string& proc_root) {
  ProcessTree tree;
  std::multimap<uint32_t, uint32_t> children;
  bool root_seen = false;
  for (uint32_t pid : list_processes(proc_root)) {
    auto text = slurp(proc_root + "/" + std::to_string(pid) + "/stat");
    if (!text) continue;  // exited during the scan
    auto st = parse_proc_stat(*text);
    if (!st) continue;
    children.emplace(st->ppid, pid);
    root_seen |= pid == root;
  }
  if (!root_seen) return tree;
  std::vector<uint32_t> queue{root};
  for (size_t i = 0; i < queue.size(); ++i) {
    auto [b, e] = children.equal_range(queue[i]);
    for (auto it = b; it != e; ++it) queue.push_back(it->second);
  }
  tree.pids = queue;
  for (uint32_t pid : tree.pids) {
    auto tids = threads_of(pid, proc_root);
    tree.tids.insert(tree.tids.end(), tids.begin(), tids.end());
  }
  return tree;
}

common::Result<std::vector<uint32_t>> cgroup_processes(const std::string& cgroup_dir, bool recursive) {
  if (access((cgroup_dir + "/cgroup.procs").c_str(), R_OK) != 0)
    return common::fail(cgroup_dir + " is not a readable cgroup (no cgroup.procs)");
  std::vector<uint32_t> pids;
  read_cgroup_procs(cgroup_dir, recursive, pids);
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

std::optional<common::ProcessInfo> read_process(uint32_t pid, const std::string& proc_root) {
  std::string dir = proc_root + "/" + std::to_string(pid);
  auto stat_text = slurp(dir + "/stat");
  auto status = slurp(dir + "/status");
  if (!stat_text || !status) return std::nullopt;
  auto st = parse_proc_stat(*stat_text);
  if (!st) return std::nullopt;

  common::ProcessInfo info;
  info.pid = pid;
  info.ppid = st->ppid;
  info.start_time_ns = ticks_to_ns(st->start_ticks, sysconf(_SC_CLK_TCK));
  char buf[4096];
  ssize_t n = readlink((dir + "/exe").c_str(), buf, sizeof buf - 1);
  if (n > 0) info.exe.assign(buf, static_cast<size_t>(n));
  if (auto cmdline = slurp(dir + "/cmdline")) {
    std::string arg;
    for (char c : *cmdline) {
      if (c == '\0') {
        info.argv.push_back(arg);
        arg.clear();
      } else {
        arg += c;
      }
    }
    if (!arg.empty()) info.argv.push_back(arg);  // a process that rewrote its argv
  }
  std::string status_text = "\n" + *status;
  auto uids = id_line(status_text, "Uid");
  auto gids = id_line(status_text, "Gid");
  if (uids.size() >= 2) info.uid = uids[0], info.euid = uids[1];
  if (gids.size() >= 2) info.gid = gids[0], info.egid = gids[1];
  info.caps = parse_status_caps(*status);
  if (!info.exe.empty()) {
    if (auto caps = read_file_caps(dir + "/exe")) info.file_caps = *caps;
  }
  if (auto cg = slurp(dir + "/cgroup")) info.cgroup = cgroup_v2_path(*cg);
  return info;
}

std::vector<common::ProcessInfo> read_processes(const std::vector<uint32_t>& pids, const std::string& proc_root) {
  std::vector<common::ProcessInfo> out;
  for (uint32_t pid : pids)
    if (auto info = read_process(pid, proc_root)) out.push_back(std::move(*info));
  return out;
}

}  // namespace capaudit::record
