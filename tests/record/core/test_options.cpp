// capaudit-record's numeric options: every one is parsed strictly and
// range-checked; bad values are usage errors (exit code 2) that name the
// option, never a wrap-around, a spin or an instant stop.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "record/options.h"

namespace capaudit::record {
namespace {

// Parses `capaudit-record ARGS... -o x.cap -- true`.
ParsedCommandLine parse(std::vector<std::string> args) {
  std::vector<std::string> all{"capaudit-record", "-o", "x.cap"};
  all.insert(all.end(), args.begin(), args.end());
  if (std::find(args.begin(), args.end(), "-p") == args.end()) {
    all.push_back("--");
    all.push_back("true");
  }
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  return parse_command_line(static_cast<int>(all.size()), argv.data());
}

struct Bad {
  std::string option, value, says;  // says: part of the message
};

class RejectedNumber : public ::testing::TestWithParam<Bad> {};

TEST_P(RejectedNumber, IsAUsageErrorNamingTheOption) {
  const Bad& b = GetParam();
  try {
    parse({b.option, b.value});
    FAIL() << b.option << " " << b.value << " was accepted";
  } catch (const common::Error& e) {
    EXPECT_EQ(e.exit_code, 2) << e.what();
    const std::string msg = e.what();
    EXPECT_NE(msg.find(b.option), std::string::npos) << msg;
    EXPECT_NE(msg.find(b.says), std::string::npos) << msg;
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryNumericOption, RejectedNumber,
    ::testing::Values(
        // --ringbuf-size: "-1" was 2^64-1 (an endless round-up loop), 17179869184G wrapped to 4096.
        Bad{"--ringbuf-size", "-1", "not a size"}, Bad{"--ringbuf-size", "18446744073709551615", "too large"},
        Bad{"--ringbuf-size", "18446744073709551616", "too large"}, Bad{"--ringbuf-size", "9223372036854775808", "too large"},
        Bad{"--ringbuf-size", "17179869184G", "too large"}, Bad{"--ringbuf-size", "3G", "too large"},
        Bad{"--ringbuf-size", "2049M", "too large"}, Bad{"--ringbuf-size", "0", "too small"},
        Bad{"--ringbuf-size", "4095", "too small"}, Bad{"--ringbuf-size", "", "not a size"},
        Bad{"--ringbuf-size", "16T", "unknown unit"}, Bad{"--ringbuf-size", "16 M", "unknown unit"},
        Bad{"--ringbuf-size", "+16M", "not a size"}, Bad{"--ringbuf-size", "0x1000", "unknown unit"},
        Bad{"--ringbuf-size", "1e6", "unknown unit"},
        // --duration: "nan" stopped at once, "inf"/huge values overflowed the nanosecond clock.
        Bad{"--duration", "nan", "not a duration"}, Bad{"--duration", "inf", "not a duration"},
        Bad{"--duration", "-1", "not a duration"}, Bad{"--duration", "0", "at least 1ms"},
        Bad{"--duration", "0s", "at least 1ms"}, Bad{"--duration", "0.0001", "shorter than 1ms"},
        Bad{"--duration", "1e3", "unknown unit"}, Bad{"--duration", "8761h", "too long"},
        Bad{"--duration", "18446744073709551615", "too long"}, Bad{"--duration", "99999999999999999999", "too long"},
        Bad{"--duration", "5d", "unknown unit"}, Bad{"--duration", "1.", "not a duration"},
        Bad{"--duration", ".5s", "not a duration"}, Bad{"--duration", "", "not a duration"},
        // --grace (0 is allowed: no waiting)
        Bad{"--grace", "-1", "not a duration"}, Bad{"--grace", "nan", "not a duration"},
        Bad{"--grace", "2h", "too long"},
        // --stacks-per-key: boost read "-1" as 4294967295
        Bad{"--stacks-per-key", "-1", "not a whole number"}, Bad{"--stacks-per-key", "4294967296", "out of range"},
        Bad{"--stacks-per-key", "65536", "out of range"}, Bad{"--stacks-per-key", "1.5", "not a whole number"},
        Bad{"--stacks-per-key", "99999999999999999999999", "out of range"},
        // --paths-per-key: the BPF side keeps at most 8 path signatures per key
        Bad{"--paths-per-key", "9", "out of range"}, Bad{"--paths-per-key", "-1", "not a whole number"},
        // -p: 4294967297 was cast to pid 1
        Bad{"-p", "4294967297", "out of range"}, Bad{"-p", "0", "out of range"}, Bad{"-p", "-5", "not a whole number"},
        Bad{"-p", "12abc", "not a whole number"}));

TEST(NumericOptions, AcceptedValuesMeanWhatTheySay) {
  EXPECT_EQ(parse({"--ringbuf-size", "4K"}).options.ringbuf_bytes, 4096u);
  EXPECT_EQ(parse({"--ringbuf-size", "16M"}).options.ringbuf_bytes, 16ull << 20);
  EXPECT_EQ(parse({"--ringbuf-size", "2G"}).options.ringbuf_bytes, 2ull << 30);
  EXPECT_EQ(parse({"--ringbuf-size", "2147483648"}).options.ringbuf_bytes, 2ull << 30);
  EXPECT_EQ(parse({"--ringbuf-size", "5000"}).options.ringbuf_bytes, 5000u);  // rounded up when loaded
  EXPECT_EQ(parse({"--duration", "500ms"}).options.duration_ms, 500u);
  EXPECT_EQ(parse({"--duration", "1.5"}).options.duration_ms, 1500u);
  EXPECT_EQ(parse({"--duration", "1.5m"}).options.duration_ms, 90'000u);
  EXPECT_EQ(parse({"--duration", "8760h"}).options.duration_ms, kMaxDurationMs);
  EXPECT_EQ(parse({"--duration", "0.001"}).options.duration_ms, 1u);
  EXPECT_EQ(parse({}).options.duration_ms, 0u);
  EXPECT_EQ(parse({}).options.grace_ms, 3000u);
  EXPECT_EQ(parse({"--grace", "0"}).options.grace_ms, 0u);
  EXPECT_EQ(parse({"--grace", "10s"}).options.grace_ms, 10'000u);
  EXPECT_EQ(parse({"--stacks-per-key", "0"}).options.stacks_per_key, 0u);
  EXPECT_EQ(parse({"--stacks-per-key", "65535"}).options.stacks_per_key, 65535u);
  EXPECT_EQ(parse({}).options.paths_per_key, 8u);
  EXPECT_EQ(parse({"--paths-per-key", "0"}).options.paths_per_key, 0u);
  EXPECT_EQ(parse({"-p", "4194304"}).options.pid, 4194304);
}

TEST(EndOptions, DefaultDetachesAndOnlyCommandsTakeThem) {
  EXPECT_EQ(parse({}).options.on_end, EndAction::detach);
  EXPECT_EQ(parse({"--on-end", "term"}).options.on_end, EndAction::term);
  EXPECT_EQ(parse({"--on-end", "kill"}).options.on_end, EndAction::kill);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--on-end", "stop"}, {"--on-end", "term", "-p", "1"}, {"--grace", "1s", "-p", "1"}}) {
    try {
      parse(args);
      ADD_FAILURE() << args[0] << " " << args[1] << " accepted";
    } catch (const common::Error& e) {
      EXPECT_EQ(e.exit_code, 2) << e.what();
    }
  }
}

}  // namespace
}  // namespace capaudit::record
