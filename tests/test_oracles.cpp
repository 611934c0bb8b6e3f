// test_oracles.cpp — the analytic oracles of DESIGN.md §8 and brute-force checks of the best-of-n estimators.
// Contract: exact cases to 1e-9; statistical cases within k standard errors (k stated), fixed seeds.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "models/worlds/registry.h"
#include "sim/optimizers/optimizer.h"
#include "test_helpers.h"

using namespace goodhart;
using goodhart::test::expected_max_normal;

namespace {

// the unbiased estimate from a pool, through the same path as the optimizer: sort, weights, moments
double pool_estimate(std::vector<float> proxy, std::vector<float> gold, int n) {
  const int N = static_cast<int>(proxy.size());
  std::vector<int> order(N);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return proxy[a] < proxy[b]; });
  Eigen::MatrixXf values(N, 1);
  for (int i = 0; i < N; ++i) values(i, 0) = gold[order[i]];
  Eigen::MatrixXd fast, ref;
  const Eigen::MatrixXd w = bon_rank_weights({n}, N);
  bon_moments(Backend::cpu, w, values, fast);
  bon_moments_ref(w, values, ref);
  CHECK(fast(0, 0) == doctest::Approx(ref(0, 0)).epsilon(1e-12));
  return fast(0, 0);
}

}  // namespace

TEST_CASE("best-of-n KL for continuous rewards: log n - (n-1)/n") {
  CHECK(bon_kl_bound(2) == doctest::Approx(0.19315).epsilon(1e-4));
  CHECK(bon_kl_bound(4) == doctest::Approx(0.63629).epsilon(1e-4));
  CHECK(bon_kl_bound(16) == doctest::Approx(1.83509).epsilon(1e-4));
  CHECK(bon_kl_bound(100) == doctest::Approx(3.61517).epsilon(1e-4));
  CHECK(bon_kl_bound(1) == 0.0);
}

TEST_CASE("expected maximum of n standard normals e_n") {
  CHECK(expected_max_normal(2) == doctest::Approx(0.5642).epsilon(2e-4));
  CHECK(expected_max_normal(4) == doctest::Approx(1.0294).epsilon(2e-4));
  CHECK(expected_max_normal(16) == doctest::Approx(1.7660).epsilon(2e-4));
  CHECK(expected_max_normal(100) == doctest::Approx(2.5076).epsilon(2e-4));
  CHECK(expected_max_normal(1000) == doctest::Approx(3.2414).epsilon(2e-4));
}

TEST_CASE("unbiased best-of-2 on the pool of DESIGN.md is 1/6") {
  CHECK(pool_estimate({0.1f, 0.5f, 0.3f, 0.9f}, {1, 2, 0, -1}, 2) == doctest::Approx(1.0 / 6.0).epsilon(1e-12));
}

TEST_CASE("unbiased estimator equals brute-force enumeration of every n-subset") {
  const int N = 9;
  std::vector<float> proxy(N), gold(N);
  CounterRng rng(3, 77, 0);
  for (int i = 0; i < N; ++i) {
    proxy[i] = static_cast<float>(rng.normal());
    gold[i] = static_cast<float>(rng.normal());
  }
  for (int n = 1; n <= N; ++n) {
    // enumerate subsets by bitmask; the best of each subset by proxy
    double total = 0.0, count = 0.0;
    for (int mask = 0; mask < (1 << N); ++mask) {
      if (__builtin_popcount(mask) != n) continue;
      int best = -1;
      for (int i = 0; i < N; ++i)
        if ((mask >> i & 1) && (best < 0 || proxy[i] > proxy[best])) best = i;
      total += gold[best];
      count += 1.0;
    }
    CHECK(pool_estimate(proxy, gold, n) == doctest::Approx(total / count).epsilon(1e-9));
  }
}

TEST_CASE("regressional oracle: best-of-n gold = e_n / sqrt(1+s^2), standardized proxy = e_n") {
  // 256 pools of 4096: k = 4 standard errors
  for (double s : {0.5, 2.0}) {
    const auto r = test::run_scenario("scenarios/tiny/regressional_gaussian.yaml",
                                      {"proxy.noise.scale=" + std::to_string(s)});
    REQUIRE(r.size() == 1);
    for (const MetricRow& m : r[0].result.rows) {
      const int n = static_cast<int>(m.param);
      if (n == 1) continue;
      const double e = expected_max_normal(n);
      INFO("s = " << s << ", n = " << n);
      CHECK(std::abs(m.gold_mean - e / std::sqrt(1 + s * s)) <= 4 * m.gold_se);
      CHECK(std::abs(m.proxy_mean - e) <= 4 * m.proxy_se);
      CHECK(m.kl == doctest::Approx(bon_kl_bound(n)));
    }
  }
}

TEST_CASE("the oracle test can fail: a wrong noise scale is rejected") {
  // the proxy noise is 2, the oracle is computed for 0.5: the gap is many standard errors
  const auto r = test::run_scenario("scenarios/tiny/regressional_gaussian.yaml", {"proxy.noise.scale=2.0"});
  const MetricRow& m = r[0].result.rows.back();
  CHECK(std::abs(m.gold_mean - expected_max_normal(static_cast<int>(m.param)) / std::sqrt(1.25)) > 10 * m.gold_se);
}

