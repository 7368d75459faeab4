#include "record/drain/advisory.h"

#include "common/capabilities.h"

namespace capaudit::record {

const std::vector<NoiseFunction>& noise_functions() {
  static const std::vector<NoiseFunction> list = [] {
    // {"function", "CAPABILITY or ANY"}, generated from analyze/data/noise_paths.conf
    static const std::pair<const char*, const char*> kEntries[] = {
#include "noise_functions.inc"
    };
    std::vector<NoiseFunction> out;
    for (const auto& [fn, cap] : kEntries) out.push_back({fn, common::parse_cap(cap).value_or(-1)});  // ANY: -1
    return out;
  }();
  return list;
}

bool AdvisoryDenials::on_noise_path(int cap, std::span<const uint64_t> stack) const {
  for (uint64_t ip : stack) {
    std::string frame = symbols_.describe(ip);  // "func+0x1a" or "func+0x1a [module]"
    frame = frame.substr(0, frame.find('+'));
    for (const auto& n : noise_)
      if ((n.cap < 0 || n.cap == cap) && frame == n.function) return true;
  }
  return false;
}

bool AdvisoryDenials::is_advisory(const DecodedCheck& d, bool opts_available) {
  constexpr uint32_t kCapOptNoaudit = 2;  // include/linux/security.h CAP_OPT_NOAUDIT
  if (opts_available && (d.check.opts & kCapOptNoaudit)) return true;
  const std::pair<int32_t, int32_t> key{d.check.cap, d.check.syscall_nr};
  if (d.stack.empty()) {
    auto t = sampled_.find(d.check.tid);
    if (!d.unsampled || t == sampled_.end()) return false;
    auto k = t->second.find(key);
    return k != t->second.end() && k->second;
  }
  const bool advisory = on_noise_path(d.check.cap, d.stack);
  auto [it, inserted] = sampled_[d.check.tid].try_emplace(key, advisory);
  if (!inserted) it->second = it->second && advisory;
  return advisory;
}

}  // namespace capaudit::record
