// ops_bench.cpp — Google Benchmark of the hot ops on the CPU backend beside their double references.
// Contract: items/s counts what each op does (responses scored, rank-weights applied, entry-betas tilted); sizes
// follow BENCHMARKS.md's workloads at reduced scale so a run takes seconds. Numbers go to bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <cmath>

#include "sim/numeric/philox_hd.h"
#include "sim/backend/ops.h"
#include "sim/optimizers/optimizer.h"

using namespace goodhart;

namespace {

RowMatrixXf normals(int rows, int cols, std::uint32_t stream) {
  RowMatrixXf m(rows, cols);
  for (int i = 0; i < rows; ++i) {
    CounterRng rng(1, stream, i);
    for (int j = 0; j < cols; ++j) m(i, j) = static_cast<float>(rng.normal());
  }
  return m;
}

// W1's scoring: a one-hidden-layer tanh MLP of width 64 over d = 32
template <void (*Score)(const Mlp&, const RowMatrixXf&, Eigen::Ref<Eigen::VectorXf>)>
void score_mlp_bench(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const RowMatrixXf x = normals(n, 32, 1);
  CounterRng rng(2, 2, 0);
  const Mlp f = make_random_mlp(32, {64}, Activation::tanh, rng);
  Eigen::VectorXf out(n);
  for (auto _ : state) {
    Score(f, x, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// W1's estimator: rank weights of n = 1, 2, 4, ..., N applied to the sorted pool's 6 value columns
template <void (*Moments)(const Eigen::MatrixXd&, const Eigen::MatrixXf&, Eigen::MatrixXd&)>
void bon_moments_bench(benchmark::State& state) {
  const int N = static_cast<int>(state.range(0));
  std::vector<int> grid;
  for (int n = 1; n <= N; n *= 2) grid.push_back(n);
  const Eigen::MatrixXd w = bon_rank_weights(grid, N);
  const Eigen::MatrixXf values = normals(N, 6, 3);
  Eigen::MatrixXd out;
  for (auto _ : state) {
    Moments(w, values, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * N);
}

// W2: the exact tilt over P x K entries for B betas
template <void (*Tilt)(const TiltInput&, std::span<const double>, TiltResult&)>
void tilt_sweep_bench(benchmark::State& state) {
  const int P = static_cast<int>(state.range(0)), K = 4096, B = 64;
  RowMatrixXf log_ref = normals(P, K, 4);
  for (int p = 0; p < P; ++p) {
    const double m = log_ref.row(p).maxCoeff();
    log_ref.row(p).array() -= static_cast<float>(m + std::log((log_ref.row(p).array().cast<double>() - m).exp().sum()));
  }
  const RowMatrixXf proxy = normals(P, K, 5), gold = normals(P, K, 6);
  std::vector<double> betas(B);
  for (int b = 0; b < B; ++b) betas[b] = std::pow(10.0, -2.0 + 3.0 * b / (B - 1));
  TiltResult out;
  for (auto _ : state) {
    Tilt({&log_ref, &proxy, {&proxy, &gold}}, betas, out);
    benchmark::DoNotOptimize(out.data.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(P) * K * B);
}

}  // namespace

BENCHMARK(score_mlp_bench<score_mlp_cpu>)->Name("score_mlp/cpu")->Arg(65536)->Unit(benchmark::kMillisecond);
BENCHMARK(score_mlp_bench<score_mlp_ref>)->Name("score_mlp/ref")->Arg(65536)->Unit(benchmark::kMillisecond);
BENCHMARK(bon_moments_bench<bon_moments_cpu>)->Name("bon_moments/cpu")->Arg(1024)->Arg(65536);
BENCHMARK(bon_moments_bench<bon_moments_ref>)->Name("bon_moments/ref")->Arg(1024)->Arg(65536);
BENCHMARK(tilt_sweep_bench<tilt_sweep_cpu>)->Name("tilt_sweep/cpu")->Arg(256)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(tilt_sweep_bench<tilt_sweep_ref>)->Name("tilt_sweep/ref")->Arg(64)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
