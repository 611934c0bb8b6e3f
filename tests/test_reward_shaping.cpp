// test_reward_shaping.cpp — policy_gradient's reward_transform (sim/optimizers/reward_transform.h): the quantile
// against hand-computed values, the reference responses against pi_ref (PAR's shaped reward with many references
// against the exact expectation over the candidates, 4 standard errors), the shaped rewards against their
// formulas, determinism, located errors, and the claims of scenarios/reward_shaping.yaml at tiny size.
// Contract: fixed seeds; scenario margins are far outside the seed-to-seed spread (seeds 0-2 checked when the
// scenario was written: final gold of par 0.67-0.71, of the raw proxy -14 to -17).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "models/proxy.h"
#include "models/worlds/registry.h"
#include "sim/optimizers/reward_transform.h"
#include "test_helpers.h"

using namespace goodhart;

namespace {

// a categorical world (3 prompts x 6 candidates) with a noisy proxy: the context reward shaping draws from
struct Small {
  Scenario s = expand_sweep_text("schema_version: 1\nname: rs\ndescription: t\nseed: 4\n"
                                 "world: {type: categorical, dim: 4, prompts: 3, candidates: 6, seed: 2}\n"
                                 "gold: {type: linear}\n"
                                 "proxy: {type: noisy, noise: {distribution: gaussian, scale: 0.8}}\n"
                                 "optimizer: {type: policy_gradient}\n",
                                 "rs.yaml")
                   .at(0)
                   .config;
  std::unique_ptr<const World> world = make_world(s.world);
  Gold gold = make_gold(s.gold, *world, s.eval.standardize_samples);
  Proxy proxy = make_proxy(s.proxy, s.preferences, s.eval, *world, gold, true, Backend::cpu, s.seed);
  std::vector<float> ref_gold;
  OptimizerContext ctx() const { return {s, *world, gold, proxy, Backend::cpu, s.seed, ref_gold, nullptr}; }

  // every candidate's proxy score, row p
  std::vector<std::vector<double>> candidate_proxy() const {
    Responses r;
    all_candidates(*world, gold, proxy.needs(), Backend::cpu, s.seed, r);
    Eigen::VectorXf f(r.size());
    proxy.score(Backend::cpu, r, f);
    const int K = world->candidates()->count;
    std::vector<std::vector<double>> out(world->prompts());
    for (int p = 0; p < world->prompts(); ++p) out[p].assign(f.data() + p * K, f.data() + (p + 1) * K);
    return out;
  }
};

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

double final_gold(const std::vector<MetricRow>& rows) { return rows.back().gold_mean; }

double peak_gold(const std::vector<MetricRow>& rows) {
  double best = -INFINITY;
  for (const MetricRow& m : rows) best = std::max(best, m.gold_mean);
  return best;
}

}  // namespace

TEST_CASE("reward shaping: the empirical quantile interpolates between order statistics (numpy's default)") {
  std::vector<double> v = {4.0, 1.0, 3.0, 2.0};
  CHECK(empirical_quantile(v, 0.85) == doctest::Approx(3.55).epsilon(1e-14));  // h = 0.85 * 3 = 2.55
  CHECK(empirical_quantile(v, 0.0) == 1.0);
  CHECK(empirical_quantile(v, 1.0) == 4.0);
  CHECK(empirical_quantile(v, 0.5) == doctest::Approx(2.5).epsilon(1e-14));
  std::vector<double> one = {-0.7};
  CHECK(empirical_quantile(one, 0.85) == -0.7);
}

TEST_CASE("reward shaping: PAR's references are pi_ref draws (many references against the exact expectation)") {
  const Small w;
  const OptimizerContext ctx = w.ctx();
  const int M = 40000;
  const RewardShaping par(RewardTransform::par, M, 0.85, ctx, [](double r) { return r; });
  const auto proxy = w.candidate_proxy();
  const Candidates& c = *w.world->candidates();
  for (int p = 0; p < w.world->prompts(); ++p)
    for (int k = 0; k < c.count; ++k) {
      // exact: sum_j pi_ref(j | p) sigmoid(r_k - r_j); its standard error from the per-draw variance
      double mean = 0.0, second = 0.0;
      for (int j = 0; j < c.count; ++j) {
        const double s = sigmoid(proxy[p][k] - proxy[p][j]), q = std::exp(c.log_ref(p, j));
        mean += q * s;
        second += q * s * s;
      }
      const double se = std::sqrt((second - mean * mean) / M);
      CAPTURE(p);
      CAPTURE(k);
      CHECK(std::abs(par(p, proxy[p][k]) - mean) <= 4.0 * se + 1e-6);
    }
}

