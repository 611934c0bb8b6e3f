// bon_sweep_cpu.cpp — best-of-n over freshly drawn gaussian pools on the CPU: per prompt (one OpenMP task each)
// draw, score gold and proxy (score_mlp_cpu), rank by proxy, weight the ranks (bon_moments_cpu).
// Contract: see ops.h; draws identical to sample_gaussian_scaled; identical at any thread count.
#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "sim/backend/ops.h"

namespace goodhart {

void bon_sweep_cpu(const BonSweepInput& in, Eigen::MatrixXd& out) {
  const Eigen::MatrixXd& weights = *in.weights;
  const int G = static_cast<int>(weights.rows()), N = static_cast<int>(weights.cols());
  const int dim = static_cast<int>(in.mean->size());
  if (in.gold->inputs() > dim || in.proxy->inputs() > dim)
    throw std::invalid_argument("bon_sweep_cpu: the rewards read more features than the responses have");
  out.setZero(in.count, 2 * G);
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < in.count; ++p) {
    // draw: row i from CounterRng(seed, stream, prompt, i), as sample_gaussian_scaled
    RowMatrixXf x(N, dim);
    for (int i = 0; i < N; ++i) {
      CounterRng rng(in.seed, in.stream, static_cast<std::uint32_t>(in.first + p), static_cast<std::uint32_t>(i));
      for (int j = 0; j < dim; ++j) x(i, j) = static_cast<float>((*in.mean)(j) + (*in.scale)(j) * rng.normal());
    }
    // score, rank by proxy (ties by index), weight the ranks
    Eigen::VectorXf gold(N), proxy(N);
    score_mlp_cpu(*in.gold, x, gold);
    score_mlp_cpu(*in.proxy, x, proxy);
    std::vector<int> order(N);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return proxy(a) < proxy(b) || (proxy(a) == proxy(b) && a < b); });
    Eigen::MatrixXf values(N, 2);
    for (int i = 0; i < N; ++i) values.row(i) << gold(order[i]), proxy(order[i]);
    Eigen::MatrixXd moments;
    bon_moments_cpu(weights, values, moments);
    out.row(p).head(G) = moments.col(0).transpose();
    out.row(p).tail(G) = moments.col(1).transpose();
  }
}

}  // namespace goodhart
