// test_scenarios_rl.cpp — what the trained-policy scenarios (gao_rl_pg, frontier, adaptive_kl,
// dpo_overoptimization) claim in their descriptions, checked on their tiny copies.
// Contract: fixed seeds; each tolerance is stated beside its check and is either k standard errors or a margin
// well outside the seed-to-seed spread measured on seeds 0-2 (the spread is quoted); every check can fail. About
// 4 s in Release.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "sim/stats/fits.h"
#include "test_helpers.h"

using namespace goodhart;
using test::PointRun;

namespace {

const PointRun& point_at(const std::vector<PointRun>& runs, const std::string& key, const std::string& value,
                         const std::string& key2 = "", const std::string& value2 = "") {
  for (const PointRun& r : runs)
    if (r.swept(key) == value && (key2.empty() || r.swept(key2) == value2)) return r;
  FAIL("no point with " << key << "=" << value << " " << key2 << "=" << value2);
  return runs.front();
}

// a column of a curve, linearly interpolated in kl (rows in training or grid order, kl increasing along the
// interpolated stretch); NaN outside the curve's range
double at_kl(const std::vector<MetricRow>& rows, double kl, double MetricRow::*column) {
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const double lo = rows[i - 1].kl, hi = rows[i].kl;
    if (std::min(lo, hi) <= kl && kl <= std::max(lo, hi)) {
      const double t = hi == lo ? 0.0 : (kl - lo) / (hi - lo);
      return rows[i - 1].*column + t * (rows[i].*column - rows[i - 1].*column);
    }
  }
  return std::nan("");
}

// the same in sqrt(KL) over a curve sorted by it (best_of_n's n grid, kl_optimum's beta grid)
double at_sqrt_kl(std::vector<MetricRow> rows, double d, double MetricRow::*column) {
  std::sort(rows.begin(), rows.end(), [](const MetricRow& a, const MetricRow& b) { return a.sqrt_kl < b.sqrt_kl; });
  for (std::size_t i = 1; i < rows.size(); ++i)
    if (rows[i - 1].sqrt_kl <= d && d <= rows[i].sqrt_kl) {
      const double t = (d - rows[i - 1].sqrt_kl) / (rows[i].sqrt_kl - rows[i - 1].sqrt_kl);
      return rows[i - 1].*column + t * (rows[i].*column - rows[i - 1].*column);
    }
  return std::nan("");
}

std::vector<double> column(const std::vector<MetricRow>& rows, double MetricRow::*c) {
  std::vector<double> v;
  for (const MetricRow& m : rows) v.push_back(m.*c);
  return v;
}

}  // namespace

