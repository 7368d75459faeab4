// --debuginfo / --no-symbolize, shared by `report` and `dump`: where the
// analyzer looks for binaries and debuginfo of user-space frames.
#pragma once

#include <optional>

#include "analyze/cli/options.h"
#include "analyze/symbolize/symbolize.h"

namespace capaudit::analyze::cli {

po::options_description symbol_options();
// nullopt: symbolization turned off. Throws common::Error on a --debuginfo
// that is not a directory.
std::optional<symbolize::Options> read_symbol_options(const po::variables_map& vm);

}  // namespace capaudit::analyze::cli
