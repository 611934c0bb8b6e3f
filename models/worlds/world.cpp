// world.cpp — the Candidates capability's helpers (identity, a prompt's features, inverse-CDF draws).
// Contract: see world.h.
#include "models/worlds/world.h"

#include <cmath>

#include "sim/numeric/philox_hd.h"

namespace goodhart {

ResponseId Candidates::id(int prompt, int candidate) const {
  return {prompt, candidate, stream_id(Stream::pool), static_cast<std::uint32_t>(prompt),
          static_cast<std::uint32_t>(candidate)};
}

Eigen::Map<const RowMatrixXf> Candidates::prompt_features(int prompt) const {
  return {features.data() + static_cast<std::size_t>(prompt) * count * features.cols(), count, features.cols()};
}

int Candidates::sample(int prompt, double uniform) const {
  double cumulative = 0.0;
  for (int k = 0; k < count; ++k) {
    cumulative += std::exp(log_ref(prompt, k));
    if (uniform < cumulative) return k;
  }
  return count - 1;
}

}  // namespace goodhart
