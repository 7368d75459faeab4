#include "common/container_ids.h"

#include <algorithm>

namespace capaudit::common {
namespace {

bool is_id(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The id in one component, or "".
std::string_view id_in(std::string_view component, std::string_view parent) {
  if (component.size() > 6 && component.substr(component.size() - 6) == ".scope")
    component.remove_suffix(6);
  for (std::string_view prefix : {"libpod-", "docker-", "cri-containerd-", "crio-"}) {
    if (component.substr(0, prefix.size()) == prefix && is_id(component.substr(prefix.size())))
      return component.substr(prefix.size());
  }
  if (parent == "docker" && is_id(component)) return component;
  return {};
}

}  // namespace

std::string container_id_of_cgroup(std::string_view path) {
  std::string_view found, parent;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view component = path.substr(0, slash);
    if (auto id = id_in(component, parent); !id.empty()) found = id;
    parent = component;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return std::string(found);
}

}  // namespace capaudit::common
