// test_dpo.cpp — DPO and IPO on the preference pairs (sim/optimizers/dpo.cpp): the replayed pairs match
// make_preference_pairs, the loss gradient matches central finite differences for every policy, training orders
// held-out pairs and raises gold, the tabular optimum is DPO's fixed point pi ∝ pi_ref exp(r / beta), IPO's KL
// stays bounded where DPO's grows, and rows are identical at 1 and 2 threads.
// Contract: scenarios from YAML text; the sweep point's context is built here as run.cpp builds it, so the tests
// do not depend on run_point (one case checks that run_point gives the same rows). About 1.5 s in Release.
#include <doctest/doctest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/policy.h"
#include "models/preferences.h"
#include "models/worlds/registry.h"
#include "sim/optimizers/dpo.h"
#include "sim/optimizers/optimizer.h"
#include "test_helpers.h"


using namespace goodhart;

namespace {

// one sweep point's models and the context run.cpp gives its optimizers
struct Point {
  Scenario cfg;
  std::unique_ptr<const World> made;
  const World& world;
  Gold gold;
  Proxy proxy;
  std::vector<float> ref_gold;
  ResponseTable table;

  explicit Point(const std::string& body, const std::vector<std::string>& overrides = {})
      : cfg(expand_sweep_text("schema_version: 1\nname: dpo\ndescription: t\n" + body, "dpo.yaml", overrides)
                .at(0)
                .config),
        made(make_world(cfg.world)),
        world(*made),
        gold(make_gold(cfg.gold, world, cfg.eval.standardize_samples)),
        proxy(make_proxy(cfg.proxy, cfg.preferences, cfg.eval, world, gold, cfg.gold.standardize, Backend::cpu,
                         cfg.seed)) {
    const Candidates* c = world.candidates();
    if (!c) {
      Responses r;
      draw_reference_responses(world, gold, {}, Backend::cpu, cfg.seed, World::any_prompt,
                               stream_id(Stream::standardize), 1, 0, cfg.eval.standardize_samples, r);
      ref_gold.assign(r.gold.data(), r.gold.data() + r.gold.size());
      std::sort(ref_gold.begin(), ref_gold.end());
      return;
    }
    // every candidate's values; win = P_ref(gold < g) + P_ref(gold = g) / 2 within its prompt
    const int P = world.prompts(), K = c->count;
    Responses r;
    all_candidates(world, gold, proxy.needs(), Backend::cpu, cfg.seed, r);
    Eigen::VectorXf f(r.size());
    proxy.score(Backend::cpu, r, f);
    table.log_ref = c->log_ref.cast<float>();
    for (auto& v : table.values) v.resize(P, K);
    for (int p = 0; p < P; ++p) {
      const Eigen::VectorXf gp = r.gold.segment(static_cast<Eigen::Index>(p) * K, K);
      Eigen::VectorXf win(K);
      for (int k = 0; k < K; ++k) {
        double below = 0.0;
        for (int l = 0; l < K; ++l)
          below += std::exp(c->log_ref(p, l)) * (gp(l) < gp(k) ? 1.0 : gp(l) == gp(k) ? 0.5 : 0.0);
        win(k) = static_cast<float>(below);
      }
      fill_value_row(f.segment(static_cast<Eigen::Index>(p) * K, K), gp, win, table, p);
    }
  }

  OptimizerContext ctx() const {
    return {cfg, world, gold, proxy, Backend::cpu, cfg.seed, ref_gold, world.candidates() ? &table : nullptr};
  }
  const DpoConfig& opt() const { return cfg.optimizers.at(0).get<DpoConfig>(); }

