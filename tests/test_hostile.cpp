// test_hostile.cpp — numerically hostile but valid scenarios: extreme betas and KL budgets, pools and n of 1e6,
// infinite-variance errors, zero-variance gold, K = 1, P = 1, underflowing pi_ref, uninformative labels, dim = 1.
// Contract: every case runs in-process (expand_sweep_text + run_point) and checks every row: kl, sqrt_kl,
// proxy_mean, gold_mean and gold_win_rate always finite; every other column finite or NaN by its documented rule
// (docs/scenario-keys.md, "empty when"); nothing infinite; values inside their ranges. Small sizes: < 10 s total.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/worlds/categorical.h"
#include "sim/optimizers/best_of_n.h"
#include "sim/optimizers/kl_optimum.h"
#include "sim/optimizers/optimizer.h"
#include "test_helpers.h"

using namespace goodhart;

namespace {

std::vector<test::PointRun> run_text(const std::string& body, const std::vector<std::string>& overrides = {}) {
  std::string yaml = "schema_version: 1\nname: hostile\ndescription: t\n" + body;
  if (body.find("gold:") == std::string::npos) yaml += "gold: {type: linear}\n";
  if (body.find("proxy:") == std::string::npos) yaml += "proxy: {type: learned, optimizer: lbfgs, epochs: 5}\n";
  std::vector<test::PointRun> out;
  for (const RunSpec& spec : expand_sweep_text(yaml, "hostile.yaml", overrides))
    out.push_back({spec, run_point(spec, Backend::cpu)});
  return out;
}

// which documented "empty when" rules may apply to a case
struct Allow {
  bool corr = false;     // proxy_gold_corr: proxy or gold has (near) zero variance under the policy
  bool acc_ref = false;  // rm_accuracy_ref: no pi_ref pair of distinct responses (K = 1)
};

// the optimizer of a row, by its name
const OptimizerConfig& optimizer_of(const Scenario& s, const std::string& name) {
  for (const OptimizerConfig& o : s.optimizers)
    if ((o.name.empty() ? o.type : o.name) == name) return o;
  FAIL("no optimizer named " << name);
  return s.optimizers.front();
}

bool finite(double v) { return std::isfinite(v); }
// finite, or NaN ("empty"); never infinite
bool finite_or_empty(double v) { return !std::isinf(v); }

void check_row(const test::PointRun& pr, const MetricRow& m, const Allow& allow) {
  const Scenario& s = pr.spec.config;
  const bool categorical = s.world.type == "categorical", bon = m.param_name == "n";
  const int P = s.world.prompts;
  INFO("optimizer ", m.optimizer, " ", m.param_name, " = ", m.param, " beta ", m.beta, " kl ", m.kl, " proxy ",
       m.proxy_mean, " gold ", m.gold_mean, " win ", m.gold_win_rate, " corr ", m.proxy_gold_corr, " acc_ref ",
       m.rm_accuracy_ref, " acc_policy ", m.rm_accuracy_policy, " entropy ", m.entropy, " ess ", m.ess);
  // always finite
  CHECK(finite(m.param));
  CHECK(finite(m.kl));
  CHECK(finite(m.sqrt_kl));
  CHECK(finite(m.proxy_mean));
  CHECK(finite(m.gold_mean));
  CHECK(finite(m.gold_win_rate));
  CHECK(m.kl >= 0.0);
  CHECK(m.sqrt_kl == doctest::Approx(std::sqrt(m.kl)));
  CHECK(m.gold_win_rate >= 0.0);
  CHECK(m.gold_win_rate <= 1.0);
  // beta: kl_optimum only, and positive
  if (bon) {
    CHECK(std::isnan(m.beta));
  } else {
    CHECK(finite(m.beta));
    CHECK(m.beta > 0.0);
  }
  // kl_bound: best_of_n only, log n - (n-1)/n; the exact categorical KL never exceeds it
  if (bon) {
    CHECK(finite(m.kl_bound));
    if (categorical) CHECK(m.kl <= m.kl_bound + 1e-9);
  } else {
    CHECK(std::isnan(m.kl_bound));
  }
  // standard errors: empty exactly when world.prompts = 1
  if (P == 1) {
    CHECK(std::isnan(m.proxy_se));
    CHECK(std::isnan(m.gold_se));
  } else {
    CHECK(finite(m.proxy_se));
    CHECK(finite(m.gold_se));
    CHECK(m.proxy_se >= 0.0);
    CHECK(m.gold_se >= 0.0);
  }
  // correlation: empty only when a variance under the policy (the mixture over prompts) is zero up to rounding:
  // allowed per case (constant gold, a proxy that learned a constant), or one prompt with a (near) point mass
  CHECK(finite_or_empty(m.proxy_gold_corr));
  const bool point_mass_of_one = P == 1 && finite(m.ess) && m.ess < 1.0 + 1e-3;
  if (!allow.corr && !point_mass_of_one) CHECK(finite(m.proxy_gold_corr));
  if (finite(m.proxy_gold_corr)) {
    CHECK(m.proxy_gold_corr >= -1.0);
    CHECK(m.proxy_gold_corr <= 1.0);
  }
  // accuracy on pi_ref pairs: empty only without a pair of distinct responses (allowed per case)
  CHECK(finite_or_empty(m.rm_accuracy_ref));
  if (!allow.acc_ref) CHECK(finite(m.rm_accuracy_ref));
  if (finite(m.rm_accuracy_ref)) {
    CHECK(m.rm_accuracy_ref >= 0.0);
    CHECK(m.rm_accuracy_ref <= 1.0);
  }
  // entropy: empty exactly in the gaussian world; else in [0, log K]
  if (categorical) {
    CHECK(finite(m.entropy));
    CHECK(m.entropy >= -1e-6);
    CHECK(m.entropy <= std::log(static_cast<double>(s.world.get<CategoricalWorldConfig>().candidates)) + 1e-6);
  } else {
    CHECK(std::isnan(m.entropy));
  }
  // ess: empty exactly for best_of_n in the gaussian world; else at least 1 (and at most K or samples)
  const bool ess_empty = bon && !categorical;
  if (ess_empty) {
    CHECK(std::isnan(m.ess));
  } else {
    CHECK(finite(m.ess));
    CHECK(m.ess >= 1.0 - 1e-4);
    const double most = categorical ? s.world.get<CategoricalWorldConfig>().candidates : optimizer_of(s, m.optimizer).get<KlOptimumConfig>().samples;
    if (!bon) CHECK(m.ess <= most * (1.0 + 1e-4));
  }
  // policy accuracy: empty only when sampled policy pairs never differ, i.e. the policy is (nearly) a point mass
  // per prompt: the expected number of distinct pairs, (1 - sum pi^2) * pairs ~ (1 - 1 / ess) * pairs, is below
  // 20 (gaussian best_of_n: sum pi^2 from the rank weights of the pool)
  CHECK(finite_or_empty(m.rm_accuracy_policy));
  if (std::isnan(m.rm_accuracy_policy)) {
    const double pairs = static_cast<double>((s.eval.accuracy_pairs + P - 1) / P) * P;
    double sum_sq = finite(m.ess) ? 1.0 / m.ess : 0.0;
    if (ess_empty) sum_sq = bon_rank_weights({static_cast<int>(m.param)}, optimizer_of(s, m.optimizer).get<BestOfNConfig>().pool)
                                .row(0).squaredNorm();
    CHECK((1.0 - sum_sq) * pairs < 20.0);
  } else {
    CHECK(m.rm_accuracy_policy >= 0.0);
    CHECK(m.rm_accuracy_policy <= 1.0);
  }
}

void check_point(const test::PointRun& pr, const Allow& allow = {}) {
  const Scenario& s = pr.spec.config;
  CHECK(!pr.result.rows.empty());
  // held-out accuracy: empty exactly for a noisy proxy or without held-out pairs
  if (s.proxy.type == "noisy" || s.preferences.heldout_pairs == 0) {
    CHECK(std::isnan(pr.result.rm_heldout_accuracy));
  } else {
    CHECK(finite(pr.result.rm_heldout_accuracy));
  }
  for (const MetricRow& m : pr.result.rows) check_row(pr, m, allow);
}

void check_all(const std::vector<test::PointRun>& runs, const Allow& allow = {}) {
  for (const test::PointRun& pr : runs) {
    INFO("point ", pr.spec.index, " swept:", [&] {
      std::string s;
      for (const auto& [k, v] : pr.spec.swept) s += " " + k + "=" + v;
      return s;
    }());
    check_point(pr, allow);
  }
}

const char* const fast_eval = "eval: {accuracy_pairs: 512, standardize_samples: 4000}\n";
const char* const small_prefs = "preferences: {n_pairs: 300, heldout_pairs: 200}\n";

}  // namespace

