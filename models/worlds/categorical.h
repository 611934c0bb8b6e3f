// categorical.h — the categorical world's own keys (world: {type: categorical, ...}), read as
// world.get<CategoricalWorldConfig>(); the world itself, its table and its checks are in categorical.cpp.
#pragma once

#include <cstdint>
#include <vector>

namespace goodhart {

struct CategoricalWorldConfig {
  int candidates = 64;                      // K candidate responses per prompt
  double feature_scale = 1.0;               // phi[p,k] ~ N(0, feature_scale^2 I)
  double ref_logit_scale = 1.0;             // reference logits = ref_logit_scale * N(0,1) + ...
  std::vector<double> ref_feature_weights;  // ... + phi . w (a "fluency" direction); empty: none
  std::uint64_t seed = 0;                   // seed of the features and logits (the world is fixed across run seeds
                                            // unless this is swept)
  bool normalize_features = false;          // rescale each phi[p,k] to norm feature_scale * sqrt(dim) (before the
                                            // logits), so attributes trade off against each other: a finite
                                            // resource (Zhuang & Hadfield-Menell 2020); false: as drawn
};

}  // namespace goodhart
