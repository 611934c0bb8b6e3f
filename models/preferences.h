// preferences.h — labelled preference pairs drawn from pi_ref: Bradley-Terry or hard labels from the gold
// reward (plus bias_weight * x[bias_feature] when the labellers are biased), then flipped with probability
// label_noise.
// Contract: pair i's responses (World::draw_pairs, with their identities) and label depend only on (seed, streams,
// i); label 1 means `a` is preferred.
#pragma once

#include "models/responses.h"

namespace goodhart {

struct PreferencePairs {
  Responses a, b;
  Eigen::VectorXd label;  // 1: a preferred, 0: b preferred
  Eigen::Index size() const { return label.size(); }
};

PreferencePairs make_preference_pairs(const PreferenceConfig& cfg, const World& world, const Gold& gold,
                                      const DrawNeeds& needs, Backend backend, std::uint64_t seed,
                                      Eigen::Index count, Stream pair_stream, Stream label_stream);

}  // namespace goodhart
