// mlp_cpu.cpp — fast scoring of an Mlp: float matrix products (Eigen, vectorized) over the whole batch.
// Contract: same result as score_mlp_ref within float rounding; single-threaded (callers parallelize over
// prompts), so results do not depend on the thread count.
#include <algorithm>

#include "sim/backend/ops.h"

namespace goodhart {

void score_mlp_cpu(const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out) {
  RowMatrixXf h = x.leftCols(f.inputs());
  for (int l = 0; l < f.layers(); ++l) {
    const Eigen::MatrixXf w = f.weights[l].cast<float>();
    const Eigen::RowVectorXf b = f.biases[l].cast<float>().transpose();
    RowMatrixXf z = h * w;
    z.rowwise() += b;
    if (l + 1 < f.layers()) {
      if (f.activation == Activation::tanh)
        z = z.array().tanh();
      else
        z = z.array().max(0.0f);
    }
    h.swap(z);
  }
  out = h.col(0);
}

}  // namespace goodhart