TEST_CASE("hostile: kl_optimum at beta 1e-6 and 1e6 in the categorical world") {
  const auto runs = run_text(std::string("world: {type: categorical, dim: 4, prompts: 8, candidates: 16}\n") +
                             small_prefs + fast_eval +
                             "proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5}\n"
                             "optimizers:\n"
                             "  - {type: best_of_n, n: [1, 1000000], pool: 1048576}\n"
                             "  - {type: kl_optimum, beta: [1e-6, 1e-3, 1, 1e3, 1e6]}\n");
  check_all(runs);
  const auto bon = test::rows_of(runs[0].result, "best_of_n"), tilt = test::rows_of(runs[0].result, "kl_optimum");
  // beta 1e-6: the argmax of each prompt, as best-of-1e6 (F^1e6 of every candidate below the top is ~0)
  CHECK(tilt[0].kl == doctest::Approx(bon[1].kl).epsilon(1e-5));
  CHECK(tilt[0].proxy_mean == doctest::Approx(bon[1].proxy_mean).epsilon(1e-5));
  CHECK(tilt[0].gold_mean == doctest::Approx(bon[1].gold_mean).epsilon(1e-5));
  CHECK(tilt[0].entropy < 1e-6);
  CHECK(tilt[0].ess == doctest::Approx(1.0).epsilon(1e-6));
  // beta 1e6: pi_ref itself, as best-of-1; KL ~ Var/(2 beta^2) ~ 1e-12
  CHECK(tilt[4].kl < 1e-9);
  CHECK(tilt[4].proxy_mean == doctest::Approx(bon[0].proxy_mean).epsilon(1e-4).scale(1.0));
  CHECK(tilt[4].gold_win_rate == doctest::Approx(0.5).epsilon(1e-4));
  CHECK(tilt[4].entropy == doctest::Approx(bon[0].entropy).epsilon(1e-4));
}

