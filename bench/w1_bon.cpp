// w1_bon.cpp — BENCHMARKS.md's W1 (bon-sweep) through the engine's optimizer (run_best_of_n, what `goodhart run`
// executes): a gaussian world of P prompts, N = 1024 pi_ref responses per prompt drawn from N(0, I_32) (row (seed,
// pool, prompt, sample) of sim/numeric/normal_draws.h), scored by a gold and a proxy tanh MLP 32 -> 64 -> 1 (the
// backend's score_mlp), ranked by proxy, and the unbiased best-of-n estimates for n = 1, 2, 4, ..., N (the
// backend's bon_moments), with the optimizer's other columns (win rate, squares, policy-pair agreement).
// Contract: inputs from opts.seed only — gold MLP from CounterRng(seed, gold_weights, 0); proxy = gold's weights
// plus 0.5 x those of an MLP from CounterRng(seed, proxy_init, 0) (a correlated, imperfect reward model).
// The timed region is one run_best_of_n over every prompt. Results: per n the mean over prompts of the best-of-n
// gold and proxy and their standard errors over prompts. --profile times the pieces (draw and gold, proxy,
// moments) on a few prompts, one thread, untimed. The peers draw their own normals (the responses are 128 MiB per
// 1024 prompts), so they agree statistically; --dump-responses dumps them for an exact check at small scale.
#include <algorithm>
#include <cmath>

#include "bench/workloads.h"
#include "models/gold.h"
#include "models/proxy.h"
#include "models/worlds/registry.h"
#include "sim/numeric/normal_draws.h"
#include "sim/optimizers/best_of_n.h"
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

// where the time goes: the pieces of the engine's pool path for `count` prompts, one after another (seconds)
nlohmann::json profile_pieces(const OptimizerContext& ctx, const Eigen::MatrixXd& weights, int count) {
  double draw = 0, score = 0, moments = 0;
  Responses r;
  Eigen::VectorXf proxy(pool);
  Eigen::MatrixXf values = Eigen::MatrixXf::Zero(pool, value_columns);
  Eigen::MatrixXd out;
  for (int p = 0; p < count; ++p) {
    auto t = std::chrono::steady_clock::now();
    draw_reference_responses(ctx.world, ctx.gold, ctx.proxy.needs(), ctx.backend, ctx.seed, p,
                             stream_id(Stream::pool), p, 0, pool, r);
    draw += seconds_since(t);
    t = std::chrono::steady_clock::now();
    ctx.proxy.score(ctx.backend, r, proxy);
    score += seconds_since(t);
    values.col(v_proxy) = proxy;
    t = std::chrono::steady_clock::now();
    bon_moments(ctx.backend, weights, values, out);
    moments += seconds_since(t);
  }
  return {{"prompts", count}, {"draw_and_gold", draw}, {"proxy", score}, {"moments", moments},
          {"note", "the pieces of run_best_of_n's pool path (sorting and pair agreement not included), one "
                   "thread, untimed run"}};
}

}  // namespace

WorkloadReport run_w1(const WorkloadOptions& opts) {
  const int P = scaled_prompts(4096, opts.scale);
  const W1Inputs in = make_inputs(opts.seed);
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
  // the engine's gaussian world, gold and proxy holding W1's MLPs; no policy-pair agreement (not part of W1)
  WorldConfig wc;
  wc.type = "gaussian";
  wc.dim = dim;
  wc.prompts = P;
  const std::unique_ptr<const World> world = make_world(wc);
  Gold gold;
  gold.mlp = in.gold;
  Proxy proxy;
  proxy.members = {in.proxy};
  for (int j = 0; j < dim; ++j) proxy.columns.push_back(j);
  BestOfNConfig opt;
  opt.pool = pool;
  opt.n = in.grid;
  Scenario scenario;
  scenario.seed = opts.seed;
  scenario.world = wc;
  scenario.eval.accuracy_pairs = 0;
  scenario.optimizers = {optimizer_config("best_of_n", opt)};
  // the sorted gold of pi_ref draws that win rates read, drawn as the engine draws it (untimed: once per point)
  Responses reference_draws;
  draw_reference_responses(*world, gold, {}, opts.backend, opts.seed, World::any_prompt, stream_id(Stream::standardize),
                           1, 0, scenario.eval.standardize_samples, reference_draws);
  std::vector<float> reference(reference_draws.gold.data(), reference_draws.gold.data() + reference_draws.gold.size());
  std::sort(reference.begin(), reference.end());
  const OptimizerContext ctx{scenario, *world, gold, proxy, opts.backend, opts.seed, reference, nullptr};
  std::vector<MetricRow> rows;
  const auto run = [&] { rows = run_best_of_n(opt, ctx); };
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
  for (const MetricRow& row : rows) {
    gold_mean.push_back(row.gold_mean);
    gold_se.push_back(row.gold_se);
    proxy_mean.push_back(row.proxy_mean);
    proxy_se.push_back(row.proxy_se);
  }
  r.results = {{"n", in.grid}, {"gold_mean", gold_mean}, {"gold_se", gold_se}, {"proxy_mean", proxy_mean},
               {"proxy_se", proxy_se}};
  if (opts.profile) r.profile = profile_pieces(ctx, in.weights, std::min(P, 64));
  return r;
}

}  // namespace goodhart::bench
