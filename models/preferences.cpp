// preferences.cpp — drawing and labelling preference pairs.
// Contract: see preferences.h.
#include "models/preferences.h"

#include <algorithm>
#include <cmath>

namespace goodhart {

PreferencePairs make_preference_pairs(const PreferenceConfig& cfg, const World& world, const Gold& gold,
                                      const DrawNeeds& needs, Backend backend, std::uint64_t seed,
                                      Eigen::Index count, Stream pair_stream, Stream label_stream) {
  PreferencePairs pairs;
  const std::uint32_t stream = stream_id(pair_stream);
  // responses: gaussian draws (side a: a = 0, side b: a = 1) or candidates of a uniform prompt
  if (!world.categorical) {
    draw_gaussian_responses(world, gold, needs, backend, seed, stream, 0, 0, count, pairs.a);
    draw_gaussian_responses(world, gold, needs, backend, seed, stream, 1, 0, count, pairs.b);
  } else {
    std::vector<std::pair<int, int>> side_a, side_b;
    for (Eigen::Index i = 0; i < count; ++i) {
      CounterRng rng(seed, stream, static_cast<std::uint32_t>(i));
      const int p = std::min(world.prompts - 1, static_cast<int>(rng.uniform() * world.prompts));
      side_a.emplace_back(p, sample_candidate(world, p, rng.uniform()));
      side_b.emplace_back(p, sample_candidate(world, p, rng.uniform()));
    }
    categorical_responses(world, gold, needs, backend, seed, side_a, pairs.a);
    categorical_responses(world, gold, needs, backend, seed, side_b, pairs.b);
  }
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