TEST_CASE("hostile: gaussian kl_optimum at extreme betas, analytic (linear) and importance-sampled paths") {
  const std::string body = std::string("world: {type: gaussian, dim: 4, prompts: 4}\n") + small_prefs + fast_eval +
                           "proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5}\n"
                           "optimizers:\n"
                           "  - {type: best_of_n, n: [1, 4096], pool: 4096}\n"
                           "  - {type: kl_optimum, beta: [1e-6, 1e-3, 1, 1e3, 1e6], samples: 1024}\n";
  for (const char* proxy : {"proxy.model=linear", "proxy.model=quadratic", "proxy={type: noisy}"}) {
    INFO("proxy ", std::string(proxy));
    const auto runs = run_text(body, {proxy});
    check_all(runs);
    const auto tilt = test::rows_of(runs[0].result, "kl_optimum");
    if (std::string(proxy) == "proxy.model=linear") {
      // analytic: KL = |a s|^2 / (2 beta^2) with a standardized proxy (|a s| = 1)
      CHECK(tilt[0].kl == doctest::Approx(0.5e12).epsilon(1e-6));
      CHECK(tilt[4].kl == doctest::Approx(0.5e-12).epsilon(1e-6));
      CHECK(tilt[0].ess == 1024.0);
    } else {
      // importance sampling: KL of the weighted pool at most log M; beta 1e-6 is the pool's argmax
      CHECK(tilt[0].kl == doctest::Approx(std::log(1024.0)).epsilon(1e-4));
      CHECK(tilt[0].ess == doctest::Approx(1.0).epsilon(1e-4));
      CHECK(tilt[4].kl < 1e-6);
      CHECK(tilt[4].ess == doctest::Approx(1024.0).epsilon(1e-3));
    }
  }
}

