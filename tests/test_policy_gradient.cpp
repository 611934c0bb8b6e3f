// test_policy_gradient.cpp — the trained policies (models/policy.h) and the policy_gradient optimizer.
// Contract: gradients of log pi against central finite differences (1e-6 relative), normalization, theta = 0 is
// pi_ref, the backend's float training pass (policy_pass_cpu) against the double log_probs, the one-walk draws
// against one inverse CDF per uniform, the closed-form gaussian KL against Monte Carlo (4 standard errors); training runs
// in-process from YAML text (expand_sweep_text + run_point) on small worlds with a noisy proxy (no proxy
// training): the proxy rises, KL penalties and the adaptive controller hold KL, max_kl stops, no row beats the
// exact KL-constrained optimum, rows are identical at 1 and 2 threads. Fixed seeds; about 5 s in Release.
#include <doctest/doctest.h>

#include <omp.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "models/policy.h"
#include "models/worlds/categorical.h"
#include "models/worlds/gaussian.h"
#include "models/worlds/registry.h"
#include "sim/numeric/cdf_walk.h"
#include "sim/optimizers/optimizer.h"
#include "test_helpers.h"

using namespace goodhart;

namespace {

// a categorical world (P 16, K 32, d 6) with a noisy proxy, and the optimizer block given
std::string categorical_yaml(const std::string& optimizer, int prompts = 16) {
  return "schema_version: 1\nname: pg\ndescription: t\nseed: 3\n"
         "world: {type: categorical, dim: 6, prompts: " + std::to_string(prompts) + ", candidates: 32, seed: 5}\n"
         "gold: {type: linear}\n"
         "proxy: {type: noisy, noise: {distribution: gaussian, scale: 0.7}}\n"
         "eval: {accuracy_pairs: 1024}\n" + optimizer;
}

std::vector<MetricRow> run_rows(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  std::vector<MetricRow> rows;
  for (const RunSpec& spec : expand_sweep_text(yaml, "pg.yaml", overrides))
    for (const MetricRow& r : run_point(spec, Backend::cpu).rows) rows.push_back(r);
  return rows;
}

std::unique_ptr<const World> categorical_world() {
  WorldConfig c;
  c.type = "categorical";
  c.dim = 5;
  c.prompts = 4;
  c.get<CategoricalWorldConfig>().candidates = 7;
  c.get<CategoricalWorldConfig>().ref_feature_weights = {0.5, -0.3};
  c.get<CategoricalWorldConfig>().seed = 11;
  return make_world(c);
}

std::unique_ptr<const World> gaussian_world() {
  WorldConfig c;
  c.dim = 3;
  c.get<GaussianWorldConfig>().mean = {0.5, -1.0, 2.0};
  c.get<GaussianWorldConfig>().scale = {1.0, 0.5, 2.0};
  return make_world(c);
}

Eigen::VectorXd random_theta(int n, std::uint32_t key, double scale) {
  CounterRng rng(9, 99, key);
  Eigen::VectorXd t(n);
  for (int i = 0; i < n; ++i) t(i) = scale * rng.normal();
  return t;
}

// analytic gradient of log pi(sample) against central differences, every coordinate
void check_gradient(Policy& policy, const Response& s) {
  const Eigen::VectorXd theta = policy.theta();
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(policy.parameters());
  policy.add_grad_log_prob(s, 1.0, grad);
  const double h = 1e-5;
  for (int i = 0; i < policy.parameters(); ++i) {
    Eigen::VectorXd t = theta;
    t(i) += h;
    policy.set_theta(t);
    const double up = policy.log_prob(s);
    t(i) -= 2 * h;
    policy.set_theta(t);
    const double down = policy.log_prob(s);
    CHECK(grad(i) == doctest::Approx((up - down) / (2 * h)).epsilon(1e-6).scale(1.0));
  }
  policy.set_theta(theta);
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("policy: log_prob gradients match finite differences for every kind") {
  const auto made_cat = categorical_world(), made_gauss = gaussian_world();
  const World &cat = *made_cat, &gauss = *made_gauss;
  for (const char* kind : {"tabular", "log_linear"}) {
    Policy policy(cat, kind, false);
    policy.set_theta(random_theta(policy.parameters(), 1, 0.8));
    CounterRng rng(1, 2, 3);
    for (int p = 0; p < cat.prompts(); ++p) check_gradient(policy, policy.sample(p, rng));
  }
  for (bool learn_scale : {false, true}) {
    Policy policy(gauss, "mean_shift", learn_scale);
    CHECK(policy.parameters() == (learn_scale ? 6 : 3));
    policy.set_theta(random_theta(policy.parameters(), 2, 0.4));
    CounterRng rng(1, 2, 4);
    for (int i = 0; i < 4; ++i) check_gradient(policy, policy.sample(0, rng));
  }
}

TEST_CASE("policy: log_probs are normalized; theta = 0 is pi_ref with KL 0") {
  const auto made_cat = categorical_world(), made_gauss = gaussian_world();
  const World &cat = *made_cat, &gauss = *made_gauss;
  for (const char* kind : {"tabular", "log_linear"}) {
    Policy policy(cat, kind, false);
    for (int p = 0; p < cat.prompts(); ++p) {
      CHECK(policy.kl(p) == 0.0);
      CHECK(policy.log_probs(p) == cat.candidates()->log_ref.row(p).transpose());
    }
    policy.set_theta(random_theta(policy.parameters(), 3, 3.0));
    for (int p = 0; p < cat.prompts(); ++p) {
      CHECK(policy.log_probs(p).array().exp().sum() == doctest::Approx(1.0).epsilon(1e-12));
      CHECK(policy.kl(p) > 0.0);
    }
  }
  Policy policy(gauss, "mean_shift", true);
  CHECK(policy.kl(0) == 0.0);
  CounterRng rng(4, 5, 6);
  const Response s = policy.sample(0, rng);
  CHECK(policy.log_prob(s) == doctest::Approx(policy.log_ref(s)).epsilon(1e-14));
}

TEST_CASE("policy: the backend's training pass agrees with log_probs to float rounding; exactly pi_ref at theta = 0") {
  WorldConfig c;
  c.type = "categorical";
  c.dim = 9;
  c.prompts = 5;
  c.get<CategoricalWorldConfig>().candidates = 300;  // not a multiple of a SIMD width
  c.get<CategoricalWorldConfig>().seed = 12;
  const auto made = make_world(c);
  const World& cat = *made;
  for (const char* kind : {"tabular", "log_linear"}) {
    INFO(kind);
    Policy policy(cat, kind, false);
    // every candidate "chosen" once per prompt, so the pass's log-probabilities are the whole distribution
    PolicyPass pass;
    const int K = c.get<CategoricalWorldConfig>().candidates;
    pass.chosen.resize(c.prompts, K);
    for (int p = 0; p < c.prompts; ++p)
      for (int k = 0; k < K; ++k) pass.chosen(p, k) = k;
    PolicyPassRequest request;
    request.mean_feature = true;
    policy_pass_cpu(policy.table(), policy.theta(), request, pass);
    CHECK(pass.log_prob.row(1).transpose() == cat.candidates()->log_ref.row(1).transpose());
    policy.set_theta(random_theta(policy.parameters(), 5, 0.8));
    policy_pass_cpu(policy.table(), policy.theta(), request, pass);
    for (int p = 0; p < cat.prompts(); ++p) {
      const Eigen::VectorXd lp = policy.log_probs(p), pi = lp.array().exp();
      // float offsets (|phi theta| up to ~10 here) and exponentials: ~1e-6 absolute in log pi
      CHECK((pass.log_prob.row(p).transpose() - lp).cwiseAbs().maxCoeff() < 2e-5);
      // E_pi[d logit / d theta]: pi itself (tabular) or phi^T pi
      Eigen::VectorXd mean = pi;
      if (policy.kind() == Policy::Kind::log_linear)
        mean = cat.candidates()->features.middleRows(static_cast<Eigen::Index>(p) * K, K)
                   .cast<double>()
                   .transpose() *
               pi;
      CHECK((pass.mean_feature.col(p) - mean).cwiseAbs().maxCoeff() < 1e-5);
    }
  }
}

TEST_CASE("draw_candidates is the inverse CDF of each uniform, in draw order") {
  // 300 candidates: every third impossible, one holding half the mass
  Eigen::VectorXd pi(300);
  for (int k = 0; k < 300; ++k) pi(k) = k % 3 == 0 ? 0.0 : 1.0 + (k % 7);
  pi(150) = pi.sum();
  pi /= pi.sum();
  std::vector<int> drawn(64);
  CounterRng rng(3, 4, 5), again(3, 4, 5);
  draw_candidates(pi, rng, drawn);
  for (int i = 0; i < 64; ++i) {
    const double u = again.uniform();
    double cumulative = 0.0;
    int k = 0;
    while (k < 299 && !(u < (cumulative += pi(k)))) ++k;
    CHECK(drawn[i] == k);
    CHECK(pi(drawn[i]) > 0.0);
  }
}

TEST_CASE("draw_candidates never returns an impossible candidate, even past the end of the CDF") {
  // the sums' rounding (or u = 1) can leave u at or past the last cumulative value; the last candidates are
  // impossible, and these pi sum to 0.6 so that every u >= 0.6 lands past the end
  Eigen::VectorXd pi = Eigen::VectorXd::Zero(20);
  pi(3) = 0.2;
  pi(11) = 0.4;
  std::vector<int> drawn(256);
  CounterRng rng(5, 6, 7);
  draw_candidates(pi, rng, drawn);
  int past_end = 0;
  for (const int k : drawn) {
    CHECK((k == 3 || k == 11));
    past_end += k == 11;
  }
  CHECK(past_end > 128);  // about 70% of the draws: u in [0.2, 1)
}

TEST_CASE("policy: exact gaussian KL matches a Monte Carlo estimate") {
  const auto made = gaussian_world();
  const World& gauss = *made;
  Policy policy(gauss, "mean_shift", true);
  policy.set_theta(random_theta(policy.parameters(), 4, 0.5));
  const int n = 40000;
  double sum = 0.0, sum_sq = 0.0;
  for (int i = 0; i < n; ++i) {
    CounterRng rng(7, 8, i);
    const Response s = policy.sample(0, rng);
    const double lr = policy.log_prob(s) - policy.log_ref(s);
    sum += lr;
    sum_sq += lr * lr;
  }
  const double mean = sum / n, se = std::sqrt((sum_sq / n - mean * mean) / n);
  INFO("exact ", policy.kl(0), " monte carlo ", mean, " se ", se);
  CHECK(std::abs(mean - policy.kl(0)) < 4 * se);
  CHECK(policy.kl(0) > 0.1);
}

TEST_CASE("policy_gradient: rloo raises the proxy; a large KL coefficient holds KL small") {
  const std::string opt = "optimizer: {type: policy_gradient, algorithm: rloo, steps: 150, eval_every: 30, "
                          "learning_rate: 0.1, num_generations: 8, kl_coef: 0}\n";
  const auto free = run_rows(categorical_yaml(opt));
  REQUIRE(free.size() == 6);
  CHECK(free.front().kl == doctest::Approx(0.0));
  CHECK(free.front().kl_coef == 0.0);
  for (std::size_t i = 0; i < free.size(); ++i) {
    CHECK(free[i].step == 30.0 * i);
    CHECK(free[i].param_name == "step");
    if (i > 0) {
      CHECK(free[i].proxy_mean > free[i - 1].proxy_mean);
      CHECK(free[i].kl > free[i - 1].kl);
    }
  }
  MESSAGE("rloo kl_coef 0: proxy ", free.front().proxy_mean, " -> ", free.back().proxy_mean, ", KL ",
          free.back().kl, ", gold ", free.front().gold_mean, " -> ", free.back().gold_mean);
  CHECK(free.back().proxy_mean > free.front().proxy_mean + 0.5);
  const auto held = run_rows(categorical_yaml(opt), {"optimizer.kl_coef=5"});
  MESSAGE("rloo kl_coef 5: final KL ", held.back().kl, " proxy ", held.back().proxy_mean);
  CHECK(held.back().kl < 0.1 * free.back().kl);
  CHECK(held.back().kl < 0.05);
  CHECK(held.back().kl_coef == 5.0);
}

TEST_CASE("policy_gradient: the adaptive controller holds the exact KL near its target") {
  // rloo, k1 in the reward, 32 prompts x 8 samples per step. Settings chosen so that it holds: horizon 10000 (the
  // coefficient moves at most 0.5% per step) and learning rate 0.02, so the policy follows the coefficient faster
  // than the coefficient moves (a faster controller, horizon 2560 or 5000, or a faster policy, learning rate 0.05
  // from a far-off start, cycles by +-30-40% around the target). It starts at half the coefficient that holds
  // KL 0.5 (about 0.74 here), overshoots to KL ~1.2 by step 110 and settles by step 250.
  const std::string opt = "optimizer: {type: policy_gradient, algorithm: rloo, steps: 600, eval_every: 10, "
                          "learning_rate: 0.02, num_generations: 8, kl_coef: 0.35, adaptive_kl: true, "
                          "adaptive_kl_target: 0.5, adaptive_kl_horizon: 10000}\n";
  const auto rows = run_rows(categorical_yaml(opt, 32));
  REQUIRE(rows.size() == 61);
  double worst = 0.0, mean = 0.0, count = 0.0;
  for (const MetricRow& r : rows) {
    if (r.step < 300) continue;  // warm-up
    worst = std::max(worst, std::abs(r.kl / 0.5 - 1.0));
    mean += r.kl;
    count += 1.0;
  }
  MESSAGE("adaptive KL, target 0.5: mean exact KL over steps 300-600 ", mean / count, ", worst relative deviation ",
          worst, ", coefficient 0.35 -> ", rows.back().kl_coef);
  CHECK(worst < 0.1);
  CHECK(rows.back().kl_coef > 0.5);
}

TEST_CASE("policy_gradient: max_kl stops within one step of the budget") {
  const std::string opt = "optimizer: {type: policy_gradient, algorithm: rloo, steps: 500, eval_every: 1, "
                          "learning_rate: 0.1, kl_coef: 0, max_kl: 0.4}\n";
  const auto rows = run_rows(categorical_yaml(opt));
  REQUIRE(rows.size() >= 3);
  CHECK(rows.back().step < 500);
  CHECK(rows.back().kl >= 0.4);
  CHECK(rows[rows.size() - 2].kl < 0.4);
  CHECK(rows.size() == static_cast<std::size_t>(rows.back().step) + 1);
}

TEST_CASE("policy_gradient: reinforce, ppo and grpo improve the proxy") {
  for (const char* alg : {"reinforce", "ppo", "grpo"}) {
    const std::string opt = std::string("optimizer: {type: policy_gradient, algorithm: ") + alg +
                            ", steps: 60, eval_every: 60, learning_rate: 0.05, kl_coef: 0.05, "
                            "num_mini_batches: 2, num_ppo_epochs: 2}\n";
    const auto rows = run_rows(categorical_yaml(opt));
    REQUIRE(rows.size() == 2);
    MESSAGE(std::string(alg), ": proxy ", rows[0].proxy_mean, " -> ", rows[1].proxy_mean, " at KL ", rows[1].kl);
    CHECK(rows[1].proxy_mean > rows[0].proxy_mean + 0.3);
  }
}

TEST_CASE("policy_gradient: no row beats the exact KL-constrained optimum") {
  for (const char* policy : {"tabular", "log_linear"}) {
    const std::string opt = std::string("optimizer: {type: policy_gradient, policy: ") + policy +
                            ", algorithm: rloo, steps: 120, eval_every: 20, learning_rate: 0.1, kl_coef: 0.1}\n";
    const auto rows = run_rows(categorical_yaml(opt));
    std::string budgets;
    std::vector<MetricRow> trained;
    for (const MetricRow& r : rows)
      if (r.kl > 1e-4) {
        budgets += (budgets.empty() ? "" : ", ") + std::to_string(r.kl);
        trained.push_back(r);
      }
    REQUIRE(trained.size() == 6);
    const auto optimum = run_rows(categorical_yaml("optimizer: {type: kl_optimum, kl_budget: [" + budgets + "]}\n"));
    REQUIRE(optimum.size() == trained.size());
    for (std::size_t i = 0; i < trained.size(); ++i) {
      INFO(std::string(policy), " step ", trained[i].step, " KL ", trained[i].kl, " proxy ", trained[i].proxy_mean,
           " optimum ", optimum[i].proxy_mean, " at KL ", optimum[i].kl);
      CHECK(optimum[i].kl == doctest::Approx(trained[i].kl).epsilon(1e-4));
      CHECK(trained[i].proxy_mean <= optimum[i].proxy_mean + 1e-4);
    }
    MESSAGE(std::string(policy), ": final proxy ", trained.back().proxy_mean, " vs optimum ", optimum.back().proxy_mean,
            " at KL ", trained.back().kl);
  }
}

TEST_CASE("policy_gradient: tabular rloo converges to the exact KL-regularized optimum at beta = kl_coef") {
  // the fixed point of E[r - beta k1] (k1 in the reward) and of E[r] - beta E[k2] (k2 in the loss: its gradient
  // on fresh samples is that of KL) is pi_ref exp(r / beta); k3 in the loss follows the gradient of the reverse
  // KL(pi_ref || pi) instead, so it settles elsewhere (a larger forward KL)
  const std::string base = "{type: policy_gradient, policy: tabular, algorithm: rloo, steps: 400, eval_every: 400, "
                           "learning_rate: 0.05, kl_coef: 0.5";
  const std::string yaml = categorical_yaml("optimizers:\n  - " + base + "}\n  - " + base +
                                            ", kl_in: loss, kl_estimator: k2, name: k2}\n  - " + base +
                                            ", kl_in: loss, kl_estimator: k3, name: k3}\n"
                                            "  - {type: kl_optimum, beta: [0.5]}\n");
  const auto rows = run_rows(yaml);
  REQUIRE(rows.size() == 7);
  const MetricRow& optimum = rows[6];
  for (int i : {1, 3}) {
    INFO(rows[i].optimizer, ": KL ", rows[i].kl, " proxy ", rows[i].proxy_mean, "; optimum KL ", optimum.kl,
         " proxy ", optimum.proxy_mean);
    CHECK(rows[i].kl == doctest::Approx(optimum.kl).epsilon(0.03));
    CHECK(rows[i].proxy_mean == doctest::Approx(optimum.proxy_mean).epsilon(0.02));
    CHECK(rows[i].proxy_mean - 0.5 * rows[i].kl <= optimum.proxy_mean - 0.5 * optimum.kl + 1e-6);
  }
  MESSAGE("beta 0.5: optimum KL ", optimum.kl, " proxy ", optimum.proxy_mean, "; rloo k1-in-reward KL ", rows[1].kl,
          " proxy ", rows[1].proxy_mean, "; k2-in-loss KL ", rows[3].kl, "; k3-in-loss KL ", rows[5].kl);
  CHECK(rows[5].kl > 1.2 * optimum.kl);
}

TEST_CASE("policy_gradient: gaussian mean_shift with a learned scale improves the proxy") {
  const std::string yaml = "schema_version: 1\nname: pg\ndescription: t\nseed: 1\n"
                           "world: {type: gaussian, dim: 4, prompts: 8}\ngold: {type: concave, penalty: 0.25}\n"
                           "proxy: {type: noisy, noise: {distribution: student_t, scale: 0.5, shape: 5}}\n"
                           "eval: {accuracy_pairs: 512, standardize_samples: 4096}\n"
                           "optimizer: {type: policy_gradient, learn_scale: true, algorithm: grpo, steps: 60, "
                           "eval_every: 20, learning_rate: 0.05, kl_coef: 0.02, kl_in: loss, kl_estimator: k3, "
                           "samples: 256, num_generations: 16}\n";
  const auto rows = run_rows(yaml);
  REQUIRE(rows.size() == 4);
  CHECK(rows.front().kl == 0.0);
  CHECK(std::isnan(rows.front().entropy));
  CHECK(rows.front().ess == 256.0);
  MESSAGE("gaussian grpo: proxy ", rows.front().proxy_mean, " -> ", rows.back().proxy_mean, " at KL ",
          rows.back().kl);
  CHECK(rows.back().proxy_mean > rows.front().proxy_mean + 0.3);
  CHECK(rows.back().kl > 0.0);
}

TEST_CASE("policy_gradient: rows are identical at 1 and 2 threads") {
  // sizes above the threshold at which training steps run their prompt loops in parallel
  const std::string head = "schema_version: 1\nname: pg\ndescription: t\nseed: 2\neval: {accuracy_pairs: 512, "
                           "standardize_samples: 2048}\n";
  const std::vector<std::string> yamls = {
      head + "world: {type: categorical, dim: 8, prompts: 64, candidates: 160}\ngold: {type: linear}\n"
             "proxy: {type: noisy, noise: {scale: 0.5}}\n"
             "optimizer: {type: policy_gradient, algorithm: ppo, steps: 12, eval_every: 4, num_mini_batches: 2, "
             "adaptive_kl: true, whiten_rewards: true, kl_in: loss, kl_estimator: k2}\n",
      // rloo with the KL in the reward: the first update computed in the sampling pass
      head + "world: {type: categorical, dim: 8, prompts: 64, candidates: 160}\ngold: {type: linear}\n"
             "proxy: {type: noisy, noise: {scale: 0.5}}\n"
             "optimizer: {type: policy_gradient, algorithm: rloo, steps: 12, eval_every: 4, kl_coef: 0.05}\n",
      head + "world: {type: gaussian, dim: 8, prompts: 128}\ngold: {type: concave}\n"
             "proxy: {type: noisy, noise: {distribution: student_t}}\n"
             "optimizer: {type: policy_gradient, learn_scale: true, steps: 8, eval_every: 4, samples: 64, "
             "num_generations: 32, reward_clip: 1.5}\n"};
  const int threads = omp_get_max_threads();
  for (const std::string& yaml : yamls) {
    omp_set_num_threads(1);
    const auto one = run_rows(yaml);
    omp_set_num_threads(2);
    const auto two = run_rows(yaml);
    REQUIRE(one.size() == two.size());
    CHECK(one.back().kl > 0.0);
    for (std::size_t i = 0; i < one.size(); ++i) {
      const MetricRow &a = one[i], &b = two[i];
      for (auto field : {&MetricRow::kl, &MetricRow::proxy_mean, &MetricRow::proxy_se, &MetricRow::gold_mean,
                         &MetricRow::gold_win_rate, &MetricRow::proxy_gold_corr, &MetricRow::rm_accuracy_policy,
                         &MetricRow::entropy, &MetricRow::ess, &MetricRow::step, &MetricRow::kl_coef})
        CHECK(same_bits(a.*field, b.*field));
    }
  }
  omp_set_num_threads(threads);
}