TEST_CASE("reward shaping: the shaped rewards follow their formulas, are increasing and are drawn once per seed") {
  const Small w;
  const OptimizerContext ctx = w.ctx();
  const auto identity = [](double r) { return r; };
  const RewardShaping none(RewardTransform::none, 5, 0.85, ctx, identity);
  const RewardShaping par(RewardTransform::par, 5, 0.85, ctx, identity);
  const RewardShaping again(RewardTransform::par, 5, 0.85, ctx, identity);
  const RewardShaping lsc(RewardTransform::log_sigmoid_centered, 5, 0.85, ctx, identity);
  const RewardShaping clipped(RewardTransform::par, 5, 0.85, ctx, [](double r) { return std::clamp(r, -0.1, 0.1); });
  for (int p = 0; p < w.world->prompts(); ++p) {
    CHECK(par.references(p) == again.references(p));
    CHECK(par.references(p).size() == 5u);
    for (double ref : clipped.references(p)) CHECK(std::abs(ref) <= 0.1);
    std::vector<double> sorted = par.references(p);
    const double center = empirical_quantile(sorted, 0.85);
    double previous_par = -INFINITY, previous_lsc = -INFINITY;
    for (double r = -3.0; r <= 3.0; r += 0.5) {
      double expected = 0.0;
      for (double ref : par.references(p)) expected += sigmoid(r - ref) / 5.0;
      CHECK(none(p, r) == r);
      CHECK(par(p, r) == doctest::Approx(expected).epsilon(1e-12));
      CHECK(lsc(p, r) == doctest::Approx(std::log(sigmoid(r - center))).epsilon(1e-12));
      CHECK(par(p, r) > previous_par);
      CHECK(lsc(p, r) > previous_lsc);
      CHECK((par(p, r) > 0.0 && par(p, r) < 1.0));
      CHECK(lsc(p, r) < 0.0);
      previous_par = par(p, r);
      previous_lsc = lsc(p, r);
    }
  }
  // far from the references log sigmoid neither overflows nor loses its slope
  std::vector<double> refs0 = lsc.references(0);
  const double center0 = empirical_quantile(refs0, 0.85);
  CHECK(std::abs(lsc(0, -800.0) - (-800.0 - center0)) < 1e-9);
  CHECK(lsc(0, 800.0) == 0.0);
  CHECK(par(0, 800.0) == 1.0);
  CHECK(par.references(0) != par.references(1));
}

TEST_CASE("reward shaping: bad keys are located errors") {
  const std::string body = "schema_version: 1\nname: rs\ndescription: t\nworld: {type: gaussian, dim: 2}\n"
                           "gold: {type: linear}\nproxy: {type: noisy}\noptimizer: {type: policy_gradient, ";
  for (const auto& [bad, key] : std::vector<std::pair<std::string, std::string>>{
           {"reward_transform: sigmoid}", "reward_transform"},
           {"reference_responses: 0}", "reference_responses"},
           {"reference_quantile: 1.5}", "reference_quantile"}}) {
    CAPTURE(bad);
    try {
      expand_sweep_text(body + bad + "\n", "rs.yaml");
      FAIL("no error");
    } catch (const ScenarioError& e) {
      const std::string what = e.what();
      CAPTURE(what);
      CHECK(what.find("rs.yaml:7:") != std::string::npos);
      CHECK(what.find(key) != std::string::npos);
    }
  }
}

TEST_CASE("scenario reward_shaping (tiny): PAR holds gold under long training where the raw proxy collapses") {
  const auto runs = test::run_scenario("scenarios/tiny/reward_shaping.yaml");
  REQUIRE(runs.size() == 1);
  const PointResult& r = runs[0].result;
  const auto raw = test::rows_of(r, "proxy"), tuned = test::rows_of(r, "proxy_kl0.5"), par = test::rows_of(r, "par"),
             par16 = test::rows_of(r, "par_16"), free = test::rows_of(r, "par_kl0"), lsc = test::rows_of(r, "lsc_16");
  // the raw proxy with a small penalty overshoots: gold peaks early and collapses at a large KL
  CHECK(final_gold(raw) < peak_gold(raw) - 5.0);
  CHECK(raw.back().kl > 30.0);
  // PAR with the same penalty: a bounded KL, and gold at the end within 0.05 of its peak and of the tuned penalty
  CHECK(par.back().kl < 4.0);
  CHECK(final_gold(par) > peak_gold(par) - 0.05);
  CHECK(std::abs(final_gold(par) - final_gold(tuned)) < 0.05);
  CHECK(final_gold(par) > peak_gold(raw) + 0.05);
  // one reference is enough: sixteen change the end by under 0.05
  CHECK(std::abs(final_gold(par16) - final_gold(par)) < 0.05);
  // without a penalty PAR only slows the collapse
  CHECK(free.back().kl > 3.0 * par.back().kl);
  CHECK(final_gold(free) < final_gold(par) - 1.0);
  CHECK(final_gold(free) > final_gold(raw) + 5.0);
  // log-sigmoid-centered stops too, later and lower than PAR
  CHECK(lsc.back().kl > par.back().kl);
  CHECK(lsc.back().kl < 10.0);
  CHECK(final_gold(lsc) < final_gold(par) - 0.05);
  CHECK(final_gold(lsc) > 0.3);
  // the rows report the untransformed proxy: PAR's proxy mean is on the proxy's scale, not in (0, 1)
  CHECK(par.back().proxy_mean > 1.0);
}
