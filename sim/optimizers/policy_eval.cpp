// policy_eval.cpp — one evaluation row of a trained policy (policy_gradient and dpo).
// Contract (see policy_eval.h):
//   categorical world: per prompt pi = exp(log_probs(p)); every value column's expectation is the exact sum
//     sum_k pi_k values[c](p, k) over ctx.candidates; KL and entropy exact; ess = 1 / sum_k pi_k^2;
//     rm_accuracy_policy from ceil(eval.accuracy_pairs / P) pairs per prompt drawn from pi with
//     CounterRng(seed, accuracy_pairs, p, 3000000 + step).
//   gaussian world: `samples` draws per prompt from N(mean, diag(scale^2)) with identities (pool stream, p, i) —
//     the same standard draws at every step (and those of pi_ref at theta = 0), with the proxy's per-response
//     extras; value columns are sample means (win = reference_cdf of the gold); KL the exact closed form;
//     ess = samples; entropy not applicable; pairs drawn uniformly from the samples with the same key as above.
// Rows carry no step, kl_coef or optimizer name (the caller's) and no rm_accuracy_ref (run.cpp fills it).
#include "sim/optimizers/policy_eval.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace goodhart {

namespace {

constexpr std::uint32_t accuracy_offset = 3000000;  // accuracy_pairs b keys: best_of_n 1000+, kl_optimum 2000+

PromptStats categorical_stats(const Policy& policy, const OptimizerContext& ctx, int p, int step) {
  const ResponseTable& t = *ctx.candidates;
  const int K = ctx.world.candidates()->count;
  const Eigen::ArrayXd lp = policy.log_probs(p).array(), pi = lp.exp();
  const Eigen::ArrayXd log_ref = ctx.world.candidates()->log_ref.row(p).transpose().array();
  const auto possible = pi > 0.0;  // an impossible candidate (log pi = -inf) adds nothing
  PromptStats s;
  s.kl = std::max(0.0, possible.select(pi * (lp - log_ref), 0.0).sum());
  s.entropy = std::max(0.0, -possible.select(pi * lp, 0.0).sum());
  s.ess = 1.0 / pi.square().sum();
  for (int col = 0; col < value_columns; ++col) {  // raw pointers: the float-to-double products vectorize
    const double* q = pi.data();
    const float* v = t.values[col].row(p).data();
    double moment = 0.0;
#pragma omp simd reduction(+ : moment)
    for (int k = 0; k < K; ++k) moment += q[k] > 0.0 ? q[k] * static_cast<double>(v[k]) : 0.0;
    s.moments[col] = moment;
  }
  std::vector<double> cumulative(K);
  std::partial_sum(pi.begin(), pi.end(), cumulative.begin());
  CounterRng rng(ctx.seed, Stream::accuracy_pairs, p, accuracy_offset + static_cast<std::uint32_t>(step));
  sample_pair_agreement(t.values[v_proxy].row(p).data(), t.values[v_gold].row(p).data(), cumulative,
                        accuracy_pairs_per_prompt(ctx), rng, s);
  return s;
}

PromptStats gaussian_stats(const OptimizerContext& ctx, int samples, int p, int step,
                           const Eigen::VectorXd& mean, const Eigen::VectorXd& scale, double kl) {
  const int M = samples;
  Responses r;
  draw_gaussian_policy_responses(ctx.world, mean, scale, ctx.gold, ctx.proxy.needs(), ctx.backend, ctx.seed, p,
                                 stream_id(Stream::pool), p, 0, M, r);
  Eigen::VectorXf proxy(M);
  ctx.proxy.score(ctx.backend, r, proxy);
  PromptStats s;
  for (int i = 0; i < M; ++i) {
    const double x = proxy(i), g = r.gold(i);
    const double v[value_columns] = {x, g, reference_cdf(ctx.reference_gold, r.gold(i)), x * x, g * g, x * g};
    for (int c = 0; c < value_columns; ++c) s.moments[c] += v[c] / M;
  }
  s.kl = kl;
  s.ess = M;
  std::vector<double> uniform(M);
  for (int i = 0; i < M; ++i) uniform[i] = (i + 1.0) / M;
  CounterRng rng(ctx.seed, Stream::accuracy_pairs, p, accuracy_offset + static_cast<std::uint32_t>(step));
  sample_pair_agreement(proxy.data(), r.gold.data(), uniform, accuracy_pairs_per_prompt(ctx), rng, s);
  return s;
}

const Proxy& validation_proxy(const OptimizerContext& ctx) {
  if (!ctx.validation) throw std::logic_error("early stopping without a validation proxy (run.cpp builds it)");
  return ctx.validation->get();
}

}  // namespace

