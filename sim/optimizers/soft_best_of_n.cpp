// soft_best_of_n.cpp — soft best-of-n: the exact distribution over a world's candidates (the Laplace-transform
// integral of soft_best_of_n.h), or the unbiased estimate over random partitions of one pool per prompt (a scored
// world's responses, or fresh pi_ref draws), whose KL is the exact soft best-of-n KL of the pool's empirical
// distribution (consistent, not unbiased: it is exact as the pool grows).
// Contract: rows as best_of_n's; kl_bound = log n (the ratio P / pi_ref is at most n); entropy only where exact.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "models/worlds/registry.h"
#include "sim/optimizers/best_of_n.h"
#include "sim/optimizers/registry.h"
#include "sim/optimizers/soft_best_of_n.h"

namespace goodhart {

namespace soft_bon_detail {

double distribution(const std::vector<double>& q, const std::vector<float>& r, int n, double temperature,
                    std::vector<double>& out) {
  const int K = static_cast<int>(q.size());
  out.assign(K, 0.0);
  // d_k = (max r - r_k) / temperature >= 0 over possible responses, sorted ascending
  double rmax = -INFINITY;
  for (int k = 0; k < K; ++k)
    if (q[k] > 0.0) rmax = std::max(rmax, static_cast<double>(r[k]));
  std::vector<int> order;
  for (int k = 0; k < K; ++k)
    if (q[k] > 0.0) order.push_back(k);
  std::vector<double> d(K, INFINITY);
  for (int k : order) d[k] = (rmax - r[k]) / temperature;
  std::sort(order.begin(), order.end(), [&](int a, int b) { return d[a] < d[b] || (d[a] == d[b] && a < b); });
  const int m = static_cast<int>(order.size());
  std::vector<double> tail(m + 1, 0.0);  // tail[i] = sum of q over order[i..]
  for (int i = m - 1; i >= 0; --i) tail[i] = tail[i + 1] + q[order[i]];
  // the trapezoid grid s_j = s_lo + j h in s = log t: from where the integrand is below 1e-19 of its total (which
  // is >= 1/n) to past where exp(-t e) has killed the worst response (e^(s - d) >= e^7). Only nodes within
  // [d_k - below, d_k + above] of some response carry structure; between those windows M(t) is a constant (every
  // response's factor exp(-e^(s - d)) is 1 or 0 there), so the sum over a gap's nodes is a geometric series: the
  // same trapezoid sum, in time and memory that do not grow with the proxy's range / temperature
  constexpr double h = 0.25, below = 40.0, above = 7.0;
  const double s_lo = -(below + 5.0 + std::log(static_cast<double>(n)));
  const auto node_at_or_after = [&](double s) { return static_cast<std::int64_t>(std::ceil((s - s_lo) / h)); };
  const auto node_at_or_before = [&](double s) { return static_cast<std::int64_t>(std::floor((s - s_lo) / h)); };
  struct Node {
    std::int64_t j;
    double g, before;  // g = s + (n - 1) log M(e^s); before = log of the sum of exp(g) over all earlier nodes
  };
  std::vector<Node> nodes;
  double running = -INFINITY;  // log of the sum so far
  const auto log_add = [](double a, double b) {
    const double hi = std::max(a, b);
    return hi == -INFINITY ? hi : hi + std::log(std::exp(a - hi) + std::exp(b - hi));
  };
  // log M(e^s) from the responses in the window [first, last) of order (d in [s - above, s + below]) and the mass
  // above it
  int first = 0, last = 0;
  const auto log_m = [&](double s) {
    while (first < m && d[order[first]] < s - above) ++first;
    last = std::max(last, first);
    while (last < m && d[order[last]] <= s + below) ++last;
    double mass = tail[last];
    for (int i = first; i < last; ++i) mass += q[order[i]] * std::exp(-std::exp(s - d[order[i]]));
    return mass > 0.0 ? std::log(mass) : -INFINITY;
  };
  const auto g_of = [&](double s, double log_mass) { return s + (n > 1 ? (n - 1) * log_mass : 0.0); };
  std::int64_t next = 0;  // the first node not yet visited
  for (int i = 0; i < m;) {
    // a window: the union of consecutive responses' [d - below, d + above]
    std::int64_t ja = std::max(next, i == 0 ? std::int64_t{0} : node_at_or_after(d[order[i]] - below));
    double end = d[order[i]] + above;
    while (++i < m && d[order[i]] - below <= end + h) end = d[order[i]] + above;
    const std::int64_t jb = node_at_or_before(end);
    if (ja > next) {  // the gap before it: nodes next .. ja - 1, one constant log M
      const double s_gap = s_lo + next * h, g = g_of(s_gap, log_m(s_gap));
      const double count = static_cast<double>(ja - next);
      // sum_{c < count} exp(g + c h) = exp(g) (e^(count h) - 1) / (e^h - 1)
      const double log_series = count * h > 30.0 ? count * h - std::log(std::expm1(h))
                                                 : std::log(std::expm1(count * h) / std::expm1(h));
      running = log_add(running, g + log_series);
    }
    for (std::int64_t j = ja; j <= jb; ++j) {
      const double s = s_lo + j * h, g = g_of(s, log_m(s));
      nodes.push_back({j, g, running});
      running = log_add(running, g);
    }
    next = jb + 1;
  }
  // P_k = n q_k h [exp(C(j0) - d_k) + sum_{j0 <= j <= j1} exp(g_j - d_k - e^(s_j - d_k))], j0 .. j1 the nodes of
  // k's own window (all present: it lies inside a window above)
  double total = 0.0;
  for (int k : order) {
    const std::int64_t j0 = std::max<std::int64_t>(0, node_at_or_after(d[k] - below)), j1 = node_at_or_before(d[k] + above);
    auto it = std::lower_bound(nodes.begin(), nodes.end(), j0, [](const Node& a, std::int64_t j) { return a.j < j; });
    double sum = it == nodes.end() ? 0.0 : std::exp(it->before - d[k]);
    for (; it != nodes.end() && it->j <= j1; ++it)
      sum += std::exp(it->g - d[k] - std::exp(s_lo + it->j * h - d[k]));
    total += out[k] = n * q[k] * h * sum;
  }
  for (double& p : out) p /= total;
  return total;
}

void pool_weights(const float* proxy, int N, int n, double temperature, int partitions, CounterRng& rng,
                  std::vector<double>& w) {
  w.assign(N, 0.0);
  const int groups = N / n;
  if (groups == 0) return;
  std::vector<int> order(N);
  const double share = 1.0 / (static_cast<double>(partitions) * groups);
  for (int part = 0; part < partitions; ++part) {
    std::iota(order.begin(), order.end(), 0);
    for (int i = N - 1; i > 0; --i) std::swap(order[i], order[static_cast<int>(rng.uniform() * (i + 1))]);
    for (int group = 0; group < groups; ++group) {
      const int* members = order.data() + group * n;
      double top = -INFINITY, z = 0.0;
      for (int i = 0; i < n; ++i) top = std::max(top, static_cast<double>(proxy[members[i]]));
      for (int i = 0; i < n; ++i) z += std::exp((proxy[members[i]] - top) / temperature);
      for (int i = 0; i < n; ++i) w[members[i]] += share * std::exp((proxy[members[i]] - top) / temperature) / z;
    }
  }
}

}  // namespace soft_bon_detail

namespace {

// one prompt's responses: a world's candidates with pi_ref's probabilities, or a pool (a scored world's responses,
// or fresh draws) with uniform ones
struct Prompt {
  std::vector<double> q;
  std::vector<float> values[value_columns];
  bool pool = false;
};

Prompt prompt_responses(const SoftBestOfNConfig& opt, const OptimizerContext& ctx, int p) {
  Prompt out;
  Eigen::VectorXf proxy, gold, win;
  if (ctx.candidates) {
    const Candidates& c = *ctx.world.candidates();
    proxy = ctx.candidates->values[v_proxy].row(p).transpose();
    gold = ctx.candidates->values[v_gold].row(p).transpose();
    win = ctx.candidates->values[v_win].row(p).transpose();
    out.pool = c.sampled;
    for (int k = 0; k < c.count; ++k) out.q.push_back(c.sampled ? 1.0 / c.count : std::exp(c.log_ref(p, k)));
  } else {
    BestOfNConfig draw;
    draw.pool = opt.pool;
    Responses r;
    draw_bon_pool(draw, ctx, p, r, proxy);
    gold = r.gold;
    win.resize(r.size());
    for (Eigen::Index i = 0; i < r.size(); ++i) win(i) = static_cast<float>(reference_cdf(ctx.reference_gold, r.gold(i)));
    out.pool = true;
    out.q.assign(opt.pool, 1.0 / opt.pool);
  }
  const int K = static_cast<int>(proxy.size());
  for (auto& v : out.values) v.resize(K);
  for (int k = 0; k < K; ++k) {
    const double x = proxy(k), y = gold(k);
    const double v[value_columns] = {x, y, win(k), x * x, y * y, x * y};
    for (int c = 0; c < value_columns; ++c) out.values[c][k] = static_cast<float>(v[c]);
  }
  return out;
}

std::vector<std::vector<PromptStats>> estimates(const SoftBestOfNConfig& opt, const OptimizerContext& ctx) {
  const int G = static_cast<int>(opt.n.size()), P = ctx.world.prompts();
  std::vector<std::vector<PromptStats>> stats(G, std::vector<PromptStats>(P));
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < P; ++p) {
    const Prompt r = prompt_responses(opt, ctx, p);
    const int K = static_cast<int>(r.q.size());
    std::vector<double> exact, weights;
    for (int g = 0; g < G; ++g) {
      PromptStats& s = stats[g][p];
      // the exact distribution (over a pool: of its empirical distribution, for the KL)
      soft_bon_detail::distribution(r.q, r.values[v_proxy], opt.n[g], opt.temperature, exact);
      s.kl = s.entropy = 0.0;
      double sum_sq = 0.0;
      for (int k = 0; k < K; ++k) {
        if (exact[k] <= 0.0) continue;
        s.kl += exact[k] * std::log(exact[k] / r.q[k]);
        s.entropy -= exact[k] * std::log(exact[k]);
        sum_sq += exact[k] * exact[k];
      }
      s.kl = std::max(s.kl, 0.0);
      s.ess = 1.0 / sum_sq;
      if (r.pool) {  // the moments from the unbiased partition estimate
        CounterRng rng(ctx.seed, Stream::soft_bon_partitions, p, g);
        soft_bon_detail::pool_weights(r.values[v_proxy].data(), K, opt.n[g], opt.temperature, opt.partitions, rng,
                                      weights);
        s.entropy = not_applicable;
      } else {
        weights = exact;
      }
      for (int k = 0; k < K; ++k)
        for (int c = 0; c < value_columns; ++c) s.moments[c] += weights[k] * r.values[c][k];
      std::vector<double> cumulative(K);
      std::partial_sum(weights.begin(), weights.end(), cumulative.begin());
      for (double& x : cumulative) x /= cumulative.back();
      CounterRng pairs(ctx.seed, Stream::accuracy_pairs, p, 3000 + g);
      sample_pair_agreement(r.values[v_proxy].data(), r.values[v_gold].data(), cumulative, accuracy_pairs_per_prompt(ctx),
                            pairs, s);
    }
  }
  return stats;
}

}  // namespace

