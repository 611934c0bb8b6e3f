// mlp_cpu.cpp — fast scoring of an Mlp: float matrix products (Eigen, vectorized) over the whole batch; and of two
// Mlps on the same inputs in one pass (bon_sweep's gold and proxy).
// Contract: same result as score_mlp_ref within float rounding; single-threaded (callers parallelize over
// prompts), so results do not depend on the thread count.
#include <algorithm>

#include "sim/backend/ops.h"

namespace goodhart {

namespace {

constexpr int pair_chunk_rows = 128;  // rows per pass of the pair scorer: its hidden activations stay in L1/L2

bool one_hidden_layer(const Mlp& f) { return f.layers() == 2; }

}  // namespace

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

void score_mlp_pair_cpu(const Mlp& f, const Mlp& g, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out_f,
                        Eigen::Ref<Eigen::VectorXf> out_g) {
  if (!one_hidden_layer(f) || !one_hidden_layer(g) || f.activation != g.activation) {
    score_mlp_cpu(f, x, out_f);
    score_mlp_cpu(g, x, out_g);
    return;
  }
  // both hidden layers as one: inputs x (f's width + g's width), rows past an Mlp's inputs zero
  const int inputs = std::max(f.inputs(), g.inputs());
  const int width_f = static_cast<int>(f.weights[0].cols()), width = width_f + static_cast<int>(g.weights[0].cols());
  Eigen::MatrixXf hidden_w = Eigen::MatrixXf::Zero(inputs, width);
  hidden_w.topLeftCorner(f.inputs(), width_f) = f.weights[0].cast<float>();
  hidden_w.block(0, width_f, g.inputs(), width - width_f) = g.weights[0].cast<float>();
  Eigen::RowVectorXf hidden_b(width);
  hidden_b << f.biases[0].cast<float>().transpose(), g.biases[0].cast<float>().transpose();
  const Eigen::VectorXf out_w_f = f.weights[1].col(0).cast<float>(), out_w_g = g.weights[1].col(0).cast<float>();
  const float out_b_f = static_cast<float>(f.biases[1](0)), out_b_g = static_cast<float>(g.biases[1](0));
  // per chunk of rows: hidden = act(x W + b), then each output layer on its half
  RowMatrixXf h(pair_chunk_rows, width);
  for (Eigen::Index first = 0; first < x.rows(); first += pair_chunk_rows) {
    const Eigen::Index n = std::min<Eigen::Index>(pair_chunk_rows, x.rows() - first);
    auto chunk = h.topRows(n);
    chunk.noalias() = x.block(first, 0, n, inputs) * hidden_w;
    chunk.rowwise() += hidden_b;
    if (f.activation == Activation::tanh)
      chunk = chunk.array().tanh();
    else
      chunk = chunk.array().max(0.0f);
    out_f.segment(first, n).noalias() = chunk.leftCols(width_f) * out_w_f;
    out_g.segment(first, n).noalias() = chunk.rightCols(width - width_f) * out_w_g;
    out_f.segment(first, n).array() += out_b_f;
    out_g.segment(first, n).array() += out_b_g;
  }
}

}  // namespace goodhart