  // the training pairs as the policy sees them
  PreferencePairs pairs(std::vector<Response>& a, std::vector<Response>& b) const {
    PreferencePairs p = make_preference_pairs(cfg.preferences, world, gold, proxy.needs(), Backend::cpu, cfg.seed,
                                              cfg.preferences.n_pairs, Stream::preference_pairs,
                                              Stream::preference_labels);
    dpo_detail::pair_samples(p, a, b);
    return p;
  }
};

const std::string cheap = "proxy: {type: learned, optimizer: lbfgs, epochs: 3}\n"
                          "eval: {accuracy_pairs: 256, standardize_samples: 4096}\n";

// central finite differences of the mean batch loss against the analytic gradient
void check_gradient(const Point& pt, const std::string& policy_kind, bool learn_scale) {
  std::vector<Response> a, b;
  const PreferencePairs pairs = pt.pairs(a, b);
  std::vector<int> batch;
  for (int i = 0; i < 24; ++i) batch.push_back((7 * i) % static_cast<int>(pairs.size()));
  Policy policy(pt.world, policy_kind, learn_scale);
  Eigen::VectorXd theta(policy.parameters());
  CounterRng rng(5, 99, 0);
  for (Eigen::Index j = 0; j < theta.size(); ++j) theta(j) = 0.3 * rng.normal();
  for (const char* loss_type : {"sigmoid", "ipo", "chi_po"}) {
    DpoConfig opt;
    opt.loss_type = loss_type;
    for (const double beta : {0.1, 1.0}) {
      CAPTURE(policy_kind);
      CAPTURE(std::string(loss_type));
      CAPTURE(beta);
      policy.set_theta(theta);
      Eigen::VectorXd grad;
      dpo_detail::batch_loss(policy, a, b, pairs.label, batch, opt, beta, &grad, Backend::ref);
      REQUIRE(grad.size() == theta.size());
      const double h = 1e-5;
      for (Eigen::Index j = 0; j < theta.size(); ++j) {
        Eigen::VectorXd t = theta;
        t(j) += h;
        policy.set_theta(t);
        const double up = dpo_detail::batch_loss(policy, a, b, pairs.label, batch, opt, beta, nullptr, Backend::ref);
        t(j) -= 2 * h;
        policy.set_theta(t);
        const double down = dpo_detail::batch_loss(policy, a, b, pairs.label, batch, opt, beta, nullptr, Backend::ref);
        const double fd = (up - down) / (2 * h);
        // central differences: O(h^2) truncation plus ~1e-16 |loss| / h rounding
        CHECK(grad(j) == doctest::Approx(fd).epsilon(1e-6).scale(1.0 + std::abs(fd)));
      }
    }
  }
}

// every number of two rows equal bit for bit (NaN included)
bool same_bits(const MetricRow& x, const MetricRow& y) {
  auto fields = [](const MetricRow& m) {
    return std::vector<double>{m.param, m.beta, m.kl, m.sqrt_kl, m.kl_bound, m.proxy_mean, m.proxy_se, m.gold_mean,
                               m.gold_se, m.gold_win_rate, m.proxy_gold_corr, m.rm_accuracy_ref,
                               m.rm_accuracy_policy, m.entropy, m.ess, m.step, m.kl_coef, m.implicit_accuracy};
  };
  const std::vector<double> a = fields(x), b = fields(y);
  return std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// a categorical world for training runs: linear gold, clean labels
const std::string categorical_world =
    "world: {type: categorical, dim: 4, prompts: 8, candidates: 16, seed: 3}\n"
    "gold: {type: linear, seed: 1}\n";

}  // namespace

TEST_CASE("dpo reads the identities preference pairs carry: candidates match the pairs' features") {
  const Point pt(categorical_world + "preferences: {n_pairs: 500, heldout_pairs: 300}\n" + cheap +
                 "optimizer: {type: dpo}\n");
  std::vector<Response> a, b;
  const PreferencePairs pairs = pt.pairs(a, b);
  REQUIRE(a.size() == static_cast<std::size_t>(pairs.size()));
  const Candidates& c = *pt.world.candidates();
  std::set<int> prompts;
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].candidate >= 0);
    CHECK(a[i].prompt == b[i].prompt);
    CHECK(a[i].y.size() == 0);
    CHECK(pairs.a.x.row(i) == c.features.row(a[i].prompt * c.count + a[i].candidate));
    CHECK(pairs.b.x.row(i) == c.features.row(b[i].prompt * c.count + b[i].candidate));
    prompts.insert(a[i].prompt);
  }
  CHECK(prompts.size() == static_cast<std::size_t>(pt.world.prompts()));  // 500 pairs reach all 8 prompts
  // without candidates a response is its features
  const Point gauss("world: {type: gaussian, dim: 3, prompts: 2}\ngold: {type: linear, seed: 1}\n"
                    "preferences: {n_pairs: 50, heldout_pairs: 0}\n" + cheap + "optimizer: {type: dpo}\n");
  const PreferencePairs gp = gauss.pairs(a, b);
  REQUIRE(a.size() == 50);
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].candidate == -1);
    CHECK(a[i].y == gp.a.x.row(i).transpose().cast<double>());
    CHECK(b[i].y == gp.b.x.row(i).transpose().cast<double>());
  }
}

