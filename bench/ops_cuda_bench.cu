// ops_cuda_bench.cu — Google Benchmark of the CUDA ops: on device-resident arrays (sim/backend/cuda/device_ops.cuh)
// the fused tilt sweep at W2's shape, the fused MLP at W1's, best-of-n moments at W1's block shape; and W3's sampling
// pass through policy_pass_cuda (its table resident).
// Contract: kernel benchmarks time kernels only (inputs drawn on the device once, outside the timing) with
// cudaEvents as Google Benchmark's manual time after one warm-up launch; policy_pass times the whole op call (it waits for
// its result) by the wall clock. Every benchmark reports items/s and bytes/s where they mean something,
// the tilt also its % of the exp-throughput limit (SMs x 16 ex2 per clock x clock rate). Built only with the CUDA
// backend (target goodhart_bench_cuda, cmake/cuda.cmake); without a usable device it says why and exits 1.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim/numeric/mlp.h"
#include "sim/numeric/philox_hd.h"
#include "sim/backend/ops.h"
#include "sim/backend/cuda/cuda_support.cuh"
#include "sim/backend/cuda/device_ops.cuh"

namespace {

using namespace goodhart;
using cuda::check;

// out[i] = mean + scale * N(0, 1), draw i of CounterRng(seed, stream, i)
__global__ void fill_normal(float* out, std::size_t count, std::uint32_t stream, float mean, float scale) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < count; i += gridDim.x * std::size_t(blockDim.x)) {
    CounterRng rng(7, stream, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i >> 32));
    out[i] = mean + scale * static_cast<float>(rng.normal());
  }
}

// values[i] = 0.8 proxy[i] + 0.6 values[i]: a gold correlated with the proxy
__global__ void mix(float* values, const float* proxy, std::size_t count) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < count; i += gridDim.x * std::size_t(blockDim.x))
    values[i] = 0.8f * proxy[i] + 0.6f * values[i];
}

void normal(cuda::DeviceBuffer<float>& b, std::uint32_t stream, float mean = 0.0f, float scale = 1.0f) {
  fill_normal<<<1024, 256>>>(b.get(), b.size(), stream, mean, scale);
  cuda::check_launch("fill_normal");
}

// runs `launch` once to warm up, then times each iteration with events (manual time)
template <class Launch>
void time_kernel(benchmark::State& state, Launch launch) {
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "bench");
  check(cudaEventCreate(&stop), "bench");
  launch();
  check(cudaDeviceSynchronize(), "bench warm-up");
  for (auto _ : state) {
    check(cudaEventRecord(start, 0), "bench");
    launch();
    check(cudaEventRecord(stop, 0), "bench");
    check(cudaEventSynchronize(stop), "bench");
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, start, stop), "bench");
    state.SetIterationTime(ms / 1e3);
  }
  check(cudaEventDestroy(start), "bench");
  check(cudaEventDestroy(stop), "bench");
}

double exp_limit_per_second() {
  int device = 0, sms = 0, clock_khz = 0;
  check(cudaGetDevice(&device), "bench");
  check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "bench");
  check(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device), "bench");
  return 16.0 * sms * clock_khz * 1e3;  // MUFU.EX2: 16 per SM per clock
}