TEST_CASE("hostile: kl_budget far below and far above what is reachable") {
  const std::string gaussian = std::string("world: {type: gaussian, dim: 4, prompts: 4}\n") + small_prefs +
                               fast_eval + "proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5}\n"
                               "optimizers:\n"
                               "  - {type: kl_optimum, kl_budget: [1e-8, 1e-4, 0.5, 1000], samples: 1024}\n";
  const std::string categorical = std::string("world: {type: categorical, dim: 4, prompts: 8, candidates: 16}\n") +
                                  small_prefs + fast_eval +
                                  "proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5}\n"
                                  "optimizers:\n"
                                  "  - {type: kl_optimum, kl_budget: [1e-8, 1e-4, 0.5, 1000]}\n";
  struct Case {
    std::string body, proxy;
    double reachable;  // the largest KL: log M for a pool, unbounded (analytic), exact max for candidates
  };
  for (const Case& c : {Case{gaussian, "proxy.model=linear", 1e300}, Case{gaussian, "proxy.model=quadratic", 0},
                        Case{gaussian, "proxy={type: noisy}", 0}, Case{categorical, "proxy.model=linear", 0},
                        Case{categorical, "proxy={type: noisy}", 0}}) {
    CAPTURE(c.proxy);
    CAPTURE(c.body);
    const auto runs = run_text(c.body, {c.proxy});
    check_all(runs);
    const auto rows = test::rows_of(runs[0].result, "kl_optimum");
    REQUIRE(rows.size() == 4);
    // budgets in reach are met (relative 1e-3 where the KL is well above float rounding)
    CHECK(rows[1].kl == doctest::Approx(1e-4).epsilon(1e-2));
    CHECK(rows[2].kl == doctest::Approx(0.5).epsilon(1e-3));
    // a tiny budget: met too (the KL is exact to ~1e-16, not floored by float rounding of ~1e-7), at a large beta
    CHECK(rows[0].kl == doctest::Approx(1e-8).epsilon(1e-3));
    // ... at the right beta: small KLs go as Var / (2 beta^2), so 1e-8 needs 100 times the beta of 1e-4 (a float
    // floor of ~1e-8 on the KL once put it 200 times too far)
    CHECK(rows[0].beta / rows[1].beta == doctest::Approx(100.0).epsilon(0.05));
    // a budget out of reach: the largest KL the bracket reaches, below the budget, with a finite beta
    if (c.reachable > 1e100) {
      CHECK(rows[3].kl == doctest::Approx(1000.0).epsilon(1e-6));
    } else {
      CHECK(rows[3].kl < 1000.0);
      CHECK(rows[3].kl >= rows[2].kl);
    }
    if (c.body == gaussian && c.proxy != "proxy.model=linear") CHECK(rows[3].kl <= std::log(1024.0) + 1e-4);
  }
}

TEST_CASE("hostile: best_of_n with a pool of 1e6 and n up to 1e6") {
  const auto runs = run_text(std::string("world: {type: gaussian, dim: 2, prompts: 2}\n") + small_prefs + fast_eval +
                             "proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5}\n"
                             "optimizers:\n"
                             "  - {type: best_of_n, pool: 1000000, n: [1, 1000, 999999, 1000000]}\n");
  check_all(runs);
  const auto rows = test::rows_of(runs[0].result, "best_of_n");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].proxy_mean == doctest::Approx(0.0).scale(1.0).epsilon(0.01));
  CHECK(rows[1].proxy_mean == doctest::Approx(test::expected_max_normal(1000)).epsilon(0.05));
  // the pool maximum: about e_1e6 = 4.86 for a standard normal proxy
  CHECK(rows[3].proxy_mean > 4.0);
  CHECK(rows[3].proxy_mean < 6.0);
  CHECK(rows[2].proxy_mean <= rows[3].proxy_mean + 1e-6);
  CHECK(std::isnan(rows[3].rm_accuracy_policy));  // n = pool: one response per prompt
  CHECK(rows[3].kl == doctest::Approx(std::log(1e6) - (1e6 - 1) / 1e6));
}