TEST_CASE("dpo, ipo and chi_po loss gradients match central finite differences") {
  const Point cat(categorical_world + "preferences: {n_pairs: 200, heldout_pairs: 0}\n" + cheap +
                  "optimizer: {type: dpo}\n");
  check_gradient(cat, "tabular", false);
  check_gradient(cat, "log_linear", false);
  const Point gauss("world: {type: gaussian, dim: 3, prompts: 2}\ngold: {type: linear, seed: 1}\n"
                    "preferences: {n_pairs: 200, heldout_pairs: 0}\n" + cheap + "optimizer: {type: dpo}\n");
  check_gradient(gauss, "mean_shift", false);
  check_gradient(gauss, "mean_shift", true);
}

TEST_CASE("dpo on clean labels orders held-out pairs and raises gold early") {
  const Point pt(categorical_world + "preferences: {n_pairs: 2000, heldout_pairs: 1000, labels: hard}\n" + cheap +
                 "optimizer: {type: dpo, beta: [0.1, 0.5], policy: log_linear, steps: 100, eval_every: 20,\n"
                 "            batch_size: 64, learning_rate: 0.05}\n");
  const std::vector<MetricRow> rows = run_dpo(pt.opt(), pt.ctx());
  REQUIRE(rows.size() == 2 * 6);  // steps 0, 20, ..., 100 for each beta
  for (int r = 0; r < 2; ++r) {
    const double beta = r == 0 ? 0.1 : 0.5;
    const MetricRow* run = &rows[6 * r];
    for (int i = 0; i < 6; ++i) {
      CHECK(run[i].param_name == "step");
      CHECK(run[i].step == 20 * i);
      CHECK(run[i].param == 20 * i);
      CHECK(run[i].beta == beta);
      CHECK(std::isnan(run[i].kl_coef));
    }
    // at pi_ref every implicit reward is 0: every pair a tie
    CHECK(run[0].implicit_accuracy == 0.5);
    CHECK(run[0].kl < 1e-12);
    // the gold reward is linear in the features, as log_linear is: the implicit reward learns its direction
    CHECK(run[5].implicit_accuracy > 0.85);
    CHECK(run[1].gold_mean > run[0].gold_mean + 0.3);
    CHECK(run[1].kl > 0.0);
    MESSAGE("beta " << beta << ": implicit accuracy " << run[5].implicit_accuracy << ", gold " << run[0].gold_mean
                    << " -> " << run[1].gold_mean << " (step 20) -> " << run[5].gold_mean << ", kl " << run[5].kl);
  }
}

