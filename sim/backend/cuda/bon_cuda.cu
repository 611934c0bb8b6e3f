// bon_cuda.cu — best-of-n moments on the device: out(g, j) = sum_i weights(g, i) * values(i, j) in double, one
// block per (g, j), each thread summing a strided share of the ranks, then a fixed-order block reduction.
// Contract: same as bon_moments_ref within double rounding (values are float, products and sums double);
// deterministic. Ties in the pool need nothing here: the caller sorts the pool and the weights are per rank.
#include <algorithm>

#include "sim/backend/cuda/cuda_support.cuh"
#include "sim/backend/cuda/device_ops.cuh"
#include "sim/backend/ops.h"

namespace goodhart {

namespace cuda {

namespace {

constexpr int bon_threads = 256;

__global__ void __launch_bounds__(bon_threads) bon_kernel(const double* weights, const float* values, int groups,
                                                          int pool, double* out) {
  __shared__ double scratch[bon_threads / 32];
  const int g = blockIdx.x, j = blockIdx.y;
  const float* column = values + static_cast<std::size_t>(j) * pool;
  double sum = 0.0;
  for (int i = threadIdx.x; i < pool; i += bon_threads)
    sum += weights[g + static_cast<std::size_t>(i) * groups] * static_cast<double>(column[i]);
  sum = block_reduce<false>(sum, scratch);
  if (threadIdx.x == 0) out[g + static_cast<std::size_t>(j) * groups] = sum;
}

}  // namespace

void bon_moments_device(const double* weights, const float* values, int groups, int pool, int value_count,
                        double* out, cudaStream_t stream) {
  // value columns in launches of at most 65535 (the grid's y limit)
  for (int first = 0; first < value_count && groups > 0; first += 65535) {
    const int columns = std::min(65535, value_count - first);
    bon_kernel<<<dim3(groups, columns), bon_threads, 0, stream>>>(
        weights, values + static_cast<std::size_t>(first) * pool, groups, pool, out + static_cast<std::size_t>(first) * groups);
    check_launch("bon_moments_cuda");
  }
}

}  // namespace cuda

void bon_moments_cuda(const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out) {
  const int G = static_cast<int>(weights.rows()), N = static_cast<int>(weights.cols());
  const int V = static_cast<int>(values.cols());
  if (values.rows() != N) throw std::invalid_argument("bon_moments_cuda: weights and values disagree on the pool size");
  out.setZero(G, V);
  if (G == 0 || V == 0) return;
  const char* what = "bon_moments_cuda";
  cuda::DeviceBuffer<double> d_weights(weights.size(), what), d_out(out.size(), what);
  cuda::DeviceBuffer<float> d_values(values.size(), what);
  d_weights.upload(weights.data(), weights.size(), 0, what);
  d_values.upload(values.data(), values.size(), 0, what);
  cuda::bon_moments_device(d_weights.get(), d_values.get(), G, N, V, d_out.get(), cuda::op_stream());
  d_out.download(out.data(), out.size(), what);
}

}  // namespace goodhart