// W2: P prompts x K candidates x B betas log-spaced over [1e-2, 10], values proxy and gold
void BM_tilt_sweep_device(benchmark::State& state) {
  const int P = static_cast<int>(state.range(0)), K = static_cast<int>(state.range(1));
  const int B = static_cast<int>(state.range(2)), V = 2;
  const std::size_t plane = std::size_t(P) * K;
  cuda::DeviceBuffer<float> log_ref(plane, "bench"), proxy(plane, "bench"), values(V * plane, "bench");
  cuda::DeviceBuffer<double> betas(B, "bench"), out(std::size_t(P) * B * (3 + V), "bench");
  normal(log_ref, 1, -std::log(float(K)) - 0.5f);  // logits N(0, 1) around a normalized uniform
  normal(proxy, 2);
  check(cudaMemcpy(values.get(), proxy.get(), plane * sizeof(float), cudaMemcpyDeviceToDevice), "bench");
  cuda::DeviceBuffer<float> noise(plane, "bench");
  normal(noise, 3);
  check(cudaMemcpy(values.get() + plane, noise.get(), plane * sizeof(float), cudaMemcpyDeviceToDevice), "bench");
  mix<<<1024, 256>>>(values.get() + plane, proxy.get(), plane);
  std::vector<double> host_betas(B);
  for (int b = 0; b < B; ++b) host_betas[b] = std::pow(10.0, -2.0 + 3.0 * b / std::max(1, B - 1));
  check(cudaMemcpy(betas.get(), host_betas.data(), B * sizeof(double), cudaMemcpyHostToDevice), "bench");
  check(cudaDeviceSynchronize(), "bench inputs");
  const cuda::TiltDeviceArgs args{P, K, V, B, log_ref.get(), proxy.get(), values.get(), betas.get(), out.get()};
  time_kernel(state, [&] { cuda::tilt_sweep_device(args, 0); });
  const double entry_betas = double(plane) * B;
  state.SetItemsProcessed(static_cast<std::int64_t>(entry_betas * state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>((2 + V) * plane * sizeof(float) * state.iterations()));
  state.counters["exp_limit_pct"] = benchmark::Counter(
      100.0 * entry_betas / exp_limit_per_second() * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_tilt_sweep_device)->Args({1024, 4096, 64})->Args({16384, 4096, 64})->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// W1's scoring: rows x 32 inputs through 32 -> 64 (tanh) -> 1
void BM_score_mlp_device(benchmark::State& state) {
  const int rows = static_cast<int>(state.range(0)), d = 32, h = 64;
  CounterRng rng(4, Stream::gold_weights, 0);
  std::vector<float> host;
  const cuda::DeviceMlpShape shape = cuda::pack_mlp(make_random_mlp(d, {h}, Activation::tanh, rng), host);
  cuda::DeviceBuffer<float> params(host.size(), "bench"), x(std::size_t(rows) * d, "bench"), out(rows, "bench");
  params.upload(host.data(), host.size(), 0, "bench");
  normal(x, 5);
  check(cudaDeviceSynchronize(), "bench inputs");
  time_kernel(state, [&] { cuda::score_mlp_device(shape, params.get(), x.get(), rows, d, out.get(), 0); });
  state.SetItemsProcessed(static_cast<std::int64_t>(double(rows) * state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(double(rows) * (d + 1) * sizeof(float) * state.iterations()));
  state.counters["flop_per_s"] = benchmark::Counter(2.0 * (d * h + h + h) * rows * state.iterations(),
                                                    benchmark::Counter::kIsRate);
}
BENCHMARK(BM_score_mlp_device)->Arg(256 * 1024)->Arg(4096 * 1024)->UseManualTime()->Unit(benchmark::kMillisecond);

// W1's moments for a block of prompts: G x N rank weights times N x V values (V = 2 per prompt)
void BM_bon_moments_device(benchmark::State& state) {
  const int G = static_cast<int>(state.range(0)), N = static_cast<int>(state.range(1));
  const int V = static_cast<int>(state.range(2));
  cuda::DeviceBuffer<float> values(std::size_t(N) * V, "bench");
  cuda::DeviceBuffer<double> weights(std::size_t(G) * N, "bench"), out(std::size_t(G) * V, "bench");
  normal(values, 6);
  check(cudaMemset(weights.get(), 0, weights.size() * sizeof(double)), "bench");  // the time does not depend on them
  check(cudaDeviceSynchronize(), "bench inputs");
  time_kernel(state, [&] { cuda::bon_moments_device(weights.get(), values.get(), G, N, V, out.get(), 0); });
  state.SetItemsProcessed(static_cast<std::int64_t>(double(G) * N * V * state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(
      (double(N) * V * sizeof(float) + double(G) * N * sizeof(double)) * state.iterations()));
}
BENCHMARK(BM_bon_moments_device)->Args({11, 1024, 512})->UseManualTime()->Unit(benchmark::kMillisecond);

// W3's sampling pass: P prompts x K = 256 candidates in 32 dimensions, groups of 8, through the op a training step
// calls (policy_pass_cuda: the table resident after the warm-up; theta in, draws and log pi out), by the wall clock
void BM_policy_pass_cuda(benchmark::State& state) {
  const int P = static_cast<int>(state.range(0)), K = 256, d = 32, G = 8;
  RowMatrixXf features(std::size_t(P) * K, d);
  CounterRng rng(7, 1, 0);
  for (Eigen::Index i = 0; i < features.size(); ++i) features.data()[i] = static_cast<float>(rng.normal());
  const RowMatrixXd log_ref = RowMatrixXd::Constant(P, K, -std::log(double(K)));
  const PolicyTable table{&features, &log_ref, false, nullptr};
  const Eigen::VectorXd theta = Eigen::VectorXd::Constant(d, 0.05);
  PolicyPass pass;
  policy_pass_cuda(table, theta, {G, 7, 0, false}, pass);  // warm-up: the table's upload, the allocator's pool
  int step = 1;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    policy_pass_cuda(table, theta, {G, 7, step++, false}, pass);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(double(P) * G * state.iterations()));  // sampled responses
  state.SetBytesProcessed(static_cast<std::int64_t>(double(P) * K * (d * 4 + 8) * state.iterations()));
}
BENCHMARK(BM_policy_pass_cuda)->Arg(4096)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

// without a usable device, say why and stop (exit 1) instead of failing inside a benchmark
int main(int argc, char** argv) {
  std::string detail;
  if (!cuda_device_available(&detail)) {
    std::fprintf(stderr, "goodhart_bench_cuda: %s\n", detail.c_str());
    return 1;
  }
  std::printf("device: %s\n", detail.c_str());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
