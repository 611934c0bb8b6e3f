// training.cpp — the checks and the cost estimate shared by the optimizers that train a policy.
// Contract: see training.h.
#include "sim/optimizers/training.h"

#include <algorithm>

namespace goodhart {

void validate_training(const TrainingConfig& t, const Scenario& s, const Check& c, const std::string& path) {
  const bool categorical = s.world.type == "categorical";
  if (t.policy != "auto" && (t.policy != "mean_shift") != categorical)
    c.fail(path + ".policy", std::string(categorical ? "tabular or log_linear" : "mean_shift") + " (or auto) in the " +
                                 (categorical ? "categorical" : "gaussian") + " world, got '" + t.policy + "'");
  // early stopping: a validation RM fitted to the held-out pairs
  if (t.early_stopping == "heldout_proxy") {
    if (s.proxy.type != "learned")
      c.fail(path + ".early_stopping",
             "none with a noisy proxy (heldout_proxy fits a validation RM to preference pairs: proxy.type learned)");
    if (s.preferences.heldout_pairs < 100)
      c.fail(path + ".early_stopping", "none unless preferences.heldout_pairs >= 100 (the validation RM's data), got " +
                                           std::to_string(s.preferences.heldout_pairs) + " held-out pairs");
  }
}

OptimizerCost training_cost(const TrainingConfig& t, const Scenario& s, int threads, double runs, double per_step) {
  const WorldConfig& w = s.world;
  const bool categorical = w.type == "categorical";
  const double P = w.prompts, d = w.dim;
  const double logits = categorical ? P * w.candidates : 0.0;
  const double evals = t.steps / static_cast<double>(t.eval_every) + 2.0;
  const double eval_work = categorical ? P * w.candidates : P * t.samples;
  OptimizerCost c;
  c.seconds = runs * (t.steps * (per_step + logits) * (d + 4) + evals * eval_work * 40.0) * 2e-9;
  c.bytes = (categorical ? P * w.candidates * (d + 8) * 4.0 : 0.0) + threads * t.samples * (d + 8) * 4.0;
  return c;
}

}  // namespace goodhart
