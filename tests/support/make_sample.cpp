// Writes a synthetic sample trace: `make_sample NAME OUT`. Used once to create
// each committed samples/synthetic-*/trace.cap; committed samples are never
// regenerated (tests compare them with tests/support/synthetic.cpp).
#include <iostream>
#include <string>

#include "common/error.h"
#include "tests/support/synthetic.h"

int main(int argc, char** argv) {
  if (argc != 3 || std::string(argv[1]) != "basic") {
    std::cerr << "usage: make_sample basic OUT.cap\n";
    return 1;
  }
  try {
    capaudit::common::OutputOptions opts;
    opts.batch_events = capaudit::test::kSyntheticBasicBatchEvents;
    auto w = capaudit::common::TraceWriter::create(argv[2], opts);
    capaudit::test::write_synthetic_basic(*w);
    std::cerr << "wrote " << w->bytes_written() << " bytes to " << argv[2] << "\n";
  } catch (const capaudit::common::Error& e) {
    std::cerr << "make_sample: " << e.what() << (e.hint.empty() ? "" : " (" + e.hint + ")") << "\n";
    return e.exit_code;
  }
  return 0;
}
