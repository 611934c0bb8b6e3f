// world.h — what a response is: gaussian feature vectors or the candidates of a categorical world, and pi_ref.
// Contract: make_world is a pure function of the config (categorical features and logits come from world.seed);
// sample_gaussian draws row i as row (seed, stream, a, b0 + i) of models/normal_draws.h (float Box-Muller on
// Philox blocks), so draws never depend on threads.
#pragma once

#include <cstdint>

#include <Eigen/Dense>

#include "models/mlp.h"
#include "sim/scenario/config.h"

namespace goodhart {

struct World {
  bool categorical = false;
  int dim = 0;
  int prompts = 0;
  int candidates = 0;           // categorical: K
  Eigen::VectorXd mean, scale;  // gaussian pi_ref = N(mean, diag(scale^2)), length dim
  RowMatrixXf features;         // categorical: row p*K + k is phi[p,k]
  RowMatrixXd log_ref;          // categorical: P x K normalized log pi_ref(k|p)
};

World make_world(const WorldConfig& cfg);

// rows of out (count x dim) are gaussian pi_ref draws with identities (stream, a, b0 + row)
void sample_gaussian(const World& w, std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                     Eigen::Ref<RowMatrixXf> out);

// the same draws, shifted: rows are mean_shift + scale * z (z the standard draws above); used for the exact
// tilted gaussian of a linear proxy, with the same z as pi_ref so curves over beta share their noise
void sample_gaussian_shifted(const World& w, const Eigen::VectorXd& mean, std::uint64_t seed, std::uint32_t stream,
                             std::uint32_t a, std::uint32_t b0, Eigen::Ref<RowMatrixXf> out);

// the same draws, scaled too: rows are mean + scale * z (a policy N(mean, diag(scale^2)) with pi_ref's z), in
// float: mean and scale rounded to float, then normal_draws.h's draw_gaussian_row
void sample_gaussian_scaled(const World& w, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale,
                            std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                            Eigen::Ref<RowMatrixXf> out);

// a categorical draw from pi_ref(.|prompt) by inverse CDF on one uniform
int sample_candidate(const World& w, int prompt, double uniform);

}  // namespace goodhart
