// kl_optimum.cpp — the exact solution of max E[proxy] - beta D(pi || pi_ref), over a beta grid or at the beta that
// meets each KL budget (bisection in log beta). D = KL: pi_beta ∝ pi_ref exp(proxy / beta); D = chi2 or chi2_kl
// (Huang et al. 2024): pi / pi_ref = (f')^-1((proxy - lambda) / beta), lambda per prompt (numeric/fdiv_hd.h).
// Contract: exact sums over a world's candidates; for KL, the exact tilted gaussian N(mu + s^2 a / beta, s^2) for a
// linear proxy under a gaussian pi_ref (KL = sum a^2 s^2 / (2 beta^2), expectations from exact draws); otherwise
// the optimum over a pi_ref pool (self-normalized importance sampling for KL), with its effective sample size.
// The kl column is KL(pi || pi_ref) for every divergence.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "models/worlds/registry.h"
#include "sim/optimizers/kl_optimum.h"
#include "sim/optimizers/registry.h"
#include "sim/scenario/internal.h"

namespace goodhart {

namespace {

constexpr double min_beta = 1e-6, max_beta = 1e6;

TiltInput tilt_input(const ResponseTable& t) {
  TiltInput in{&t.log_ref, &t.values[v_proxy], {}};
  for (int c = 0; c < value_columns; ++c) in.values.emplace_back(&t.values[c]);
  return in;
}

Divergence divergence_of(const KlOptimumConfig& opt) {
  return opt.divergence == "chi2" ? Divergence::chi2 : opt.divergence == "chi2_kl" ? Divergence::chi2_kl : Divergence::kl;
}

double mean_kl(const ResponseTable& t, Backend backend, Divergence d, double beta) {
  TiltResult r;
  const double betas[] = {beta};
  fdiv_sweep(backend, d, TiltInput{&t.log_ref, &t.values[v_proxy], {}}, betas, r);  // KL only: no value columns
  double kl = 0.0;
  for (int p = 0; p < r.prompts; ++p) kl += r.at(p, 0, tilt_kl) / r.prompts;
  return kl;
}

// KL falls as beta grows: bisect log beta until KL(beta) meets the budget (the smallest beta if out of reach).
// The bracket scales with the proxy's spread, so heavy-tailed proxies (spreads of 1e10 and more) are covered.
double beta_for_budget(const ResponseTable& t, Backend backend, Divergence d, double budget) {
  const RowMatrixXf& proxy = t.values[v_proxy];
  const double spread = std::max(1e-12, static_cast<double>((proxy.rowwise().maxCoeff() -
                                                             proxy.rowwise().minCoeff()).maxCoeff()));
  double lo = std::log(spread * 1e-9), hi = std::log(spread * 1e6);
  if (mean_kl(t, backend, d, std::exp(lo)) <= budget) return std::exp(lo);
  for (int it = 0; it < 80; ++it) {
    const double mid = 0.5 * (lo + hi), kl = mean_kl(t, backend, d, std::exp(mid));
    if (std::abs(kl - budget) <= 1e-6 * budget) return std::exp(mid);
    (kl > budget ? lo : hi) = mid;
  }
  return std::exp(0.5 * (lo + hi));
}

// the optimum over one table row, as cumulative weights, in double
std::vector<double> tilt_cumulative(const ResponseTable& t, int p, Divergence d, double beta) {
  const int K = static_cast<int>(t.log_ref.cols());
  if (d != Divergence::kl) {
    std::vector<double> cumulative = fdiv_policy_row(d, t.log_ref.row(p).data(), t.values[v_proxy].row(p).data(), K, beta);
    std::partial_sum(cumulative.begin(), cumulative.end(), cumulative.begin());
    return cumulative;
  }
  const float pmax = t.values[v_proxy].row(p).maxCoeff();
  std::vector<double> logits(K), cumulative(K);
  for (int k = 0; k < K; ++k) logits[k] = t.log_ref(p, k) + (t.values[v_proxy](p, k) - pmax) / beta;
  const double m = *std::max_element(logits.begin(), logits.end());
  double c = 0.0;
  for (int k = 0; k < K; ++k) cumulative[k] = c += std::exp(logits[k] - m);
  for (double& x : cumulative) x /= c;
  return cumulative;
}

// the tilt of a table (the world's candidates or a pi_ref pool) at every beta
std::vector<std::vector<PromptStats>> tilt_table(const ResponseTable& t, Divergence d, const std::vector<double>& betas,
                                                 const OptimizerContext& ctx) {
  TiltResult r;
  fdiv_sweep(ctx.backend, d, tilt_input(t), betas, r);
  const int P = r.prompts, B = r.betas;
  std::vector<std::vector<PromptStats>> stats(B, std::vector<PromptStats>(P));
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < P; ++p)
    for (int b = 0; b < B; ++b) {
      PromptStats& s = stats[b][p];
      for (int c = 0; c < value_columns; ++c) s.moments[c] = r.at(p, b, tilt_first_value + c);
      s.kl = r.at(p, b, tilt_kl);
      s.ess = r.at(p, b, tilt_ess);
      s.entropy = ctx.candidates ? r.at(p, b, tilt_entropy) : not_applicable;
      CounterRng rng(ctx.seed, Stream::accuracy_pairs, p, 2000 + b);
      sample_pair_agreement(t.values[v_proxy].row(p).data(), t.values[v_gold].row(p).data(),
                            tilt_cumulative(t, p, d, betas[b]), accuracy_pairs_per_prompt(ctx), rng, s);
    }
  return stats;
}

// a pi_ref pool of `samples` draws per prompt as a table with uniform reference weights
ResponseTable reference_pool(const KlOptimumConfig& opt, const OptimizerContext& ctx) {
  const int P = ctx.world.prompts(), M = opt.samples;
  ResponseTable t;
  t.log_ref = RowMatrixXf::Constant(P, M, static_cast<float>(-std::log(static_cast<double>(M))));
  for (auto& v : t.values) v.resize(P, M);
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < P; ++p) {
    Responses r;
    draw_reference_responses(ctx.world, ctx.gold, ctx.proxy.needs(), ctx.backend, ctx.seed, p,
                             stream_id(Stream::pool), p, 0, M, r);
    Eigen::VectorXf proxy(M), win(M);
    ctx.proxy.score(ctx.backend, r, proxy);
    for (int i = 0; i < M; ++i) win(i) = static_cast<float>(reference_cdf(ctx.reference_gold, r.gold(i)));
    fill_value_row(proxy, r.gold, win, t, p);
  }
  return t;
}

