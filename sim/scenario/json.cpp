// json.cpp — the resolved scenario as JSON (canonical keys, every field — of an optimizer, those its type reads —,
// optimizers as a list, no sweep), hashed.
// Contract: to_json(s).dump() is a pure function of the config; point_id is its 64-bit FNV-1a as 16 lowercase hex.
#include <cstdio>

#include "sim/scenario/scenario.h"

namespace goodhart {

nlohmann::json to_json(const Scenario& s) {
  using nlohmann::json;
  const WorldConfig& w = s.world;
  const GoldConfig& g = s.gold;
  const PreferenceConfig& p = s.preferences;
  const ProxyConfig& x = s.proxy;

  json optimizers = json::array();
  for (const auto& o : s.optimizers) {
    // the keys each type reads (the others cannot change its results, so they stay out of the hash)
    json j = {{"type", o.type}, {"name", o.name}};
    if (o.type == "best_of_n") {
      j.update({{"pool", o.pool}, {"n", o.n}, {"ref_logprob_weight", o.ref_logprob_weight}});
    } else if (o.type == "kl_optimum") {
      j.update({{"beta", o.beta}, {"kl_budget", o.kl_budget}, {"samples", o.samples}});
    } else {
      j.update({{"policy", o.policy}, {"learn_scale", o.learn_scale}, {"learning_rate", o.learning_rate},
                {"steps", o.steps}, {"eval_every", o.eval_every}, {"samples", o.samples},
                {"early_stopping", o.early_stopping}, {"patience", o.patience}});
      if (o.type == "policy_gradient")
        j.update({{"algorithm", o.algorithm}, {"num_generations", o.num_generations}, {"kl_coef", o.kl_coef},
                  {"adaptive_kl", o.adaptive_kl}, {"adaptive_kl_target", o.adaptive_kl_target},
                  {"adaptive_kl_horizon", o.adaptive_kl_horizon}, {"kl_estimator", o.kl_estimator},
                  {"kl_in", o.kl_in}, {"max_kl", o.max_kl}, {"cliprange", o.cliprange},
                  {"num_ppo_epochs", o.num_ppo_epochs}, {"num_mini_batches", o.num_mini_batches},
                  {"whiten_rewards", o.whiten_rewards}, {"reward_clip", o.reward_clip}});
      else
        j.update({{"beta", o.beta}, {"loss_type", o.loss_type}, {"batch_size", o.batch_size}});
    }
    optimizers.push_back(j);
  }
  return {
      {"schema_version", s.schema_version},
      {"name", s.name},
      {"description", s.description},
      {"seed", s.seed},
      {"world",
       {{"type", w.type},
        {"dim", w.dim},
        {"prompts", w.prompts},
        {"mean", w.mean},
        {"scale", w.scale},
        {"candidates", w.candidates},
        {"feature_scale", w.feature_scale},
        {"ref_logit_scale", w.ref_logit_scale},
        {"ref_feature_weights", w.ref_feature_weights},
        {"seed", w.seed},
        {"normalize_features", w.normalize_features}}},
      {"gold",
       {{"type", g.type},
        {"weights", g.weights},
        {"penalty", g.penalty},
        {"hidden", g.hidden},
        {"activation", g.activation},
        {"seed", g.seed},
        {"standardize", g.standardize}}},
      {"preferences",
       {{"n_pairs", p.n_pairs},
        {"heldout_pairs", p.heldout_pairs},
        {"labels", p.labels},
        {"temperature", p.temperature},
        {"label_noise", p.label_noise},
        {"bias_feature", p.bias_feature},
        {"bias_weight", p.bias_weight}}},
      {"proxy",
       {{"type", x.type},
        {"model", x.model},
        {"hidden", x.hidden},
        {"activation", x.activation},
        {"l2", x.l2},
        {"optimizer", x.optimizer},
        {"learning_rate", x.learning_rate},
        {"epochs", x.epochs},
        {"batch_size", x.batch_size},
        {"features", x.features},
        {"spurious_correlation", x.spurious_correlation},
        {"ensemble_members", x.ensemble_members},
        {"ensemble_method", x.ensemble_method},
        {"aggregate", x.aggregate},
        {"uwo_lambda", x.uwo_lambda},
        {"noise", {{"distribution", x.noise.distribution}, {"scale", x.noise.scale}, {"shape", x.noise.shape}}},
        {"standardize", x.standardize}}},
      {"optimizers", optimizers},
      {"eval", {{"accuracy_pairs", s.eval.accuracy_pairs}, {"standardize_samples", s.eval.standardize_samples}}},
      {"output", {{"dir", s.output.dir}}},
  };
}

std::string point_id(const Scenario& s) {
  // 64-bit FNV-1a
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : to_json(s).dump()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace goodhart
