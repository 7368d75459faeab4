// Synthetic traces for the CLI and front-command tests, written with the
// production writer (tests/support/trace_builder.h).
#pragma once

#include <linux/capability.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/support/trace_builder.h"

namespace capaudit::test {

constexpr int32_t kSocket = 41, kBind = 49, kChown = 92;

inline common::CapCheck granted(uint64_t t, uint32_t pid, int cap, int32_t nr) {
  common::CapCheck c = check(t, pid, cap, true, nr);
  c.target_userns_inum = 4026531837;
  return c;
}

// A web server: binds port 80 (start 1024) and chowns a file; v2 opens a raw
// socket instead of chowning.
inline std::vector<uint8_t> webd_trace(bool v2, uint32_t euid = 0) {
  TraceBuilder b;
  common::ExecEvent e;
  e.time_ns = 2'000'000'000;
  e.pid = e.tid = 100;
  e.start_time_ns = e.time_ns - 1000;
  e.filename = "/usr/sbin/webd";
  e.argv = {"/usr/sbin/webd"};
  e.uid = e.euid = euid;
  e.caps.permitted = e.caps.effective = e.caps.bounding = (uint64_t{1} << 41) - 1;
  b.add(e);
  common::OperationFact op;
  op.time_ns = 2'000'100'000;
  op.pid = op.tid = 100;
  op.kind = common::OpKind::bind;
  op.syscall_nr = kBind;
  op.a0 = 2;
  op.a1 = 80;
  op.a2 = 1;
  op.uid = euid;
  op.ret = 0;
  b.add(op);
  b.add(granted(2'000'100'500, 100, CAP_NET_BIND_SERVICE, kBind));
  if (v2) {
    b.add(granted(2'000'200'000, 100, CAP_NET_RAW, kSocket));
  } else {
    b.add(granted(2'000'200'000, 100, CAP_CHOWN, kChown));
  }
  common::Trailer t;
  t.clean_shutdown = true;
  t.stop_reason = "target exited";
  return b.finish(t);
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace capaudit::test
