// metrics.h — one output row per (point, optimizer, n or beta), and how per-prompt statistics become a row.
// Contract: per-prompt statistics are combined in prompt order (fixed-order sums), so rows are identical at any
// thread count; standard errors are across prompts (sd / sqrt(P)); NaN marks a metric that does not apply.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "sim/numeric/philox_hd.h"

namespace goodhart {

inline constexpr double not_applicable = std::numeric_limits<double>::quiet_NaN();

struct MetricRow {
  std::string optimizer;
  std::string param_name;  // n | beta | kl_budget | step
  double param = not_applicable;
  double beta = not_applicable;  // kl_optimum: the beta used (solved for kl_budget rows)
  double kl = not_applicable, sqrt_kl = not_applicable, kl_bound = not_applicable;
  double proxy_mean = not_applicable, proxy_se = not_applicable;
  double gold_mean = not_applicable, gold_se = not_applicable;
  double gold_win_rate = not_applicable, proxy_gold_corr = not_applicable;
  double rm_accuracy_ref = not_applicable, rm_accuracy_policy = not_applicable;
  double entropy = not_applicable, ess = not_applicable;
  double step = not_applicable, kl_coef = not_applicable;  // training runs: the step and the current KL coefficient
  double implicit_accuracy = not_applicable;  // dpo: held-out pairs ordered right by the implicit reward
  // early stopping (policy_gradient, dpo): 1 on the last row of a run that early stopping ended (its best
  // evaluation); the validation RM's mean under the policy at every row when early_stopping is on
  double stopped = not_applicable;
  double validation_proxy = not_applicable;
  // policy_gradient, dpo with an ensemble proxy (>= 2 members): E_pi[population sd of the members' standardized
  // scores], the disagreement an onset detector watches (TrainingSignals, policy_eval.h)
  double ensemble_disagreement = not_applicable;
};

// the value columns whose policy expectations every optimizer computes, in this order
enum ValueColumn { v_proxy, v_gold, v_win, v_proxy_sq, v_gold_sq, v_proxy_gold, value_columns };

// one prompt's exact or estimated statistics under the optimized policy
struct PromptStats {
  double moments[value_columns] = {};
  double kl = not_applicable, entropy = not_applicable, ess = not_applicable;
  double pairs_agree = 0.0, pairs_distinct = 0.0;  // sampled policy pairs where proxy and gold order agree
};

// averages over prompts; kl, entropy and ess only when every prompt has them
MetricRow summarize(const std::vector<PromptStats>& prompts);

// sample `pairs` pairs from a discrete policy (cumulative weights, last = 1) and count, among pairs of distinct
// responses, those whose proxy order agrees with their gold order; adds to stats.pairs_agree / pairs_distinct
void sample_pair_agreement(const float* proxy, const float* gold, const std::vector<double>& cumulative, int pairs,
                           CounterRng& rng, PromptStats& stats);

// F_ref(g) = P_ref(gold < g) + P_ref(gold = g) / 2 from a sorted reference sample of gold values
double reference_cdf(const std::vector<float>& sorted_reference, float g);

}  // namespace goodhart
