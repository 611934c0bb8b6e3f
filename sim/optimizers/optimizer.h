// optimizer.h — what every optimizer receives for one sweep point (each optimizer's entry point is in its own
// header, and registry.h finds it by name).
// Contract: an optimizer reads the context (never changes it) and returns one MetricRow per grid value, in
// grid order, with every draw keyed by (seed, stream, prompt, ...), so rows are identical at any thread count.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "models/proxy.h"
#include "sim/stats/metrics.h"
#include "sim/scenario/config.h"

namespace goodhart {

// responses laid out as a P x K table: a categorical world's candidates, or a pool of pi_ref draws per prompt
// (then log_ref is uniform, -log K); values[c] holds each response's ValueColumn c
struct ResponseTable {
  RowMatrixXf log_ref;
  RowMatrixXf values[value_columns];
};

// a proxy made on first use: early stopping's validation RM, fitted only when an optimizer asks for it. A make
// that throws leaves it unmade and the exception goes to the caller (a mutex, not std::call_once, whose
// exceptional path is unreliable in libstdc++); call get() outside parallel regions, where a throw can propagate
class LazyProxy {
 public:
  explicit LazyProxy(std::function<Proxy()> make) : make_(std::move(make)) {}
  const Proxy& get() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (!proxy_) proxy_.emplace(make_());
    return *proxy_;
  }

 private:
  std::function<Proxy()> make_;
  mutable std::mutex mutex_;
  mutable std::optional<Proxy> proxy_;
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
  // early stopping's validation RM (make_proxy with ProxyData::heldout), fitted on first use
  const LazyProxy* validation = nullptr;
};

// eval.accuracy_pairs spread over the prompts (rounded up): the pairs rm_accuracy_policy samples per prompt
inline int accuracy_pairs_per_prompt(const OptimizerContext& ctx) {
  return (ctx.config.eval.accuracy_pairs + ctx.world.prompts() - 1) / ctx.world.prompts();
}

// fill one row of a table's value columns from scored responses (win from reference_gold when given)
void fill_value_row(const Eigen::VectorXf& proxy, const Eigen::VectorXf& gold, const Eigen::VectorXf& win,
                    ResponseTable& table, Eigen::Index row);

// log C(i-1, n-1) / C(N, n) for 1-based rank i of a pool of N sorted ascending: the probability that rank i is
// the best of n drawn without replacement (zero below rank n), as a G x N matrix over the grid
Eigen::MatrixXd bon_rank_weights(const std::vector<int>& n, int pool);

// best-of-n KL for continuous rewards: log n - (n - 1) / n
double bon_kl_bound(int n);

}  // namespace goodhart