TEST_CASE("rl scenario gao_rl_pg: unpenalized PPO overoptimizes; a KL penalty stops early on the same frontier") {
  const auto runs = test::run_scenario("scenarios/tiny/gao_rl_pg.yaml");
  const std::vector<MetricRow> free = test::rows_of(point_at(runs, "optimizer.kl_coef", "0.0").result, "policy_gradient");
  REQUIRE(free.size() == 21);  // steps 0, 20, ..., 400
  // without a penalty: proxy rises at every row, gold peaks inside the run and ends far below the peak (k = 3
  // standard errors; the fall is about 4.5 gold units against standard errors of about 0.01)
  for (std::size_t i = 1; i < free.size(); ++i) CHECK(free[i].proxy_mean > free[i - 1].proxy_mean);
  const std::vector<double> d = column(free, &MetricRow::sqrt_kl), gold = column(free, &MetricRow::gold_mean);
  const EmpiricalPeak peak = empirical_peak(d, gold);
  CHECK(peak.index > 0);
  CHECK(peak.index + 1 < free.size());
  CHECK(free.back().gold_mean < peak.gold - 3.0 * (free.back().gold_se + free[peak.index].gold_se));
  CHECK(free.back().gold_mean < 0.0);
  // the straight-line path makes gold quadratic in d: the best-of-n form fits better than the RL form
  const GaoFit bon = fit_gao_bon(d, gold), rl = fit_gao_rl(d, gold);
  MESSAGE("unpenalized PPO: gold peaks at " << peak.gold << " (sqrt KL " << peak.sqrt_kl << "), ends at "
                                            << free.back().gold_mean << " (sqrt KL " << free.back().sqrt_kl
                                            << "); bon_r2 " << bon.r2 << ", rl_r2 " << rl.r2);
  CHECK(bon.r2 > 0.99);
  CHECK(rl.r2 > 0.9);
  CHECK(rl.r2 < bon.r2);
  for (const char* coef : {"0.5", "1.0"}) {
    const double beta = std::stod(coef);
    const std::vector<MetricRow> pen = test::rows_of(point_at(runs, "optimizer.kl_coef", coef).result,
                                                     "policy_gradient");
    const MetricRow& last = pen.back();
    // early stopping: the run settles at the KL of the optimum pi_ref exp(proxy / beta), 1 / (2 beta^2) for a
    // standardized linear proxy (within 2%; seeds 0-2 land within 1%), far below the unpenalized run's KL...
    CHECK(last.kl == doctest::Approx(0.5 / (beta * beta)).epsilon(0.02));
    CHECK(last.kl < 0.2 * free.back().kl);
    // ...on the exact proxy frontier sqrt(2 KL) (within 2%)
    CHECK(last.proxy_mean == doctest::Approx(std::sqrt(2.0 * last.kl)).epsilon(0.02));
    // and at that KL the unpenalized trajectory's gold is about the same: within 0.1 gold units (15% of the
    // peak gold). Measured on seeds 0-2: the penalized run is higher by 0.02 to 0.06, because Adam's
    // per-coordinate steps bend the unpenalized path off the proxy's direction (its proxy is 2-6% below the
    // frontier) while the penalty pulls the policy back onto it
    const double free_gold = at_kl(free, last.kl, &MetricRow::gold_mean);
    const double free_proxy = at_kl(free, last.kl, &MetricRow::proxy_mean);
    MESSAGE("kl_coef " << std::string(coef) << ": final KL " << last.kl << ", gold " << last.gold_mean << " +- " << last.gold_se
                       << ", proxy " << last.proxy_mean << "; unpenalized at that KL: gold " << free_gold
                       << ", proxy " << free_proxy);
    REQUIRE(!std::isnan(free_gold));
    CHECK(std::abs(last.gold_mean - free_gold) < 0.1);
    CHECK(free_proxy <= last.proxy_mean + 1e-3);
  }
}

