// bon_cpu.cpp — fast best-of-n moments: one matrix product (G x N weights times N x V values) in double.
// Contract: same as bon_moments_ref within rounding; single-threaded (callers parallelize over prompts).
#include "sim/backend/ops.h"

namespace goodhart {

void bon_moments_cpu(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out) {
  out.noalias() = weights * values.cast<double>();
}

}  // namespace goodhart