// gaussian pi_ref, linear proxy a . y + c: exact draws from N(mu + s^2 a / beta, s^2), the same z for every beta
std::vector<std::vector<PromptStats>> tilted_gaussian(const KlOptimumConfig& opt, const OptimizerContext& ctx,
                                                      const Eigen::VectorXd& a, const std::vector<double>& betas) {
  const GaussianReference& ref = *ctx.world.gaussian();
  const int P = ctx.world.prompts(), M = opt.samples, B = static_cast<int>(betas.size());
  const Eigen::VectorXd s2 = ref.scale.array().square();
  std::vector<std::vector<PromptStats>> stats(B, std::vector<PromptStats>(P));
  std::vector<double> uniform(M);
  for (int i = 0; i < M; ++i) uniform[i] = (i + 1.0) / M;
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < P; ++p)
    for (int b = 0; b < B; ++b) {
      const Eigen::VectorXd mean = ref.mean + (s2.array() * a.array()).matrix() / betas[b];
      Responses r;
      draw_gaussian_policy_responses(ctx.world, mean, ref.scale, ctx.gold, ctx.proxy.needs(), ctx.backend, ctx.seed,
                                     p, stream_id(Stream::pool), p, 0, M, r);
      Eigen::VectorXf proxy(M);
      ctx.proxy.score(ctx.backend, r, proxy);
      PromptStats& s = stats[b][p];
      for (int i = 0; i < M; ++i) {
        const double x = proxy(i), g = r.gold(i);
        const double v[value_columns] = {x, g, reference_cdf(ctx.reference_gold, r.gold(i)), x * x, g * g, x * g};
        for (int c = 0; c < value_columns; ++c) s.moments[c] += v[c] / M;
      }
      s.kl = (a.array().square() * s2.array()).sum() / (2.0 * betas[b] * betas[b]);
      s.ess = M;
      CounterRng rng(ctx.seed, Stream::accuracy_pairs, p, 2000 + b);
      sample_pair_agreement(proxy.data(), r.gold.data(), uniform, accuracy_pairs_per_prompt(ctx), rng, s);
    }
  return stats;
}

}  // namespace