TEST_CASE("rl scenario frontier: nothing beats the exact optimum's proxy; best-of-n buys gold with less KL than RL") {
  const auto first = test::run_scenario("scenarios/tiny/frontier.yaml");
  REQUIRE(first.size() == 1);
  const PointResult& r = first[0].result;
  const std::vector<std::string> trained = {"rloo", "ppo", "grpo"};
  // every row with KL > 0 of best_of_n, the policy-gradient runs and dpo, in that order
  std::vector<MetricRow> rows;
  for (const std::string& name : {std::string("best_of_n"), trained[0], trained[1], trained[2], std::string("dpo")})
    for (const MetricRow& m : test::rows_of(r, name))
      if (m.kl > 1e-6) rows.push_back(m);
  std::string budgets = "[";
  for (const MetricRow& m : rows) budgets += (budgets.size() > 1 ? ", " : "") + std::to_string(m.kl);
  budgets += "]";
  // the exact optimum at each row's KL (training shortened to one step: only kl_optimum's rows are used)
  const auto at_same_kl = test::run_scenario(
      "scenarios/tiny/frontier.yaml", {"optimizers[1].beta=[]", "optimizers[1].kl_budget=" + budgets,
                                       "optimizers[2].steps=1", "optimizers[3].steps=1", "optimizers[4].steps=1",
                                       "optimizers[5].steps=1"});
  const std::vector<MetricRow> optimum = test::rows_of(at_same_kl[0].result, "kl_optimum");
  REQUIRE(optimum.size() == rows.size());
  std::map<std::string, double> closest;  // smallest gap below the frontier per optimizer
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO(rows[i].optimizer << " param " << rows[i].param << " KL " << rows[i].kl);
    CHECK(optimum[i].kl == doctest::Approx(rows[i].kl).epsilon(1e-4));
    // exact sums in the categorical world: no noise, so the bound is checked to rounding (1e-4). It is a theorem
    // for any policy; for dpo, which never sees the proxy, it is only a consistency check
    CHECK(rows[i].proxy_mean <= optimum[i].proxy_mean + 1e-4);
    const double gap = optimum[i].proxy_mean - rows[i].proxy_mean;
    if (!closest.count(rows[i].optimizer) || gap < closest[rows[i].optimizer]) closest[rows[i].optimizer] = gap;
  }
  for (const auto& [name, gap] : closest) MESSAGE(name << ": closest approach to the proxy frontier " << gap);
  // gold: best-of-n reaches a given gold at less KL than the policy-gradient runs. At every trained row with
  // 0.5 <= sqrt(KL) <= 1.3, best-of-n's gold interpolated at that sqrt(KL) is higher by more than 0.02 (seeds
  // 0-2: the smallest margin is 0.041, most are about 0.1; gold_se, about 0.03-0.06 here, is the spread across
  // prompts, which both optimizers share, so the seed-to-seed spread is the relevant noise)
  const std::vector<MetricRow> bon = test::rows_of(r, "best_of_n");
  for (const std::string& name : trained) {
    double smallest = 1e9;
    for (const MetricRow& m : test::rows_of(r, name)) {
      if (m.sqrt_kl < 0.5 || m.sqrt_kl > 1.3) continue;
      const double margin = at_sqrt_kl(bon, m.sqrt_kl, &MetricRow::gold_mean) - m.gold_mean;
      INFO(name << " step " << m.step << " sqrt KL " << m.sqrt_kl);
      CHECK(margin > 0.02);
      smallest = std::min(smallest, margin);
    }
    MESSAGE(name << ": best-of-n's gold exceeds it at equal sqrt(KL) in [0.5, 1.3] by at least " << smallest);
    CHECK(smallest < 1e9);  // at least one row in the window
  }
}

TEST_CASE("rl scenario adaptive_kl: the adaptive controller holds the exact KL within 10% of each target") {
  const auto runs = test::run_scenario("scenarios/tiny/adaptive_kl.yaml");
  REQUIRE(runs.size() == 3);
  for (const PointRun& p : runs) {
    const double target = std::stod(p.swept("optimizer.adaptive_kl_target"));
    const std::vector<MetricRow> rows = test::rows_of(p.result, "policy_gradient");
    REQUIRE(rows.size() == 31);  // steps 0, 20, ..., 600
    double worst = 0.0, mean = 0.0;
    int count = 0;
    for (const MetricRow& m : rows) {
      if (m.step < 400) continue;  // warm-up: the first 400 of 600 steps
      INFO("target " << target << " step " << m.step << " KL " << m.kl);
      CHECK(std::abs(m.kl / target - 1.0) < 0.1);
      worst = std::max(worst, std::abs(m.kl / target - 1.0));
      mean += m.kl;
      ++count;
    }
    MESSAGE("target " << target << ": mean exact KL over steps 400-600 " << mean / count << ", worst relative deviation "
                      << worst << ", coefficient " << rows.front().kl_coef << " -> " << rows.back().kl_coef);
    // the controller moved the coefficient up from its start (about 70% of the one that holds the target)
    CHECK(rows.back().kl_coef > 1.2 * rows.front().kl_coef);
  }
}

