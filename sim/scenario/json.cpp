// json.cpp — the resolved scenario as JSON (canonical keys, every field, optimizers as a list, no sweep), hashed.
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
    optimizers.push_back({{"type", o.type},
                          {"name", o.name},
                          {"pool", o.pool},
                          {"n", o.n},
                          {"beta", o.beta},
                          {"kl_budget", o.kl_budget},
                          {"samples", o.samples}});
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
        {"seed", w.seed}}},
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
        {"label_noise", p.label_noise}}},
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
