// responses.h — a batch of responses with everything random about them: features and identities (from the world),
// gold, and the per-response draws a proxy may need (its error term, the noise of its spurious feature).
// Contract: a response's own draws are keyed by its identity (ResponseId's stream, a, b), so the same response
// gets the same draws wherever it appears.
#pragma once

#include <cstdint>

#include <Eigen/Dense>

#include "models/gold.h"
#include "models/worlds/world.h"
#include "sim/scenario/config.h"

namespace goodhart {

// which per-response draws the proxy needs
struct DrawNeeds {
  const NoiseConfig* error = nullptr;  // noisy proxy: draw its unit error
  bool spurious = false;               // learned proxy with a spurious feature: draw its noise
};

struct Responses : ResponseDraws {
  Eigen::VectorXf gold;        // standardized gold
  Eigen::VectorXf error;       // unit error draws (noisy proxy), else empty
  Eigen::VectorXf spurious;    // standard normal noise of the spurious feature, else empty
  Eigen::Index size() const { return x.rows(); }
};

// gold and the proxy's per-response draws of responses whose x and id are set
void score_responses(const Gold& gold, const DrawNeeds& needs, Backend backend, std::uint64_t seed, Responses& out);

// `count` pi_ref responses of a prompt (World::any_prompt: a uniform prompt each), keyed by (stream, a, b0 + row)
void draw_reference_responses(const World& world, const Gold& gold, const DrawNeeds& needs, Backend backend,
                              std::uint64_t seed, int prompt, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                              Eigen::Index count, Responses& out);

// `count` responses y = mean + scale * z of a gaussian policy N(mean, diag(scale^2)), z the standard draws of the
// rows (stream, a, b0 + row), identities those rows: the draws of a gaussian pi_ref with the same counters move
// with the policy, so curves over beta or training steps share their noise
void draw_gaussian_policy_responses(const World& world, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale,
                                    const Gold& gold, const DrawNeeds& needs, Backend backend, std::uint64_t seed,
                                    int prompt, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                                    Eigen::Index count, Responses& out);

// every candidate of every prompt (a world with candidates()), row p*K + k
void all_candidates(const World& world, const Gold& gold, const DrawNeeds& needs, Backend backend,
                    std::uint64_t seed, Responses& out);

}  // namespace goodhart
