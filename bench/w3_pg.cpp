// w3_pg.cpp — BENCHMARKS.md's W3 (pg-train): a categorical world (P prompts, K = 256 candidates, d = 32, the
// engine's make_world), the log-linear policy pi_theta(k|p) ∝ pi_ref(k|p) exp(theta . phi[p,k]) trained by RLOO,
// num_generations 8, fixed kl_coef 0.05 with the k1 estimate in the reward, Adam (learning rate 0.05), 200 steps
// over all prompts, exact evaluation every 20 steps, timed through the engine's optimizer (run_policy_gradient,
// what `goodhart run` executes: its sampling and gradients are the backend ops policy_pass and policy_slots on
// opts.backend).
// Contract: inputs from opts.seed only — the world from WorldConfig{categorical, seed}; gold = phi . u and proxy =
// phi . (0.6 u + 0.8 v) with u, v random unit directions (gold_direction, indices 0 and 1): a reward model that
// correlates 0.6 with gold per feature direction. The timed region is the whole training run (sampling, updates,
// evaluations). The engine samples with its own Philox streams and the peers with theirs, so the two agree
// statistically (bench/run_workloads.py states the tolerance), not bit for bit.
#include <cmath>

#include "bench/workloads.h"
#include "models/gold.h"
#include "models/policy.h"
#include "models/worlds/categorical.h"
#include "models/worlds/registry.h"
#include "sim/optimizers/policy_eval.h"
#include "sim/optimizers/policy_gradient.h"

