// tilt_cuda.cu — the exact tilt pi_beta ∝ pi_ref exp(proxy / beta) for every prompt and beta in one fused pass:
// one block per prompt holds the prompt's arrays in shared memory (pre-scaled to base 2); each warp takes groups
// of 4 betas (2 with more than 2 value columns) and reads each entry once per group: a max pass finds the shift
// m = max_k log_ref + proxy/beta (every weight <= 1, the largest exactly 1: no overflow, no all-zero underflow),
// then one ex2 per entry-beta feeds sums of w, w a, w c, w^2 and w value in float (32 entries per lane, then
// those partial sums), reduced over the warp in double. KL and entropy carry a float error of ~1e-7 (1 + |max t|);
// where that would exceed ~1e-4 of the KL (large beta; tiny beta with pi_ref's mass far from the proxy's
// maximum) the warp recomputes them in double from the original arrays, with the criterion of tilt_cpu.cpp.
// Contract: same outputs as tilt_sweep_ref within float rounding (see tests/test_parity_cuda.cpp); stable for beta
// in [1e-6, 1e6]; deterministic (fixed-order sums). Prompts too long for shared memory read global memory instead.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <utility>

#include "sim/backend/cuda/cuda_support.cuh"
#include "sim/backend/cuda/device_ops.cuh"
#include "sim/backend/ops.h"

namespace goodhart {

namespace cuda {

namespace {

// 8 warps a block and two blocks an SM (registers): one block's prologue overlaps the other's exponentials
constexpr int tilt_threads = 256, tilt_warps = tilt_threads / 32;
constexpr int chunk = 32;                 // entries per lane summed in float before joining the lane's totals
constexpr int max_values_per_launch = 8;  // value columns per kernel; more run in further launches
constexpr float log2e = 1.4426950408889634f;
constexpr double ln2 = 0.6931471805599453;
// a -inf log_ref (a zero-probability candidate) or proxy made finite: its weight is 0 and w * a2 = 0, never NaN
constexpr float floor_log = -1e30f;
// betas per warp pass: each entry's arrays are read once per group (shared memory bandwidth), at the cost of
// 2 (4 + V) float registers per beta
constexpr int beta_group(int values) { return values <= 2 ? 4 : 2; }

struct TiltKernelArgs {
  TiltDeviceArgs d;
  int first_value = 0;   // value array of this launch's first column
  bool write_kl = true;  // kl, entropy and ess are written by the first launch only
};

__device__ inline float ex2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

// one prompt's arrays as the passes read them: a2 = log2(e) * log_ref, c2 = log2(e) * (proxy - max proxy) and the
// value columns, from shared memory (filled once) or straight from global memory
template <int V, bool kShared>
struct PromptArrays {
  const float* log_ref;
  const float* proxy;
  const float* values;
  std::size_t value_stride;
  float pmax;
  float* shared;  // a2 [K], c2 [K], values [V][K]
  int K;