std::vector<MetricRow> run_soft_best_of_n(const SoftBestOfNConfig& opt, const OptimizerContext& ctx) {
  const auto stats = estimates(opt, ctx);
  std::vector<MetricRow> rows;
  for (std::size_t g = 0; g < opt.n.size(); ++g) {
    MetricRow row = summarize(stats[g]);
    row.param_name = std::string(1, 'n');
    row.param = opt.n[g];
    row.kl_bound = std::log(static_cast<double>(opt.n[g]));
    rows.push_back(row);
  }
  return rows;
}

namespace {

void resolve(SoftBestOfNConfig& c, const std::vector<std::string>& given) {
  if (std::find(given.begin(), given.end(), "n") == given.end()) std::erase_if(c.n, [&](int n) { return n > c.pool; });
}

void validate(const SoftBestOfNConfig& c, const Scenario& s, const Check& k, const std::string& path) {
  // the pool bounds n only where responses are drawn (a world with candidates sums over all of them)
  check_n_grid(c.n, world_abilities(s.world).candidates == 0 ? c.pool : 0, s, k, path);
}

// per prompt and n: the integral's grid over every candidate, or the partitions of the pool
OptimizerCost cost(const SoftBestOfNConfig& c, const Scenario& s, int threads) {
  const WorldConfig& w = s.world;
  const double P = w.prompts, d = w.dim, grid = c.n.size(), K = world_abilities(w).candidates;
  if (K > 0) return {P * K * (d + 8) * 4.0 + threads * K * 64.0, P * K * grid * 400 * 1e-8 / threads, 0.0,
                     "world.prompts, world.candidates"};
  return {threads * c.pool * (d + 24) * 4.0, P * c.pool * grid * (c.partitions + 400) * 1e-8 / threads,
          P * c.pool, "optimizer.pool"};
}

using S = SoftBestOfNConfig;
const OptimizerRegistration<S> registered(
    "soft_best_of_n",
    "soft best-of-n (Verdun et al. 2025): n pi_ref samples, one returned with probability softmax(proxy / "
    "temperature) among them, for each n of a grid; temperature -> 0 is best-of-n, and as n grows it approaches "
    "kl_optimum at beta = temperature. Exact over a categorical world's candidates (KL, entropy and moments); "
    "elsewhere the moments are unbiased estimates over random partitions of one pool per prompt and the KL is that "
    "of the pool's empirical distribution",
    {{
        field<S>("n", &S::n, "the grid. When `n` is not given, the default grid stops at `pool`", at_least(1))
            .shown_default("1, 2, 4, ..., 4096 (powers of 2 up to `pool`)")
            .allowed("strictly increasing; each <= pool (gaussian world) or the score file's responses"),
        field<S>("temperature", &S::temperature,
                 "lambda: among the n drawn, response i is returned with probability exp(proxy_i / lambda) / sum_j "
                 "exp(proxy_j / lambda) (the proxy standardized under pi_ref, as every optimizer sees it)",
                 positive())
            .alias("lambda"),
        field<S>("pool", &S::pool,
                 "gaussian world: N pi_ref samples per prompt. Unused in the categorical and scored worlds",
                 within(1, 1 << 20, "an integer in [1, 2^20]")),
        field<S>("partitions", &S::partitions,
                 "gaussian and scored worlds: random partitions of the pool into floor(N / n) groups of n, each "
                 "group one soft best-of-n draw; more partitions, less variance (the estimate is unbiased at any "
                 "number)",
                 at_least(1)),
    }},
    validate, resolve, run_soft_best_of_n, cost);

}  // namespace

}  // namespace goodhart
