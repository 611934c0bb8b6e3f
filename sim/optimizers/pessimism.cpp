// pessimism.cpp — InferenceTimePessimism over a world's candidates: for each N, per prompt, `draws` Monte Carlo
// draws of the N pi_ref responses that set lambda-hat (Algorithm 1's normalization on the sample), each followed by
// the exact output distribution of the rejection step given lambda-hat (pessimism.h); the average over draws is
// the policy, whose KL, entropy and expectations are exact sums over the candidates.
// Contract: rows as best_of_n's; r_max is the prompt's largest proxy over its candidates (the reward range the
// rejection step's bound M needs); identical at any thread count (draws keyed by (seed, stream, prompt, N, draw)).
// As N grows, lambda-hat converges and the policy to the chi-squared-regularized optimum at beta (kl_optimum
// divergence chi2), so its KL stays bounded where best-of-n's grows as log N.
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "models/worlds/registry.h"
#include "sim/optimizers/pessimism.h"
#include "sim/optimizers/registry.h"

namespace goodhart {

namespace pessimism_detail {

double empirical_lambda(std::vector<double> rewards, double beta) {
  std::sort(rewards.begin(), rewards.end(), std::greater<>());
  const int N = static_cast<int>(rewards.size());
  // sum_{top m} (r_i - lambda) = beta N on the segment where exactly m rewards exceed lambda
  double top = 0.0;
  for (int m = 1; m <= N; ++m) {
    top += rewards[m - 1];
    const double lambda = (top - beta * N) / m;
    if (m == N || rewards[m] <= lambda) return lambda;
  }
  return rewards.back() - beta;  // not reached
}

void add_output_distribution(const std::vector<double>& q, const std::vector<double>& r, double r_max, double lambda,
                             int N, double weight, std::vector<double>& out) {
  const int K = static_cast<int>(q.size());
  std::vector<double> accept(K);
  double a = 0.0;
  for (int k = 0; k < K; ++k) a += q[k] * (accept[k] = std::max(0.0, r[k] - lambda) / (r_max - lambda));
  const double miss = std::pow(1.0 - a, N), hit = a > 0.0 ? (1.0 - miss) / a : 0.0;
  for (int k = 0; k < K; ++k) out[k] += weight * q[k] * (accept[k] * hit + miss);
}

}  // namespace pessimism_detail

namespace {

std::vector<std::vector<PromptStats>> estimates(const PessimismConfig& opt, const OptimizerContext& ctx) {
  const ResponseTable& t = *ctx.candidates;
  const Candidates& c = *ctx.world.candidates();
  const int G = static_cast<int>(opt.n.size()), P = ctx.world.prompts(), K = c.count;
  std::vector<std::vector<PromptStats>> stats(G, std::vector<PromptStats>(P));
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < P; ++p) {
    std::vector<double> q(K), r(K);
    for (int k = 0; k < K; ++k) {
      q[k] = std::exp(c.log_ref(p, k));
      r[k] = t.values[v_proxy](p, k);
    }
    double r_max = -INFINITY;
    for (int k = 0; k < K; ++k)
      if (q[k] > 0.0) r_max = std::max(r_max, r[k]);
    // pi_ref's CDF summed as Candidates::sample sums it, searched by bisection (the same draw, in log K)
    std::vector<double> cdf(K);
    double running = 0.0;
    for (int k = 0; k < K; ++k) cdf[k] = running += q[k];
    const auto sample = [&](double u) {
      return std::min(K - 1, static_cast<int>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin()));
    };
    for (int g = 0; g < G; ++g) {
      const int N = opt.n[g];
      std::vector<double> policy(K, 0.0), drawn(N);
      for (int m = 0; m < opt.draws; ++m) {
        CounterRng rng(ctx.seed, Stream::pessimism_pools, p, static_cast<std::uint32_t>(g * opt.draws + m));
        for (int i = 0; i < N; ++i) drawn[i] = r[sample(rng.uniform())];
        const double lambda = pessimism_detail::empirical_lambda(drawn, opt.beta);
        pessimism_detail::add_output_distribution(q, r, r_max, lambda, N, 1.0 / opt.draws, policy);
      }
      PromptStats& s = stats[g][p];
      s.kl = s.entropy = 0.0;
      double sum_sq = 0.0, total = 0.0;
      for (int k = 0; k < K; ++k) total += policy[k];
      for (int k = 0; k < K; ++k) {
        const double pi = policy[k] / total;
        if (pi <= 0.0) continue;
        s.kl += pi * (std::log(pi) - c.log_ref(p, k));
        s.entropy -= pi * std::log(pi);
        sum_sq += pi * pi;
        for (int col = 0; col < value_columns; ++col) s.moments[col] += pi * t.values[col](p, k);
      }
      s.kl = std::max(s.kl, 0.0);
      s.ess = 1.0 / sum_sq;
      std::vector<double> cumulative(K);
      std::partial_sum(policy.begin(), policy.end(), cumulative.begin());
      for (double& x : cumulative) x /= total;
      std::vector<float> proxy(K), gold(K);
      for (int k = 0; k < K; ++k) {
        proxy[k] = t.values[v_proxy](p, k);
        gold[k] = t.values[v_gold](p, k);
      }
      CounterRng pairs(ctx.seed, Stream::accuracy_pairs, p, 4000 + g);
      sample_pair_agreement(proxy.data(), gold.data(), cumulative, accuracy_pairs_per_prompt(ctx), pairs, s);
    }
  }
  return stats;
}

}  // namespace

