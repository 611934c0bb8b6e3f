// pg_cuda.cu — one RLOO policy-gradient step of the categorical log-linear policy on the device, in double: one
// block per prompt computes the logits (log_ref + phi theta) and their log-softmax in parallel; its thread 0 builds
// the CDF, draws the group (the project's CounterRng on the device) and accumulates the loss coefficients in the
// CPU's order; then phi^T (coef - sum(coef) pi) per prompt, and the prompts' slots summed in prompt order.
// Contract: see ops.h (pg_rloo_gradient); matches pg_rloo_gradient_ref to double rounding (the same samples but
// where a uniform falls within rounding of a CDF boundary; the CPU op, in float, to float rounding);
// deterministic; num_generations <= 64 and K up to the shared memory (3 K doubles), else std::invalid_argument.
#include <stdexcept>
#include <string>

#include "sim/backend/cuda/cuda_support.cuh"
#include "sim/backend/cuda/device_ops.cuh"
#include "sim/backend/ops.h"

namespace goodhart {

namespace cuda {

namespace {

constexpr int pg_threads = 256, max_generations = 64;

__global__ void __launch_bounds__(pg_threads) pg_prompt_kernel(PgDeviceArgs a) {
  extern __shared__ double shared[];  // log pi [K], pi [K], CDF then loss coefficients [K]
  __shared__ double scratch[pg_threads / 32];
  const int K = a.candidates, d = a.dim, p = blockIdx.x, t = threadIdx.x;
  double* log_pi = shared;
  double* pi = shared + K;
  double* work = shared + 2 * K;
  const float* phi = a.features + static_cast<std::size_t>(p) * K * d;
  const double* log_ref = a.log_ref + static_cast<std::size_t>(p) * K;

  // log pi = log_softmax(log_ref + phi theta)
  double m = -INFINITY;
  for (int k = t; k < K; k += pg_threads) {
    double l = log_ref[k];
    for (int j = 0; j < d; ++j) l += static_cast<double>(phi[static_cast<std::size_t>(k) * d + j]) * a.theta[j];
    log_pi[k] = l;
    m = fmax(m, l);
  }
  m = block_reduce<true>(m, scratch);
  double mass = 0.0;
  for (int k = t; k < K; k += pg_threads) mass += exp(log_pi[k] - m);
  const double log_z = m + log(block_reduce<false>(mass, scratch));
  for (int k = t; k < K; k += pg_threads) {
    log_pi[k] -= log_z;
    pi[k] = exp(log_pi[k]);
  }
  __syncthreads();

  // thread 0: CDF, the group's samples and rewards, leave-one-out advantages into the loss coefficients
  if (t == 0) {
    double cumulative = 0.0;
    for (int k = 0; k < K; ++k) work[k] = cumulative += pi[k];
    CounterRng rng(a.seed, Stream::policy_samples, static_cast<std::uint32_t>(a.step), static_cast<std::uint32_t>(p));
    const int G = a.num_generations;
    int chosen[max_generations];
    double reward[max_generations], sum = 0.0;
    for (int i = 0; i < G; ++i) {
      const double u = rng.uniform();
      int k = 0;
      while (k < K - 1 && !(u < work[k])) ++k;
      chosen[i] = k;
      reward[i] = a.proxy[static_cast<std::size_t>(p) * K + k] - a.kl_coef * (log_pi[k] - log_ref[k]);
      sum += reward[i];
    }
    for (int k = 0; k < K; ++k) work[k] = 0.0;
    const double count = static_cast<double>(a.prompts) * G;
    for (int i = 0; i < G; ++i) work[chosen[i]] += -(reward[i] - (sum - reward[i]) / (G - 1.0)) / count;
  }
  __syncthreads();

  // this prompt's gradient: phi^T (coef - sum(coef) pi)
  double coef_sum = 0.0;
  for (int k = t; k < K; k += pg_threads) coef_sum += work[k];
  coef_sum = block_reduce<false>(coef_sum, scratch);
  for (int j = t; j < d; j += pg_threads) {
    double g = 0.0;
    for (int k = 0; k < K; ++k) g += static_cast<double>(phi[static_cast<std::size_t>(k) * d + j]) * (work[k] - coef_sum * pi[k]);
    a.slots[static_cast<std::size_t>(p) * d + j] = g;
  }
}

__global__ void sum_slots_kernel(const double* slots, int prompts, int dim, double* grad) {
  const int j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= dim) return;
  double g = 0.0;
  for (int p = 0; p < prompts; ++p) g += slots[static_cast<std::size_t>(p) * dim + j];
  grad[j] = g;
}

}  // namespace

void pg_rloo_gradient_device(const PgDeviceArgs& a, cudaStream_t stream) {
  if (a.num_generations < 2 || a.num_generations > max_generations)
    throw std::invalid_argument("pg_rloo_gradient_cuda: num_generations must be in [2, " +
                                std::to_string(max_generations) + "]");
  static const int limit = max_dynamic_shared_bytes(pg_prompt_kernel, "pg_rloo_gradient_cuda");
  static const cudaError_t configured =
      cudaFuncSetAttribute(pg_prompt_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, limit);
  const std::size_t bytes = 3 * sizeof(double) * static_cast<std::size_t>(a.candidates);
  if (bytes > static_cast<std::size_t>(limit))
    throw std::invalid_argument("pg_rloo_gradient_cuda: " + std::to_string(a.candidates) +
                                " candidates per prompt exceed the device's shared memory");
  check(configured, "pg_rloo_gradient_cuda");
  if (a.prompts > 0) {
    pg_prompt_kernel<<<a.prompts, pg_threads, bytes, stream>>>(a);
    check_launch("pg_rloo_gradient_cuda");
  }
  if (a.dim > 0) {
    sum_slots_kernel<<<(a.dim + 127) / 128, 128, 0, stream>>>(a.slots, a.prompts, a.dim, a.grad);
    check_launch("pg_rloo_gradient_cuda");
  }
}

}  // namespace cuda

