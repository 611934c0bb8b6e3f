// w1_bon.cpp — BENCHMARKS.md's W1 (bon-sweep) on the engine: P prompts, N = 1024 responses each drawn from
// N(0, I_32) (the engine's sample_gaussian: row (seed, pool, prompt, sample) of sim/numeric/normal_draws.h), scored by
// a gold and a proxy tanh MLP 32 -> 64 -> 1 (score_mlp), sorted by proxy, and the unbiased best-of-n means of gold
// and proxy for n = 1, 2, 4, ..., N: all of it one call of the backend op bon_sweep (rank weights from
// bon_rank_weights).
// Contract: inputs from opts.seed only — gold MLP from CounterRng(seed, gold_weights, 0); proxy = gold's weights
// plus 0.5 x those of an MLP from CounterRng(seed, proxy_init, 0) (a correlated, imperfect reward model).
// The timed region is one bon_sweep over every prompt. Results: per n the mean over prompts of the best-of-n gold
// and proxy and their standard errors over prompts. On the CPU backend an untimed run of the pieces (draw, score,
// sort, moments) on a few prompts says where the time goes. The peers draw their own normals (the
// responses are 128 MiB per 1024 prompts), so they agree statistically; --dump-responses dumps them for an
// exact check at small scale.
#include <algorithm>
#include <cmath>

#include "bench/workloads.h"
#include "sim/numeric/normal_draws.h"
#include "sim/optimizers/optimizer.h"

