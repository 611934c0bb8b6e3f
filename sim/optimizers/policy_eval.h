// policy_eval.h — one evaluation row of a trained policy: exact KL, the policy's proxy and gold means, win rate,
// correlation, accuracy on its own pairs, entropy; shared by policy_gradient and dpo.
// Contract: categorical world — exact sums over the candidate table (ctx.candidates); gaussian world — exact KL
// (closed form) and expectations from eval draws keyed (seed, pool stream, prompt, i), the same draws for every
// step so a trajectory's noise is shared. Deterministic at any thread count (per-prompt slots, fixed-order sums).
#pragma once

#include "models/policy.h"
#include "sim/optimizers/optimizer.h"

namespace goodhart {

// the row of `policy` (step, kl_coef and optimizer filled by the caller); `samples` draws per prompt (gaussian)
MetricRow evaluate_policy(const Policy& policy, const OptimizerContext& ctx, int samples, int step);

}  // namespace goodhart
