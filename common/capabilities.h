// Capability numbers <-> names, from libcap-ng's table. Numbers the library
// does not know (newer kernels) print as CAP_<n> and never fail.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace capaudit::common {

enum class CapNameStyle {
  upper,   // CAP_NET_RAW   (reports, systemd, Docker --cap-add, k8s without prefix is caller's job)
  lower,   // cap_net_raw   (setcap/filecap, libcap text form)
  bare,    // NET_RAW       (Kubernetes securityContext, Docker compose)
};

// Highest capability number libcap-ng knows by name.
int last_known_cap();

// "CAP_NET_RAW" for 13; "CAP_41" for an unknown 41. Never empty, never throws.
std::string cap_name(int cap, CapNameStyle style = CapNameStyle::upper);

// Accepts "cap_net_raw", "CAP_NET_RAW", "NET_RAW", "net_raw", "CAP_41" and a
// decimal number. nullopt for anything else (including negatives and > 63).
std::optional<int> parse_cap(std::string_view text);

// Capability numbers set in a 64-bit mask, ascending.
std::vector<int> caps_in_mask(uint64_t mask);

// "CAP_CHOWN,CAP_NET_RAW" ("" for 0), in ascending number order.
std::string cap_mask_names(uint64_t mask, CapNameStyle style = CapNameStyle::upper, std::string_view sep = ",");

}  // namespace capaudit::common
