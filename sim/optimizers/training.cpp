// training.cpp — the checks and the cost estimate shared by the optimizers that train a policy.
// Contract: see training.h.
#include "sim/optimizers/training.h"

#include <algorithm>

#include "models/worlds/registry.h"

namespace goodhart {

void validate_training(const TrainingConfig& t, const Scenario& s, const Check& c, const std::string& path) {
  // the policies the world's capabilities allow: over candidates, or a gaussian pi_ref's mean shift
  const WorldAbilities can = world_abilities(s.world);
  const bool over_candidates = t.policy == "tabular" || t.policy == "log_linear";
  if (t.policy != "auto" && !(over_candidates ? can.candidates > 0 : can.gaussian)) {
    std::string allowed = can.candidates > 0 ? "tabular or log_linear" : "";
    if (can.gaussian) allowed += std::string(allowed.empty() ? "" : " or ") + "mean_shift";
    c.fail(path + ".policy", allowed + " (or auto) in the " + s.world.type + " world, got '" + t.policy + "'");
  }
  // early stopping: a validation RM fitted to the held-out pairs
  if (t.early_stopping != "none") {
    if (s.proxy.type != "learned")
      c.fail(path + ".early_stopping",
             "none with a noisy proxy (" + t.early_stopping + " fits a validation RM to preference pairs: proxy.type learned)");
    if (s.preferences.heldout_pairs < 100)
      c.fail(path + ".early_stopping", "none unless preferences.heldout_pairs >= 100 (the validation RM's data), got " +
                                           std::to_string(s.preferences.heldout_pairs) + " held-out pairs");
  }
}

OptimizerCost training_cost(const TrainingConfig& t, const Scenario& s, int threads, double runs, double per_step) {
  const WorldConfig& w = s.world;
  const double P = w.prompts, d = w.dim, K = world_abilities(w).candidates;
  const double logits = P * K;  // a policy over candidates: every logit each step
  const double evals = t.steps / static_cast<double>(t.eval_every) + 2.0;
  const double eval_work = K > 0 ? P * K : P * t.samples;
  OptimizerCost c;
  c.seconds = runs * (t.steps * (per_step + logits) * (d + 4) + evals * eval_work * 40.0) * 2e-9;
  c.bytes = P * K * (d + 8) * 4.0 + threads * t.samples * (d + 8) * 4.0;
  c.sized_by = K > 0 ? "world.prompts, world.candidates" : "optimizer.samples";
  return c;
}

}  // namespace goodhart
