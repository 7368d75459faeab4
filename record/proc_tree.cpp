#include "record/proc_tree.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

namespace capaudit::record {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Fields of /proc/PID/stat after the parenthesized comm (which may contain spaces).
std::vector<std::string> stat_fields(pid_t pid) {
  std::string s = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto close = s.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream in(s.substr(close + 2));
  std::vector<std::string> out;
  std::string f;
  while (in >> f) out.push_back(f);
  return out;  // out[0] is field 3 (state)
}

std::vector<pid_t> all_pids() {
  std::vector<pid_t> out;
  std::unique_ptr<DIR, int (*)(DIR*)> d(opendir("/proc"), closedir);
  if (!d) return out;
  while (auto* e = readdir(d.get())) {
    char* end;
    long v = strtol(e->d_name, &end, 10);
    if (*end == 0 && v > 0) out.push_back(static_cast<pid_t>(v));
  }
  return out;
}

}  // namespace

std::vector<pid_t> process_tree(pid_t root) {
  if (stat_fields(root).empty()) return {};
  std::multimap<pid_t, pid_t> children;
  for (pid_t p : all_pids()) {
    auto f = stat_fields(p);
    if (f.size() > 1) children.emplace(static_cast<pid_t>(std::atoi(f[1].c_str())), p);
  }
  std::vector<pid_t> out{root};
  for (size_t i = 0; i < out.size(); ++i) {
    auto [b, e] = children.equal_range(out[i]);
    for (auto it = b; it != e; ++it) out.push_back(it->second);
  }
  return out;
}

std::vector<common::ProcessInfo> process_infos(std::span<const pid_t> pids) {
  std::vector<common::ProcessInfo> out;
  const long ticks = sysconf(_SC_CLK_TCK);
  for (pid_t pid : pids) {
    auto f = stat_fields(pid);
    if (f.size() < 20) continue;
    std::string dir = "/proc/" + std::to_string(pid);
    common::ProcessInfo p;
    p.pid = static_cast<uint32_t>(pid);
    p.ppid = static_cast<uint32_t>(std::atoi(f[1].c_str()));
    // stat's starttime is in clock ticks since boot: the same clock as the
    // BPF side's start_boottime, at tick resolution.
    p.start_time_ns = std::strtoull(f[19].c_str(), nullptr, 10) * (1'000'000'000ull / static_cast<uint64_t>(ticks));
    char buf[4096];
    ssize_t n = readlink((dir + "/exe").c_str(), buf, sizeof(buf) - 1);
    if (n > 0) p.exe.assign(buf, static_cast<size_t>(n));
    std::string cmdline = slurp(dir + "/cmdline");
    for (size_t pos = 0; pos < cmdline.size();) {
      size_t end = cmdline.find('\0', pos);
      if (end == std::string::npos) end = cmdline.size();
      p.argv.push_back(cmdline.substr(pos, end - pos));
      pos = end + 1;
    }
    std::istringstream status(slurp(dir + "/status"));
    std::string line;
    while (std::getline(status, line)) {
      std::istringstream ls(line);
      std::string key;
      ls >> key;
      auto hex = [&ls] {
        std::string v;
        ls >> v;
        return std::strtoull(v.c_str(), nullptr, 16);
      };
      if (key == "Uid:") ls >> p.uid >> p.euid;
      else if (key == "Gid:") ls >> p.gid >> p.egid;
      else if (key == "CapInh:") p.caps.inheritable = hex();
      else if (key == "CapPrm:") p.caps.permitted = hex();
      else if (key == "CapEff:") p.caps.effective = hex();
      else if (key == "CapBnd:") p.caps.bounding = hex();
      else if (key == "CapAmb:") p.caps.ambient = hex();
    }
    std::istringstream cg(slurp(dir + "/cgroup"));
    while (std::getline(cg, line))
      if (line.rfind("0::", 0) == 0) p.cgroup = line.substr(3);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace capaudit::record