std::vector<MetricRow> run_kl_optimum(const KlOptimumConfig& opt, const OptimizerContext& ctx) {
  Eigen::VectorXd a;
  double c = 0.0;
  const Divergence d = divergence_of(opt);
  const bool analytic = d == Divergence::kl && !ctx.candidates && ctx.world.gaussian() &&
                        ctx.proxy.linear_in_features(ctx.world.dim(), a, c);
  ResponseTable pool;
  const ResponseTable* table = ctx.candidates;
  if (!ctx.candidates && !analytic) table = &(pool = reference_pool(opt, ctx));
  // the betas: given, or solved for each KL budget
  std::vector<double> betas = opt.beta;
  for (double budget : opt.kl_budget) {
    if (analytic) {
      const double numerator = (a.array().square() * ctx.world.gaussian()->scale.array().square()).sum();
      betas.push_back(std::clamp(std::sqrt(numerator / (2.0 * budget)), min_beta, max_beta));
    } else {
      betas.push_back(beta_for_budget(*table, ctx.backend, d, budget));
    }
  }
  const auto stats = analytic ? tilted_gaussian(opt, ctx, a, betas) : tilt_table(*table, d, betas, ctx);
  std::vector<MetricRow> rows;
  for (std::size_t b = 0; b < betas.size(); ++b) {
    MetricRow row = summarize(stats[b]);
    row.beta = betas[b];
    row.param_name = opt.kl_budget.empty() ? "beta" : "kl_budget";
    row.param = opt.kl_budget.empty() ? betas[b] : opt.kl_budget[b];
    if (!ctx.candidates) row.entropy = not_applicable;
    rows.push_back(row);
  }
  return rows;
}


namespace {

// no beta and no budget: 16 betas logspace(-2, 1)
void resolve(KlOptimumConfig& c, const std::vector<std::string>&) {
  if (c.beta.empty() && c.kl_budget.empty()) c.beta = scenario_detail::logspace(-2.0, 1.0, 16);
}

void validate(const KlOptimumConfig& c, const Scenario&, const Check& k, const std::string& path) {
  if (!c.beta.empty() && !c.kl_budget.empty()) k.fail(path + ".kl_budget", "either beta or kl_budget, not both");
  if (c.beta.empty() && c.kl_budget.empty()) k.fail(path + ".beta", "at least one beta or kl_budget");
}

// with candidates: a tilt pass per beta (60 per budget, for the root finding); otherwise a pool per beta
OptimizerCost cost(const KlOptimumConfig& c, const Scenario& s, int threads) {
  const WorldConfig& w = s.world;
  const double P = w.prompts, d = w.dim, grid = c.beta.size() + c.kl_budget.size(), K = world_abilities(w).candidates;
  if (K > 0)
    return {P * K * (d + 8) * 4.0 + P * grid * 9 * 8.0, P * K * grid * (c.kl_budget.empty() ? 1 : 60) * 5e-9, 0.0,
            "world.prompts, world.candidates"};
  return {P * c.samples * 8 * 4.0 + threads * c.samples * (d + 8) * 4.0, 0.0, P * c.samples * grid,
          "world.prompts, optimizer.samples"};
}

using K = KlOptimumConfig;
const OptimizerRegistration<K> registered(
    "kl_optimum",
    "the exact solution of max E[proxy] - beta D(pi || pi_ref) over a beta grid or at the beta meeting each KL "
    "budget; D is KL (pi_beta ∝ pi_ref exp(proxy / beta)) or, with `divergence`, chi-squared or chi-squared + KL. "
    "Exact sums over a world's candidates (categorical), the exact tilted gaussian of a linear proxy (KL), or the "
    "optimum over a pi_ref pool (self-normalized importance sampling for KL) with its effective sample size",
    {{
        field<K>("divergence", &K::divergence,
                 "the regularizer D = E_ref[f(pi / pi_ref)]. kl: f = z log z, pi ∝ pi_ref exp(proxy / beta). chi2: "
                 "f = (z - 1)^2 / 2, pi / pi_ref = max(0, 1 + (proxy - lambda) / beta) (responses below "
                 "lambda - beta get none). chi2_kl: f = (z - 1)^2 / 2 + z log z (Huang et al. 2024's mixed "
                 "regularizer), pi / pi_ref = phi^-1((proxy - lambda) / beta) with phi(z) = z + log z. lambda "
                 "normalizes each prompt (a 1-D root). The kl column is KL(pi || pi_ref) whatever D is, and "
                 "`kl_budget` targets that KL. chi2 and chi2_kl have heavier-tailed ratios than KL: at equal KL "
                 "they put less mass on the proxy's extreme responses",
                 one_of({"kl", "chi2", "chi2_kl"})),
        field<K>("beta", &K::beta,
                 "beta values. With both `beta` and `kl_budget` empty: 16 values logspace(-2, 1) (0.01 to 10); an "
                 "explicit `beta: []` gets the same",
                 positive()),
        field<K>("kl_budget", &K::kl_budget,
                 "KL targets; the beta meeting each is solved for (bisection in log beta over a bracket scaled to "
                 "the proxy's spread)",
                 positive())
            .alias("target_kl")
            .allowed("each > 0; not together with `beta`"),
        field<K>("samples", &K::samples,
                 "gaussian world: draws per prompt (exact draws for a linear proxy, else the importance-sampling "
                 "pool). Unused in the categorical world",
                 at_least(2))
            .alias("n_samples"),
    }},
    validate, resolve, run_kl_optimum, cost);

}  // namespace

}  // namespace goodhart
