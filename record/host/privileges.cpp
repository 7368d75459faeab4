#include "record/host/privileges.h"

#include <cap-ng.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/capabilities.h"

namespace capaudit::record {

namespace {

uint64_t bit(int cap) { return uint64_t{1} << cap; }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

std::optional<uint32_t> parse_id(const char* text) {
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(text, &end, 10);
  if (errno != 0 || *end != '\0' || v >= UINT32_MAX || text[0] == '-') return std::nullopt;
  return static_cast<uint32_t>(v);
}

}  // namespace

int last_cap() {
  int last = -1;
  std::ifstream("/proc/sys/kernel/cap_last_cap") >> last;
  return last >= 0 && last < 64 ? last : CAP_LAST_CAP;
}

uint64_t all_caps_mask() {
  int last = last_cap();
  return last >= 63 ? ~uint64_t{0} : bit(last + 1) - 1;
}

std::string cap_name(int cap) { return common::cap_name(cap, common::CapNameStyle::lower); }

std::string cap_list(uint64_t mask) {
  return mask ? common::cap_mask_names(mask, common::CapNameStyle::lower) : "none";
}

common::Result<uint64_t> parse_cap_list(const std::string& text) {
  uint64_t mask = 0;
  std::string t = lower(trim(text));
  if (t.empty() || t == "none") return mask;
  std::stringstream ss(t);
  std::string item;
  int last = last_cap();
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    auto cap = common::parse_cap(item);
    // Only what this kernel knows: capset() would refuse the rest.
    if (!cap || *cap > last)
      return common::fail("unknown capability '" + item + "' (this kernel knows cap 0.." + std::to_string(last) +
                              "; names as in capabilities(7), e.g. cap_net_bind_service)",
                          "e.g. --caps cap_net_bind_service,cap_net_raw (or none)", 2);
    mask |= bit(*cap);
  }
  return mask;
}

common::CapSets parse_status_caps(const std::string& status_text) {
  common::CapSets sets;
  std::istringstream in(status_text);
  std::string line;
  auto value = [](const std::string& l) { return std::strtoull(l.c_str() + l.find(':') + 1, nullptr, 16); };
  while (std::getline(in, line)) {
    if (line.rfind("CapInh:", 0) == 0) sets.inheritable = value(line);
    else if (line.rfind("CapPrm:", 0) == 0) sets.permitted = value(line);
    else if (line.rfind("CapEff:", 0) == 0) sets.effective = value(line);
    else if (line.rfind("CapBnd:", 0) == 0) sets.bounding = value(line);
    else if (line.rfind("CapAmb:", 0) == 0) sets.ambient = value(line);
  }
  return sets;
}

common::CapSets current_caps() { return parse_status_caps(read_file("/proc/thread-self/status")); }

PrivilegeVerdict evaluate_recording_privileges(uint64_t effective) {
  PrivilegeVerdict v;
  if (effective & bit(CAP_SYS_ADMIN)) {
    v.ok = true;
    return v;
  }
  v.missing = (bit(CAP_BPF) | bit(CAP_PERFMON)) & ~effective;
  if (v.missing == 0) {
    v.ok = true;
    return v;
  }
  std::string names = cap_list(v.missing);
  v.message = "cannot record: missing " + names + " in the effective capability set (loading and attaching " +
              "BPF tracing programs needs cap_bpf and cap_perfmon, or cap_sys_admin)";
  // No setcap hint: a file-capability copy is refused (common/elevated_exec.h).
  v.hint = "run it as root (e.g. sudo capaudit-record ...)";
  return v;
}

PrivilegeVerdict check_recording_privileges() {
  // libcap-ng reads the kernel's view of this process, so uid 0 inside a
  // container without the capabilities is correctly refused.
  capng_clear(CAPNG_SELECT_BOTH);
  if (capng_get_caps_process() != 0) {
    PrivilegeVerdict v;
    v.message = "cannot read this process's capabilities";
    v.hint = "is /proc mounted?";
    return v;
  }
  uint64_t eff = 0;
  for (int cap = 0; cap <= last_cap(); ++cap)
    if (capng_have_capability(CAPNG_EFFECTIVE, static_cast<unsigned>(cap))) eff |= bit(cap);
  return evaluate_recording_privileges(eff);
}

bool install_caps_raw(const RawCapRequest& req, RawCapFailure* failure) {
  auto fail = [&](const char* stage) {
    failure->stage = stage;
    failure->err = errno;
    return false;
  };
  for (int cap = 0; cap <= req.last_cap && cap < 64; ++cap) {
    if (req.bounding & bit(cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
      return fail("drop bounding set");
  }
  // Ambient bits not in the new permitted set would be refused later anyway.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return fail("clear ambient set");
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    data[i].effective = static_cast<uint32_t>(req.effective >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(req.permitted >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(req.inheritable >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) != 0) return fail("capset");
  for (int cap = 0; cap <= req.last_cap && cap < 64; ++cap) {
    if ((req.ambient & bit(cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
      return fail("raise ambient set");
  }
  return true;
}

uint64_t mask_to_keep(const KeepAfterAttach& keep) {
  uint64_t mask = keep.extra;
  if (keep.signal_other_uid) mask |= bit(CAP_KILL);
  if (keep.bpf_map_access) mask |= bit(CAP_BPF);
  if (keep.attach_later) mask |= bit(CAP_BPF);
  return mask;
}

common::Result<> drop_after_attach(const KeepAfterAttach& keep) {
  common::CapSets now = current_caps();
  uint64_t mask = mask_to_keep(keep) & now.permitted;
  RawCapRequest req;
  req.last_cap = last_cap();
  // Narrowing the bounding set needs CAP_SETPCAP; without it (cap_bpf+cap_perfmon
  // file caps) it is left alone: it only matters at exec, and the recorder never execs.
  req.bounding = (now.effective & bit(CAP_SETPCAP)) ? mask : now.bounding;
  req.effective = req.permitted = mask;
  req.inheritable = 0;
  req.ambient = 0;
  RawCapFailure failure;
  if (!install_caps_raw(req, &failure))
    return common::fail(std::string("cannot drop capabilities after attaching: ") + failure.stage + ": " +
                        std::strerror(failure.err));
  return {};
}

std::optional<InvokingUser> invoking_user(uint32_t real_uid, const GetEnv& getenv) {
  if (real_uid != 0) return std::nullopt;
  auto uid = parse_id(getenv("SUDO_UID"));
  auto gid = parse_id(getenv("SUDO_GID"));
  if (!uid || !gid) return std::nullopt;
  return InvokingUser{*uid, *gid};
}

std::optional<InvokingUser> invoking_user() {
  return invoking_user(getuid(), [](const char* name) { return std::getenv(name); });
}

void apply_invoking_user(common::OutputOptions& opts) {
  if (auto user = invoking_user()) {
    opts.owner_uid = user->uid;
    opts.owner_gid = user->gid;
  }
}

}  // namespace capaudit::record
