// mlp_ref.cpp — reference scoring of an Mlp: one row at a time in double with plain loops.
// Contract: the oracle score_mlp_cpu is tested against.
#include "sim/backend/ops.h"

namespace goodhart {

void score_mlp_ref(const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out) {
  std::vector<double> row(f.inputs());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    for (int j = 0; j < f.inputs(); ++j) row[j] = x(i, j);
    out(i) = static_cast<float>(mlp_eval(f, row.data()));
  }
}

}  // namespace goodhart