TEST_CASE("categorical best-of-n distribution equals enumeration of n draws from pi_ref") {
  // three candidates, n = 3: enumerate all 27 ordered draws
  const auto r = test::run_scenario("scenarios/tiny/categorical_exact.yaml",
                                    {"world.prompts=1", "world.candidates=3", "optimizers[0].n=[1, 2, 3]"});
  const auto made = make_world(load_scenario(test::source_path("scenarios/tiny/categorical_exact.yaml"),
                                             {"world.prompts=1", "world.candidates=3"}).world);
  const World& world = *made;
  const RowMatrixXd& log_ref = world.candidates()->log_ref;
  const auto rows = test::rows_of(r[0].result, "best_of_n");
  REQUIRE(rows.size() == 3);
  // the exact KL never exceeds the continuous formula, and equals it for n = 1
  CHECK(rows[0].kl == doctest::Approx(0.0).scale(1.0).epsilon(1e-12));
  for (const MetricRow& m : rows) CHECK(m.kl <= m.kl_bound + 1e-12);
  // brute force: KL of the distribution of argmax proxy among n draws
  const Scenario sc = load_scenario(test::source_path("scenarios/tiny/categorical_exact.yaml"),
                                    {"world.prompts=1", "world.candidates=3"});
  const Gold gold = make_gold(sc.gold, world, sc.eval.standardize_samples);
  const Proxy proxy =
      make_proxy(sc.proxy, sc.preferences, sc.eval, world, gold, sc.gold.standardize, Backend::cpu, sc.seed);
  Responses cand;
  all_candidates(world, gold, proxy.needs(), Backend::cpu, sc.seed, cand);
  Eigen::VectorXf f(3);
  proxy.score(Backend::cpu, cand, f);
  const int n = 3;
  double prob[3] = {0, 0, 0};
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 3; ++c) {
        const int draws[3] = {a, b, c};
        int best = a;
        for (int d : draws)
          if (f(d) > f(best)) best = d;
        prob[best] += std::exp(log_ref(0, a) + log_ref(0, b) + log_ref(0, c));
      }
  double kl = 0.0, gold_mean = 0.0;
  for (int k = 0; k < 3; ++k) {
    if (prob[k] > 0) kl += prob[k] * (std::log(prob[k]) - log_ref(0, k));
    gold_mean += prob[k] * cand.gold(k);
  }
  CHECK(rows[n - 1].kl == doctest::Approx(kl).epsilon(1e-6));
  CHECK(rows[n - 1].gold_mean == doctest::Approx(gold_mean).epsilon(1e-6));
}

TEST_CASE("exact tilted gaussian of a linear proxy: proxy mean 1/beta, KL 1/(2 beta^2)") {
  // standardized linear proxy a.y + c with |a| s = 1 under pi_ref = N(0, I): the optimum shifts the mean by a/beta
  const auto runs = test::run_scenario("scenarios/tiny/gao_rl_exact.yaml");
  const auto r = std::find_if(runs.begin(), runs.end(), [](const auto& p) { return p.swept("proxy.model") == "linear"; });
  REQUIRE(r != runs.end());
  for (const MetricRow& m : r->result.rows) {
    INFO("beta = " << m.beta);
    CHECK(m.kl == doctest::Approx(1.0 / (2 * m.beta * m.beta)).epsilon(1e-6));
    CHECK(std::abs(m.proxy_mean - 1.0 / m.beta) <= 4 * m.proxy_se + 1e-3);
  }
}

TEST_CASE("kl_optimum stays finite for beta from 1e-4 to 1e4 in every world and path") {
  const std::string betas = "[0.0001, 0.01, 1, 100, 10000]";
  // categorical (exact), gaussian with a linear proxy (analytic) and a quadratic proxy (importance sampling)
  for (const auto& run : test::run_scenario("scenarios/tiny/categorical_exact.yaml", {"optimizers[1].beta=" + betas}))
    for (const MetricRow& m : test::rows_of(run.result, "kl_optimum")) {
      CHECK(std::isfinite(m.kl));
      CHECK(std::isfinite(m.proxy_mean));
      CHECK(std::isfinite(m.gold_mean));
      CHECK(std::isfinite(m.entropy));
      CHECK(std::isfinite(m.ess));
    }
  for (const auto& run : test::run_scenario("scenarios/tiny/gao_rl_exact.yaml", {"optimizer.beta=" + betas})) {
    const auto rows = test::rows_of(run.result, "kl_optimum");
    for (const MetricRow& m : rows) {
      CHECK(std::isfinite(m.kl));
      CHECK(std::isfinite(m.proxy_mean));
      CHECK(std::isfinite(m.gold_mean));
      CHECK(std::isfinite(m.ess));
    }
    // KL falls as beta grows
    for (std::size_t i = 1; i < rows.size(); ++i) CHECK(rows[i].kl <= rows[i - 1].kl);
  }
}
