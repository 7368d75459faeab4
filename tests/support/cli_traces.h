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

// A web server: binds port 80 and chowns a file; v2 opens a raw socket
// instead of chowning. Under PORT_START 0 binding port 80 makes no check
// (the kernel asks for NET_BIND_SERVICE only below the start).
inline std::vector<uint8_t> webd_trace(bool v2, uint32_t euid = 0, const std::string& port_start = "1024") {
  common::Header h = example_header();
  h.sysctls_netns = {{"net.ipv4.ip_unprivileged_port_start", port_start}, {"net.ipv4.ping_group_range", "1\t0"}};
  TraceBuilder b(h);
  b.batch = 0;  // one batch
  b.exec(100, 2'000'000'000, "/usr/sbin/webd", euid);
  b.op(100, 2'000'100'000, common::OpKind::bind, kBind, /*AF_INET*/ 2, 80, /*SOCK_STREAM*/ 1);
  b.operations.back().uid = euid;
  if (port_start != "0") b.check(100, 2'000'100'500, CAP_NET_BIND_SERVICE, true, kBind);
  if (v2) {
    b.check(100, 2'000'200'000, CAP_NET_RAW, true, kSocket);
  } else {
    b.check(100, 2'000'200'000, CAP_CHOWN, true, kChown);
  }
  return b.bytes();
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace capaudit::test
