// preferences.cpp — drawing and labelling preference pairs.
// Contract: see preferences.h.
#include "models/preferences.h"

#include <cmath>

namespace goodhart {

PreferencePairs make_preference_pairs(const PreferenceConfig& cfg, const World& world, const Gold& gold,
                                      const DrawNeeds& needs, Backend backend, std::uint64_t seed,
                                      Eigen::Index count, Stream pair_stream, Stream label_stream) {
  PreferencePairs pairs;
  const std::uint32_t stream = stream_id(pair_stream);
  // responses: the world's comparisons, both sides answering one prompt
  world.draw_pairs(seed, stream, count, pairs.a, pairs.b);
  score_responses(gold, needs, backend, seed, pairs.a);
  score_responses(gold, needs, backend, seed, pairs.b);
  // labels: Bradley-Terry or hard (ties broken at random) on gold (+ bias_weight * x[bias_feature]), then flips
  pairs.label.resize(count);
  for (Eigen::Index i = 0; i < count; ++i) {
    CounterRng rng(seed, label_stream, static_cast<std::uint32_t>(i));
    double diff = static_cast<double>(pairs.a.gold(i)) - pairs.b.gold(i);
    // labellers' bias: they reward x[bias_feature] too (a "length" the gold ignores)
    if (cfg.bias_feature >= 0) {
      const int f = cfg.bias_feature;
      diff += cfg.bias_weight * (static_cast<double>(pairs.a.x(i, f)) - pairs.b.x(i, f));
    }
    const double p_a = cfg.labels == "hard" ? (diff > 0 ? 1.0 : diff < 0 ? 0.0 : 0.5)
                                            : 1.0 / (1.0 + std::exp(-diff / cfg.temperature));
    bool a_wins = rng.uniform() < p_a;
    if (rng.uniform() < cfg.label_noise) a_wins = !a_wins;
    pairs.label(i) = a_wins ? 1.0 : 0.0;
  }
  return pairs;
}

}  // namespace goodhart
