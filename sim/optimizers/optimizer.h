// optimizer.h — what every optimizer receives for one sweep point, and the optimizers' entry points.
// Contract: an optimizer reads the context (never changes it) and returns one MetricRow per grid value, in
// grid order, with every draw keyed by (seed, stream, prompt, ...), so rows are identical at any thread count.
#pragma once

#include <vector>

#include "models/proxy.h"
#include "sim/engine/metrics.h"
#include "sim/scenario/config.h"

namespace goodhart {

// responses laid out as a P x K table: a categorical world's candidates, or a pool of pi_ref draws per prompt
// (then log_ref is uniform, -log K); values[c] holds each response's ValueColumn c
struct ResponseTable {
  RowMatrixXf log_ref;
  RowMatrixXf values[value_columns];
};

struct OptimizerContext {
  const Scenario& config;
  const World& world;
  const Gold& gold;
  const Proxy& proxy;
  Backend backend;
  std::uint64_t seed;
  const std::vector<float>& reference_gold;  // sorted gold values of pi_ref draws (gaussian world win rates)
  const ResponseTable* candidates;           // categorical world: every candidate; else null
  // early stopping's validation RM (make_proxy with ProxyData::heldout): null unless an optimizer of the scenario
  // has early_stopping heldout_proxy
  const Proxy* validation = nullptr;
};

std::vector<MetricRow> run_best_of_n(const OptimizerConfig& opt, const OptimizerContext& ctx);
std::vector<MetricRow> run_kl_optimum(const OptimizerConfig& opt, const OptimizerContext& ctx);
// a policy trained against the proxy: one row per evaluation (param_name "step"), the first at step 0
std::vector<MetricRow> run_policy_gradient(const OptimizerConfig& opt, const OptimizerContext& ctx);
// a policy trained on the preference pairs (no proxy): one row per evaluation, for each beta in turn
std::vector<MetricRow> run_dpo(const OptimizerConfig& opt, const OptimizerContext& ctx);

// fill one row of a table's value columns from scored responses (win from reference_gold when given)
void fill_value_row(const Eigen::VectorXf& proxy, const Eigen::VectorXf& gold, const Eigen::VectorXf& win,
                    ResponseTable& table, Eigen::Index row);

// log C(i-1, n-1) / C(N, n) for 1-based rank i of a pool of N sorted ascending: the probability that rank i is
// the best of n drawn without replacement (zero below rank n), as a G x N matrix over the grid
Eigen::MatrixXd bon_rank_weights(const std::vector<int>& n, int pool);

// best-of-n KL for continuous rewards: log n - (n - 1) / n
double bon_kl_bound(int n);

}  // namespace goodhart
