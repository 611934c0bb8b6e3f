// gold.h — the true reward r*(features): linear, a random-teacher MLP, concave (u.y - lambda |y|^2), or a column
// of a scored world's file.
// Contract: make_gold depends only on the gold and world configs (gold.seed), never on the run seed, so every
// point and seed of a sweep sees the same gold; the result is standardized to mean 0, variance 1 under pi_ref
// (closed form for linear and concave gold under a gaussian pi_ref, exact sums over a world's candidates, Monte
// Carlo with eval.standardize_samples draws otherwise).
#pragma once

#include <Eigen/Dense>

#include "models/worlds/world.h"
#include "sim/backend/ops.h"
#include "sim/scenario/config.h"

namespace goodhart {

struct Gold {
  bool concave = false;
  Mlp mlp;                    // linear and mlp gold (standardization folded into the last layer)
  Eigen::VectorXd direction;  // concave: u
  double penalty = 0.0;       // concave: lambda
  double shift = 0.0, scale = 1.0;  // concave: r = (u.y - lambda |y|^2 - shift) / scale
  double variance = 1.0;            // under pi_ref once standardized: 1, or 0 for a constant gold

  // out(i) = r*(y.row(i)) on the backend's fast path
  void score(Backend b, const RowMatrixXf& y, Eigen::Ref<Eigen::VectorXf> out) const;
  // plain double reference for one response
  double score_one(const double* y) const;
};

Gold make_gold(const GoldConfig& gold, const World& world, int standardize_samples);

// a unit direction: the given weights, or a random unit vector from (seed, stream gold_weights, index)
Eigen::VectorXd gold_direction(const std::vector<double>& weights, int dim, std::uint64_t seed, std::uint32_t index);

}  // namespace goodhart
