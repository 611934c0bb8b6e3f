// bounds.h — proven bounds as self-checks (runs.csv's bounds_checked and bounds_violated): for each row of a point,
// the theorems that apply to it and whether the row respects them. A violation beyond the tolerance is a bug.
// Contract (bounds.cpp has the formulas), with gain = E_pi[r] - E_ref[r] and KL the row's mean KL(pi || pi_ref):
//   kl_bound           KL <= the row's kl_bound: best-of-n's log n - (n-1)/n (Beirami et al. 2024), soft
//                      best-of-n's log n. Checked where KL is measured (a world with candidates), not the formula.
//   bon_win_rate       best-of-n's gold win rate against pi_ref <= n / (n + 1) (ties 1/2; any rule that picks one
//                      of n pi_ref draws). Candidates only: there the win rate is exact per prompt.
//   proxy_frontier,    gain <= inf_b b (mean_p log E_ref,p[e^(r / b)] + KL) - mean_p E_ref,p[r], the KL-regularized
//   gold_frontier      optimum's value at that KL (Donsker-Varadhan with the exact cumulant generating function);
//                      candidates only (exact sums), for the proxy and for the gold.
//   proxy_subgaussian, gain <= sqrt(2 sigma^2 KL) for an r that is sigma-sub-gaussian under every prompt's pi_ref:
//   gold_subgaussian   candidates: Hoeffding's sigma_p = half the range of r over the prompt's support, with
//                      mean_p sigma_p^2 (Cauchy-Schwarz over prompts); gaussian world: a linear r is gaussian,
//                      sigma^2 = sum a_i^2 s_i^2 (equality for the exact tilt). Rows whose KL is exact or an upper
//                      bound only: best_of_n (the formula bounds the true KL), policy_gradient and dpo (exact), and
//                      kl_optimum's KL tilt of a linear proxy (exact; a pool's reweighted KL is an estimate).
// A scored world's candidates are a pool of pi_ref draws: its best-of-n and soft best-of-n rows estimate the
// file's pi_ref from the pool (their kl is the formula), so they are not checked; its other rows are exact sums.
// Tolerance: exact rows (a world with candidates) 1e-5 (1 + |bound|), float rounding of the tables; Monte Carlo
// rows (the gaussian world) bound_k_se standard errors of the row (proxy_se, gold_se: across prompts, whose
// draws are independent) plus 1e-6; a Monte Carlo row without a standard error (one prompt) is not checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/gold.h"
#include "models/proxy.h"
#include "models/worlds/world.h"
#include "sim/optimizers/optimizer.h"
#include "sim/scenario/config.h"
#include "sim/stats/metrics.h"

namespace goodhart {

enum BoundBit : std::uint8_t {
  bound_kl = 1,
  bound_bon_win_rate = 2,
  bound_proxy_frontier = 4,
  bound_gold_frontier = 8,
  bound_proxy_subgaussian = 16,
  bound_gold_subgaussian = 32,
};

inline constexpr double bound_k_se = 4.0;

struct BoundCheck {
  std::uint8_t checked = 0, violated = 0;
};

// the names of a mask's bounds in BoundBit order, space-separated ("" for none)
std::string bound_names(std::uint8_t mask);

// what a point's rows are checked against: the rewards' reference statistics, computed once per point
class BoundChecker {
 public:
  // candidates: the point's candidate table (a world with candidates), else null
  BoundChecker(const World& world, const Gold& gold, const Proxy& proxy, const ResponseTable* candidates);
  // opt: the row's optimizer
  BoundCheck check(const MetricRow& row, const OptimizerConfig& opt) const;

  // one reward's statistics under pi_ref
  struct Reward {
    int column = v_proxy;           // its values in the candidate table
    bool subgaussian = false;       // sigma_sq is proven (candidates: always; gaussian world: a linear reward)
    double ref_mean = 0.0;          // mean_p E_ref,p[r]
    double sigma_sq = 0.0;          // mean_p sigma_p^2
    // candidates: per prompt, r's largest value and pi_ref's mass on its support; r's largest range
    std::vector<double> top, mass;
    double spread = 1e-12;
    double variance = 0.0;  // mean_p Var_ref,p(r): the frontier search's first guess
  };

 private:
  // inf_l (mean_p log E_ref,p[e^(l r)] + kl) / l - ref_mean over the candidates
  double frontier(const Reward& r, double kl) const;

  const ResponseTable* candidates_;
  bool pool_ = false;          // the candidates are pi_ref draws (a scored world), not its support
  bool proxy_linear_ = false;  // gaussian world: the proxy is linear in the features (kl_optimum's exact tilt)
  Reward proxy_, gold_;
};

}  // namespace goodhart
