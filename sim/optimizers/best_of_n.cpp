// best_of_n.cpp — unbiased best-of-n estimates from one pool of pi_ref draws per prompt (drawn, or a scored world's
// responses, which are such a pool), or, in a world whose candidates are pi_ref's support (categorical), the exact
// best-of-n distribution over them.
// Contract: pool sorted by the selection score ascending (ties by index) — the proxy, or with ref_logprob_weight
// alpha > 0 the regularized score proxy + alpha log pi_ref (Jinnai et al. 2024); weights C(i-1, n-1)/C(N, n) from
// log-gamma; the categorical distribution is P(best = k) = F_k^n - F_{k-1}^n over candidates in score order. The
// KL formula log n - (n-1)/n holds for any tie-free score.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "models/worlds/registry.h"
#include "sim/optimizers/best_of_n.h"
#include "sim/optimizers/registry.h"

namespace goodhart {

Eigen::MatrixXd bon_rank_weights(const std::vector<int>& n, int pool) {
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n.size()), pool);
  for (std::size_t g = 0; g < n.size(); ++g) {
    const double m = n[g];
    const double log_total = std::lgamma(pool + 1.0) - std::lgamma(m + 1.0) - std::lgamma(pool - m + 1.0);
    for (int i = n[g]; i <= pool; ++i)
      w(g, i - 1) = std::exp(std::lgamma(static_cast<double>(i)) - std::lgamma(m) - std::lgamma(i - m + 1.0) -
                             log_total);
  }
  return w;
}

double bon_kl_bound(int n) { return std::log(static_cast<double>(n)) - (n - 1.0) / n; }

void fill_value_row(const Eigen::VectorXf& proxy, const Eigen::VectorXf& gold, const Eigen::VectorXf& win,
                    ResponseTable& table, Eigen::Index row) {
  table.values[v_proxy].row(row) = proxy.transpose();
  table.values[v_gold].row(row) = gold.transpose();
  table.values[v_win].row(row) = win.transpose();
  table.values[v_proxy_sq].row(row) = proxy.array().square().matrix().transpose();
  table.values[v_gold_sq].row(row) = gold.array().square().matrix().transpose();
  table.values[v_proxy_gold].row(row) = (proxy.array() * gold.array()).matrix().transpose();
}

namespace {

std::vector<int> argsort(const float* v, int count) {
  std::vector<int> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [v](int a, int b) { return v[a] < v[b] || (v[a] == v[b] && a < b); });
  return order;
}

// one prompt's pool in draw order, each response's proxy, gold, win rate against pi_ref and selection score (the
// proxy, plus ref_logprob_weight * log pi_ref(y) up to a constant when regularized): a world whose candidates are a
// sample of pi_ref gives the prompt's candidates, any other world `pool` fresh draws
struct Pool {
  Eigen::VectorXf proxy, gold, win, score;
};

Pool prompt_pool(const BestOfNConfig& opt, const OptimizerContext& ctx, int p) {
  Pool pool;
  Responses r;  // the responses, as add_log_ref reads them (a continuous world: their features)
  if (ctx.candidates) {
    const Candidates& c = *ctx.world.candidates();
    pool.proxy = ctx.candidates->values[v_proxy].row(p).transpose();
    pool.gold = ctx.candidates->values[v_gold].row(p).transpose();
    pool.win = ctx.candidates->values[v_win].row(p).transpose();
    r.x = c.prompt_features(p);
    for (int k = 0; k < c.count; ++k) r.id.push_back(c.id(p, k));
  } else {
    draw_bon_pool(opt, ctx, p, r, pool.proxy);
    pool.gold = r.gold;
    pool.win.resize(r.size());
    for (Eigen::Index i = 0; i < r.size(); ++i)
      pool.win(i) = static_cast<float>(reference_cdf(ctx.reference_gold, r.gold(i)));
  }
  pool.score = pool.proxy;
  if (opt.ref_logprob_weight > 0.0) ctx.world.add_log_ref(r, opt.ref_logprob_weight, pool.score);
  return pool;
}