TEST_CASE("hostile: every noise distribution, infinite variance included, under both optimizers") {
  const std::string gaussian = std::string("world: {type: gaussian, dim: 4, prompts: 4}\n") + fast_eval +
                               "proxy: {type: noisy}\n"
                               "optimizers:\n"
                               "  - {type: best_of_n, pool: 4096, n: [1, 16, 4096]}\n"
                               "  - {type: kl_optimum, name: grid, beta: [1e-6, 1e-2, 1, 1e2, 1e6], samples: 2048}\n"
                               "  - {type: kl_optimum, name: budget, kl_budget: [1e-8, 0.5, 1000], samples: 2048}\n";
  const std::string categorical = std::string("world: {type: categorical, dim: 4, prompts: 8, candidates: 32}\n") +
                                  fast_eval + "proxy: {type: noisy}\n"
                                  "optimizers:\n"
                                  "  - {type: best_of_n, pool: 1048576, n: [1, 16, 1000000]}\n"
                                  "  - {type: kl_optimum, name: grid, beta: [1e-6, 1e-2, 1, 1e2, 1e6]}\n"
                                  "  - {type: kl_optimum, name: budget, kl_budget: [1e-8, 0.5, 1000]}\n";
  for (const char* noise :
       {"{distribution: gaussian}", "{distribution: student_t, shape: 3}", "{distribution: student_t, shape: 1}",
        "{distribution: student_t, shape: 0.5}", "{distribution: lognormal, shape: 3}",
        "{distribution: pareto, shape: 0.5}", "{distribution: pareto, shape: 1.5}", "{distribution: levy}"})
    for (const std::string* body : {&gaussian, &categorical}) {
      INFO("noise ", std::string(noise));
      CAPTURE(*body);
      check_all(run_text(*body, {std::string("proxy.noise=") + noise}));
    }
}

TEST_CASE("hostile: an error tail beyond the float range is a clear error, not inf or NaN rows") {
  // pareto with shape 0.02: e = U^-50 overflows float (and its square) for U below ~0.17
  for (const char* world : {"world: {type: gaussian, dim: 2, prompts: 2}\n",
                            "world: {type: categorical, dim: 2, prompts: 4, candidates: 64}\n"})
    for (const char* opt : {"optimizer: {type: best_of_n, pool: 256, n: [1, 16]}\n",
                            "optimizer: {type: kl_optimum, beta: [1e-3, 1], samples: 256}\n"}) {
      INFO("world ", std::string(world));
      INFO("optimizer ", std::string(opt));
      std::string message;
      try {
        run_text(std::string(world) + fast_eval + opt +
                 "proxy: {type: noisy, noise: {distribution: pareto, shape: 0.02}}\n");
      } catch (const PointFailed& e) {
        message = e.what();
        CHECK(e.usage);
      }
      CHECK(message.find("overflowed") != std::string::npos);
      CHECK(message.find("proxy.noise.shape") != std::string::npos);
    }
}