TEST_CASE("dpo's tabular optimum is pi ∝ pi_ref exp(r / beta) for the Bradley-Terry reward r") {
  // one prompt, four candidates, many Bradley-Terry pairs (temperature 1: r = gold)
  const double beta = 0.5;
  const Point pt("world: {type: categorical, dim: 2, prompts: 1, candidates: 4, ref_logit_scale: 0.3, seed: 2}\n"
                 "gold: {type: linear, seed: 4}\n"
                 "preferences: {n_pairs: 20000, heldout_pairs: 0, temperature: 1.0}\n" + cheap +
                 "optimizer: {type: dpo, policy: tabular, steps: 600, batch_size: 4000, learning_rate: 0.02}\n");
  std::vector<Response> a, b;
  const PreferencePairs pairs = pt.pairs(a, b);
  Policy policy(pt.world, "tabular", false);
  dpo_detail::train(policy, a, b, pairs.label, pt.opt(), beta, pt.cfg.seed, Backend::cpu, nullptr);
  // trained log-ratios and the fixed point r / beta, both centered (the constant is free)
  const int K = pt.world.candidates()->count;
  Responses cand;
  all_candidates(pt.world, pt.gold, {}, Backend::cpu, pt.cfg.seed, cand);
  const Eigen::VectorXd r = cand.gold.cast<double>();
  Eigen::VectorXd ratio = policy.log_probs(0) - pt.world.candidates()->log_ref.row(0).transpose();
  Eigen::VectorXd target = r / beta;
  ratio.array() -= ratio.mean();
  target.array() -= target.mean();
  // the finite-data optimum: u = beta * log-ratio is the Bradley-Terry MLE on these pairs (Newton, centered);
  // its statistical error: the inverse Fisher information sum_i s_i (1 - s_i) e_i e_i^T, e_i = e_w - e_l, on the
  // centered subspace (both matrices have the null vector 1: pinv(M) = inv(M + 11^T / K) - 11^T / K)
  const Eigen::MatrixXd ones = Eigen::MatrixXd::Constant(K, K, 1.0 / K);
  std::vector<Eigen::VectorXd> e;
  for (std::size_t i = 0; i < a.size(); ++i) {
    Eigen::VectorXd ei = Eigen::VectorXd::Zero(K);
    const bool a_wins = pairs.label(static_cast<Eigen::Index>(i)) > 0.5;
    ei((a_wins ? a : b)[i].candidate) += 1.0;
    ei((a_wins ? b : a)[i].candidate) -= 1.0;
    if (ei.squaredNorm() > 0) e.push_back(ei);
  }
  auto hessian = [&](const Eigen::VectorXd& u) {
    Eigen::MatrixXd h = Eigen::MatrixXd::Zero(K, K);
    for (const Eigen::VectorXd& ei : e) {
      const double s = 1.0 / (1.0 + std::exp(-u.dot(ei)));
      h += s * (1 - s) * ei * ei.transpose();
    }
    return h;
  };
  Eigen::VectorXd u = Eigen::VectorXd::Zero(K);
  for (int it = 0; it < 30; ++it) {
    Eigen::VectorXd g = Eigen::VectorXd::Zero(K);
    for (const Eigen::VectorXd& ei : e) g -= ei / (1.0 + std::exp(u.dot(ei)));
    u -= (hessian(u) + ones).ldlt().solve(g);
  }
  Eigen::VectorXd mle = u / beta;
  mle.array() -= mle.mean();
  const Eigen::MatrixXd cov = (hessian(r) + ones).inverse() - ones;
  for (int k = 0; k < K; ++k) {
    const double sd = std::sqrt(cov(k, k)) / beta;  // in log-ratio units
    CAPTURE(k);
    CAPTURE(sd);
    // the optimizer reaches the finite-data optimum (Adam's minibatch jitter at learning rate 0.02: < 0.01)...
    CHECK(std::abs(ratio(k) - mle(k)) < 0.02);
    // ...which is the fixed point r / beta within 4 standard errors
    CHECK(std::abs(mle(k) - target(k)) < 4 * sd);
    CHECK(sd < 0.1);  // enough pairs for the check to mean something
  }
  MESSAGE("log-ratios " << ratio.transpose() << "; MLE " << mle.transpose() << "; r/beta " << target.transpose());
}

