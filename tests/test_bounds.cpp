// test_bounds.cpp — the proven bounds of runs.csv (sim/engine/bounds.h): the frontier against brute force over a
// simplex, each bound failing when a row breaks it, the KL optimum sitting on its frontier (the bound is tight,
// not vacuous), the exact gaussian tilt on the sub-gaussian bound, and what each world's curves check. That no
// library scenario violates one is checked in test_regression.cpp, where every tiny scenario runs.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "sim/engine/bounds.h"
#include "sim/engine/run.h"
#include "sim/optimizers/kl_optimum.h"
#include "test_helpers.h"

using namespace goodhart;

namespace {

// one prompt, three candidates: pi_ref q, proxy r, gold g
ResponseTable three_candidates() {
  ResponseTable t;
  t.log_ref.resize(1, 3);
  t.log_ref << std::log(0.5f), std::log(0.3f), std::log(0.2f);
  for (auto& v : t.values) v = RowMatrixXf::Zero(1, 3);
  t.values[v_proxy] << 0.0f, 1.0f, 2.5f;
  t.values[v_gold] << 1.0f, 0.0f, -1.0f;
  return t;
}

OptimizerConfig optimizer_of(const std::string& type) {
  OptimizerConfig o;
  o.type = type;
  return o;
}

// the largest E_pi[r] - E_ref[r] over a grid of the simplex with KL(pi || q) <= kl
double brute_force_gain(const ResponseTable& t, int column, double kl) {
  const double q[] = {0.5, 0.3, 0.2};
  double ref = 0.0;
  for (int k = 0; k < 3; ++k) ref += q[k] * t.values[column](0, k);
  double best = -1e300;
  const int n = 1500;
  for (int i = 0; i <= n; ++i)
    for (int j = 0; i + j <= n; ++j) {
      const double pi[] = {double(i) / n, double(j) / n, double(n - i - j) / n};
      double d = 0.0, e = 0.0;
      for (int k = 0; k < 3; ++k) {
        if (pi[k] > 0) d += pi[k] * std::log(pi[k] / q[k]);
        e += pi[k] * t.values[column](0, k);
      }
      if (d <= kl) best = std::max(best, e - ref);
    }
  return best;
}

}  // namespace

TEST_CASE("bounds: the frontier is the brute-force best over the simplex, and a row past it is a violation") {
  const test::FittedProxy f(load_scenario(test::source_path("scenarios/tiny/categorical_exact.yaml")));
  const ResponseTable t = three_candidates();
  const BoundChecker checker(*f.world, f.gold, f.proxy, &t);
  const double ref_proxy = 0.5 * 0 + 0.3 * 1 + 0.2 * 2.5, ref_gold = 0.5 - 0.2;
  for (double kl : {0.0, 0.01, 0.1, 0.5, 1.0}) {
    CAPTURE(kl);
    const double proxy_gain = brute_force_gain(t, v_proxy, kl), gold_gain = brute_force_gain(t, v_gold, kl);
    MetricRow row;
    row.kl = kl;
    row.proxy_mean = ref_proxy + proxy_gain;  // reachable: never a violation
    row.gold_mean = ref_gold + gold_gain;
    BoundCheck c = checker.check(row, optimizer_of("policy_gradient"));
    CHECK(c.checked == (bound_proxy_frontier | bound_gold_frontier | bound_proxy_subgaussian | bound_gold_subgaussian));
    CHECK(c.violated == 0);
    row.proxy_mean += 2e-3;  // past the frontier: the grid's best is within 1e-3 of it at these KLs
    row.gold_mean += 2e-3;
    c = checker.check(row, optimizer_of("policy_gradient"));
    CHECK((c.violated & bound_proxy_frontier) != 0);
    CHECK((c.violated & bound_gold_frontier) != 0);
  }
  // Hoeffding: the proxy's range is 2.5, sigma = 1.25; a gain just past sqrt(2 sigma^2 KL) breaks it
  MetricRow row;
  row.kl = 0.02;
  row.proxy_mean = ref_proxy + std::sqrt(2 * 1.25 * 1.25 * 0.02) * 1.01;
  row.gold_mean = ref_gold;
  CHECK((checker.check(row, optimizer_of("dpo")).violated & bound_proxy_subgaussian) != 0);
  // best-of-n: the KL formula and the win rate n / (n + 1)
  MetricRow bon;
  bon.param = 4;
  bon.kl = std::log(4.0) - 0.75;
  bon.kl_bound = bon.kl;
  bon.gold_win_rate = 0.8;
  bon.proxy_mean = ref_proxy;
  bon.gold_mean = ref_gold;
  BoundCheck c = checker.check(bon, optimizer_of("best_of_n"));
  CHECK((c.checked & (bound_kl | bound_bon_win_rate)) == (bound_kl | bound_bon_win_rate));
  CHECK(c.violated == 0);
  bon.kl *= 1.001;
  bon.gold_win_rate = 0.801;
  c = checker.check(bon, optimizer_of("best_of_n"));
  CHECK(c.violated == (bound_kl | bound_bon_win_rate));
  CHECK(bound_names(c.violated) == "kl_bound bon_win_rate");
  // the win-rate bound is best-of-n's alone
  CHECK((checker.check(bon, optimizer_of("soft_best_of_n")).checked & bound_bon_win_rate) == 0);
}

