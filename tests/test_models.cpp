// test_models.cpp — the model layer: gold standardization, Bradley-Terry gradients and recovery of a linear gold
// direction, noisy-proxy error moments and laws, and counter-based draws.
// Contract: fixed seeds; statistical checks state their k standard errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include <boost/math/distributions/students_t.hpp>

#include "models/bradley_terry.h"
#include "models/noise.h"
#include "models/preferences.h"
#include "models/proxy.h"
#include "models/worlds/registry.h"
#include "sim/scenario/scenario.h"

using namespace goodhart;

namespace {

Scenario scenario(const std::string& body) {
  return load_scenario_text("schema_version: 1\nname: t\ndescription: test\n" + body, "test.yaml");
}

}  // namespace

TEST_CASE("counter-based draws do not depend on the order of use") {
  CounterRng a(5, Stream::pool, 3, 9), b(5, Stream::pool, 3, 9), c(5, Stream::pool, 3, 10);
  const double first = a.normal();
  CHECK(first == b.normal());
  CHECK(first != c.normal());
  // moments of many draws: mean 0 and variance 1 within 4 standard errors
  double s1 = 0.0, s2 = 0.0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    CounterRng r(1, Stream::pool, 0, i);
    const double z = r.normal();
    s1 += z;
    s2 += z * z;
  }
  CHECK(std::abs(s1 / n) < 4.0 / std::sqrt(n));
  CHECK(std::abs(s2 / n - 1.0) < 4.0 * std::sqrt(2.0 / n));
}

TEST_CASE("gold is standardized under pi_ref for every type and world") {
  for (const char* gold : {"{type: linear}", "{type: concave, penalty: 0.3}", "{type: mlp, hidden: [16]}"}) {
    for (const char* world : {"{type: gaussian, dim: 4, mean: [0.5], scale: [1.5]}",
                              "{type: categorical, dim: 4, prompts: 64, candidates: 32}"}) {
      INFO(gold << " in " << world);
      const Scenario s = scenario(std::string("world: ") + world + "\ngold: " + gold +
                                  "\nproxy: {type: noisy}\noptimizer: {type: best_of_n, pool: 8, n: [1]}\n");
      const auto made_w = make_world(s.world);
      const World& w = *made_w;
      const Gold g = make_gold(s.gold, w, s.eval.standardize_samples);
      // fresh draws (another stream than the standardization's): mean 0, variance 1 within 5 standard errors
      Responses r;
      const int n = 100000;
      if (w.candidates()) {
        all_candidates(w, g, {}, Backend::cpu, 0, r);
        double m = 0, v = 0;
        for (int p = 0; p < w.prompts(); ++p)
          for (int k = 0; k < w.candidates()->count; ++k) {
            const double pr = std::exp(w.candidates()->log_ref(p, k)) / w.prompts(), x = r.gold(p * w.candidates()->count + k);
            m += pr * x;
            v += pr * x * x;
          }
        CHECK(m == doctest::Approx(0.0).scale(1.0).epsilon(1e-5));
        CHECK(v == doctest::Approx(1.0).epsilon(1e-5));
      } else {
        draw_reference_responses(w, g, {}, Backend::cpu, 99, World::any_prompt, stream_id(Stream::pool), 0, 0, n, r);
        const Eigen::VectorXd x = r.gold.cast<double>();
        const double m = x.mean(), v = x.squaredNorm() / n - m * m;
        CHECK(std::abs(m) < 5.0 / std::sqrt(n) + 5.0 / std::sqrt(s.eval.standardize_samples));
        CHECK(std::abs(v - 1.0) < 0.05);
      }
      // the fast scoring path agrees with the double reference
      for (int i = 0; i < 20; ++i) {
        const Eigen::VectorXd y = r.x.row(i).cast<double>().transpose();
        CHECK(g.score_one(y.data()) == doctest::Approx(r.gold(i)).epsilon(1e-4));
      }
    }
  }
}

TEST_CASE("Bradley-Terry gradient matches finite differences (mlp)") {
  CounterRng rng(2, 50, 0);
  Mlp f = make_random_mlp(3, {5}, Activation::tanh, rng);
  Eigen::MatrixXd xa(20, 3), xb(20, 3);
  Eigen::VectorXd y(20);
  for (int i = 0; i < 20; ++i) {
    for (int j = 0; j < 3; ++j) {
      xa(i, j) = rng.normal();
      xb(i, j) = rng.normal();
    }
    y(i) = rng.uniform() < 0.5 ? 1.0 : 0.0;
  }
  Eigen::VectorXd grad;
  bradley_terry_loss(f, xa, xb, y, 0.01, &grad);
  const Eigen::VectorXd theta = pack_parameters(f);
  for (int k = 0; k < theta.size(); ++k) {
    Mlp plus = f, minus = f;
    Eigen::VectorXd t = theta;
    t(k) += 1e-6;
    unpack_parameters(t, plus);
    t(k) -= 2e-6;
    unpack_parameters(t, minus);
    const double numeric = (bradley_terry_loss(plus, xa, xb, y, 0.01, nullptr) -
                            bradley_terry_loss(minus, xa, xb, y, 0.01, nullptr)) / 2e-6;
    CHECK(grad(k) == doctest::Approx(numeric).epsilon(1e-5).scale(1e-3));
  }
}

