// mlp_cuda.cu — scoring an Mlp on the device: one fused kernel for all layers, one thread per row. A block holds
// the float parameters in shared memory (broadcast reads, four outputs per float4) and two activation buffers laid
// out [unit][row], so each thread reads and writes only its own column: no synchronization between layers.
// Contract: same result as score_mlp_ref within float rounding (float products and sums in input order, accurate
// tanhf); layers up to max_mlp_layers and widths that fit shared memory (about 400 units), else
// std::invalid_argument.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/backend/cuda/cuda_support.cuh"
#include "sim/backend/cuda/device_ops.cuh"
#include "sim/backend/ops.h"

namespace goodhart {

namespace cuda {

namespace {

constexpr int activation_tanh = 0, activation_relu = 1;

__device__ inline float activate(int activation, float z) {
  return activation == activation_tanh ? tanhf(z) : fmaxf(z, 0.0f);
}

// rows per block = blockDim.x; shared memory: [params if kSharedParams] [buffer 0] [buffer 1]
template <bool kSharedParams>
__global__ void mlp_kernel(DeviceMlpShape shape, const float* params, const float* x, int rows, int x_stride,
                           float* out) {
  extern __shared__ float4 shared4[];
  float* shared = reinterpret_cast<float*>(shared4);
  const int tile = blockDim.x, t = threadIdx.x, row = blockIdx.x * tile + t;
  const float* p = kSharedParams ? shared : params;
  float* const first_buffer = shared + (kSharedParams ? shape.param_count : 0);
  const int buffer_size = shape.width * tile;

  // parameters and this block's input rows into shared memory, coalesced
  if (kSharedParams)
    for (int i = t; i < shape.param_count; i += tile) shared[i] = params[i];
  const int inputs = shape.in[0];
  for (int e = t; e < tile * inputs; e += tile) {
    const int r = e / inputs, i = e % inputs, source = blockIdx.x * tile + r;
    first_buffer[i * tile + r] = source < rows ? x[static_cast<std::size_t>(source) * x_stride + i] : 0.0f;
  }
  __syncthreads();

  // layers: four outputs at a time from the thread's own column of the input buffer
  for (int l = 0; l < shape.layers; ++l) {
    const float* h = first_buffer + (l % 2) * buffer_size;
    float* next = first_buffer + ((l + 1) % 2) * buffer_size;
    const bool last = l + 1 == shape.layers;
    const int quads = shape.out_pad[l] / 4;
    const float4* w = reinterpret_cast<const float4*>(p + shape.weight_offset[l]);
    const float4* b = reinterpret_cast<const float4*>(p + shape.bias_offset[l]);
    for (int q = 0; q < quads; ++q) {
      float4 acc = b[q];
      for (int i = 0; i < shape.in[l]; ++i) {
        const float hi = h[i * tile + t];
        const float4 wi = w[i * quads + q];
        acc.x = fmaf(hi, wi.x, acc.x);
        acc.y = fmaf(hi, wi.y, acc.y);
        acc.z = fmaf(hi, wi.z, acc.z);
        acc.w = fmaf(hi, wi.w, acc.w);
      }
      if (last) {  // one output unit
        if (row < rows) out[row] = acc.x;
      } else {
        next[(4 * q + 0) * tile + t] = activate(shape.activation, acc.x);
        next[(4 * q + 1) * tile + t] = activate(shape.activation, acc.y);
        next[(4 * q + 2) * tile + t] = activate(shape.activation, acc.z);
        next[(4 * q + 3) * tile + t] = activate(shape.activation, acc.w);
      }
    }
  }
}


}  // namespace

void score_mlp_device(const DeviceMlpShape& shape, const float* params, const float* x, int rows, int x_stride,
                      float* out, cudaStream_t stream) {
  if (rows == 0) return;
  // the kernels may use all the shared memory the device allows, set once (threads launch them concurrently)
  static const int limit = std::min(max_dynamic_shared_bytes(mlp_kernel<false>, "score_mlp_cuda"),
                                    max_dynamic_shared_bytes(mlp_kernel<true>, "score_mlp_cuda"));
  static const cudaError_t configured[2] = {
      cudaFuncSetAttribute(mlp_kernel<false>, cudaFuncAttributeMaxDynamicSharedMemorySize, limit),
      cudaFuncSetAttribute(mlp_kernel<true>, cudaFuncAttributeMaxDynamicSharedMemorySize, limit)};
  // 64 rows per block, or one warp's worth when the activations of 64 rows do not fit
  for (int tile : {64, 32}) {
    const std::size_t buffers = 2 * sizeof(float) * static_cast<std::size_t>(shape.width) * tile;
    const std::size_t with_params = buffers + sizeof(float) * static_cast<std::size_t>(shape.param_count);
    const int blocks = (rows + tile - 1) / tile;
    if (with_params <= static_cast<std::size_t>(limit)) {
      check(configured[1], "score_mlp_cuda");
      mlp_kernel<true><<<blocks, tile, with_params, stream>>>(shape, params, x, rows, x_stride, out);
      return check_launch("score_mlp_cuda");
    }
    if (buffers <= static_cast<std::size_t>(limit)) {
      check(configured[0], "score_mlp_cuda");
      mlp_kernel<false><<<blocks, tile, buffers, stream>>>(shape, params, x, rows, x_stride, out);
      return check_launch("score_mlp_cuda");
    }
  }
  throw std::invalid_argument("score_mlp_cuda: a layer of " + std::to_string(shape.width) +
                              " units is too wide for the CUDA backend's shared memory");
}

DeviceMlpShape pack_mlp(const Mlp& f, std::vector<float>& params) {
  if (f.layers() > max_mlp_layers)
    throw std::invalid_argument("score_mlp_cuda: " + std::to_string(f.layers()) + " layers; at most " +
                                std::to_string(max_mlp_layers) + " on the CUDA backend");
  DeviceMlpShape s;
  s.layers = f.layers();
  s.activation = f.activation == Activation::tanh ? activation_tanh : activation_relu;
  s.width = f.inputs();
  params.clear();
  for (int l = 0; l < s.layers; ++l) {
    const Eigen::MatrixXd& w = f.weights[l];
    s.in[l] = static_cast<int>(w.rows());
    s.out[l] = static_cast<int>(w.cols());
    s.out_pad[l] = (s.out[l] + 3) / 4 * 4;
    s.width = std::max(s.width, s.out_pad[l]);
    s.weight_offset[l] = static_cast<int>(params.size());
    params.resize(params.size() + static_cast<std::size_t>(s.in[l]) * s.out_pad[l], 0.0f);
    for (int i = 0; i < s.in[l]; ++i)
      for (int o = 0; o < s.out[l]; ++o) params[s.weight_offset[l] + i * s.out_pad[l] + o] = static_cast<float>(w(i, o));
    s.bias_offset[l] = static_cast<int>(params.size());
    params.resize(params.size() + s.out_pad[l], 0.0f);
    for (int o = 0; o < s.out[l]; ++o) params[s.bias_offset[l] + o] = static_cast<float>(f.biases[l](o));
  }
  s.param_count = static_cast<int>(params.size());
  return s;
}

}  // namespace cuda

void score_mlp_cuda(const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out) {
  const int rows = static_cast<int>(x.rows()), stride = static_cast<int>(x.cols());
  if (x.cols() < f.inputs() || out.size() != x.rows())
    throw std::invalid_argument("score_mlp_cuda: x needs at least " + std::to_string(f.inputs()) +
                                " columns and out one entry per row of x");
  if (rows == 0) return;
  const char* what = "score_mlp_cuda";
  std::vector<float> params;
  const cuda::DeviceMlpShape shape = cuda::pack_mlp(f, params);
  cuda::DeviceBuffer<float> d_params(params.size(), what), d_x(x.size(), what), d_out(rows, what);
  d_params.upload(params.data(), params.size(), 0, what);
  d_x.upload(x.data(), x.size(), 0, what);
  cuda::score_mlp_device(shape, d_params.get(), d_x.get(), rows, stride, d_out.get(), cuda::op_stream());
  d_out.download(out.data(), rows, what);
}

}  // namespace goodhart
