#include "record/host/filecaps.h"

#include <sys/xattr.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace capaudit::record {

namespace {

// linux/capability.h, restated so the decoder does not depend on the build
// host's kernel headers (the format is fixed ABI).
constexpr uint32_t kRevisionMask = 0xFF000000;
constexpr uint32_t kFlagsEffective = 0x000001;
constexpr uint32_t kRevision1 = 0x01000000, kRevision2 = 0x02000000, kRevision3 = 0x03000000;
constexpr size_t kSize1 = 4 + 2 * 4, kSize2 = 4 + 2 * 2 * 4, kSize3 = kSize2 + 4;

uint32_t le32(std::span<const uint8_t> b, size_t off) {
  return uint32_t{b[off]} | uint32_t{b[off + 1]} << 8 | uint32_t{b[off + 2]} << 16 | uint32_t{b[off + 3]} << 24;
}

}  // namespace

common::Result<common::FileCaps> decode_file_caps(std::span<const uint8_t> xattr) {
  auto bad = [](const std::string& why) { return common::fail(why); };
  if (xattr.size() < 4) return bad("security.capability too short (" + std::to_string(xattr.size()) + " bytes)");
  uint32_t magic = le32(xattr, 0);
  uint32_t revision = magic & kRevisionMask;
  size_t expected = revision == kRevision1 ? kSize1 : revision == kRevision2 ? kSize2 : revision == kRevision3 ? kSize3 : 0;
  if (expected == 0) return bad("unknown security.capability revision 0x" + std::to_string(revision >> 24));
  if (xattr.size() != expected)
    return bad("security.capability revision " + std::to_string(revision >> 24) + " has " +
               std::to_string(xattr.size()) + " bytes, expected " + std::to_string(expected));
  common::FileCaps caps;
  caps.version = revision >> 24;
  caps.effective = magic & kFlagsEffective;
  // data[i] = {permitted, inheritable}, i = 0 for caps 0..31, 1 for 32..63
  caps.permitted = le32(xattr, 4);
  caps.inheritable = le32(xattr, 8);
  if (revision != kRevision1) {
    caps.permitted |= uint64_t{le32(xattr, 12)} << 32;
    caps.inheritable |= uint64_t{le32(xattr, 16)} << 32;
  }
  if (revision == kRevision3) caps.rootid = le32(xattr, 20);
  return caps;
}

common::Result<std::optional<common::FileCaps>> read_file_caps(const std::string& path) {
  std::vector<uint8_t> buf(64);
  ssize_t n = getxattr(path.c_str(), "security.capability", buf.data(), buf.size());
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP) return std::optional<common::FileCaps>{};
    return common::fail("cannot read file capabilities of " + path + ": " + std::strerror(errno));
  }
  auto caps = decode_file_caps(std::span(buf.data(), static_cast<size_t>(n)));
  if (!caps) return common::fail(path + ": " + caps.error().message);
  return std::optional<common::FileCaps>(*caps);
}

}  // namespace capaudit::record
