#include "common/capabilities.h"

#include <gtest/gtest.h>

namespace capaudit::common {
namespace {

TEST(Capabilities, KnownNamesInEveryStyle) {
  EXPECT_EQ(cap_name(13), "CAP_NET_RAW");
  EXPECT_EQ(cap_name(13, CapNameStyle::lower), "cap_net_raw");
  EXPECT_EQ(cap_name(13, CapNameStyle::bare), "NET_RAW");
  EXPECT_EQ(cap_name(0), "CAP_CHOWN");
  EXPECT_EQ(cap_name(21), "CAP_SYS_ADMIN");
  EXPECT_EQ(cap_name(39), "CAP_BPF");
}

TEST(Capabilities, UnknownNumbersNeverFail) {
  EXPECT_EQ(cap_name(41), "CAP_41");
  EXPECT_EQ(cap_name(63, CapNameStyle::lower), "cap_63");
  EXPECT_EQ(cap_name(-1), "CAP_-1");
  EXPECT_EQ(cap_name(1000), "CAP_1000");
}

TEST(Capabilities, ParseAcceptsAllSpellings) {
  for (const char* s : {"cap_net_raw", "CAP_NET_RAW", "NET_RAW", "net_raw", "Cap_Net_Raw", "13", "CAP_13"}) {
    auto n = parse_cap(s);
    ASSERT_TRUE(n.has_value()) << s;
    EXPECT_EQ(*n, 13) << s;
  }
  EXPECT_EQ(parse_cap("CAP_41"), 41);
}

TEST(Capabilities, ParseRejectsGarbage) {
  for (const char* s : {"", "cap_", "CAP_NOPE", "net raw", "64", "-1", "cap_net_raw2", "1x"}) {
    EXPECT_FALSE(parse_cap(s).has_value()) << s;
  }
}

TEST(Capabilities, NameParseRoundTripForEveryKnownCap) {
  const int last = last_known_cap();
  ASSERT_GE(last, 37);  // libcap-ng knows at least up to CAP_AUDIT_READ
  for (int cap = 0; cap <= last; ++cap) {
    for (auto style : {CapNameStyle::upper, CapNameStyle::lower, CapNameStyle::bare}) {
      EXPECT_EQ(parse_cap(cap_name(cap, style)), cap) << cap_name(cap, style);
    }
  }
}

TEST(Capabilities, Masks) {
  const uint64_t mask = (1ull << 13) | (1ull << 0) | (1ull << 50);
  EXPECT_EQ(caps_in_mask(mask), (std::vector<int>{0, 13, 50}));
  EXPECT_EQ(cap_mask_names(mask), "CAP_CHOWN,CAP_NET_RAW,CAP_50");
  EXPECT_EQ(cap_mask_names(mask, CapNameStyle::lower, " "), "cap_chown cap_net_raw cap_50");
  EXPECT_EQ(cap_mask_names(0), "");
}

}  // namespace
}  // namespace capaudit::common
