// Command line of capaudit-record.
#pragma once

#include <string>

#include "record/recorder.h"

namespace capaudit::record {

struct ParsedCommandLine {
  RecordOptions options;
  bool show_help = false;
  bool show_version = false;
  std::string help_text;
};

// Throws common::Error (exit code 2) for bad usage.
ParsedCommandLine parse_command_line(int argc, char** argv);

// The numeric options, each parsed strictly (digits, optional unit; no sign,
// exponent, inf or nan) and range-checked. All throw common::Error with exit
// code 2 naming the option and the accepted range.
constexpr uint64_t kMinRingbufBytes = 4096;           // one page
constexpr uint64_t kMaxRingbufBytes = 1ull << 31;     // BPF_MAP_TYPE_RINGBUF max_entries is a power-of-two u32
constexpr uint64_t kMaxDurationMs = 8760ull * 3'600'000;  // a year
constexpr uint64_t kMaxGraceMs = 3'600'000;           // an hour
constexpr uint64_t kMaxStacksPerKey = 65535;
constexpr uint64_t kMaxPid = 4194304;                 // PID_MAX_LIMIT on 64-bit
// "16M", "512K", "1G" or bytes, 4K..2G.
uint64_t parse_ringbuf_size(const std::string& text);
// "30s", "500ms", "1.5m", "2h" or seconds; at most kMaxDurationMs; 0 only when allow_zero.
uint64_t parse_duration_ms(const std::string& option, const std::string& text, bool allow_zero);
// A whole number in [min, max].
uint64_t parse_count(const std::string& option, const std::string& text, uint64_t min, uint64_t max);
bool parse_end_action(const std::string& text, EndAction& out);

}  // namespace capaudit::record
