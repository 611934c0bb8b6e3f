// training.h — the keys of every optimizer that trains a policy (policy_gradient, dpo): the policy, Adam, the
// evaluation schedule and early stopping, with their table rows and checks, shared by both types' tables.
// Contract: TrainingConfig is a base of PolicyGradientConfig and DpoConfig; training_fields<Config>() are rows of
// Config's table; validate_training names keys under `path`.
#pragma once

#include <string>
#include <vector>

#include "sim/optimizers/registry.h"
#include "sim/scenario/check.h"
#include "sim/scenario/fields.h"

namespace goodhart {

struct TrainingConfig {
  std::string policy = "auto";         // auto | tabular | log_linear | mean_shift (auto: by world)
  bool learn_scale = false;            // mean_shift: also learn a log-scale per dimension
  double learning_rate = 0.05;         // Adam step size
  int steps = 200;                     // optimizer steps
  int eval_every = 10;                 // steps between evaluation rows
  int samples = 4096;                  // gaussian world: eval draws per prompt
  // early stopping on a held-out signal: a validation RM (the proxy's config fitted to preferences.heldout_pairs)
  // evaluated at every row; training stops once it has not improved for `patience` evaluations, and the run ends
  // at the best evaluation (later rows dropped; its row gets stopped = 1)
  std::string early_stopping = "none";  // none | heldout_proxy | monitor (the signal on every row, no stop)
  int patience = 3;                    // evaluations without improvement before stopping (>= 1)
};

template <class Config>
std::vector<Field> training_fields() {
  using T = TrainingConfig;
  return {
      field<Config>("policy", &T::policy,
                    "tabular: a free logit per prompt and candidate; log_linear: one shared head, pi(k|p) ∝ "
                    "pi_ref(k|p) exp(theta . phi[p,k]) (generalizes across prompts); mean_shift: N(mu + delta, "
                    "diag((s e^rho)^2)). auto: log_linear (categorical world) or mean_shift (gaussian world)",
                    one_of({"auto", "tabular", "log_linear", "mean_shift"})),
      field<Config>("learn_scale", &T::learn_scale, "mean_shift: also learn rho (a log-scale per dimension)"),
      field<Config>("learning_rate", &T::learning_rate, "Adam step size", positive()).alias("lr"),
      field<Config>("steps", &T::steps, "training steps", at_least(1)).alias("total_steps"),
      field<Config>("eval_every", &T::eval_every, "steps between evaluation rows", at_least(1)),
      field<Config>("samples", &T::samples, "gaussian world: eval draws per prompt", at_least(2)).alias("n_samples"),
      field<Config>("early_stopping", &T::early_stopping,
                    "heldout_proxy: a validation RM, the proxy's config fitted to preferences.heldout_pairs (pairs "
                    "the training proxy never saw), is evaluated on the policy at every row; training stops once its "
                    "mean has not improved for `patience` evaluations and the run ends at the best one (its row gets "
                    "stopped = 1). monitor: the same validation RM on every row, and training never stops on it (a "
                    "signal for `goodhart detect`). Needs a learned proxy and heldout_pairs >= 100",
                    one_of({"none", "heldout_proxy", "monitor"})),
      field<Config>("patience", &T::patience, "evaluations without improvement before stopping", at_least(1)),
  };
}

// the policy against the world, early stopping against the proxy and the held-out pairs
void validate_training(const TrainingConfig& t, const Scenario& s, const Check& c, const std::string& path);

// `runs` training runs of `steps` steps touching `per_step` samples each (plus, in the categorical world, every
// candidate's logit), evaluated every `eval_every` steps
OptimizerCost training_cost(const TrainingConfig& t, const Scenario& s, int threads, double runs, double per_step);

}  // namespace goodhart