TEST_CASE("rl scenario dpo_overoptimization: small-beta DPO overshoots the gold peak; IPO's KL stays bounded") {
  const auto runs = test::run_scenario("scenarios/tiny/dpo_overoptimization.yaml");
  auto curve = [&](const char* loss, const char* beta) {
    return test::rows_of(point_at(runs, "optimizer.loss_type", loss, "optimizer.beta", beta).result, "dpo");
  };
  for (const char* beta : {"0.03", "0.1", "0.3"}) {
    const std::vector<MetricRow> dpo = curve("sigmoid", beta), ipo = curve("ipo", beta);
    REQUIRE(dpo.size() == 17);  // steps 0, 25, ..., 400
    const EmpiricalPeak peak = empirical_peak(column(dpo, &MetricRow::sqrt_kl), column(dpo, &MetricRow::gold_mean));
    const std::size_t mid = dpo.size() / 2;  // step 200
    MESSAGE("beta " << std::string(beta) << ": dpo gold peak " << peak.gold << " at sqrt KL " << peak.sqrt_kl << ", final "
                    << dpo.back().gold_mean << " at KL " << dpo.back().kl << " (KL " << dpo[mid].kl
                    << " at step 200); ipo final gold " << ipo.back().gold_mean << " at KL " << ipo.back().kl
                    << " (KL " << ipo[mid].kl << " at step 200)");
    if (std::string(beta) != "0.3") {
      // small beta: a hump through training, the end more than 1 gold unit below the peak (standard errors
      // under 0.04; seeds 0-2 fall by 1.8 to 2.7 at beta 0.1 and by 12.6 to 15.8 at beta 0.03)
      CHECK(peak.index > 0);
      CHECK(peak.index + 1 < dpo.size());
      CHECK(dpo.back().gold_mean < peak.gold - 1.0);
      // IPO degrades less at the same beta
      CHECK(ipo.back().gold_mean > dpo.back().gold_mean + 3.0 * (ipo.back().gold_se + dpo.back().gold_se));
    } else {
      // beta 0.3 settles near the peak: the end within 0.05 of the peak (seeds 0-2: within 0.011)
      CHECK(dpo.back().gold_mean > peak.gold - 0.05);
    }
    // IPO's KL levels off: over the last quarter of training (steps 300 to 400) it grows by less than 25% (seeds
    // 0-2: at most 10%; Adam's minibatch jitter moves it by up to about 20% between rows at beta 0.3), and it
    // ends far below DPO's at the same beta (seeds 0-2: 7 to 20 times lower)
    const std::size_t late = 3 * (dpo.size() - 1) / 4;
    CHECK(ipo.back().kl < 1.25 * ipo[late].kl);
    CHECK(ipo.back().kl < 0.5 * dpo.back().kl);
  }
  // DPO at beta 0.03 has not converged: its KL still grows by more than 35% over the last quarter (seeds 0-2: 46%
  // to 52%)
  const std::vector<MetricRow> small = curve("sigmoid", "0.03");
  CHECK(small.back().kl > 1.35 * small[3 * (small.size() - 1) / 4].kl);
  // one curve: DPO and IPO move along the same direction (the Bradley-Terry direction of the pairs), so IPO's
  // end at beta 0.03 has the gold of DPO's trajectory at the same KL, within 0.1 (seeds 0-2: within 0.03)
  const std::vector<MetricRow> ipo = curve("ipo", "0.03");
  const double dpo_gold = at_kl(small, ipo.back().kl, &MetricRow::gold_mean);
  MESSAGE("ipo beta 0.03 ends at KL " << ipo.back().kl << " with gold " << ipo.back().gold_mean
                                      << "; dpo's trajectory at that KL: " << dpo_gold);
  REQUIRE(!std::isnan(dpo_gold));
  CHECK(std::abs(ipo.back().gold_mean - dpo_gold) < 0.1);
}
