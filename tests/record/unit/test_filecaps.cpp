#include "tests/support/scratch_dir.h"
#include "record/host/filecaps.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "tests/record/helper/run_helper.h"

namespace capaudit::record {
namespace {

uint64_t bit(int cap) { return uint64_t{1} << cap; }

void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

TEST(FileCapsDecode, Revision2WithHighCapabilities) {
  std::vector<uint8_t> b;
  put32(b, 0x02000001);  // revision 2, effective
  put32(b, bit(CAP_NET_BIND_SERVICE));
  put32(b, bit(CAP_CHOWN));
  put32(b, static_cast<uint32_t>(bit(CAP_BPF) >> 32));
  put32(b, 0);
  auto caps = decode_file_caps(b);
  ASSERT_TRUE(caps) << caps.error().message;
  EXPECT_EQ(caps->version, 2u);
  EXPECT_TRUE(caps->effective);
  EXPECT_EQ(caps->permitted, bit(CAP_NET_BIND_SERVICE) | bit(CAP_BPF));
  EXPECT_EQ(caps->inheritable, bit(CAP_CHOWN));
  EXPECT_EQ(caps->rootid, 0u);
}

TEST(FileCapsDecode, Revision1HasOnlyLowCapabilities) {
  std::vector<uint8_t> b;
  put32(b, 0x01000000);
  put32(b, bit(CAP_NET_RAW));
  put32(b, 0);
  auto caps = decode_file_caps(b);
  ASSERT_TRUE(caps) << caps.error().message;
  EXPECT_EQ(caps->version, 1u);
  EXPECT_FALSE(caps->effective);
  EXPECT_EQ(caps->permitted, bit(CAP_NET_RAW));
}

TEST(FileCapsDecode, Revision3CarriesTheNamespaceRootId) {
  std::vector<uint8_t> b;
  put32(b, 0x03000001);
  put32(b, bit(CAP_SETUID));
  put32(b, 0);
  put32(b, 0);
  put32(b, 0);
  put32(b, 100000);
  auto caps = decode_file_caps(b);
  ASSERT_TRUE(caps) << caps.error().message;
  EXPECT_EQ(caps->version, 3u);
  EXPECT_EQ(caps->rootid, 100000u);
  EXPECT_EQ(caps->permitted, bit(CAP_SETUID));
}

TEST(FileCapsDecode, RejectsMalformedValues) {
  auto short_value = decode_file_caps(std::vector<uint8_t>{1, 2});
  ASSERT_FALSE(short_value);
  EXPECT_EQ(short_value.error().message, "security.capability too short (2 bytes)");
  std::vector<uint8_t> wrong_size;
  put32(wrong_size, 0x02000000);
  put32(wrong_size, 1);
  auto sized = decode_file_caps(wrong_size);
  ASSERT_FALSE(sized);
  EXPECT_EQ(sized.error().message, "security.capability revision 2 has 8 bytes, expected 20");
  std::vector<uint8_t> unknown;
  put32(unknown, 0x07000000);
  auto revision = decode_file_caps(unknown);
  ASSERT_FALSE(revision);
  EXPECT_EQ(revision.error().message, "unknown security.capability revision 0x7");
}

// A private copy of a binary, so setcap never touches the system's.
struct BinaryCopy {
  capaudit::test::ScratchDir dir{"capaudit-filecaps"};
  std::filesystem::path path;
  explicit BinaryCopy(const char* source) : path(dir / std::filesystem::path(source).filename().string()) {
    std::filesystem::copy_file(source, path);
  }
  int setcap(const std::string& spec) const {
    return capaudit::test::run_program({"/sbin/setcap", spec, path.string()}).exit_code();
  }
};

TEST(FileCapsRead, ReadsWhatSetcapWrote) {
  if (!capaudit::test::running_as_root()) GTEST_SKIP() << "setcap needs root";
  BinaryCopy bin("/bin/true");
  auto none = read_file_caps(bin.path);
  ASSERT_TRUE(none) << none.error().message;  // no caps is not an error
  EXPECT_FALSE(*none);

  ASSERT_EQ(bin.setcap("cap_net_bind_service+ep"), 0);
  auto read = read_file_caps(bin.path);
  ASSERT_TRUE(read) << read.error().message;
  auto caps = *read;
  ASSERT_TRUE(caps);
  EXPECT_GE(caps->version, 2u);
  EXPECT_TRUE(caps->effective);
  EXPECT_EQ(caps->permitted, bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(caps->inheritable, 0u);

  ASSERT_EQ(bin.setcap("cap_net_raw+i cap_bpf,cap_perfmon+p"), 0);
  read = read_file_caps(bin.path);
  ASSERT_TRUE(read) << read.error().message;
  caps = *read;
  ASSERT_TRUE(caps);
  EXPECT_FALSE(caps->effective);
  EXPECT_EQ(caps->inheritable, bit(CAP_NET_RAW));
  EXPECT_EQ(caps->permitted, bit(CAP_BPF) | bit(CAP_PERFMON));
}

TEST(FileCapsRead, MissingFileIsAnError) {
  auto r = read_file_caps("/nonexistent/capaudit");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot read file capabilities of /nonexistent/capaudit: No such file or directory");
}

}  // namespace
}  // namespace capaudit::record
