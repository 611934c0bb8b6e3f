// bon_sweep_cuda.cu — best-of-n over freshly drawn gaussian pools with every step on the device (W1): Philox draws
// (sim/numeric/normal_draws.h's draw_gaussian_row, so the same numbers as the CPU within a few float ulps: CUDA's and
// glibc's float log, sin, cos each agree to an ulp or two), the fused MLP for gold and proxy, a stable segmented
// sort by proxy (CUB: ties keep index order), a gather into rank order and the rank-weighted sums of bon_cuda.cu.
// Only the rank weights go in and the count x 2G estimates come out.
// Contract: see ops.h (bon_sweep); matches bon_sweep_cpu within float rounding (a near-tie that float scoring
// orders differently moves an estimate by the weight difference of two adjacent ranks times their value gap).
#include <cub/device/device_segmented_sort.cuh>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "sim/numeric/normal_draws.h"
#include "sim/backend/cuda/cuda_support.cuh"
#include "sim/backend/cuda/device_ops.cuh"
#include "sim/backend/ops.h"

namespace goodhart {

namespace cuda {

namespace {

constexpr int sweep_threads = 256;

// row r = p * pool + i of x: response i of prompt first + p, as the gaussian world and policy draws (fill_gaussian_rows) draw it
__global__ void draw_kernel(const float* mean, const float* scale, int dim, std::uint64_t seed, std::uint32_t stream,
                            int first, int pool, int rows, float* x) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= rows) return;
  draw_gaussian_row(seed, stream, static_cast<std::uint32_t>(first + row / pool),
                    static_cast<std::uint32_t>(row % pool), mean, scale, dim, x + static_cast<std::size_t>(row) * dim);
}

// index[r] = r's position within its prompt; offsets[p] = p * pool for p <= prompts
__global__ void index_kernel(int pool, int rows, int* index, int* offsets) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row < rows) index[row] = row % pool;
  if (row <= rows / pool) offsets[row] = row * pool;
}

// values, column-major pool x 2 prompts: column 2p the gold and 2p + 1 the proxy of prompt p in rank order
__global__ void gather_kernel(const float* gold, const float* sorted_proxy, const int* order, int pool, int rows,
                              float* values) {
  const int row = blockIdx.x * blockDim.x + threadIdx.x;
  if (row >= rows) return;
  const int p = row / pool, i = row % pool;
  values[static_cast<std::size_t>(2 * p) * pool + i] = gold[static_cast<std::size_t>(p) * pool + order[row]];
  values[static_cast<std::size_t>(2 * p + 1) * pool + i] = sorted_proxy[row];
}

int blocks_for(int rows) { return (rows + sweep_threads - 1) / sweep_threads; }

}  // namespace

}  // namespace cuda

void bon_sweep_cuda(const BonSweepInput& in, Eigen::MatrixXd& out) {
  const Eigen::MatrixXd& weights = *in.weights;
  const int G = static_cast<int>(weights.rows()), N = static_cast<int>(weights.cols()), P = in.count;
  const int dim = static_cast<int>(in.mean->size());
  const char* what = "bon_sweep_cuda";
  // rows index every kernel as int
  if (static_cast<std::int64_t>(P) * N > std::numeric_limits<int>::max())
    throw std::invalid_argument("bon_sweep_cuda: prompts x pool above 2^31 responses: split the prompts");
  const int rows = P * N;
  if (in.gold->inputs() > dim || in.proxy->inputs() > dim)
    throw std::invalid_argument("bon_sweep_cuda: the rewards read more features than the responses have");
  out.setZero(P, 2 * G);
  if (rows == 0 || G == 0) return;
  const cudaStream_t stream = cuda::op_stream();
  std::vector<float> gold_params, proxy_params;
  const cuda::DeviceMlpShape gold_shape = cuda::pack_mlp(*in.gold, gold_params);
  const cuda::DeviceMlpShape proxy_shape = cuda::pack_mlp(*in.proxy, proxy_params);
  const Eigen::VectorXf mean = in.mean->cast<float>(), scale = in.scale->cast<float>();
  cuda::DeviceBuffer<float> d_mean(dim, what), d_scale(dim, what);
  cuda::DeviceBuffer<double> d_weights(weights.size(), what);
  cuda::DeviceBuffer<float> d_gold_params(gold_params.size(), what), d_proxy_params(proxy_params.size(), what);
  d_mean.upload(mean.data(), dim, 0, what);
  d_scale.upload(scale.data(), dim, 0, what);
  d_weights.upload(weights.data(), weights.size(), 0, what);
  d_gold_params.upload(gold_params.data(), gold_params.size(), 0, what);
  d_proxy_params.upload(proxy_params.data(), proxy_params.size(), 0, what);

  // draw and score
  cuda::DeviceBuffer<float> x(static_cast<std::size_t>(rows) * dim, what), gold(rows, what), proxy(rows, what);
  cuda::draw_kernel<<<cuda::blocks_for(rows), cuda::sweep_threads, 0, stream>>>(
      d_mean.get(), d_scale.get(), dim, in.seed, in.stream, in.first, N, rows, x.get());
  cuda::check_launch(what);
  cuda::score_mlp_device(gold_shape, d_gold_params.get(), x.get(), rows, dim, gold.get(), stream);
  cuda::score_mlp_device(proxy_shape, d_proxy_params.get(), x.get(), rows, dim, proxy.get(), stream);

  // rank each prompt's pool by proxy: a stable sort of (proxy, index) pairs per prompt
  cuda::DeviceBuffer<int> index(rows, what), order(rows, what), offsets(P + 1, what);
  cuda::DeviceBuffer<float> sorted_proxy(rows, what);
  cuda::index_kernel<<<cuda::blocks_for(rows + 1), cuda::sweep_threads, 0, stream>>>(N, rows, index.get(), offsets.get());
  cuda::check_launch(what);
  std::size_t temp_bytes = 0;
  cuda::check(cub::DeviceSegmentedSort::StableSortPairs(nullptr, temp_bytes, proxy.get(), sorted_proxy.get(),
                                                        index.get(), order.get(), rows, P, offsets.get(),
                                                        offsets.get() + 1, stream), what);
  cuda::DeviceBuffer<unsigned char> temp(std::max<std::size_t>(temp_bytes, 1), what);  // null would only query
  cuda::check(cub::DeviceSegmentedSort::StableSortPairs(temp.get(), temp_bytes, proxy.get(), sorted_proxy.get(),
                                                        index.get(), order.get(), rows, P, offsets.get(),
                                                        offsets.get() + 1, stream), what);

  // rank order, weighted sums, the estimates out
  cuda::DeviceBuffer<float> values(static_cast<std::size_t>(rows) * 2, what);
  cuda::gather_kernel<<<cuda::blocks_for(rows), cuda::sweep_threads, 0, stream>>>(
      gold.get(), sorted_proxy.get(), order.get(), N, rows, values.get());
  cuda::check_launch(what);
  cuda::DeviceBuffer<double> moments(static_cast<std::size_t>(G) * 2 * P, what);
  cuda::bon_moments_device(d_weights.get(), values.get(), G, N, 2 * P, moments.get(), stream);
  Eigen::MatrixXd m(G, 2 * P);  // column 2p: prompt p's gold estimates, column 2p + 1 its proxy estimates
  moments.download(m.data(), m.size(), what);
  out = Eigen::Map<const Eigen::MatrixXd>(m.data(), 2 * G, P).transpose();
}

}  // namespace goodhart