TEST_CASE("hostile: zero-variance gold (all-zero weights; unstandardized constant)") {
  // the gold is constant, so its variance under any policy is 0: proxy_gold_corr is empty by rule; win rate 1/2
  const std::string opts = "optimizers:\n"
                           "  - {type: best_of_n, pool: 1024, n: [1, 16, 1024]}\n"
                           "  - {type: kl_optimum, name: grid, beta: [1e-6, 1, 1e6], samples: 512}\n"
                           "  - {type: kl_optimum, name: budget, kl_budget: [1e-8, 0.5, 1000], samples: 512}\n";
  for (const char* world : {"world: {type: gaussian, dim: 3, prompts: 4}\n",
                            "world: {type: categorical, dim: 3, prompts: 4, candidates: 16}\n"})
    for (const char* gold : {"gold: {type: linear, weights: [0, 0, 0]}\n",
                             "gold: {type: linear, weights: [0, 0, 0], standardize: false}\n",
                             "gold: {type: concave, weights: [0, 0, 0], penalty: 0, standardize: false}\n"})
      for (const char* proxy : {"proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5}\n",
                                "proxy: {type: learned, model: quadratic, optimizer: lbfgs, epochs: 5}\n",
                                "proxy: {type: noisy}\n", "proxy: {type: noisy, noise: {distribution: levy}}\n"}) {
        INFO("world ", std::string(world));
        INFO("gold ", std::string(gold));
        INFO("proxy ", std::string(proxy));
        const auto runs = run_text(std::string(world) + gold + proxy + small_prefs + fast_eval + opts);
        check_all(runs, Allow{.corr = true});
        for (const MetricRow& m : runs[0].result.rows) {
          CHECK(m.gold_mean == 0.0);
          CHECK(m.gold_win_rate == doctest::Approx(0.5));
          CHECK(std::isnan(m.proxy_gold_corr));
        }
        // every pair ties in gold: the proxy is right half the time
        CHECK(runs[0].result.rm_accuracy_ref == doctest::Approx(0.5));
        // a noisy proxy of a constant gold is its error alone: standardized to variance 1 where finite
        if (std::string(proxy) == "proxy: {type: noisy}\n") {
          const MetricRow& ref = runs[0].result.rows[0];  // best-of-1: pi_ref
          CHECK(ref.proxy_se * std::sqrt(4.0) < 1.5);
        }
      }
}

TEST_CASE("hostile: categorical world with K = 1 and with P = 1") {
  const std::string opts = "optimizers:\n"
                           "  - {type: best_of_n, pool: 1048576, n: [1, 4, 1000000]}\n"
                           "  - {type: kl_optimum, name: grid, beta: [1e-6, 1, 1e6]}\n"
                           "  - {type: kl_optimum, name: budget, kl_budget: [1e-8, 0.5, 1000]}\n";
  for (const char* proxy : {"proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5}\n",
                            "proxy: {type: learned, model: mlp, hidden: [4], epochs: 3}\n",
                            "proxy: {type: noisy, noise: {distribution: levy}}\n"}) {
    INFO("proxy ", std::string(proxy));
    // K = 1: every policy is pi_ref; KL 0; no pair of distinct responses anywhere
    {
      const auto runs = run_text(std::string("world: {type: categorical, dim: 3, prompts: 4, candidates: 1}\n") +
                                 proxy + small_prefs + fast_eval + opts);
      // a learned proxy sees only identical pairs: no gradient but L2, so it may learn a constant (corr empty)
      const bool learned = std::string(proxy).find("learned") != std::string::npos;
      check_all(runs, Allow{.corr = learned, .acc_ref = true});
      CHECK(std::isnan(runs[0].result.rm_accuracy_ref));
      for (const MetricRow& m : runs[0].result.rows) {
        CHECK(m.kl == 0.0);
        CHECK(m.entropy == doctest::Approx(0.0).scale(1.0));
        CHECK(m.ess == doctest::Approx(1.0));
        CHECK(std::isnan(m.rm_accuracy_policy));
      }
    }
    // K = 1 and P = 1: a single response; both variances are zero, no standard errors
    {
      const auto runs = run_text(std::string("world: {type: categorical, dim: 3, prompts: 1, candidates: 1}\n") +
                                 proxy + small_prefs + fast_eval + opts);
      check_all(runs, Allow{.corr = true, .acc_ref = true});
      for (const MetricRow& m : runs[0].result.rows) {
        CHECK(m.kl == 0.0);
        CHECK(std::isnan(m.proxy_gold_corr));
      }
    }
    // P = 1 with many candidates
    check_all(run_text(std::string("world: {type: categorical, dim: 3, prompts: 1, candidates: 64}\n") + proxy +
                       small_prefs + fast_eval + opts));
  }
}