void pg_rloo_gradient_cuda(const PgInput& in, const Eigen::VectorXd& theta, int step, Eigen::VectorXd& grad) {
  const int P = static_cast<int>(in.proxy->rows()), K = static_cast<int>(in.proxy->cols());
  const int d = static_cast<int>(in.features->cols());
  const char* what = "pg_rloo_gradient_cuda";
  if (in.features->rows() != static_cast<Eigen::Index>(P) * K || in.log_ref->rows() != P ||
      in.log_ref->cols() != K || theta.size() != d)
    throw std::invalid_argument("pg_rloo_gradient_cuda: expected features P*K x d, log_ref P x K and theta of d");
  grad = Eigen::VectorXd::Zero(d);
  if (d == 0) return;
  cuda::DeviceBuffer<float> features(in.features->size(), what), proxy(in.proxy->size(), what);
  cuda::DeviceBuffer<double> log_ref(in.log_ref->size(), what), d_theta(d, what);
  cuda::DeviceBuffer<double> slots(static_cast<std::size_t>(P) * d, what), d_grad(d, what);
  features.upload(in.features->data(), in.features->size(), 0, what);
  proxy.upload(in.proxy->data(), in.proxy->size(), 0, what);
  log_ref.upload(in.log_ref->data(), in.log_ref->size(), 0, what);
  d_theta.upload(theta.data(), d, 0, what);
  cuda::PgDeviceArgs a;
  a.prompts = P;
  a.candidates = K;
  a.dim = d;
  a.num_generations = in.num_generations;
  a.step = step;
  a.kl_coef = in.kl_coef;
  a.seed = in.seed;
  a.features = features.get();
  a.log_ref = log_ref.get();
  a.proxy = proxy.get();
  a.theta = d_theta.get();
  a.slots = slots.get();
  a.grad = d_grad.get();
  cuda::pg_rloo_gradient_device(a, cuda::op_stream());
  d_grad.download(grad.data(), d, what);
}

}  // namespace goodhart
