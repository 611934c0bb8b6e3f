// bon_ref.cpp — reference best-of-n moments: weighted sums over ranks in double, plain loops.
// Contract: the oracle bon_moments_cpu is tested against.
#include "sim/backend/ops.h"

namespace goodhart {

void bon_moments_ref(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out) {
  out.setZero(weights.rows(), values.cols());
  for (Eigen::Index g = 0; g < weights.rows(); ++g)
    for (Eigen::Index j = 0; j < values.cols(); ++j) {
      double s = 0.0;
      for (Eigen::Index i = 0; i < values.rows(); ++i) s += weights(g, i) * static_cast<double>(values(i, j));
      out(g, j) = s;
    }
}

}  // namespace goodhart
