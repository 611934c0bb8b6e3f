// policy_eval.h — one evaluation row of a trained policy: exact KL, the policy's proxy and gold means, win rate,
// correlation, accuracy on its own pairs, entropy; shared by policy_gradient and dpo.
// Contract: categorical world — exact sums over the candidate table (ctx.candidates); gaussian world — exact KL
// (closed form) and expectations from eval draws keyed (seed, pool stream, prompt, i), the same draws for every
// step so a trajectory's noise is shared. Deterministic at any thread count (per-prompt slots, fixed-order sums).
#pragma once

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "models/policy.h"
#include "sim/optimizers/optimizer.h"

namespace goodhart {

// the row of `policy` (step, kl_coef and optimizer filled by the caller); `samples` draws per prompt (gaussian)
MetricRow evaluate_policy(const Policy& policy, const OptimizerContext& ctx, int samples, int step);

// the mean under a policy of a per-response score: the exact sum over candidates (every candidate scored once,
// by the constructor, on the calling thread), or in the gaussian world the mean over the same eval draws as
// evaluate_policy (identities (pool stream, p, i), drawn with `needs`). Averaged over prompts in prompt order:
// deterministic at any thread count. `score` is called from parallel loops and must be thread-safe.
class ResponseSignal {
 public:
  using Score = std::function<void(const Responses&, Eigen::VectorXf&)>;
  ResponseSignal(const OptimizerContext& ctx, DrawNeeds needs, Score score);
  double mean(const Policy& policy, int samples) const;

 private:
  const OptimizerContext& ctx_;
  DrawNeeds needs_;
  Score score_;
  RowMatrixXf candidate_scores_;  // categorical world: P x K scores
};

// the signals a practitioner has without gold, set on every evaluation row of a training run (policy_gradient,
// dpo), for early stopping and for `goodhart detect`:
//   validation_proxy       early_stopping heldout_proxy or monitor: the mean under the policy of the validation RM
//                          ctx.validation, a proxy of the same config fitted to the held-out pairs. Its estimation
//                          errors are independent of the training proxy's, so a policy that exploits the training
//                          proxy's errors does not raise it.
//   ensemble_disagreement  a proxy of >= 2 members: E_pi[population sd of the members' standardized scores].
// The validation RM is fitted by the constructor (outside the parallel loops, so a fit that fails reaches the
// caller).
class TrainingSignals {
 public:
  TrainingSignals(const OptimizerContext& ctx, const std::string& early_stopping);
  void fill(MetricRow& row, const Policy& policy, int samples) const;
  bool stops_early() const { return stops_early_; }  // heldout_proxy: training stops on validation_proxy

 private:
  std::optional<ResponseSignal> validation_, disagreement_;
  bool stops_early_ = false;
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