std::vector<MetricRow> run_pessimism(const PessimismConfig& opt, const OptimizerContext& ctx) {
  const auto stats = estimates(opt, ctx);
  std::vector<MetricRow> rows;
  for (std::size_t g = 0; g < opt.n.size(); ++g) {
    MetricRow row = summarize(stats[g]);
    row.param_name = std::string(1, 'n');
    row.param = opt.n[g];
    row.beta = opt.beta;
    rows.push_back(row);
  }
  return rows;
}

namespace {

void validate(const PessimismConfig& c, const Scenario& s, const Check& k, const std::string& path) {
  const WorldAbilities world = world_abilities(s.world);
  if (world.candidates == 0 || world.sampled)
    k.fail(path + ".type", "a world whose candidates are pi_ref's support (world.type categorical): "
                           "inference_time_pessimism's output distribution is summed over them");
  check_n_grid(c.n, 0, s, k, path);
}

// per prompt, N and draw: N draws and a pass over the candidates
OptimizerCost cost(const PessimismConfig& c, const Scenario& s, int threads) {
  const WorldConfig& w = s.world;
  const double P = w.prompts, d = w.dim, K = world_abilities(w).candidates;
  double work = 0.0;
  for (int n : c.n) work += c.draws * (n * 30.0 + K * 10.0);
  return {P * K * (d + 8) * 4.0 + threads * (K + c.n.back()) * 16.0, P * work * 1e-9 / threads, 0.0,
          "world.prompts, world.candidates"};
}

using I = PessimismConfig;
const OptimizerRegistration<I> registered(
    "inference_time_pessimism",
    "InferenceTimePessimism (Huang, Block et al. 2025): N pi_ref draws set lambda-hat by (1/N) sum max(0, (proxy - "
    "lambda) / beta) = 1 (the chi-squared-regularized weights on the sample); then N fresh draws, each accepted "
    "with probability w / M, w = max(0, (proxy - lambda) / beta), M = (r_max - lambda) / beta, the first accepted "
    "returned (else one more pi_ref draw). Unlike best-of-n it converges, as N grows, to the chi-squared "
    "optimum at beta instead of pushing KL up as log N. Categorical world: the output distribution given "
    "lambda-hat is exact and averaged over `draws` draws of lambda-hat, so KL and expectations are sums over the "
    "candidates",
    {{
        field<I>("n", &I::n, "the grid of N, the draws per stage", at_least(1)).allowed("strictly increasing, each >= 1"),
        field<I>("beta", &I::beta, "the chi-squared regularization (larger: closer to pi_ref)", positive()),
        field<I>("draws", &I::draws,
                 "Monte Carlo draws of the N responses that set lambda-hat, per prompt and N (the rest is exact)",
                 at_least(1)),
    }},
    validate, nullptr, run_pessimism, cost);

}  // namespace

}  // namespace goodhart