TEST_CASE("hostile: categorical pi_ref with underflowing probabilities (ref_logit_scale 50)") {
  const auto runs =
      run_text(std::string("world: {type: categorical, dim: 4, prompts: 8, candidates: 64, ref_logit_scale: 50}\n") +
                   small_prefs + fast_eval +
                   "optimizers:\n"
                   "  - {type: best_of_n, pool: 1048576, n: [1, 4, 1000000]}\n"
                   "  - {type: kl_optimum, name: grid, beta: [1e-6, 1e-2, 1, 1e6]}\n"
                   "  - {type: kl_optimum, name: budget, kl_budget: [1e-8, 0.5, 1000]}\n",
               {"proxy.type=learned"});
  // pi_ref is nearly a point mass: pairs are rarely distinct, the correlation may have no variance
  check_all(runs, Allow{.corr = true, .acc_ref = true});
  // log_ref beyond the float range (-1e300 -> -inf in the float tables): pi_ref is a point mass per prompt, so is
  // every tilt of it: KL 0, entropy 0 exactly (Eigen's exp(-inf) = 3e-39, not 0, once gave inf here)
  const auto point_mass = run_text(
      std::string("world: {type: categorical, dim: 4, prompts: 8, candidates: 64, ref_logit_scale: 1e300}\n") +
      small_prefs + fast_eval + "proxy: {type: noisy}\n"
      "optimizers:\n"
      "  - {type: best_of_n, pool: 1048576, n: [1, 4, 1000000]}\n"
      "  - {type: kl_optimum, name: grid, beta: [1e-6, 1e-2, 1, 1e6]}\n"
      "  - {type: kl_optimum, name: budget, kl_budget: [1e-8, 0.5, 1000]}\n");
  check_all(point_mass, Allow{.corr = false, .acc_ref = true});
  for (const MetricRow& m : point_mass[0].result.rows) {
    CHECK(m.kl == 0.0);
    CHECK(m.entropy == 0.0);
    CHECK(m.ess == 1.0);
    CHECK(m.proxy_mean == doctest::Approx(point_mass[0].result.rows[0].proxy_mean));
  }
  for (const char* proxy : {"proxy={type: noisy}", "proxy.model=quadratic"})
    check_all(run_text(std::string("world: {type: categorical, dim: 4, prompts: 8, candidates: 64, "
                                   "ref_logit_scale: 50}\n") +
                           small_prefs + fast_eval +
                           "optimizers:\n"
                           "  - {type: best_of_n, pool: 1048576, n: [1, 4, 1000000]}\n"
                           "  - {type: kl_optimum, name: grid, beta: [1e-6, 1e-2, 1, 1e6]}\n",
                       {proxy}),
              Allow{.corr = true, .acc_ref = true});
}

TEST_CASE("hostile: label_noise 0.5 (the proxy learns nothing) and dim = 1") {
  const std::string opts = "optimizers:\n"
                           "  - {type: best_of_n, pool: 2048, n: [1, 64, 2048]}\n"
                           "  - {type: kl_optimum, name: grid, beta: [1e-6, 1, 1e6], samples: 512}\n"
                           "  - {type: kl_optimum, name: budget, kl_budget: [1e-8, 0.5, 1000], samples: 512}\n";
  for (const char* world : {"world: {type: gaussian, dim: 1, prompts: 4}\n",
                            "world: {type: gaussian, dim: 4, prompts: 4}\n",
                            "world: {type: categorical, dim: 1, prompts: 4, candidates: 16}\n"})
    for (const char* proxy : {"proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5, l2: 0}\n",
                              "proxy: {type: learned, model: linear, epochs: 3}\n",
                              "proxy: {type: learned, model: quadratic, optimizer: lbfgs, epochs: 5}\n"})
      for (const char* noise : {"preferences: {n_pairs: 300, heldout_pairs: 200, label_noise: 0.5}\n",
                                "preferences: {n_pairs: 300, heldout_pairs: 200, labels: hard}\n"}) {
        INFO("world ", std::string(world));
        INFO("proxy ", std::string(proxy));
        INFO("noise ", std::string(noise));
        check_all(run_text(std::string(world) + proxy + noise + fast_eval + opts));
      }
}
