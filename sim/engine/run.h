// run.h — running one sweep point end to end: world, gold, proxy, then every optimizer of the scenario.
// Contract: run_point(const RunSpec&, ...) never changes the spec; its rows depend only on the spec (not on the
// thread count or on other points), so points may run in any order.
#pragma once

#include <vector>

#include "sim/backend/ops.h"
#include "sim/stats/metrics.h"
#include "sim/scenario/scenario.h"

namespace goodhart {

struct PointResult {
  std::vector<MetricRow> rows;  // optimizers in scenario order, each in grid order
  double rm_heldout_accuracy = not_applicable;  // learned proxy vs held-out labels
  double rm_accuracy_ref = not_applicable;      // proxy vs gold order on fresh pi_ref pairs
  double seconds = 0.0;
};

PointResult run_point(const RunSpec& spec, Backend backend);

}  // namespace goodhart