namespace goodhart::bench {

namespace {

constexpr int pool = 1024, dim = 32, hidden = 64;

struct W1Inputs {
  GaussianReference ref;  // pi_ref N(0, I) of a gaussian world
  Mlp gold, proxy;
  std::vector<int> grid;
  Eigen::MatrixXd weights;  // G x N rank weights
};

W1Inputs make_inputs(std::uint64_t seed) {
  W1Inputs in;
  in.ref.mean = Eigen::VectorXd::Zero(dim);
  in.ref.scale = Eigen::VectorXd::Ones(dim);
  CounterRng gold_rng(seed, Stream::gold_weights, 0), error_rng(seed, Stream::proxy_init, 0);
  in.gold = make_random_mlp(dim, {hidden}, Activation::tanh, gold_rng);
  const Mlp error = make_random_mlp(dim, {hidden}, Activation::tanh, error_rng);
  in.proxy = in.gold;
  for (int l = 0; l < in.proxy.layers(); ++l) in.proxy.weights[l] += 0.5 * error.weights[l];
  for (int n = 1; n <= pool; n *= 2) in.grid.push_back(n);
  in.weights = bon_rank_weights(in.grid, pool);
  return in;
}

// prompt p's pool as the gaussian world draws it: rows (seed, pool stream, p, i) of sim/numeric/normal_draws.h
void draw_pool(const GaussianReference& ref, std::uint64_t seed, int p, Eigen::Ref<RowMatrixXf> x) {
  const Eigen::VectorXf mean = ref.mean.cast<float>(), scale = ref.scale.cast<float>();
  fill_gaussian_rows(seed, stream_id(Stream::pool), static_cast<std::uint32_t>(p), 0, static_cast<int>(x.rows()),
                     dim, mean.data(), scale.data(), x.data(), x.outerStride());
}

void dump_mlp(const std::filesystem::path& dir, const std::string& name, const Mlp& f) {
  for (int l = 0; l < f.layers(); ++l) {
    const RowMatrixXf w = f.weights[l].cast<float>();
    const Eigen::VectorXf b = f.biases[l].cast<float>();
    write_npy(dir / (name + "_w" + std::to_string(l + 1) + ".npy"), w.data(), {w.rows(), w.cols()});
    write_npy(dir / (name + "_b" + std::to_string(l + 1) + ".npy"), b.data(), {b.size()});
  }
}

// where the time goes: the pieces of a bon_sweep on the CPU backend for `count` prompts, one thread (seconds)
nlohmann::json profile_pieces(const W1Inputs& in, std::uint64_t seed, int count) {
  double draw = 0, score = 0, sort = 0, moments = 0;
  RowMatrixXf x(pool, dim);
  Eigen::VectorXf gold(pool), proxy(pool);
  Eigen::MatrixXf values(pool, 2);
  Eigen::MatrixXd out;
  for (int p = 0; p < count; ++p) {
    auto t = std::chrono::steady_clock::now();
    draw_pool(in.ref, seed, p, x);
    draw += seconds_since(t);
    t = std::chrono::steady_clock::now();
    score_mlp_pair_cpu(in.gold, in.proxy, x, gold, proxy);
    score += seconds_since(t);
    t = std::chrono::steady_clock::now();
    rank_by_proxy_cpu(gold, proxy, values);
    sort += seconds_since(t);
    t = std::chrono::steady_clock::now();
    bon_moments_cpu(in.weights, values, out);
    moments += seconds_since(t);
  }
  return {{"prompts", count}, {"draw", draw}, {"score", score}, {"sort", sort}, {"moments", moments},
          {"note", "the pieces of bon_sweep_cpu, one thread, untimed run"}};
}

}  // namespace

WorkloadReport run_w1(const WorkloadOptions& opts) {
  const int P = scaled_prompts(4096, opts.scale);
  const W1Inputs in = make_inputs(opts.seed);
  const int G = static_cast<int>(in.grid.size());
  if (!opts.dump_inputs.empty()) {
    const auto dir = open_dump(opts, {{"workload", "w1"}, {"P", P}, {"N", pool}, {"d", dim}, {"hidden", hidden},
                                      {"n", in.grid}, {"seed", opts.seed}});
    dump_mlp(dir, "gold", in.gold);
    dump_mlp(dir, "proxy", in.proxy);
    if (opts.dump_responses) {
      RowMatrixXf x(static_cast<Eigen::Index>(P) * pool, dim);
      for (int p = 0; p < P; ++p)
        draw_pool(in.ref, opts.seed, p, x.middleRows(Eigen::Index(p) * pool, pool));
      write_npy(dir / "responses.npy", x.data(), {P, pool, dim});
    }
  }
  // every prompt in one bon_sweep call: the CPU backend runs a prompt per OpenMP task, CUDA one batch
  const BonSweepInput sweep{&in.gold, &in.proxy, &in.ref.mean, &in.ref.scale, &in.weights,
                            opts.seed, stream_id(Stream::pool), 0, P};
  Eigen::MatrixXd estimates;
  const auto run = [&] { bon_sweep(opts.backend, sweep, estimates); };
  WorkloadReport r;
  r.seconds = time_repeats(opts, run);
  r.unit = "samples/s";
  r.items = static_cast<double>(P) * pool;
  const double flops_per_sample = 2.0 * (2.0 * dim * hidden + 2.0 * hidden + 2.0 * hidden);  // ~8.7 kFLOP
  r.limit = cpu_limit(opts,
                      "peak float FMA FLOP/s measured on all threads / " +
                          std::to_string(static_cast<int>(flops_per_sample)) +
                          " FLOP per sample (two 32x64 tanh MLPs; the 32 normal draws not counted)",
                      measured_peak_flops, flops_per_sample);
  r.sizes = {{"P", P}, {"N", pool}, {"d", dim}, {"hidden", hidden}};
  // results: mean and standard error over prompts per n
  std::vector<double> gold_mean, gold_se, proxy_mean, proxy_se;
  for (int c = 0; c < 2 * G; ++c) {
    const Eigen::ArrayXd v = estimates.col(c).array();
    const double mean = v.mean();
    const double se = P > 1 ? std::sqrt((v - mean).square().sum() / (P - 1.0) / P) : 0.0;
    (c < G ? gold_mean : proxy_mean).push_back(mean);
    (c < G ? gold_se : proxy_se).push_back(se);
  }
  r.results = {{"n", in.grid}, {"gold_mean", gold_mean}, {"gold_se", gold_se}, {"proxy_mean", proxy_mean},
               {"proxy_se", proxy_se}};
  if (opts.profile && opts.backend == Backend::cpu) r.profile = profile_pieces(in, opts.seed, std::min(P, 64));
  return r;
}

}  // namespace goodhart::bench