TEST_CASE("bounds: the KL optimum's rows lie on the frontier, so the check is tight (categorical, exact sums)") {
  const test::FittedProxy f(load_scenario(test::source_path("scenarios/tiny/categorical_exact.yaml")));
  const ResponseTable t = candidate_table(*f.world, f.gold, f.proxy, Backend::cpu, f.s.seed);
  const BoundChecker checker(*f.world, f.gold, f.proxy, &t);
  OptimizerConfig opt = optimizer_of("kl_optimum");
  const std::vector<float> no_reference_gold;  // a world with candidates sums win rates exactly
  const OptimizerContext ctx{f.s, *f.world, f.gold, f.proxy, Backend::cpu, f.s.seed, no_reference_gold, &t};
  KlOptimumConfig k;
  k.beta = {0.05, 0.2, 1.0};
  for (MetricRow row : run_kl_optimum(k, ctx)) {
    CAPTURE(row.beta);
    CHECK(checker.check(row, opt).violated == 0);
    row.proxy_mean += 1e-3 * (1.0 + std::abs(row.proxy_mean));  // a hair past the optimum
    CHECK((checker.check(row, opt).violated & bound_proxy_frontier) != 0);
  }
}

TEST_CASE("bounds: the gaussian world checks the sub-gaussian bound where it is proven, and the exact tilt meets it") {
  const test::FittedProxy f(load_scenario(test::source_path("scenarios/tiny/gao_rl_exact.yaml")));
  REQUIRE(f.world->gaussian() != nullptr);
  const BoundChecker checker(*f.world, f.gold, f.proxy, nullptr);
  MetricRow row;
  row.kl = 1.0;
  row.proxy_mean = std::sqrt(2.0);  // a standardized linear proxy: sigma = 1
  row.proxy_se = 0.01;
  row.gold_mean = 0.0;
  row.gold_se = 0.01;
  const BoundCheck pg = checker.check(row, optimizer_of("policy_gradient"));
  CHECK((pg.checked & bound_proxy_subgaussian) != 0);
  CHECK((pg.checked & (bound_proxy_frontier | bound_kl | bound_bon_win_rate)) == 0);  // candidates only
  CHECK(pg.violated == 0);
  row.proxy_mean += 5 * row.proxy_se;
  CHECK((checker.check(row, optimizer_of("policy_gradient")).violated & bound_proxy_subgaussian) != 0);
  // a pool-reweighted optimum's KL is an estimate: not checked
  CHECK(checker.check(row, optimizer_of("soft_best_of_n")).checked == 0);
}