TEST_CASE("ipo's KL stays bounded where dpo's grows on deterministic preferences") {
  // hard labels on a linear gold: separable pairs, so DPO's loss keeps falling as the mean shift grows
  const std::string body = "world: {type: gaussian, dim: 4, prompts: 2}\ngold: {type: linear, seed: 1}\n"
                           "preferences: {n_pairs: 1000, heldout_pairs: 200, labels: hard}\n" + cheap +
                           "optimizer: {type: dpo, beta: [0.1], steps: 400, eval_every: 200, batch_size: 64,\n"
                           "            learning_rate: 0.05, samples: 64}\n";
  const Point dpo(body);
  const Point ipo(body, {"optimizer.loss_type=ipo"});
  const std::vector<MetricRow> d = run_dpo(dpo.opt(), dpo.ctx()), i = run_dpo(ipo.opt(), ipo.ctx());
  REQUIRE(d.size() == 3);
  REQUIRE(i.size() == 3);
  MESSAGE("kl at steps 0, 200, 400: dpo " << d[0].kl << " " << d[1].kl << " " << d[2].kl << "; ipo " << i[0].kl
                                          << " " << i[1].kl << " " << i[2].kl);
  CHECK(i[2].kl < d[2].kl);
  CHECK(i[2].kl < 1.1 * i[1].kl);  // converged: IPO's optimum is a finite shift
  CHECK(d[2].kl > 1.5 * d[1].kl);  // still growing: DPO's is at infinity
}

TEST_CASE("dpo rows are identical at 1 and 2 threads") {
  const int threads = omp_get_max_threads();
  auto rows_at = [](const Point& pt, int n) {
    omp_set_num_threads(n);
    return run_dpo(pt.opt(), pt.ctx());
  };
  const Point cat(categorical_world + "preferences: {n_pairs: 500, heldout_pairs: 300, label_noise: 0.1}\n" + cheap +
                  "optimizer: {type: dpo, beta: [0.1, 1.0], steps: 40, eval_every: 10}\n");
  const Point gauss("world: {type: gaussian, dim: 3, prompts: 4}\ngold: {type: concave, seed: 1}\n"
                    "preferences: {n_pairs: 500, heldout_pairs: 300}\n" + cheap +
                    "optimizer: {type: dpo, loss_type: ipo, learn_scale: true, steps: 40, eval_every: 10,"
                    " samples: 128}\n");
  for (const Point* pt : {&cat, &gauss}) {
    const std::vector<MetricRow> one = rows_at(*pt, 1), two = rows_at(*pt, 2);
    REQUIRE(one.size() == two.size());
    for (std::size_t r = 0; r < one.size(); ++r) {
      CHECK(one[r].param_name == two[r].param_name);
      CHECK(same_bits(one[r], two[r]));
    }
  }
  omp_set_num_threads(threads);
}

TEST_CASE("dpo through run_point: named rows, the same as run_dpo on this file's context") {
  const std::string body = categorical_world + "preferences: {n_pairs: 300, heldout_pairs: 200}\n" + cheap +
                           "optimizer: {type: dpo, name: direct, beta: [0.2], steps: 20, eval_every: 10}\n";
  const Point pt(body);
  const std::vector<MetricRow> mine = run_dpo(pt.opt(), pt.ctx());
  const PointResult run =
      run_point(expand_sweep_text("schema_version: 1\nname: dpo\ndescription: t\n" + body, "dpo.yaml").at(0),
                Backend::cpu);
  const std::vector<MetricRow> rows = test::rows_of(run, "direct");
  REQUIRE(rows.size() == 3);  // steps 0, 10, 20
  REQUIRE(mine.size() == rows.size());
  for (std::size_t r = 0; r < rows.size(); ++r) {
    MetricRow m = mine[r];
    m.rm_accuracy_ref = rows[r].rm_accuracy_ref;  // run_point's, from fresh pi_ref pairs
    CHECK(same_bits(m, rows[r]));
  }
}
