// bounds.cpp — the proven bounds of bounds.h, row by row.
// Contract: plain double sums over the candidate table (independent of the optimizers' fast paths). The frontier:
// for every l = 1 / b > 0 and any policy, E_pi[r] - KL(pi || pi_ref) / l <= Lambda_p(l) / l per prompt, Lambda_p
// the log moment generating function of r under pi_ref (Donsker-Varadhan; equality at the tilt pi_l ∝ pi_ref
// e^(l r)), so mean_p E_pi[r] <= B(l) = (mean_p Lambda_p(l) + KL) / l for every l. dB/dl = (KL(pi_l) - KL) / l^2,
// so the infimum is at the l whose tilt spends the row's KL: a Newton search in log l on KL(pi_l) = KL, kept
// inside a bisection bracket, returns the smallest B it evaluated, a value at or above the infimum: the bound used
// is never tighter than the theorem's. Sub-gaussian: Lambda_p(l) <= l E_ref,p[r] + l^2 sigma_p^2 / 2 gives
// gain_p <= sqrt(2 sigma_p^2 KL_p), and mean_p sqrt(sigma_p^2 KL_p) <= sqrt(mean sigma^2 mean KL).
#include "sim/engine/bounds.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/optimizers/kl_optimum.h"

namespace goodhart {

namespace {

const char* const bound_name[] = {"kl_bound",         "bon_win_rate",     "proxy_frontier",
                                  "gold_frontier",    "proxy_subgaussian", "gold_subgaussian"};

bool finite(double x) { return std::isfinite(x); }

// the tilt pi_l of every prompt's pi_ref by e^(l r), as means over prompts
struct Tilt {
  double log_mgf = 0.0;  // mean_p Lambda_p(l)
  double kl = 0.0;       // mean_p KL(pi_l || pi_ref)
  double variance = 0.0;  // mean_p Var_{pi_l}(r): d kl / d log l = l^2 variance
};

}  // namespace

std::string bound_names(std::uint8_t mask) {
  std::string out;
  for (int i = 0; i < 6; ++i)
    if (mask & (1u << i)) out += (out.empty() ? "" : " ") + std::string(bound_name[i]);
  return out;
}

BoundChecker::BoundChecker(const World& world, const Gold& gold, const Proxy& proxy, const ResponseTable* candidates)
    : candidates_(candidates), pool_(world.candidates() && world.candidates()->sampled) {
  proxy_.column = v_proxy;
  gold_.column = v_gold;
  if (candidates) {
    for (Reward* r : {&proxy_, &gold_}) {
      const RowMatrixXf& v = candidates->values[r->column];
      const Eigen::Index P = v.rows();
      r->subgaussian = true;
      for (Eigen::Index p = 0; p < P; ++p) {
        double mean = 0.0, mass = 0.0;
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (Eigen::Index k = 0; k < v.cols(); ++k) {
          if (!std::isfinite(candidates->log_ref(p, k))) continue;  // outside pi_ref's support
          const double q = std::exp(static_cast<double>(candidates->log_ref(p, k)));
          mean += q * v(p, k);
          mass += q;
          lo = std::min(lo, static_cast<double>(v(p, k)));
          hi = std::max(hi, static_cast<double>(v(p, k)));
        }
        r->ref_mean += mean / mass / static_cast<double>(P);
        double second = 0.0;
        for (Eigen::Index k = 0; k < v.cols(); ++k)
          if (std::isfinite(candidates->log_ref(p, k)))
            second += std::exp(static_cast<double>(candidates->log_ref(p, k))) * (v(p, k) - mean / mass) *
                      (v(p, k) - mean / mass);
        r->variance += second / mass / static_cast<double>(P);
        r->sigma_sq += 0.25 * (hi - lo) * (hi - lo) / static_cast<double>(P);
        r->top.push_back(hi);
        r->mass.push_back(mass);
        r->spread = std::max(r->spread, hi - lo);
      }
    }
    return;
  }
  const GaussianReference* ref = world.gaussian();
  if (!ref) return;
  const Eigen::ArrayXd s2 = ref->scale.array().square();
  Eigen::VectorXd a;
  double c = 0.0;
  if (proxy.linear_in_features(world.dim(), a, c)) {
    proxy_linear_ = proxy_.subgaussian = true;
    proxy_.ref_mean = a.dot(ref->mean) + c;
    proxy_.sigma_sq = (a.array().square() * s2).sum();
  }
  if (!gold.concave && gold.mlp.layers() == 1 && gold.mlp.inputs() == world.dim()) {
    const Eigen::VectorXd w = gold.mlp.weights[0].col(0);
    gold_.subgaussian = true;
    gold_.ref_mean = w.dot(ref->mean) + gold.mlp.biases[0](0);
    gold_.sigma_sq = (w.array().square() * s2).sum();
  }
}

// one pass over the candidates: pi_ref's mass and r's largest value per prompt (its support) were kept by the
// constructor, so e^(log q + l (r - top)) never overflows and a candidate outside the support weighs 0; exponents
// below -600 are raised to it (no subnormals: a weight of at most e^-600 more, which only raises the bound)
static Tilt tilt(const ResponseTable& t, const BoundChecker::Reward& r, double l) {
  const RowMatrixXf& v = t.values[r.column];
  const Eigen::Index P = v.rows();
  Eigen::ArrayXd log_mgf(P), kl(P), variance(P);
#pragma omp parallel for schedule(static)
  for (Eigen::Index p = 0; p < P; ++p) {
    const Eigen::ArrayXd x = v.row(p).transpose().cast<double>().array() - r.top[p];
    const Eigen::ArrayXd w = (t.log_ref.row(p).transpose().cast<double>().array() + l * x).max(-600.0).exp();
    const double z = w.sum(), m1 = (w * x).sum() / z, m2 = (w * x.square()).sum() / z;
    log_mgf(p) = l * r.top[p] + std::log(z / r.mass[p]);
    kl(p) = l * m1 - std::log(z / r.mass[p]);
    variance(p) = std::max(0.0, m2 - m1 * m1);
  }
  // summed in prompt order: the same at any thread count
  Tilt out;
  for (Eigen::Index p = 0; p < P; ++p) {
    out.log_mgf += log_mgf(p) / P;
    out.kl += kl(p) / P;
    out.variance += variance(p) / P;
  }
  return out;
}

double BoundChecker::frontier(const Reward& r, double kl) const {
  const ResponseTable& t = *candidates_;
  double best = std::numeric_limits<double>::infinity();
  const auto at = [&](double log_l) {
    const double l = std::exp(log_l);
    const Tilt s = tilt(t, r, l);
    best = std::min(best, (s.log_mgf + kl) / l);
    return s;
  };
  // the bracket's ends are never evaluated (far out, most weights underflow); the first guess is the gaussian
  // tilt's l = sqrt(2 KL / Var_ref(r))
  double lo = std::log(1e-6 / r.spread), hi = std::log(1e6 / r.spread);
  double x = std::clamp(0.5 * std::log(2.0 * std::max(kl, 1e-12) / std::max(r.variance, 1e-300)), lo + 1.0, hi - 1.0);
  for (int it = 0; it < 60 && hi - lo > 1e-9; ++it) {
    const Tilt s = at(x);
    if (std::abs(s.kl - kl) <= 1e-4 * kl + 1e-12) break;  // B is flat there: ~1e-9 of the gain from its infimum
    (s.kl < kl ? lo : hi) = x;
    const double l = std::exp(x), slope = l * l * s.variance;
    const double newton = slope > 0.0 ? x - (s.kl - kl) / slope : lo - 1.0;
    x = newton > lo && newton < hi ? newton : 0.5 * (lo + hi);
  }
  return best - r.ref_mean;
}

BoundCheck BoundChecker::check(const MetricRow& row, const OptimizerConfig& opt) const {
  const std::string& optimizer_type = opt.type;
  BoundCheck out;
  const bool exact = candidates_ != nullptr;
  const auto test = [&](std::uint8_t bit, double value, double bound, double se) {
    if (!finite(value) || !finite(bound)) return;
    if (!exact && !finite(se)) return;  // a Monte Carlo row without its standard error (one prompt)
    out.checked |= bit;
    const double tolerance = exact ? 1e-5 * (1.0 + std::abs(bound)) : bound_k_se * se + 1e-6;
    if (value > bound + tolerance) out.violated |= bit;
  };
  if (!finite(row.kl)) return out;
  if (pool_ && (optimizer_type == "best_of_n" || optimizer_type == "soft_best_of_n")) return out;
  const double kl = std::max(row.kl, 0.0);
  if (exact) {
    test(bound_kl, row.kl, row.kl_bound, 0.0);
    if (optimizer_type == "best_of_n") test(bound_bon_win_rate, row.gold_win_rate, row.param / (row.param + 1.0), 0.0);
    test(bound_proxy_frontier, row.proxy_mean - proxy_.ref_mean, frontier(proxy_, kl), 0.0);
    test(bound_gold_frontier, row.gold_mean - gold_.ref_mean, frontier(gold_, kl), 0.0);
  } else {
    // the rows whose kl is exact or bounds the true KL from above
    const bool kl_bounds = optimizer_type == "best_of_n" || optimizer_type == "policy_gradient" ||
                           optimizer_type == "dpo" ||
                           (optimizer_type == "kl_optimum" && proxy_linear_ &&
                            opt.get<KlOptimumConfig>().divergence == "kl");
    if (!kl_bounds) return out;
  }
  if (proxy_.subgaussian)
    test(bound_proxy_subgaussian, row.proxy_mean - proxy_.ref_mean, std::sqrt(2.0 * proxy_.sigma_sq * kl),
         row.proxy_se);
  if (gold_.subgaussian)
    test(bound_gold_subgaussian, row.gold_mean - gold_.ref_mean, std::sqrt(2.0 * gold_.sigma_sq * kl), row.gold_se);
  return out;
}

}  // namespace goodhart
