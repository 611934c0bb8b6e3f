// bon_sweep_cpu.cpp — best-of-n over freshly drawn gaussian pools on the CPU: per prompt (one OpenMP task each)
// draw (fill_gaussian_rows), score gold and proxy in one pass (score_mlp_pair_cpu), rank by proxy (a radix sort
// of packed key-index integers), weight the ranks (bon_moments_cpu).
// Contract: see ops.h; draws identical to the gaussian world's (fill_gaussian_rows); identical at any thread count.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "sim/numeric/normal_draws.h"
#include "sim/backend/ops.h"

namespace goodhart {

namespace {

// unsigned integers in the order of the floats (-0 as +0, so the two tie as floats do)
std::uint32_t ordered_bits(float v) {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(v + 0.0f);
  return (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;
}

}  // namespace

void rank_by_proxy_cpu(const Eigen::VectorXf& gold, const Eigen::VectorXf& proxy, Eigen::MatrixXf& values) {
  const int N = static_cast<int>(proxy.size());
  // key << 32 | index, sorted by the key's bytes, least significant first: stable passes keep ties in index order
  std::vector<std::uint64_t> keyed(N), spare(N);
  std::array<std::array<int, 257>, 4> starts{};  // per pass, where each byte value's run begins (shifted by one)
  for (int i = 0; i < N; ++i) {
    const std::uint32_t key = ordered_bits(proxy(i));
    keyed[i] = static_cast<std::uint64_t>(key) << 32 | static_cast<std::uint32_t>(i);
    for (int pass = 0; pass < 4; ++pass) ++starts[pass][((key >> (8 * pass)) & 0xffu) + 1];
  }
  for (int pass = 0; pass < 4; ++pass) {
    std::array<int, 257>& start = starts[pass];
    if (*std::max_element(start.begin(), start.end()) == N) continue;  // one byte value: nothing moves
    for (int v = 0; v < 256; ++v) start[v + 1] += start[v];
    for (const std::uint64_t k : keyed) spare[start[(k >> (32 + 8 * pass)) & 0xffu]++] = k;
    keyed.swap(spare);
  }
  values.resize(N, 2);
  for (int r = 0; r < N; ++r) {
    const int i = static_cast<int>(keyed[r] & 0xffffffffu);
    values(r, 0) = gold(i);
    values(r, 1) = proxy(i);
  }
}

void bon_sweep_cpu(const BonSweepInput& in, Eigen::MatrixXd& out) {
  const Eigen::MatrixXd& weights = *in.weights;
  const int G = static_cast<int>(weights.rows()), N = static_cast<int>(weights.cols());
  const int dim = static_cast<int>(in.mean->size());
  if (in.gold->inputs() > dim || in.proxy->inputs() > dim)
    throw std::invalid_argument("bon_sweep_cpu: the rewards read more features than the responses have");
  const Eigen::VectorXf mean = in.mean->cast<float>(), scale = in.scale->cast<float>();
  out.setZero(in.count, 2 * G);
#pragma omp parallel
  {
    // per thread, allocated once (a pool of 1024 x 32 floats is 128 KiB: a fresh mmap per prompt otherwise)
    RowMatrixXf x(N, dim);
    Eigen::VectorXf gold(N), proxy(N);
    Eigen::MatrixXf values;
    Eigen::MatrixXd moments;
#pragma omp for schedule(dynamic)
    for (int p = 0; p < in.count; ++p) {
      // draw: row i is row (seed, stream, prompt, i) of normal_draws.h, as the gaussian world draws it
      fill_gaussian_rows(in.seed, in.stream, static_cast<std::uint32_t>(in.first + p), 0, N, dim, mean.data(),
                         scale.data(), x.data(), dim);
      // score, rank by proxy (ties by index), weight the ranks
      score_mlp_pair_cpu(*in.gold, *in.proxy, x, gold, proxy);
      rank_by_proxy_cpu(gold, proxy, values);
      bon_moments_cpu(weights, values, moments);
      out.row(p).head(G) = moments.col(0).transpose();
      out.row(p).tail(G) = moments.col(1).transpose();
    }
  }
}

}  // namespace goodhart
