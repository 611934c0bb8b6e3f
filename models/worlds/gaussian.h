// gaussian.h — the gaussian world's own keys (world: {type: gaussian, ...}), read as world.get<GaussianWorldConfig>();
// the world itself, its table and its checks are in gaussian.cpp.
#pragma once

#include <vector>

namespace goodhart {

struct GaussianWorldConfig {
  std::vector<double> mean = {0.0};   // pi_ref mean, one value for every dim or d values
  std::vector<double> scale = {1.0};  // pi_ref std, one value or d values (> 0)
};

}  // namespace goodhart
