// test_scenarios.cpp — what each library scenario claims in its description, checked at tiny size.
// Contract: statistical claims use k standard errors (stated) or margins far outside the noise; fixed seeds.
#include <doctest/doctest.h>

#include <algorithm>

#include "sim/stats/fits.h"
#include "test_helpers.h"

using namespace goodhart;
using test::PointRun;

namespace {

struct Curve {
  std::vector<double> d, gold, gold_se, proxy, proxy_se;
};

Curve curve_of(const PointResult& r, const std::string& optimizer) {
  Curve c;
  for (const MetricRow& m : test::rows_of(r, optimizer)) {
    c.d.push_back(m.sqrt_kl);
    c.gold.push_back(m.gold_mean);
    c.gold_se.push_back(m.gold_se);
    c.proxy.push_back(m.proxy_mean);
    c.proxy_se.push_back(m.proxy_se);
  }
  return c;
}

const PointRun& point_where(const std::vector<PointRun>& runs, const std::string& key, const std::string& value,
                            const std::string& key2 = "", const std::string& value2 = "") {
  for (const PointRun& r : runs)
    if (r.swept(key) == value && (key2.empty() || r.swept(key2) == value2)) return r;
  FAIL("no point with " << key << "=" << value);
  return runs.front();
}

// gold rises to a peak strictly inside the grid, then falls by more than k = 3 standard errors
void check_turnover(const Curve& c) {
  const EmpiricalPeak peak = empirical_peak(c.d, c.gold);
  CHECK(peak.index > 0);
  CHECK(peak.index + 1 < c.gold.size());
  CHECK(c.gold.back() < peak.gold - 3.0 * (c.gold_se.back() + c.gold_se[peak.index]));
}

}  // namespace

TEST_CASE("gao_bon_learned: proxy rises, the linear proxy's gold turns over, the richer proxy moves the peak out") {
  const auto runs = test::run_scenario("scenarios/tiny/gao_bon_learned.yaml");
  for (const PointRun& r : runs) {
    INFO(r.swept("proxy.model") << " " << r.swept("preferences.n_pairs"));
    const Curve c = curve_of(r.result, "best_of_n");
    // proxy rises monotonically with n (k = 2 standard errors of slack between neighbours)
    for (std::size_t i = 1; i < c.proxy.size(); ++i)
      CHECK(c.proxy[i] > c.proxy[i - 1] - 2.0 * (c.proxy_se[i] + c.proxy_se[i - 1]));
  }
  for (const char* pairs : {"300", "10000"}) {
    const Curve linear = curve_of(point_where(runs, "proxy.model", "linear", "preferences.n_pairs", pairs).result,
                                  "best_of_n");
    check_turnover(linear);
    CHECK(fit_gao_bon(linear.d, linear.gold).r2 >= 0.95);
  }
  // the quadratic proxy with more data peaks further out than the linear proxy
  const Curve linear = curve_of(point_where(runs, "proxy.model", "linear", "preferences.n_pairs", "10000").result,
                                "best_of_n");
  const Curve quadratic = curve_of(point_where(runs, "proxy.model", "quadratic", "preferences.n_pairs", "10000").result,
                                   "best_of_n");
  CHECK(empirical_peak(quadratic.d, quadratic.gold).sqrt_kl > empirical_peak(linear.d, linear.gold).sqrt_kl + 1.0);
  CHECK(empirical_peak(quadratic.d, quadratic.gold).gold > empirical_peak(linear.d, linear.gold).gold + 0.5);
}

TEST_CASE("gao_rl_exact: gold turns over in sqrt(KL) and the better Gao form fits with R^2 >= 0.9") {
  const auto runs = test::run_scenario("scenarios/tiny/gao_rl_exact.yaml");
  const Curve linear = curve_of(point_where(runs, "proxy.model", "linear").result, "kl_optimum");
  check_turnover(linear);
  for (const PointRun& r : runs) {
    const Curve c = curve_of(r.result, "kl_optimum");
    CHECK(std::max(fit_gao_bon(c.d, c.gold).r2, fit_gao_rl(c.d, c.gold).r2) >= 0.9);
  }
  // importance sampling reports its effective sample size; exact draws report all of them
  for (const MetricRow& m : point_where(runs, "proxy.model", "quadratic").result.rows)
    CHECK((m.ess > 1.0 && m.ess <= 4096.0));
}

TEST_CASE("catastrophic_heavy_tail: heavy-tailed errors make the gold gain vanish as optimization grows") {
  const auto runs = test::run_scenario("scenarios/tiny/catastrophic_heavy_tail.yaml");
  const PointRun& light = point_where(runs, "proxy.noise.distribution", "gaussian");
  for (const char* optimizer : {"best_of_n", "kl_optimum"}) {
    const Curve g = curve_of(light.result, optimizer);
    INFO(optimizer);
    CHECK(g.gold.back() > 2.0);  // light tails: gold keeps rising (e_n / sqrt 2 = 2.55 at n = 4096)
    for (const char* heavy : {"student_t", "lognormal", "levy"}) {
      INFO(heavy);
      const Curve h = curve_of(point_where(runs, "proxy.noise.distribution", heavy).result, optimizer);
      // at the largest n or KL budget the gain is gone: within 3 standard errors of 0.1 at most
      CHECK(h.gold.back() < 0.1 + 3.0 * h.gold_se.back());
      CHECK(h.gold.back() < 0.1 * g.gold.back());
    }
  }
}

TEST_CASE("categorical_exact: exact best-of-n KL below the formula, never above the KL optimum's proxy frontier") {
  const auto first = test::run_scenario("scenarios/tiny/categorical_exact.yaml");
  std::string budgets = "[";
  std::vector<MetricRow> bon = test::rows_of(first[0].result, "best_of_n");
  for (const MetricRow& m : bon) {
    CHECK(m.kl <= m.kl_bound + 1e-9);
    if (m.param > 1) budgets += (budgets.size() > 1 ? ", " : "") + std::to_string(m.kl);
  }
  budgets += "]";
  // the tilt at the beta meeting each best-of-n KL maximizes proxy at that KL
  const auto at_same_kl = test::run_scenario("scenarios/tiny/categorical_exact.yaml",
                                             {"optimizers[1].beta=[]", "optimizers[1].kl_budget=" + budgets});
  const std::vector<MetricRow> tilt = test::rows_of(at_same_kl[0].result, "kl_optimum");
  REQUIRE(tilt.size() + 1 == bon.size());
  for (std::size_t i = 0; i < tilt.size(); ++i) {
    INFO("n = " << bon[i + 1].param);
    CHECK(tilt[i].kl == doctest::Approx(bon[i + 1].kl).epsilon(1e-4));
    CHECK(bon[i + 1].proxy_mean <= tilt[i].proxy_mean + 1e-4);
  }
}
