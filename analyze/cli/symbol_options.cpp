#include "analyze/cli/symbol_options.h"

#include <sys/stat.h>

#include "analyze/cli/commands.h"
#include "common/error.h"

namespace capaudit::analyze::cli {

po::options_description symbol_options() {
  po::options_description o("User-space call sites (traces recorded with user stacks)");
  o.add_options()
      ("debuginfo", po::value<std::vector<std::string>>()->composing(),
       "DIR (repeatable): also look here for debug files (DIR/.build-id/xx/rest.debug, "
       "DIR/usr/lib/debug/.build-id/...) and for the recorded binaries (DIR/<recorded path>), before "
       "/usr/lib/debug; a file whose build ID differs from the recorded one is never used")
      ("no-symbolize", "show user-space frames as file+offset, reading no binary or debuginfo");
  return o;
}

std::optional<symbolize::Options> read_symbol_options(const po::variables_map& vm) {
  if (vm.count("no-symbolize")) return std::nullopt;
  symbolize::Options o;
  if (vm.count("debuginfo"))
    for (const auto& d : vm["debuginfo"].as<std::vector<std::string>>()) {
      struct stat st{};
      if (::stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw common::Error("--debuginfo " + d + ": not a directory", "give a directory holding .build-id/ or a copy of the recording host's files", kExitUsage);
      o.debuginfo_dirs.push_back(d);
    }
  return o;
}

}  // namespace capaudit::analyze::cli