TEST_CASE("Bradley-Terry recovers a linear gold direction from enough data (adam and lbfgs)") {
  for (const char* opt : {"adam", "lbfgs"}) {
    INFO(opt);
    const Scenario s = scenario(std::string("world: {type: gaussian, dim: 6}\ngold: {type: linear}\n") +
                                "preferences: {n_pairs: 20000}\nproxy: {type: learned, model: linear, optimizer: " +
                                opt + ", epochs: 20}\noptimizer: {type: best_of_n, pool: 8, n: [1]}\n");
    const auto made_w = make_world(s.world);
    const World& w = *made_w;
    const Gold g = make_gold(s.gold, w, s.eval.standardize_samples);
    const Proxy p = make_proxy(s.proxy, s.preferences, s.eval, w, g, s.gold.standardize, Backend::cpu, 0);
    Eigen::VectorXd a, gold_a;
    double c = 0.0;
    REQUIRE(p.linear_in_features(6, a, c));
    gold_a = g.mlp.weights[0].col(0);
    CHECK(a.normalized().dot(gold_a.normalized()) > 0.995);
    // Bradley-Terry with temperature 1 on a standardized gold: held-out accuracy near the label ceiling
    CHECK(p.heldout_accuracy > 0.7);
  }
}

TEST_CASE("noisy-proxy errors: sample moments match the closed forms") {
  for (const char* d : {"gaussian", "student_t", "lognormal", "pareto"}) {
    NoiseConfig noise{d, 1.0, d == std::string("student_t") ? 5.0 : d == std::string("pareto") ? 5.0 : 0.5};
    const ErrorMoments m = error_moments(noise);
    REQUIRE(m.finite_variance);
    const int n = 200000;
    double s1 = 0.0;
    for (int i = 0; i < n; ++i) {
      CounterRng rng(4, Stream::pool, 1, i);
      s1 += draw_error(noise, rng);
    }
    INFO(d);
    CHECK(std::abs(s1 / n - m.mean) < 5.0 * std::sqrt(m.variance / n));
  }
  // levy: no mean, but the median is known
  NoiseConfig levy{"levy", 1.0, 1.0};
  std::vector<double> x;
  for (int i = 0; i < 20001; ++i) {
    CounterRng rng(4, Stream::pool, 2, i);
    x.push_back(draw_error(levy, rng));
  }
  std::nth_element(x.begin(), x.begin() + 10000, x.end());
  CHECK(x[10000] == doctest::Approx(error_moments(levy).median).epsilon(0.05));
}

TEST_CASE("noisy-proxy errors: each draw follows its documented law (CDF at five points, 5 standard errors)") {
  // docs/scenario-keys.md's table: the CDF of the unit draw e of each distribution
  const auto Phi = [](double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); };
  struct Law {
    const char* distribution;
    double shape;
    std::function<double(double)> cdf;
    std::vector<double> at;
  };
  const std::vector<Law> laws = {
      {"gaussian", 3.0, Phi, {-2, -0.5, 0, 1, 2.5}},
      {"student_t", 3.0,
       [](double x) { return boost::math::cdf(boost::math::students_t_distribution<double>(3.0), x); },
       {-4, -1, 0, 0.7, 3}},
      {"lognormal", 0.5, [&](double x) { return Phi(std::log(x) / 0.5); }, {0.5, 0.8, 1, 1.5, 3}},
      {"pareto", 1.5, [](double x) { return 1.0 - std::pow(x, -1.5); }, {1.1, 1.5, 2, 5, 20}},
      {"levy", 1.0, [](double x) { return std::erfc(1.0 / std::sqrt(2.0 * x)); }, {0.2, 1, 2.2, 10, 100}},
  };
  const int n = 100000;
  for (const Law& law : laws) {
    NoiseConfig noise;
    noise.distribution = law.distribution;
    noise.scale = 1.0;
    noise.shape = law.shape;
    std::vector<double> x(n);
    for (int i = 0; i < n; ++i) {
      CounterRng rng(9, Stream::pool, 3, i);
      x[i] = draw_error(noise, rng);
    }
    for (double t : law.at) {
      const double p = law.cdf(t);
      const auto below = std::count_if(x.begin(), x.end(), [t](double v) { return v <= t; });
      const double empirical = static_cast<double>(below) / n;
      INFO(law.distribution << " at " << t << ": empirical " << empirical << ", exact " << p);
      CHECK(std::abs(empirical - p) < 5.0 * std::sqrt(p * (1 - p) / n) + 1e-12);
    }
  }
}

TEST_CASE("proxy scoring: the fast path matches the double reference for every proxy kind") {
  for (const char* proxy : {"{type: learned, model: linear, features: [0, 2]}", "{type: learned, model: quadratic}",
                            "{type: learned, model: mlp, hidden: [8], spurious_correlation: 0.5}",
                            "{type: noisy, noise: {distribution: student_t, shape: 3.0, scale: 2.0}}"}) {
    INFO(proxy);
    const Scenario s = scenario(std::string("world: {type: gaussian, dim: 3}\ngold: {type: concave}\n") +
                                "preferences: {n_pairs: 200}\nproxy: " + proxy +
                                "\noptimizer: {type: best_of_n, pool: 8, n: [1]}\n");
    const auto made_w = make_world(s.world);
    const World& w = *made_w;
    const Gold g = make_gold(s.gold, w, s.eval.standardize_samples);
    const Proxy p = make_proxy(s.proxy, s.preferences, s.eval, w, g, s.gold.standardize, Backend::cpu, 0);
    Responses r;
    draw_reference_responses(w, g, p.needs(), Backend::cpu, 1, World::any_prompt, stream_id(Stream::pool), 0, 0, 50, r);
    Eigen::VectorXf fast(50);
    p.score(Backend::cpu, r, fast);
    for (int i = 0; i < 50; ++i) {
      const Eigen::VectorXd y = r.x.row(i).cast<double>().transpose();
      const double ref = p.score_one(y.data(), r.gold(i), r.error.size() ? r.error(i) : 0.0,
                                     r.spurious.size() ? r.spurious(i) : 0.0);
      CHECK(fast(i) == doctest::Approx(ref).epsilon(1e-4).scale(1.0));
    }
  }
}
