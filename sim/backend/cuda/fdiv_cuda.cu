// fdiv_cuda.cu — the f-divergence-regularized optimum on the device: one block per (prompt, beta). The block
// normalizes pi_ref in double, finds the proxy's range over possible candidates, then runs fdiv_cpu.cpp's Newton
// iteration on lambda, each step one pass over the prompt's candidates with fixed-order block sums (every thread
// reaches the same lambda), and a last pass for KL, entropy, ess and the value columns.
// Contract: same outputs as fdiv_sweep_ref to ~1e-12 relative (double throughout; see tests/test_parity_cuda.cpp);
// deterministic.
#include <cmath>

#include "sim/backend/cuda/cuda_support.cuh"
#include "sim/backend/ops.h"

namespace goodhart {

namespace cuda {

namespace {

constexpr int fdiv_threads = 128, fdiv_warps = fdiv_threads / 32;

struct FdivArgs {
  Divergence divergence;
  int prompts, candidates, value_count, beta_count;
  const float* log_ref;
  const float* proxy;
  const float* values;  // value_count P x K arrays back to back
  const double* betas;
  double* out;  // as TiltResult::data
};

// E_ref[w] - 1 and its derivative in lambda, over the block
__device__ double excess(const FdivArgs& a, const float* log_ref, const float* proxy, double log_mass, double lambda,
                         double beta, double& slope, double* scratch) {
  double sum = 0.0, dsum = 0.0, dw;
  for (int k = threadIdx.x; k < a.candidates; k += blockDim.x) {
    const double q = exp(log_ref[k] - log_mass);
    if (!(q > 0.0)) continue;
    sum += q * fdiv_ratio(a.divergence, (proxy[k] - lambda) / beta, dw);
    dsum += q * dw;
  }
  sum = block_reduce<false>(sum, scratch);
  slope = -block_reduce<false>(dsum, scratch) / beta;
  return sum - 1.0;
}

__global__ void __launch_bounds__(fdiv_threads) fdiv_kernel(FdivArgs a) {
  __shared__ double scratch[fdiv_warps];
  const int p = blockIdx.x / a.beta_count, b = blockIdx.x % a.beta_count, K = a.candidates;
  const std::size_t row = static_cast<std::size_t>(p) * K, plane = static_cast<std::size_t>(a.prompts) * K;
  const float* log_ref = a.log_ref + row;
  const float* proxy = a.proxy + row;
  double* out = a.out + (static_cast<std::size_t>(p) * a.beta_count + b) * (tilt_first_value + a.value_count);
  const double beta = a.betas[b];

  // pi_ref's log mass, the proxy's range and finiteness over possible candidates
  double lmax = -INFINITY;
  for (int k = threadIdx.x; k < K; k += blockDim.x) lmax = fmax(lmax, static_cast<double>(log_ref[k]));
  lmax = block_reduce<true>(lmax, scratch);
  double mass = 0.0;
  for (int k = threadIdx.x; k < K; k += blockDim.x) mass += exp(log_ref[k] - lmax);
  const double log_mass = lmax + log(block_reduce<false>(mass, scratch));
  double rmin = INFINITY, rmax = -INFINITY, bad = 0.0;
  for (int k = threadIdx.x; k < K; k += blockDim.x) {
    if (!(exp(log_ref[k] - log_mass) > 0.0)) continue;
    rmin = fmin(rmin, static_cast<double>(proxy[k]));
    rmax = fmax(rmax, static_cast<double>(proxy[k]));
    if (!isfinite(proxy[k])) bad = 1.0;
  }
  rmin = -block_reduce<true>(-rmin, scratch);
  rmax = block_reduce<true>(rmax, scratch);
  bad = block_reduce<true>(bad, scratch);
  if (bad > 0.0) {
    for (int c = threadIdx.x; c < tilt_first_value + a.value_count; c += blockDim.x) out[c] = NAN;
    return;
  }

  // lambda: Newton from the bracket's left end (fdiv_cpu.cpp's iteration; block-uniform branches)
  const double unit = fdiv_unit_x(a.divergence);
  double lo = rmin - beta * unit, hi = rmax - beta * unit, lambda = lo;
  for (int it = 0; it < 400 && lo < hi; ++it) {
    double slope;
    const double g = excess(a, log_ref, proxy, log_mass, lambda, beta, slope, scratch);
    if (g == 0.0) break;
    if (g < 0.0) {  // past the root by rounding: the root is in [lo, lambda]
      hi = lambda;
      lambda = 0.5 * (lo + hi);
      if (lambda <= lo || lambda >= hi) break;
      continue;
    }
    lo = lambda;
    const double next = lambda - g / slope;
    const bool newton = isfinite(next) && next > lo && next < hi;
    const double moved = newton ? next : 0.5 * (lo + hi);
    if (moved == lambda || fabs(moved - lambda) <= 1e-15 * (fabs(lambda) + beta)) break;
    lambda = moved;
  }

  // the optimum's sums: total mass (for renormalization), then KL, entropy, ess and values
  double total = 0.0, dw;
  for (int k = threadIdx.x; k < K; k += blockDim.x) {
    const double q = exp(log_ref[k] - log_mass);
    if (q > 0.0) total += q * fdiv_ratio(a.divergence, (proxy[k] - lambda) / beta, dw);
  }
  total = block_reduce<false>(total, scratch);
  double kl = 0.0, entropy = 0.0, sum_sq = 0.0;
  for (int k = threadIdx.x; k < K; k += blockDim.x) {
    const double q = exp(log_ref[k] - log_mass);
    if (!(q > 0.0)) continue;
    const double w = fdiv_ratio(a.divergence, (proxy[k] - lambda) / beta, dw), pi = q * w / total;
    if (pi == 0.0) continue;
    kl += pi * log(w / total);
    entropy -= pi * log(pi);
    sum_sq += pi * pi;
  }
  kl = block_reduce<false>(kl, scratch);
  entropy = block_reduce<false>(entropy, scratch);
  sum_sq = block_reduce<false>(sum_sq, scratch);
  for (int v = 0; v < a.value_count; ++v) {
    const float* values = a.values + v * plane + row;
    double e = 0.0;
    for (int k = threadIdx.x; k < K; k += blockDim.x) {
      const double q = exp(log_ref[k] - log_mass);
      if (q > 0.0) e += q * fdiv_ratio(a.divergence, (proxy[k] - lambda) / beta, dw) / total * values[k];
    }
    e = block_reduce<false>(e, scratch);
    if (threadIdx.x == 0) out[tilt_first_value + v] = e;
  }
  if (threadIdx.x == 0) {
    out[tilt_kl] = fmax(kl, 0.0);
    out[tilt_entropy] = entropy;
    out[tilt_ess] = 1.0 / sum_sq;
  }
}

}  // namespace

}  // namespace cuda

void fdiv_sweep_cuda(Divergence d, const TiltInput& in, std::span<const double> betas, TiltResult& out) {
  const int P = static_cast<int>(in.proxy.rows()), K = static_cast<int>(in.proxy.cols());
  const int V = static_cast<int>(in.values.size()), B = static_cast<int>(betas.size());
  out.prompts = P;
  out.betas = B;
  out.columns = tilt_first_value + V;
  out.data.assign(static_cast<std::size_t>(P) * B * out.columns, 0.0);
  if (P == 0 || B == 0) return;
  const char* what = "fdiv_sweep_cuda";
  const std::size_t plane = static_cast<std::size_t>(P) * K;
  cuda::DeviceBuffer<float> d_log_ref(plane, what), d_proxy(plane, what), d_values(V * plane, what);
  cuda::DeviceBuffer<double> d_betas(B, what), d_out(out.data.size(), what);
  d_log_ref.upload(in.log_ref.data(), plane, 0, what);
  d_proxy.upload(in.proxy.data(), plane, 0, what);
  for (int v = 0; v < V; ++v) d_values.upload(in.values[v].data(), plane, v * plane, what);
  d_betas.upload(betas.data(), B, 0, what);
  const cuda::FdivArgs args{d, P, K, V, B, d_log_ref.get(), d_proxy.get(), d_values.get(), d_betas.get(), d_out.get()};
  cuda::fdiv_kernel<<<P * B, cuda::fdiv_threads, 0, cuda::op_stream()>>>(args);
  cuda::check_launch(what);
  d_out.download(out.data.data(), out.data.size(), what);
}

}  // namespace goodhart
