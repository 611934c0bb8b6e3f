// metrics.cpp — combining per-prompt statistics into output rows, policy pair sampling and reference CDFs.
// Contract: see metrics.h; summarize throws std::overflow_error when a policy expectation is not finite (values
// beyond the float range), so no infinity or NaN reaches a row in place of a number.
#include "sim/stats/metrics.h"

#include <algorithm>
#include <stdexcept>

namespace goodhart {

MetricRow summarize(const std::vector<PromptStats>& prompts) {
  MetricRow row;
  const double P = static_cast<double>(prompts.size());
  double mean[value_columns] = {}, proxy_sq = 0.0, gold_sq = 0.0;
  double kl = 0.0, entropy = 0.0, ess = 0.0, agree = 0.0, distinct = 0.0;
  for (const PromptStats& s : prompts) {
    for (int c = 0; c < value_columns; ++c) mean[c] += s.moments[c] / P;
    proxy_sq += s.moments[v_proxy] * s.moments[v_proxy];
    gold_sq += s.moments[v_gold] * s.moments[v_gold];
    kl += s.kl / P;
    entropy += s.entropy / P;
    ess += s.ess / P;
    agree += s.pairs_agree;
    distinct += s.pairs_distinct;
  }
  for (int c = 0; c < value_columns; ++c)
    if (!std::isfinite(mean[c]))
      throw std::overflow_error(std::string("a policy expectation of the ") +
                                (c == v_gold || c == v_gold_sq ? "gold" : c == v_win ? "win rate" : "proxy") +
                                " overflowed: values beyond the float range (a value above ~1.8e19 overflows its "
                                "square)");
  row.proxy_mean = mean[v_proxy];
  row.gold_mean = mean[v_gold];
  // standard errors across prompts: each prompt's value is one independent replicate
  if (P > 1) {
    row.proxy_se = std::sqrt(std::max(0.0, (proxy_sq / P - mean[v_proxy] * mean[v_proxy]) / (P - 1)));
    row.gold_se = std::sqrt(std::max(0.0, (gold_sq / P - mean[v_gold] * mean[v_gold]) / (P - 1)));
  }
  row.gold_win_rate = mean[v_win];
  // correlation of proxy and gold under the policy (the mixture over prompts)
  const double var_proxy = mean[v_proxy_sq] - mean[v_proxy] * mean[v_proxy];
  const double var_gold = mean[v_gold_sq] - mean[v_gold] * mean[v_gold];
  const double cov = mean[v_proxy_gold] - mean[v_proxy] * mean[v_gold];
  // clamped to [-1, 1]: moments summed from float values can put the ratio just outside (1.0008 seen at n = N)
  if (var_proxy > 1e-12 && var_gold > 1e-12)
    row.proxy_gold_corr = std::clamp(cov / std::sqrt(var_proxy * var_gold), -1.0, 1.0);
  row.kl = std::max(0.0, kl);  // NaN stays NaN
  if (std::isnan(kl)) row.kl = not_applicable;
  row.sqrt_kl = std::sqrt(row.kl);
  row.entropy = entropy;
  row.ess = ess;
  if (distinct > 0) row.rm_accuracy_policy = agree / distinct;
  return row;
}

void sample_pair_agreement(const float* proxy, const float* gold, const std::vector<double>& cumulative, int pairs,
                           CounterRng& rng, PromptStats& stats) {
  auto draw = [&] {
    const double u = rng.uniform() * cumulative.back();
    const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
    return std::min<std::ptrdiff_t>(it - cumulative.begin(), static_cast<std::ptrdiff_t>(cumulative.size()) - 1);
  };
  for (int i = 0; i < pairs; ++i) {
    const auto a = draw(), b = draw();
    if (a == b) continue;
    stats.pairs_distinct += 1.0;
    const double dp = static_cast<double>(proxy[a]) - proxy[b], dg = static_cast<double>(gold[a]) - gold[b];
    stats.pairs_agree += (dp == 0.0 || dg == 0.0) ? 0.5 : ((dp > 0) == (dg > 0) ? 1.0 : 0.0);
  }
}

double reference_cdf(const std::vector<float>& sorted_reference, float g) {
  const auto lo = std::lower_bound(sorted_reference.begin(), sorted_reference.end(), g);
  const auto hi = std::upper_bound(lo, sorted_reference.end(), g);
  const double below = static_cast<double>(lo - sorted_reference.begin());
  const double equal = static_cast<double>(hi - lo);
  return (below + 0.5 * equal) / static_cast<double>(sorted_reference.size());
}

}  // namespace goodhart