// one pool per prompt (drawn, or a scored world's responses), the unbiased estimator over the n grid
std::vector<std::vector<PromptStats>> pool_estimates(const BestOfNConfig& opt, const OptimizerContext& ctx) {
  const int N = ctx.candidates ? ctx.world.candidates()->count : opt.pool, G = static_cast<int>(opt.n.size()),
            P = ctx.world.prompts();
  const Eigen::MatrixXd weights = bon_rank_weights(opt.n, N);
  std::vector<std::vector<double>> cumulative(G, std::vector<double>(N));
  for (int g = 0; g < G; ++g) std::partial_sum(weights.row(g).begin(), weights.row(g).end(), cumulative[g].begin());
  std::vector<std::vector<PromptStats>> stats(G, std::vector<PromptStats>(P));
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < P; ++p) {
    // the pool, ranked by the selection score
    const Pool pool = prompt_pool(opt, ctx, p);
    const std::vector<int> order = argsort(pool.score.data(), N);
    Eigen::VectorXf sp(N), sg(N), sw(N);
    for (int i = 0; i < N; ++i) {
      sp(i) = pool.proxy(order[i]);
      sg(i) = pool.gold(order[i]);
      sw(i) = pool.win(order[i]);
    }
    Eigen::MatrixXf values(N, value_columns);
    values.col(v_proxy) = sp;
    values.col(v_gold) = sg;
    values.col(v_win) = sw;
    values.col(v_proxy_sq) = sp.array().square();
    values.col(v_gold_sq) = sg.array().square();
    values.col(v_proxy_gold) = sp.array() * sg.array();
    // moments for the whole grid in one product, then sampled policy pairs
    Eigen::MatrixXd moments;
    bon_moments(ctx.backend, weights, values, moments);
    for (int g = 0; g < G; ++g) {
      PromptStats& s = stats[g][p];
      for (int c = 0; c < value_columns; ++c) s.moments[c] = moments(g, c);
      CounterRng rng(ctx.seed, Stream::accuracy_pairs, p, 1000 + g);
      sample_pair_agreement(sp.data(), sg.data(), cumulative[g], accuracy_pairs_per_prompt(ctx), rng, s);
    }
  }
  return stats;
}

// a world with candidates: the exact best-of-n distribution over each prompt's candidates
std::vector<std::vector<PromptStats>> exact_distribution(const BestOfNConfig& opt, const OptimizerContext& ctx) {
  const ResponseTable& t = *ctx.candidates;
  const RowMatrixXd& log_ref = ctx.world.candidates()->log_ref;
  const int G = static_cast<int>(opt.n.size()), P = ctx.world.prompts(), K = static_cast<int>(log_ref.cols());
  std::vector<std::vector<PromptStats>> stats(G, std::vector<PromptStats>(P));
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < P; ++p) {
    Eigen::VectorXf score = t.values[v_proxy].row(p).transpose();
    if (opt.ref_logprob_weight > 0.0)
      score += static_cast<float>(opt.ref_logprob_weight) * log_ref.row(p).transpose().cast<float>();
    const std::vector<int> order = argsort(score.data(), K);
    std::vector<double> ref_cdf(K);
    double c = 0.0;
    for (int i = 0; i < K; ++i) ref_cdf[i] = c += std::exp(log_ref(p, order[i]));
    std::vector<float> sp(K), sg(K);
    for (int i = 0; i < K; ++i) {
      sp[i] = t.values[v_proxy](p, order[i]);
      sg[i] = t.values[v_gold](p, order[i]);
    }
    for (int g = 0; g < G; ++g) {
      PromptStats& s = stats[g][p];
      std::vector<double> cumulative(K);
      double previous = 0.0, kl = 0.0, entropy = 0.0, sum_sq = 0.0;
      s.kl = s.entropy = s.ess = 0.0;
      for (int i = 0; i < K; ++i) {
        cumulative[i] = std::pow(std::min(ref_cdf[i] / c, 1.0), opt.n[g]);
        const double prob = cumulative[i] - previous;
        previous = cumulative[i];
        if (prob <= 0.0) continue;
        const double log_prob = std::log(prob);
        kl += prob * (log_prob - log_ref(p, order[i]));
        entropy -= prob * log_prob;
        sum_sq += prob * prob;
        for (int col = 0; col < value_columns; ++col) s.moments[col] += prob * t.values[col](p, order[i]);
      }
      s.kl = std::max(kl, 0.0);
      s.entropy = entropy;
      s.ess = 1.0 / sum_sq;
      CounterRng rng(ctx.seed, Stream::accuracy_pairs, p, 1000 + g);
      sample_pair_agreement(sp.data(), sg.data(), cumulative, accuracy_pairs_per_prompt(ctx), rng, s);
    }
  }
  return stats;
}

}  // namespace

