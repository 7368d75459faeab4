// capaudit-record: see record/recorder.h; this file only maps errors to exit codes.
#include <signal.h>

#include <cstdio>

#include "common/elevated_exec.h"
#include "common/error.h"
#include "record/options.h"
#include "record/host/privileges.h"
#include "record/recorder.h"

int main(int argc, char** argv) {
  using namespace capaudit;
  // A closed output (-o - | head) is a write error with a message, not a silent death.
  signal(SIGPIPE, SIG_IGN);
  // Before anything else, --help included: a setuid or file-capability copy
  // hands the host to whoever runs it.
  if (auto why = common::elevated_exec_reason()) {
    fprintf(stderr,
            "capaudit-record: refusing to run: this copy %s\n"
            "  hint: run capaudit-record as root (sudo); never install it setuid or with file capabilities\n",
            why->c_str());
    return 1;
  }
  try {
    auto cl = record::parse_command_line(argc, argv);
    if (cl.show_help) {
      fputs(cl.help_text.c_str(), stdout);
      return 0;
    }
    if (cl.show_version) {
      printf("capaudit-record %s\n", CAPAUDIT_VERSION);
      return 0;
    }
    auto result = record::run_recording(cl.options);
    if (cl.options.verbose)
      fprintf(stderr, "capaudit-record: %s; events %llu (checks %llu), lost %llu, unsampled stacks %llu, bytes %llu\n",
              result.stop_reason.c_str(), static_cast<unsigned long long>(record::total_events(result.counts)),
              static_cast<unsigned long long>(result.counts.cap_checks),
              static_cast<unsigned long long>(record::total_lost(result.losses)),
              static_cast<unsigned long long>(result.losses.stacks_unsampled),
              static_cast<unsigned long long>(result.bytes_written));
    if (result.failure) {
      fprintf(stderr, "capaudit-record: recording failed: %s\n", result.failure->message.c_str());
      if (!result.failure->hint.empty()) fprintf(stderr, "  hint: %s\n", result.failure->hint.c_str());
      for (const auto& note : result.failure->notes) fprintf(stderr, "capaudit-record: %s\n", note.c_str());
    }
    return record::exit_code_for(result);
  } catch (const common::Error& e) {
    fprintf(stderr, "capaudit-record: %s\n", e.what());
    if (!e.hint.empty()) fprintf(stderr, "  hint: %s\n", e.hint.c_str());
    return e.exit_code;
  } catch (const std::exception& e) {
    fprintf(stderr, "capaudit-record: internal error: %s\n", e.what());
    return 1;
  }
}