  __device__ float a2(int k) const { return kShared ? shared[k] : log2e * fmaxf(log_ref[k], floor_log); }
  __device__ float c2(int k) const { return kShared ? shared[K + k] : fmaxf(log2e * (proxy[k] - pmax), floor_log); }
  __device__ float value(int j, int k) const {
    return kShared ? shared[(2 + j) * K + k] : values[j * value_stride + k];
  }
  __device__ void fill_shared() {
    for (int k = threadIdx.x; k < K; k += blockDim.x) {
      shared[k] = log2e * fmaxf(log_ref[k], floor_log);
      shared[K + k] = fmaxf(log2e * (proxy[k] - pmax), floor_log);
      for (int j = 0; j < V; ++j) shared[(2 + j) * K + k] = values[j * value_stride + k];
    }
    __syncthreads();
  }
};

struct KlEntropy {
  double kl, entropy;
};

// KL and entropy of one (prompt, beta) in double from the original float arrays, pi_ref renormalized (the double
// fallback of tilt_cpu.cpp, one exp per entry); log_ref_sum (NaN until first needed) is pi_ref's log mass in double,
// kept by the warp across its betas. Every lane of the warp returns the same values.
__device__ KlEntropy kl_entropy_double(const float* log_ref, const float* proxy, float pmax, int K, double beta,
                                       double& log_ref_sum) {
  const int lane = threadIdx.x % 32;
  if (isnan(log_ref_sum)) {
    double lmax = -INFINITY, mass = 0.0;
    for (int k = lane; k < K; k += 32) lmax = fmax(lmax, static_cast<double>(log_ref[k]));
    lmax = warp_max(lmax);
    for (int k = lane; k < K; k += 32) mass += exp(log_ref[k] - lmax);
    log_ref_sum = lmax + log(warp_sum(mass));
  }
  double tmax = -INFINITY;
  for (int k = lane; k < K; k += 32) tmax = fmax(tmax, log_ref[k] + static_cast<double>(proxy[k] - pmax) / beta);
  tmax = warp_max(tmax);
  double zs = 0.0, es = 0.0, et = 0.0;
  for (int k = lane; k < K; k += 32) {
    const double s = static_cast<double>(proxy[k] - pmax) / beta, u = log_ref[k] + s - tmax, e = exp(u);
    if (e > 0.0) {  // 0 log 0 = 0 (u may be -inf)
      zs += e;
      es += e * s;
      et += e * u;
    }
  }
  zs = warp_sum(zs);
  es = warp_sum(es);
  et = warp_sum(et);
  const double log_z = tmax + log(zs);
  return {fmax(0.0, es / zs - (log_z - log_ref_sum)), log(zs) - et / zs};
}

template <int V, bool kShared>
__global__ void __launch_bounds__(tilt_threads, 2) tilt_kernel(TiltKernelArgs args) {
  extern __shared__ float shared[];
  __shared__ float scratch_f[tilt_warps];
  __shared__ double scratch_d[tilt_warps];
  const TiltDeviceArgs& d = args.d;
  const int K = d.candidates, p = blockIdx.x;
  const std::size_t row = static_cast<std::size_t>(p) * K, plane = static_cast<std::size_t>(d.prompts) * K;
  const float* log_ref = d.log_ref + row;
  const float* proxy = d.proxy + row;

  // prompt constants: the proxy's maximum, the base-2 log of pi_ref's total mass
  float pmax = -INFINITY;
  for (int k = threadIdx.x; k < K; k += blockDim.x) pmax = fmaxf(pmax, proxy[k]);
  pmax = block_reduce<true>(pmax, scratch_f);
  const float* values = d.values ? d.values + static_cast<std::size_t>(args.first_value) * plane + row : nullptr;
  PromptArrays<V, kShared> a{log_ref, proxy, values, plane, pmax, shared, K};
  if (kShared) a.fill_shared();
  double log2_ref_sum = NAN;  // only the KL needs it: the first launch (block-uniform branch)
  if (args.write_kl) {
    float amax = -INFINITY;
    for (int k = threadIdx.x; k < K; k += blockDim.x) amax = fmaxf(amax, a.a2(k));
    amax = block_reduce<true>(amax, scratch_f);
    double ref_mass = 0.0;
    for (int k = threadIdx.x; k < K; k += blockDim.x) ref_mass += ex2(a.a2(k) - amax);
    log2_ref_sum = amax + log2(block_reduce<false>(ref_mass, scratch_d));
  }

  // each warp: groups of betas, each entry read once per group: one max pass, then one pass with one ex2 per
  // entry-beta; sums in float over 32 entries per lane, those partial sums in float, the warp's in double
  constexpr int G = beta_group(V), S = 4 + V;  // sums: z, w a, w c, w^2, w value_j
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  const int columns = tilt_first_value + d.value_count, groups = (d.beta_count + G - 1) / G;
  double log_ref_sum = NAN;  // in double, for the fallback
  for (int group = warp; group < groups; group += warps) {
    float s[G], m[G];  // the last group repeats its last beta, and writes nothing for the repeats
#pragma unroll
    for (int j = 0; j < G; ++j) {
      // 1 / beta as a float, at most FLT_MAX (as tilt_cpu.cpp: c2 = 0 times inf would be NaN)
      const double beta = d.betas[min(group * G + j, d.beta_count - 1)];
      s[j] = static_cast<float>(fmin(1.0 / beta, static_cast<double>(FLT_MAX)));
      m[j] = -INFINITY;
    }
    for (int k = lane; k < K; k += 32) {
      const float a2 = a.a2(k), c2 = a.c2(k);
#pragma unroll
      for (int j = 0; j < G; ++j) m[j] = fmaxf(m[j], fmaf(c2, s[j], a2));
    }
#pragma unroll
    for (int j = 0; j < G; ++j) m[j] = warp_max(m[j]);
    float total[G][S] = {};
    for (int k0 = lane; k0 < K; k0 += 32 * chunk) {
      float part[G][S] = {};
#pragma unroll 2
      for (int i = 0; i < chunk; ++i) {
        const int k = k0 + 32 * i;
        if (k >= K) break;
        const float a2 = a.a2(k), c2 = a.c2(k);
        float v[V > 0 ? V : 1];
#pragma unroll
        for (int q = 0; q < V; ++q) v[q] = a.value(q, k);
#pragma unroll
        for (int j = 0; j < G; ++j) {
          // the exponent is <= 0, exactly 0 at the maximum; a2 and c2 are finite, so w = 0 meets no infinity
          const float w = ex2(fmaf(c2, s[j], a2) - m[j]);
          part[j][0] += w;
          part[j][1] = fmaf(w, a2, part[j][1]);
          part[j][2] = fmaf(w, c2, part[j][2]);
          part[j][3] = fmaf(w, w, part[j][3]);
#pragma unroll
          for (int q = 0; q < V; ++q) part[j][4 + q] = fmaf(w, v[q], part[j][4 + q]);
        }
      }
#pragma unroll
      for (int j = 0; j < G; ++j)
#pragma unroll
        for (int q = 0; q < S; ++q) total[j][q] += part[j][q];
    }

    // per beta: the warp's sums, then, in base 2 (log2 pi_k = a2_k + s c2_k - m - log2 z),
    // KL = ln2 (s E[c2] - m - log2 z + log2 sum pi_ref) and entropy = ln2 (m + log2 z - E[a2] - s E[c2])
#pragma unroll
    for (int j = 0; j < G; ++j) {
      const int b = group * G + j;
      double sum[S];
#pragma unroll
      for (int q = 0; q < S; ++q) sum[q] = warp_sum(static_cast<double>(total[j][q]));
      if (b >= d.beta_count) continue;  // warp-uniform
      const float mj = m[j];
      const double z = sum[0], log2_z = log2(z), sc = static_cast<double>(s[j]) * sum[2] / z;
      double* out = d.out + (static_cast<std::size_t>(p) * d.beta_count + b) * columns;
      if (args.write_kl) {
        double kl = fmax(0.0, ln2 * (sc - mj - log2_z + log2_ref_sum));
        double entropy = ln2 * (mj + log2_z - sum[1] / z - sc);
        // float sums cannot resolve this KL: double (tilt_cpu.cpp's rule with a wider margin, 1e-3 for its 3e-4,
        // for ex2.approx's error)
        if (kl < 1e-3 * (1.0 + fabs(ln2 * mj))) {
          const KlEntropy exact = kl_entropy_double(log_ref, proxy, pmax, K, d.betas[b], log_ref_sum);
          kl = exact.kl;
          entropy = exact.entropy;
        }
        if (lane == 0) {
          out[tilt_kl] = kl;
          out[tilt_entropy] = entropy;
          out[tilt_ess] = z * z / sum[3];
        }
      }
      if (lane == 0)
#pragma unroll
        for (int q = 0; q < V; ++q) out[tilt_first_value + args.first_value + q] = sum[4 + q] / z;
    }
  }
}

template <int V>
void launch_tilt(const TiltKernelArgs& args, cudaStream_t stream) {
  const int groups = (args.d.beta_count + beta_group(V) - 1) / beta_group(V);
  const int threads = 32 * std::clamp(groups, 1, tilt_warps);
  const std::size_t shared_bytes = static_cast<std::size_t>(2 + V) * args.d.candidates * sizeof(float);
  // the kernel may use all the shared memory the device allows, set once (threads launch it concurrently)
  static const int shared_limit = max_dynamic_shared_bytes(tilt_kernel<V, true>, "tilt_sweep_cuda");
  static const cudaError_t configured =
      cudaFuncSetAttribute(tilt_kernel<V, true>, cudaFuncAttributeMaxDynamicSharedMemorySize, shared_limit);
  if (shared_bytes <= static_cast<std::size_t>(shared_limit)) {
    check(configured, "tilt_sweep_cuda");
    tilt_kernel<V, true><<<args.d.prompts, threads, shared_bytes, stream>>>(args);
  } else {
    tilt_kernel<V, false><<<args.d.prompts, threads, 0, stream>>>(args);
  }
  check_launch("tilt_sweep_cuda");
}

template <int... Vs>
void launch_tilt_values(int values, const TiltKernelArgs& args, cudaStream_t stream, std::integer_sequence<int, Vs...>) {
  ((values == Vs ? launch_tilt<Vs>(args, stream) : void()), ...);
}

}  // namespace

void tilt_sweep_device(const TiltDeviceArgs& d, cudaStream_t stream) {
  if (d.prompts == 0 || d.beta_count == 0) return;
  // value columns in groups of up to 8 per launch; the first launch also writes kl, entropy and ess
  int first = 0;
  do {
    const int count = std::min(max_values_per_launch, d.value_count - first);
    launch_tilt_values(count, TiltKernelArgs{d, first, first == 0}, stream,
                       std::make_integer_sequence<int, max_values_per_launch + 1>{});
    first += count;
  } while (first < d.value_count);
}

}  // namespace cuda

void tilt_sweep_cuda(const TiltInput& in, std::span<const double> betas, TiltResult& out) {
  const FloatMatrixView& log_ref = in.log_ref;
  const FloatMatrixView& proxy = in.proxy;
  const int P = static_cast<int>(proxy.rows()), K = static_cast<int>(proxy.cols());
  const int V = static_cast<int>(in.values.size()), B = static_cast<int>(betas.size());
  out.prompts = P;
  out.betas = B;
  out.columns = tilt_first_value + V;
  out.data.assign(static_cast<std::size_t>(P) * B * out.columns, 0.0);
  if (P == 0 || B == 0) return;
  // inputs in, one fused sweep, results out
  const char* what = "tilt_sweep_cuda";
  const std::size_t plane = static_cast<std::size_t>(P) * K;
  cuda::DeviceBuffer<float> d_log_ref(plane, what), d_proxy(plane, what), d_values(V * plane, what);
  cuda::DeviceBuffer<double> d_betas(B, what), d_out(out.data.size(), what);
  d_log_ref.upload(log_ref.data(), plane, 0, what);
  d_proxy.upload(proxy.data(), plane, 0, what);
  for (int v = 0; v < V; ++v) d_values.upload(in.values[v].data(), plane, v * plane, what);
  d_betas.upload(betas.data(), B, 0, what);
  cuda::tilt_sweep_device({P, K, V, B, d_log_ref.get(), d_proxy.get(), d_values.get(), d_betas.get(), d_out.get()},
                          cuda::op_stream());
  d_out.download(out.data.data(), out.data.size(), what);
}

}  // namespace goodhart
