#include "analyze/core/findings.h"

#include <algorithm>

namespace capaudit::analyze {

int strength(NoiseBasis b) {
  switch (b) {
    case NoiseBasis::credentials: return 0;
    case NoiseBasis::call_path: return 1;
    case NoiseBasis::opts: return 2;
    case NoiseBasis::syscall: return 3;
    case NoiseBasis::none: break;
  }
  return 4;
}

const char* to_string(Category c) {
  switch (c) {
    case Category::required: return "required";
    case Category::conditional: return "conditional";
    case Category::not_needed: return "not_needed";
    case Category::advisory: return "advisory";
    case Category::denied_only: return "denied_only";
    case Category::capset_only: return "capset_only";
    case Category::declared_unobserved: return "declared_unobserved";
  }
  return "unknown";
}

const char* to_string(NoiseBasis b) {
  switch (b) {
    case NoiseBasis::none: return "none";
    case NoiseBasis::call_path: return "call_path";
    case NoiseBasis::opts: return "opts";
    case NoiseBasis::syscall: return "syscall";
    case NoiseBasis::credentials: return "credentials";
  }
  return "unknown";
}

const char* to_string(ChangeKind k) {
  switch (k) {
    case ChangeKind::appeared: return "appeared";
    case ChangeKind::vanished: return "vanished";
    case ChangeKind::changed_reason: return "changed_reason";
  }
  return "unknown";
}

void choose_call_site(UserCallPath& p, const std::vector<ExecutableName>& executables) {
  p.call_site = p.wrapper = -1;
  p.caller_not_walked = false;
  const int n = static_cast<int>(p.frames.size());
  for (int i = 0; i < n && p.call_site < 0; ++i)
    if (!p.frames[i].object.empty() &&
        std::any_of(executables.begin(), executables.end(),
                    [&](const ExecutableName& e) { return e.path == p.frames[i].object; }))
      p.call_site = i;
  for (int i = 0; i < n && p.call_site < 0; ++i)
    if (!p.frames[i].object.empty() && !is_runtime_library(p.frames[i].object)) p.call_site = i;
  if (p.call_site < 0 && n > 0) {
    p.call_site = 0;
    p.caller_not_walked = true;
  }
  if (p.call_site > 0) p.wrapper = 0;
}

}  // namespace capaudit::analyze
