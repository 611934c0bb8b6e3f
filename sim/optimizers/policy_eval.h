// policy_eval.h — one evaluation row of a trained policy: exact KL, the policy's proxy and gold means, win rate,
// correlation, accuracy on its own pairs, entropy; shared by policy_gradient and dpo.
// Contract: categorical world — exact sums over the candidate table (ctx.candidates); gaussian world — exact KL
// (closed form) and expectations from eval draws keyed (seed, pool stream, prompt, i), the same draws for every
// step so a trajectory's noise is shared. Deterministic at any thread count (per-prompt slots, fixed-order sums).
#pragma once

#include <limits>
#include <vector>

#include "models/policy.h"
#include "sim/optimizers/optimizer.h"

namespace goodhart {

// the row of `policy` (step, kl_coef and optimizer filled by the caller); `samples` draws per prompt (gaussian)
MetricRow evaluate_policy(const Policy& policy, const OptimizerContext& ctx, int samples, int step);

// early stopping's signal (OptimizerConfig::early_stopping heldout_proxy): the mean under the policy of the
// validation RM ctx.validation, a proxy of the same config fitted to the held-out pairs. Without gold this is the
// honest out-of-sample check a researcher has: its estimation errors are independent of the training proxy's, so
// a policy that exploits the training proxy's errors does not raise it. Categorical world: the exact sum over
// candidates (their scores computed once here); gaussian world: the mean over the same eval draws as
// evaluate_policy (identities (pool stream, p, i)). Averaged over prompts in prompt order: deterministic at any
// thread count.
class ValidationSignal {
 public:
  explicit ValidationSignal(const OptimizerContext& ctx);  // ctx.validation must be set
  double mean(const Policy& policy, int samples) const;

 private:
  const OptimizerContext& ctx_;
  const Proxy& validation_;       // fitted by the constructor, on the calling thread
  RowMatrixXf candidate_scores_;  // categorical world: P x K validation scores
};

// the stopping rule: observe() each evaluation's signal in row order; it returns true once `patience` evaluations
// in a row have not improved (strictly) on the best so far, and best_row is then the row to end the run at
struct EarlyStopping {
  int patience = 3;
  double best = -std::numeric_limits<double>::infinity();
  std::size_t best_row = 0;
  int since_best = 0;
  bool stopped = false;

  bool observe(double value, std::size_t row);
  // a stopped run ends at its best evaluation: rows after it (from `first`, the run's first row) are dropped and
  // the best one gets stopped = 1; a run that was not stopped is left as it is
  void finish(std::vector<MetricRow>& rows, std::size_t first) const;
};

}  // namespace goodhart
