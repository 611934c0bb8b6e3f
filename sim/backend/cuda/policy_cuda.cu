// policy_cuda.cu — the categorical policies' training pass and gradient slots on the device (ops.h: policy_pass,
// policy_slots), in double with float features: one block per prompt computes the logits (log_ref + offset) and
// their log-softmax in parallel; thread 0 draws the group's uniforms (the project's CounterRng on the device) and
// builds the CDF, each draw found by a binary search; E_pi[d logit / d theta] and the slots parallel over the
// parameters, each a sum over candidates or draws in index order.
// Contract: see ops.h; matches policy_pass_ref / policy_slots_ref to double rounding (the same draws but where a
// uniform falls within rounding of a CDF boundary); deterministic. Residency: the table's features and log_ref
// are uploaded by the first call on a table and kept in PolicyTable::device for the run; per call only theta
// (in), the draws and log-probabilities (P x G, out) and E_pi[...] (block x P, out) cross, and policy_slots
// uploads the coefficients (rows x G). K is limited by shared memory (3 K doubles + G), else std::invalid_argument.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/backend/cuda/cuda_support.cuh"
#include "sim/backend/ops.h"
#include "sim/numeric/philox_hd.h"

namespace goodhart {

namespace cuda {

namespace {

constexpr int policy_threads = 256;

// the table's arrays on the device, kept in PolicyTable::device
struct ResidentTable {
  DeviceBuffer<float> features;
  DeviceBuffer<double> log_ref;
  ResidentTable(const PolicyTable& t, const char* what)
      : features(t.tabular ? 0 : t.features->size(), what), log_ref(t.log_ref->size(), what) {
    if (!t.tabular) features.upload(t.features->data(), t.features->size(), 0, what);
    log_ref.upload(t.log_ref->data(), t.log_ref->size(), 0, what);
  }
};

ResidentTable& resident(const PolicyTable& t, const char* what) {
  if (!t.device) t.device = std::make_shared<ResidentTable>(t, what);
  return *static_cast<ResidentTable*>(t.device.get());
}

struct PassArgs {
  int rows = 0, candidates = 0, dim = 0, block = 0, draws = 0, generations = 0, step = 0;
  bool tabular = false, mean_feature = false;
  unsigned long long seed = 0;
  const float* features = nullptr;
  const double* log_ref = nullptr;
  const double* theta = nullptr;
  const int* prompts = nullptr;    // rows: each row's prompt
  int* chosen = nullptr;           // rows x G
  double* log_prob = nullptr;      // rows x G
  double* mean = nullptr;          // rows x block
};

__device__ double logit_derivative(const PassArgs& a, int p, int k, int j) {
  if (a.tabular) return j == k ? 1.0 : 0.0;
  return static_cast<double>(a.features[(static_cast<std::size_t>(p) * a.candidates + k) * a.dim + j]);
}

__global__ void __launch_bounds__(policy_threads) pass_kernel(PassArgs a) {
  extern __shared__ double shared[];  // log pi [K], pi [K], CDF [K], uniforms [G]
  __shared__ double scratch[policy_threads / 32];
  const int K = a.candidates, B = a.block, row = blockIdx.x, p = a.prompts[row], t = threadIdx.x;
  const int G = a.generations;
  double* log_pi = shared;
  double* pi = shared + K;
  double* cdf = shared + 2 * K;
  double* uniforms = shared + 3 * K;
  const double* log_ref = a.log_ref + static_cast<std::size_t>(p) * K;
  const double* theta = a.theta + (a.tabular ? static_cast<std::size_t>(p) * K : 0);

  int nonzero = 0;
  for (int j = t; j < B; j += policy_threads) nonzero |= theta[j] != 0.0;
  const bool zero = !__syncthreads_or(nonzero);
  double m = -INFINITY;
  for (int k = t; k < K; k += policy_threads) {
    double l = log_ref[k];
    if (!zero) {
      if (a.tabular) {
        l += theta[k];
      } else {
        for (int j = 0; j < B; ++j) l += logit_derivative(a, p, k, j) * theta[j];
      }
    }
    log_pi[k] = l;
    m = fmax(m, l);
  }
  if (!zero) {
    m = block_reduce<true>(m, scratch);
    double mass = 0.0;
    for (int k = t; k < K; k += policy_threads) mass += exp(log_pi[k] - m);
    const double log_z = m + log(block_reduce<false>(mass, scratch));
    for (int k = t; k < K; k += policy_threads) log_pi[k] -= log_z;
  }
  for (int k = t; k < K; k += policy_threads) pi[k] = exp(log_pi[k]);
  __syncthreads();

  if (a.draws > 0 && t == 0) {
    double cumulative = 0.0;
    for (int k = 0; k < K; ++k) cdf[k] = cumulative += pi[k];
    CounterRng rng(a.seed, Stream::policy_samples, static_cast<std::uint32_t>(a.step), static_cast<std::uint32_t>(p));
    for (int i = 0; i < G; ++i) uniforms[i] = rng.uniform();
  }
  __syncthreads();
  for (int i = t; i < G; i += policy_threads) {
    int k = a.chosen[static_cast<std::size_t>(row) * G + i];
    if (a.draws > 0) {
      // the first k with u < cdf[k]; past the end, the last possible candidate
      const double u = uniforms[i];
      int lo = 0, hi = K;
      while (lo < hi) {
        const int mid = (lo + hi) / 2;
        if (u < cdf[mid]) hi = mid; else lo = mid + 1;
      }
      k = lo < K ? lo : K - 1;
      while (k > 0 && !(pi[k] > 0.0)) --k;
      a.chosen[static_cast<std::size_t>(row) * G + i] = k;
    }
    a.log_prob[static_cast<std::size_t>(row) * G + i] = log_pi[k];
  }
  if (!a.mean_feature) return;
  for (int j = t; j < B; j += policy_threads) {
    double s = 0.0;
    if (a.tabular) {
      s = pi[j];
    } else {
      for (int k = 0; k < K; ++k) s += pi[k] * logit_derivative(a, p, k, j);
    }
    a.mean[static_cast<std::size_t>(row) * B + j] = s;
  }
}

struct SlotArgs {
  PassArgs table;  // candidates, dim, block, tabular, features
  int generations = 0, first = 0, last = 0;
  bool with_mean = false;
  const int* chosen = nullptr;     // rows x G
  const double* coef = nullptr;    // rows x G
  const double* mean = nullptr;    // rows x block
  double* slots = nullptr;         // rows x block
};

__global__ void __launch_bounds__(policy_threads) slots_kernel(SlotArgs a) {
  const int row = blockIdx.x, p = a.table.prompts[row], B = a.table.block, G = a.generations;
  const int* chosen = a.chosen + static_cast<std::size_t>(row) * G;
  const double* coef = a.coef + static_cast<std::size_t>(row) * G;
  double coef_sum = 0.0;
  for (int i = a.first; i < a.last; ++i) coef_sum += coef[i];
  for (int j = threadIdx.x; j < B; j += policy_threads) {
    double s = 0.0;
    for (int i = a.first; i < a.last; ++i) s += coef[i] * logit_derivative(a.table, p, chosen[i], j);
    if (a.with_mean) s -= coef_sum * a.mean[static_cast<std::size_t>(row) * B + j];
    a.slots[static_cast<std::size_t>(row) * B + j] = s;
  }
}

PassArgs table_args(const PolicyTable& t, ResidentTable& r) {
  PassArgs a;
  a.candidates = t.candidates();
  a.dim = t.tabular ? 0 : t.dim();
  a.block = t.block_size();
  a.tabular = t.tabular;
  a.features = r.features.get();
  a.log_ref = r.log_ref.get();
  return a;
}

}  // namespace

}  // namespace cuda

void policy_pass_cuda(const PolicyTable& t, const Eigen::VectorXd& theta, const PolicyPassRequest& r, PolicyPass& out) {
  const char* what = "policy_pass_cuda";
  if (theta.size() != t.parameters()) throw std::invalid_argument("policy_pass_cuda: theta of the wrong size");
  out.prompts.clear();
  for (int p = 0; p < t.prompts(); ++p) out.prompts.push_back(p);
  if (r.prompts) out.prompts = *r.prompts;
  for (int p : out.prompts)
    if (p < 0 || p >= t.prompts()) throw std::invalid_argument("policy_pass_cuda: prompt out of range");
  const int R = static_cast<int>(out.prompts.size()), K = t.candidates(), B = t.block_size();
  if (r.draws > 0) out.chosen.resize(R, r.draws);
  const int G = static_cast<int>(out.chosen.cols());
  out.log_prob.resize(R, G);
  if (r.mean_feature) out.mean_feature.resize(B, R);
  if (R == 0) return;
  static const int limit = cuda::max_dynamic_shared_bytes(cuda::pass_kernel, what);
  static const cudaError_t configured =
      cudaFuncSetAttribute(cuda::pass_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, limit);
  const std::size_t bytes = sizeof(double) * (3 * static_cast<std::size_t>(K) + G);
  if (bytes > static_cast<std::size_t>(limit))
    throw std::invalid_argument("policy_pass_cuda: " + std::to_string(K) + " candidates per prompt and " +
                                std::to_string(G) + " draws exceed the device's shared memory");
  cuda::check(configured, what);
  cuda::ResidentTable& resident = cuda::resident(t, what);
  cuda::DeviceBuffer<double> d_theta(theta.size(), what), log_prob(out.log_prob.size(), what);
  cuda::DeviceBuffer<double> mean(r.mean_feature ? out.mean_feature.size() : 0, what);
  cuda::DeviceBuffer<int> chosen(out.chosen.size(), what), prompts(out.prompts.size(), what);
  d_theta.upload(theta.data(), theta.size(), 0, what);
  prompts.upload(out.prompts.data(), out.prompts.size(), 0, what);
  if (r.draws == 0) chosen.upload(out.chosen.data(), out.chosen.size(), 0, what);
  cuda::PassArgs a = cuda::table_args(t, resident);
  a.rows = R;
  a.draws = r.draws;
  a.generations = G;
  a.step = r.step;
  a.seed = r.seed;
  a.mean_feature = r.mean_feature;
  a.theta = d_theta.get();
  a.prompts = prompts.get();
  a.chosen = chosen.get();
  a.log_prob = log_prob.get();
  a.mean = mean.get();
  cuda::pass_kernel<<<R, cuda::policy_threads, bytes, cuda::op_stream()>>>(a);
  cuda::check_launch(what);
  if (r.draws > 0) chosen.download(out.chosen.data(), out.chosen.size(), what);
  // mean is rows x block row-major, which is out.mean_feature's column-major block x rows
  if (r.mean_feature) mean.download(out.mean_feature.data(), out.mean_feature.size(), what);
  log_prob.download(out.log_prob.data(), out.log_prob.size(), what);
}

void policy_slots_cuda(const PolicyTable& t, const PolicyPass& pass, const RowMatrixXd& coef, int first, int last,
                       bool with_mean, Eigen::MatrixXd& slots) {
  const char* what = "policy_slots_cuda";
  const int R = static_cast<int>(pass.prompts.size()), B = t.block_size(), G = static_cast<int>(pass.chosen.cols());
  slots.resize(B, R);
  if (R == 0 || B == 0) return;
  cuda::ResidentTable& resident = cuda::resident(t, what);
  cuda::DeviceBuffer<int> chosen(pass.chosen.size(), what), prompts(pass.prompts.size(), what);
  cuda::DeviceBuffer<double> d_coef(coef.size(), what), mean(with_mean ? pass.mean_feature.size() : 0, what);
  cuda::DeviceBuffer<double> d_slots(slots.size(), what);
  chosen.upload(pass.chosen.data(), pass.chosen.size(), 0, what);
  prompts.upload(pass.prompts.data(), pass.prompts.size(), 0, what);
  d_coef.upload(coef.data(), coef.size(), 0, what);
  if (with_mean) mean.upload(pass.mean_feature.data(), pass.mean_feature.size(), 0, what);
  cuda::SlotArgs a;
  a.table = cuda::table_args(t, resident);
  a.table.rows = R;
  a.table.prompts = prompts.get();
  a.generations = G;
  a.first = first;
  a.last = last;
  a.with_mean = with_mean;
  a.chosen = chosen.get();
  a.coef = d_coef.get();
  a.mean = mean.get();
  a.slots = d_slots.get();
  cuda::slots_kernel<<<R, cuda::policy_threads, 0, cuda::op_stream()>>>(a);
  cuda::check_launch(what);
  d_slots.download(slots.data(), slots.size(), what);  // rows x block row-major = block x rows column-major
}

}  // namespace goodhart
