// The load stage's only I/O: stream a trace file through the aggregator.
#include "analyze/core/aggregate.h"

namespace capaudit::analyze {

RunAggregate load_trace(const std::string& path) {
  Aggregator agg(path);
  auto result = common::read_trace(path, agg);
  return agg.finish(result);
}

}  // namespace capaudit::analyze
