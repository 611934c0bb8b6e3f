// run.h — running one sweep point end to end: world, gold, proxy, then every optimizer of the scenario.
// Contract: run_point(const RunSpec&, ...) never changes the spec; its rows depend only on the spec (not on the
// thread count or on other points), so points may run in any order.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/proxy.h"
#include "sim/engine/bounds.h"
#include "sim/backend/ops.h"
#include "sim/optimizers/optimizer.h"
#include "sim/stats/metrics.h"
#include "sim/scenario/scenario.h"

namespace goodhart {

struct PointResult {
  std::vector<MetricRow> rows;  // optimizers in scenario order, each in grid order
  double rm_heldout_accuracy = not_applicable;  // learned proxy vs held-out labels
  double rm_accuracy_ref = not_applicable;      // proxy vs gold order on fresh pi_ref pairs
  double proxy_parameters = not_applicable;     // a learned proxy's trainable parameters (one member's)
  double proxy_bias_correlation = not_applicable;  // corr under pi_ref of the proxy with the bias feature
  std::vector<BoundCheck> bounds;  // per row: the proven bounds checked and violated (sim/engine/bounds.h)
  double seconds = 0.0;
};

// an error raised inside a stage of a point (a library's, a numeric failure, memory), reported with the point, the
// stage and the scenario keys given for it, since the code that failed cannot know them. `usage`: caused by the
// scenario's values (invalid_argument, domain, overflow and range errors), so exit 2 rather than 1
struct PointFailed : std::runtime_error {
  PointFailed(const std::string& message, bool usage) : std::runtime_error(message), usage(usage) {}
  bool usage;
};

// throws PointFailed (ScenarioError passes through unchanged)
PointResult run_point(const RunSpec& spec, Backend backend);

// the models of a point, as run_point builds them first: its world, gold and proxy
struct PointModels {
  std::unique_ptr<const World> world;
  Gold gold;
  Proxy proxy;
};
// throws PointFailed naming the stage that failed
PointModels build_models(const RunSpec& spec, Backend backend);

// a world with candidates: every candidate's proxy, gold and win values (win = P_ref(gold < g) + P_ref(gold = g) / 2
// within its prompt), as the optimizers receive them
ResponseTable candidate_table(const World& world, const Gold& gold, const Proxy& proxy, Backend backend,
                              std::uint64_t seed);

}  // namespace goodhart