ResponseSignal::ResponseSignal(const OptimizerContext& ctx, DrawNeeds needs, Score score)
    : ctx_(ctx), needs_(needs), score_(std::move(score)) {
  if (!ctx.candidates) return;
  const int P = ctx.world.prompts(), K = ctx.world.candidates()->count;
  Responses r;
  all_candidates(ctx.world, ctx.gold, needs_, ctx.backend, ctx.seed, r);
  Eigen::VectorXf f(r.size());
  score_(r, f);
  candidate_scores_.resize(P, K);
  for (int p = 0; p < P; ++p) candidate_scores_.row(p) = f.segment(static_cast<Eigen::Index>(p) * K, K).transpose();
}

double ResponseSignal::mean(const Policy& policy, int samples) const {
  const OptimizerContext& ctx = ctx_;
  const int P = ctx.world.prompts();
  std::vector<double> slot(static_cast<std::size_t>(P), 0.0);
  const bool categorical = ctx.candidates != nullptr;
  Eigen::VectorXd mean, scale;
  if (!categorical) {
    mean = policy.mean();
    scale = policy.scale();
  }
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < P; ++p) {
    double s = 0.0;
    if (categorical) {
      const Eigen::VectorXd lp = policy.log_probs(p);
      for (Eigen::Index k = 0; k < lp.size(); ++k) s += std::exp(lp(k)) * candidate_scores_(p, k);
    } else {
      Responses r;
      draw_gaussian_policy_responses(ctx.world, mean, scale, ctx.gold, needs_, ctx.backend, ctx.seed, p,
                                     stream_id(Stream::pool), p, 0, samples, r);
      Eigen::VectorXf f(samples);
      score_(r, f);
      for (int i = 0; i < samples; ++i) s += static_cast<double>(f(i)) / samples;
    }
    slot[static_cast<std::size_t>(p)] = s;
  }
  double total = 0.0;
  for (double s : slot) total += s;
  return total / P;
}

TrainingSignals::TrainingSignals(const OptimizerContext& ctx, const std::string& early_stopping)
    : stops_early_(early_stopping == "heldout_proxy") {
  if (early_stopping != "none") {
    const Proxy& validation = validation_proxy(ctx);
    validation_.emplace(ctx, validation.needs(),
                        [&validation, b = ctx.backend](const Responses& r, Eigen::VectorXf& out) {
                          validation.score(b, r, out);
                        });
  }
  const Proxy& proxy = ctx.proxy;
  if (!proxy.noisy && proxy.members.size() >= 2)
    disagreement_.emplace(ctx, proxy.needs(), [&proxy, b = ctx.backend](const Responses& r, Eigen::VectorXf& out) {
      Eigen::MatrixXf scores;
      proxy.member_scores(b, r, scores);
      const Eigen::ArrayXf mean = scores.rowwise().mean().array();
      out = (scores.array().colwise() - mean).square().rowwise().mean().sqrt().matrix();
    });
}

void TrainingSignals::fill(MetricRow& row, const Policy& policy, int samples) const {
  if (validation_) row.validation_proxy = validation_->mean(policy, samples);
  if (disagreement_) row.ensemble_disagreement = disagreement_->mean(policy, samples);
}

bool EarlyStopping::observe(double value, std::size_t row) {
  if (value > best) {
    best = value;
    best_row = row;
    since_best = 0;
  } else if (++since_best >= patience) {
    stopped = true;
  }
  return stopped;
}

void EarlyStopping::finish(std::vector<MetricRow>& rows, std::size_t first) const {
  if (!stopped) return;
  rows.resize(first + best_row + 1);
  rows.back().stopped = 1.0;
}

MetricRow evaluate_policy(const Policy& policy, const OptimizerContext& ctx, int samples, int step) {
  const int P = ctx.world.prompts();
  std::vector<PromptStats> stats(P);
  const bool categorical = ctx.candidates != nullptr;
  Eigen::VectorXd mean, scale;
  double kl = 0.0;
  if (!categorical) {
    mean = policy.mean();
    scale = policy.scale();
    kl = policy.kl(0);
  }
#pragma omp parallel for schedule(dynamic)
  for (int p = 0; p < P; ++p)
    stats[p] = categorical ? categorical_stats(policy, ctx, p, step)
                           : gaussian_stats(ctx, samples, p, step, mean, scale, kl);
  MetricRow row = summarize(stats);
  if (!categorical) row.entropy = not_applicable;
  row.param_name = "step";
  row.param = step;
  row.step = step;
  return row;
}

}  // namespace goodhart
