// gaussian_density.h — the log-density of a diagonal gaussian N(mean, diag(scale^2)): the gaussian world's
// log pi_ref (models/worlds/gaussian.cpp) and the mean_shift policy's log pi (models/policy.cpp) are this one
// function, so a policy at theta = 0 has exactly pi_ref's log-probabilities.
// Contract: sum_j [-z_j^2 / 2 - log scale_j - log(2 pi) / 2], z = (y - mean) / scale, in double.
#pragma once

#include <Eigen/Dense>

namespace goodhart {

inline double diagonal_gaussian_log_density(const Eigen::VectorXd& y, const Eigen::VectorXd& mean,
                                            const Eigen::VectorXd& scale) {
  constexpr double half_log_two_pi = 0.91893853320467274178;
  const Eigen::ArrayXd z = (y - mean).array() / scale.array();
  return (-0.5 * z.square() - scale.array().log() - half_log_two_pi).sum();
}

}  // namespace goodhart