void draw_bon_pool(const BestOfNConfig& opt, const OptimizerContext& ctx, int prompt, Responses& r,
                   Eigen::VectorXf& proxy) {
  draw_reference_responses(ctx.world, ctx.gold, ctx.proxy.needs(), ctx.backend, ctx.seed, prompt,
                           stream_id(Stream::pool), static_cast<std::uint32_t>(prompt), 0, opt.pool, r);
  proxy.resize(opt.pool);
  ctx.proxy.score(ctx.backend, r, proxy);
}

std::vector<MetricRow> run_best_of_n(const BestOfNConfig& opt, const OptimizerContext& ctx) {
  // the exact best-of-n distribution over pi_ref's candidates; the unbiased estimator over a pool otherwise
  const bool exact = ctx.candidates && !ctx.world.candidates()->sampled;
  const auto stats = exact ? exact_distribution(opt, ctx) : pool_estimates(opt, ctx);
  std::vector<MetricRow> rows;
  for (std::size_t g = 0; g < opt.n.size(); ++g) {
    MetricRow row = summarize(stats[g]);
    row.param_name = std::string(1, 'n');  // not = "n": GCC 12 warns falsely (-Wrestrict) on that assignment
    row.param = opt.n[g];
    row.kl_bound = bon_kl_bound(opt.n[g]);
    if (!exact) {
      row.kl = row.kl_bound;
      row.sqrt_kl = std::sqrt(row.kl);
    }
    rows.push_back(row);
  }
  return rows;
}


namespace {

// the default grid stops at the pool, so that a smaller pool alone is a valid setting
void resolve(BestOfNConfig& c, const std::vector<std::string>& given) {
  if (std::find(given.begin(), given.end(), "n") == given.end()) std::erase_if(c.n, [&](int n) { return n > c.pool; });
}

// n: at least one, increasing, within the pool (a scored world's: its responses per prompt)
void validate(const BestOfNConfig& c, const Scenario& s, const Check& k, const std::string& path) {
  check_n_grid(c.n, c.pool, s, k, path);
}

// a world with candidates: a pass over them; otherwise a pool per prompt, drawn and scored across threads
OptimizerCost cost(const BestOfNConfig& c, const Scenario& s, int threads) {
  const WorldConfig& w = s.world;
  const double P = w.prompts, d = w.dim, grid = c.n.size(), K = world_abilities(w).candidates;
  if (K > 0) return {P * K * (d + 8) * 4.0 + P * grid * 9 * 8.0, P * K * grid * 5e-9, 0.0, "world.prompts, world.candidates"};
  return {threads * c.pool * (d + 16) * 4.0 + 2.0 * grid * c.pool * 8.0, P * c.pool * (grid * 8 + 30) * 1e-9 / threads,
          P * c.pool, "optimizer.pool"};
}

using B = BestOfNConfig;
const OptimizerRegistration<B> registered(
    "best_of_n",
    "the best of n pi_ref samples by proxy, for each n of a grid: the unbiased estimator over one pool of `pool` "
    "samples per prompt (gaussian world), the exact best-of-n distribution over the candidates (categorical world)",
    {{
        field<B>("pool", &B::pool,
                 "gaussian world: N pi_ref samples per prompt. Unused in the categorical and scored worlds (a scored "
                 "world's pool is each prompt's responses)",
                 within(1, 1 << 20, "an integer in [1, 2^20]")),
        field<B>("n", &B::n, "the grid. When `n` is not given, the default grid stops at `pool`", at_least(1))
            .shown_default("1, 2, 4, ..., 4096 (powers of 2 up to `pool`)")
            .allowed("strictly increasing, each in [1, pool]"),
        field<B>("ref_logprob_weight", &B::ref_logprob_weight,
                 "alpha > 0 selects argmax proxy + alpha log pi_ref (regularized best-of-n, Jinnai et al. 2024): "
                 "favours likely responses. The KL formula log n - (n-1)/n still holds (any tie-free score); the "
                 "categorical world's exact KL shows the saving",
                 non_negative()),
    }},
    validate, resolve, run_best_of_n, cost);

}  // namespace

}  // namespace goodhart