namespace goodhart::bench {

namespace {

constexpr int candidates = 256, dim = 32;

PolicyGradientConfig w3_optimizer() {
  PolicyGradientConfig opt;
  opt.policy = "log_linear";
  opt.algorithm = "rloo";
  opt.num_generations = 8;
  opt.kl_coef = 0.05;
  opt.adaptive_kl = false;
  opt.kl_estimator = "k1";
  opt.kl_in = "reward";
  opt.learning_rate = 0.05;
  opt.steps = 200;
  opt.eval_every = 20;
  return opt;
}

// every candidate's gold and proxy as the table run_policy_gradient reads (win rates are not part of W3: zero)
ResponseTable candidate_table(const World& world, std::uint64_t seed) {
  const Eigen::VectorXf u = gold_direction({}, dim, seed, 0).cast<float>();
  const Eigen::VectorXf v = gold_direction({}, dim, seed, 1).cast<float>();
  const Eigen::VectorXf a = 0.6f * u + 0.8f * v;
  const Candidates& c = *world.candidates();
  const int P = world.prompts(), K = c.count;
  ResponseTable t;
  t.log_ref = c.log_ref.cast<float>();
  const Eigen::VectorXf gold = c.features * u, proxy = c.features * a;
  for (auto& v : t.values) v = RowMatrixXf::Zero(P, K);
  for (int p = 0; p < P; ++p)
    fill_value_row(proxy.segment(Eigen::Index(p) * K, K), gold.segment(Eigen::Index(p) * K, K),
                   Eigen::VectorXf::Zero(K), t, p);
  return t;
}

// where a training run's time goes, measured on the engine's pieces at a nonzero theta on opts.backend, seconds
// per call over every prompt (the mean of `passes` calls, after one that allocates): the sampling pass (policy_pass
// with the draws: offsets phi theta, log-softmax, the G draws), the first update's gradient slots (policy_slots),
// one evaluation; and each one's share of the run (steps x the first two, evaluations x the last)
nlohmann::json profile_pieces(const World& world, const OptimizerContext& ctx, const PolicyGradientConfig& opt) {
  constexpr int passes = 20;
  Policy policy(world, opt.policy, false);
  policy.set_theta(Eigen::VectorXd::LinSpaced(world.dim(), -0.05, 0.05));
  const int P = world.prompts(), G = opt.num_generations;
  PolicyPass pass;
  const RowMatrixXd coef = RowMatrixXd::Constant(P, G, 1.0 / G);
  Eigen::MatrixXd slots;
  const auto mean_seconds = [&](auto&& call) {
    call();
    const auto t = std::chrono::steady_clock::now();
    for (int i = 0; i < passes; ++i) call();
    return seconds_since(t) / passes;
  };
  const double sampling_pass = mean_seconds(
      [&] { policy_pass(ctx.backend, policy.table(), policy.theta(), {G, ctx.seed, 0, false}, pass); });
  const double gradient =
      mean_seconds([&] { policy_slots(ctx.backend, policy.table(), pass, coef, 0, G, false, slots); });
  const double evaluation = mean_seconds([&] { evaluate_policy(policy, ctx, opt.samples, 1); });
  const double evaluations = opt.steps / opt.eval_every + 1.0;
  return {{"sampling_pass_all_prompts", sampling_pass},
          {"gradient_slots_all_prompts", gradient},
          {"evaluation", evaluation},
          {"run_share_seconds", {{"sampling_pass", opt.steps * sampling_pass},
                                 {"gradient_slots", opt.steps * gradient},
                                 {"evaluations", evaluations * evaluation}}},
          {"note", "mean of 20 calls each; the rest of a run (rewards, advantages, Adam) is the run's time less the "
                   "shares"}};
}

}  // namespace

WorkloadReport run_w3(const WorkloadOptions& opts) {
  const int P = scaled_prompts(4096, opts.scale), K = candidates;
  WorldConfig wc;
  wc.type = "categorical";
  wc.dim = dim;
  wc.prompts = P;
  wc.get<CategoricalWorldConfig>().candidates = K;
  wc.get<CategoricalWorldConfig>().seed = opts.seed;
  const std::unique_ptr<const World> made = make_world(wc);
  const World& world = *made;
  const ResponseTable table = candidate_table(world, opts.seed);
  const PolicyGradientConfig opt = w3_optimizer();
  if (!opts.dump_inputs.empty()) {
    const auto dir = open_dump(opts, {{"workload", "w3"}, {"P", P}, {"K", K}, {"d", dim}, {"seed", opts.seed},
                                      {"num_generations", opt.num_generations}, {"kl_coef", opt.kl_coef},
                                      {"learning_rate", opt.learning_rate}, {"steps", opt.steps},
                                      {"eval_every", opt.eval_every}});
    write_npy(dir / "features.npy", world.candidates()->features.data(), {P, K, dim});
    write_npy(dir / "log_ref.npy", table.log_ref.data(), {P, K});
    write_npy(dir / "proxy.npy", table.values[v_proxy].data(), {P, K});
    write_npy(dir / "gold.npy", table.values[v_gold].data(), {P, K});
  }
  Scenario scenario;
  scenario.seed = opts.seed;
  scenario.world = wc;
  scenario.optimizers = {optimizer_config("policy_gradient", opt)};
  const Gold gold;    // unused in a categorical world: the table holds every candidate's gold
  const Proxy proxy;  // likewise
  const std::vector<float> no_reference;
  const OptimizerContext ctx{scenario, world, gold, proxy, opts.backend, opts.seed, no_reference, &table};
  std::vector<MetricRow> rows;
  const auto run = [&] { rows = run_policy_gradient(opt, ctx); };
  WorkloadReport r;
  r.seconds = time_repeats(opts, run);
  r.unit = "sampled responses/s";
  r.items = static_cast<double>(P) * opt.num_generations * opt.steps;
  // the feature products a step cannot avoid: logits phi theta for sampling and phi^T w for the gradient, plus one
  // logits pass per evaluation; 2 FLOP per multiply-add
  const double evaluations = opt.steps / opt.eval_every + 1.0;
  const double flops = 2.0 * P * K * dim * (2.0 * opt.steps + evaluations);
  r.limit = cpu_limit(opts,
                      "peak float FMA FLOP/s measured on all threads / " + std::to_string(flops / r.items) +
                          " FLOP per sampled response (the P x K x d feature products: 2 per step + 1 per "
                          "evaluation)",
                      measured_peak_flops, flops / r.items);
  r.sizes = {{"P", P}, {"K", K}, {"d", dim}, {"num_generations", opt.num_generations}, {"steps", opt.steps}};
  std::vector<double> step, kl, proxy_mean, gold_mean;
  for (const MetricRow& row : rows) {
    step.push_back(row.step);
    kl.push_back(row.kl);
    proxy_mean.push_back(row.proxy_mean);
    gold_mean.push_back(row.gold_mean);
  }
  if (opts.profile) r.profile = profile_pieces(world, ctx, opt);
  r.results = {{"step", step}, {"kl", kl}, {"proxy", proxy_mean}, {"gold", gold_mean}};
  return r;
}

}  // namespace goodhart::bench
