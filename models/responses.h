// responses.h — a batch of responses with everything random about them: features, gold, and the per-response
// draws a proxy may need (its error term, the noise of its spurious feature).
// Contract: a response's draws are keyed by its identity — gaussian world (stream, a, b0 + row), categorical
// world (pool stream, prompt, candidate) — so the same response gets the same draws wherever it appears.
#pragma once

#include <cstdint>

#include <Eigen/Dense>

#include "models/gold.h"
#include "models/world.h"
#include "sim/scenario/config.h"

namespace goodhart {

// which per-response draws the proxy needs
struct DrawNeeds {
  const NoiseConfig* error = nullptr;  // noisy proxy: draw its unit error
  bool spurious = false;               // learned proxy with a spurious feature: draw its noise
};

struct Responses {
  RowMatrixXf x;               // rows x dim features
  Eigen::VectorXf gold;        // standardized gold
  Eigen::VectorXf error;       // unit error draws (noisy proxy), else empty
  Eigen::VectorXf spurious;    // standard normal noise of the spurious feature, else empty
  Eigen::Index size() const { return x.rows(); }
};

// `count` gaussian pi_ref responses with identities (stream, a, b0 + row), scored by gold on the backend
void draw_gaussian_responses(const World& world, const Gold& gold, const DrawNeeds& needs, Backend backend,
                             std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                             Eigen::Index count, Responses& out);

// the same, from N(mean, diag(scale^2)) with the same standard draws (for exact tilted gaussians)
void draw_shifted_responses(const World& world, const Eigen::VectorXd& mean, const Gold& gold, const DrawNeeds& needs,
                            Backend backend, std::uint64_t seed, std::uint32_t stream, std::uint32_t a,
                            std::uint32_t b0, Eigen::Index count, Responses& out);

// the same, from N(mean, diag(scale^2)) with the same standard draws (a gaussian policy that also moves its scale)
void draw_scaled_responses(const World& world, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale,
                           const Gold& gold, const DrawNeeds& needs, Backend backend, std::uint64_t seed,
                           std::uint32_t stream, std::uint32_t a, std::uint32_t b0, Eigen::Index count,
                           Responses& out);

// the chosen candidates (prompt, candidate) of a categorical world, with their per-candidate draws
void categorical_responses(const World& world, const Gold& gold, const DrawNeeds& needs, Backend backend,
                           std::uint64_t seed, const std::vector<std::pair<int, int>>& chosen, Responses& out);

// every candidate of every prompt, row p*K + k
void all_candidates(const World& world, const Gold& gold, const DrawNeeds& needs, Backend backend,
                    std::uint64_t seed, Responses& out);

}  // namespace goodhart
