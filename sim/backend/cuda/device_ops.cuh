// device_ops.cuh — the CUDA ops on arrays already in device memory: what the host wrappers (*_cuda.cu, which copy
// Eigen inputs in and results out) and the CUDA benchmarks call.
// Contract: CUDA-only header. Each function enqueues its kernels on `stream` and returns without waiting; layouts
// are those of the matching op in ops.h (row-major P x K arrays, TiltResult's output order, column-major
// best-of-n weights and values). Results are deterministic: every sum runs in a fixed order.
#pragma once

#include <cstddef>
#include <vector>

#include <cuda_runtime.h>

namespace goodhart {
struct Mlp;
}

namespace goodhart::cuda {

// tilt_sweep on device arrays; values holds value_count P x K arrays back to back
struct TiltDeviceArgs {
  int prompts = 0, candidates = 0, value_count = 0, beta_count = 0;
  const float* log_ref = nullptr;
  const float* proxy = nullptr;
  const float* values = nullptr;
  const double* betas = nullptr;
  double* out = nullptr;  // prompts x beta_count x (3 + value_count), as TiltResult::data
};
void tilt_sweep_device(const TiltDeviceArgs& args, cudaStream_t stream);

// an Mlp packed for the device: layer l's weights row-major in x out_pad (out_pad = out rounded up to 4, padding
// zero), then its biases (out_pad); all layers back to back in `params`
inline constexpr int max_mlp_layers = 16;
struct DeviceMlpShape {
  int layers = 0;
  int activation = 0;  // 0 tanh, 1 relu (hidden layers only)
  int in[max_mlp_layers] = {}, out[max_mlp_layers] = {}, out_pad[max_mlp_layers] = {};
  int weight_offset[max_mlp_layers] = {}, bias_offset[max_mlp_layers] = {};
  int param_count = 0;  // floats in params
  int width = 0;        // the widest layer input or padded output: one activation buffer's rows
};
// the shape and packed float parameters of f; more than max_mlp_layers layers throw std::invalid_argument
DeviceMlpShape pack_mlp(const Mlp& f, std::vector<float>& params);
// out[r] = f(x[r * x_stride + 0 .. in[0] - 1]) for r < rows; throws if the layers are too wide for shared memory
void score_mlp_device(const DeviceMlpShape& shape, const float* params, const float* x, int rows, int x_stride,
                      float* out, cudaStream_t stream);

// out(g, j) = sum_i weights(g, i) * values(i, j): weights G x N and out G x V column-major double, values N x V
// column-major float
void bon_moments_device(const double* weights, const float* values, int groups, int pool, int value_count,
                        double* out, cudaStream_t stream);

}  // namespace goodhart::cuda
