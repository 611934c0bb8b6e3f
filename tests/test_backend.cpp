// test_backend.cpp — every fast CPU op against its plain double reference, and the tilt's numerical range.
// Contract: tolerances are tol + eps * |ref| with float32 fast paths; inputs from fixed seeds.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include <omp.h>

#include "sim/numeric/philox_hd.h"
#include "sim/backend/ops.h"
#include "test_helpers.h"

using namespace goodhart;
using goodhart::test::normalize_rows;
using goodhart::test::random_matrix;

namespace {

void check_close(double fast, double ref, double tol, double eps) {
  CHECK(std::isfinite(fast));
  CHECK(std::abs(fast - ref) <= tol + eps * std::abs(ref));
}

// tilt_sweep_cpu against tilt_sweep_ref: KL to 1e-6 + 2e-4 relative (the float kernel falls back to double where
// its KL would be less accurate), the rest to 1e-4
void check_tilt_matches_ref(const RowMatrixXf& log_ref, const RowMatrixXf& proxy, const RowMatrixXf& gold,
                            const std::vector<double>& betas) {
  TiltInput in{&log_ref, &proxy, {&proxy, &gold}};
  TiltResult fast, ref;
  tilt_sweep_cpu(in, betas, fast);
  tilt_sweep_ref(in, betas, ref);
  for (int p = 0; p < log_ref.rows(); ++p)
    for (int b = 0; b < static_cast<int>(betas.size()); ++b) {
      check_close(fast.at(p, b, tilt_kl), ref.at(p, b, tilt_kl), 1e-6, 2e-4);
      check_close(fast.at(p, b, tilt_entropy), ref.at(p, b, tilt_entropy), 2e-4, 1e-4);
      check_close(fast.at(p, b, tilt_ess), ref.at(p, b, tilt_ess), 1e-4, 1e-4);
      for (int v = 0; v < 2; ++v)
        check_close(fast.at(p, b, tilt_first_value + v), ref.at(p, b, tilt_first_value + v), 1e-4, 1e-4);
    }
}

}  // namespace

TEST_CASE("score_mlp: cpu matches the double reference (tanh and relu, linear)") {
  const RowMatrixXf x = random_matrix(300, 12, 1);
  for (Activation act : {Activation::tanh, Activation::relu}) {
    for (std::vector<int> hidden : {std::vector<int>{}, std::vector<int>{64}, std::vector<int>{32, 16}}) {
      CounterRng rng(7, 3, 0);
      const Mlp f = make_random_mlp(12, hidden, act, rng);
      Eigen::VectorXf fast(300), ref(300);
      score_mlp_cpu(f, x, fast);
      score_mlp_ref(f, x, ref);
      for (int i = 0; i < 300; ++i) check_close(fast(i), ref(i), 1e-5, 1e-5);
    }
  }
}

TEST_CASE("bon_moments: cpu matches the double reference") {
  const RowMatrixXf w = random_matrix(5, 200, 2).cwiseAbs();
  const Eigen::MatrixXd weights = w.cast<double>();
  const Eigen::MatrixXf values = random_matrix(200, 6, 3);
  Eigen::MatrixXd fast, ref;
  bon_moments_cpu(weights, values, fast);
  bon_moments_ref(weights, values, ref);
  for (int g = 0; g < 5; ++g)
    for (int j = 0; j < 6; ++j) check_close(fast(g, j), ref(g, j), 1e-9, 1e-12);
}

TEST_CASE("tilt_sweep: cpu matches the double reference over beta from 1e-4 to 1e4") {
  const int P = 7, K = 300;
  RowMatrixXf log_ref = random_matrix(P, K, 4);
  normalize_rows(log_ref);
  const RowMatrixXf proxy = random_matrix(P, K, 5, 2.0), gold = random_matrix(P, K, 6);
  const std::vector<double> betas = {1e-4, 1e-2, 0.1, 0.3, 1.0, 3.0, 100.0, 1e4};
  check_tilt_matches_ref(log_ref, proxy, gold, betas);
  // limits: beta -> infinity is pi_ref (KL -> 0); beta -> 0 puts all mass on the best proxy (KL = -log pi_ref)
  TiltResult ref;
  tilt_sweep_ref({&log_ref, &proxy, {&proxy}}, betas, ref);
  for (int p = 0; p < P; ++p) {
    Eigen::Index best = 0;
    proxy.row(p).maxCoeff(&best);
    CHECK(ref.at(p, 7, tilt_kl) < 1e-6);
    CHECK(ref.at(p, 0, tilt_kl) == doctest::Approx(-log_ref(p, best)).epsilon(1e-6));
    CHECK(ref.at(p, 0, tilt_first_value) == doctest::Approx(proxy(p, best)).epsilon(1e-6));
  }
  SUBCASE("W2's shape: 4096 candidates, 64 betas log-spaced over [1e-2, 10]") {
    RowMatrixXf wide_ref = random_matrix(3, 4096, 7);
    normalize_rows(wide_ref);
    const RowMatrixXf wide_proxy = random_matrix(3, 4096, 8), wide_gold = random_matrix(3, 4096, 9);
    std::vector<double> grid;
    for (int b = 0; b < 64; ++b) grid.push_back(std::pow(10.0, -2.0 + 3.0 * b / 63));
    check_tilt_matches_ref(wide_ref, wide_proxy, wide_gold, grid);
  }
}

TEST_CASE("tilt_sweep: cpu matches the reference where the proxy's best candidate is far in pi_ref's tail") {
  // prompts 0-4: outside the float pass's safe shift (done in double); prompt 5: see test_helpers.h
  const test::HostileTilt h;
  check_tilt_matches_ref(h.log_ref, h.proxy, h.gold, h.betas);
  // prompt 5 in closed form: the possible candidates tie on the proxy, so pi_beta = pi_ref = (2/3, 1/3) at every beta
  TiltResult fast;
  tilt_sweep_cpu({&h.log_ref, &h.proxy, {&h.proxy}}, h.betas, fast);
  for (int b = 0; b < static_cast<int>(h.betas.size()); ++b) {
    INFO("beta " << h.betas[b]);
    CHECK(fast.at(5, b, tilt_kl) < 1e-6);
    CHECK(fast.at(5, b, tilt_entropy) == doctest::Approx(std::log(3.0) - 2.0 / 3.0 * std::log(2.0)).epsilon(1e-6));
    CHECK(fast.at(5, b, tilt_ess) == doctest::Approx(1.8).epsilon(1e-6));
    CHECK(fast.at(5, b, tilt_first_value) == doctest::Approx(0.0));
  }
}

TEST_CASE("tilt_sweep: an inf proxy at a possible candidate gives NaN (as the reference); at an impossible one, nothing") {
  const int P = 2, K = 40;
  RowMatrixXf log_ref = random_matrix(P, K, 16);
  log_ref(1, 7) = -std::numeric_limits<float>::infinity();
  normalize_rows(log_ref);
  RowMatrixXf proxy = random_matrix(P, K, 17);
  proxy(0, 3) = std::numeric_limits<float>::infinity();  // prompt 0: possible
  proxy(1, 7) = std::numeric_limits<float>::infinity();  // prompt 1: impossible
  const std::vector<double> betas = {1e-3, 1.0, 1e3};
  TiltResult fast, ref;
  tilt_sweep_cpu({&log_ref, &proxy, {&proxy}}, betas, fast);
  tilt_sweep_ref({&log_ref, &proxy, {&proxy}}, betas, ref);
  for (int b = 0; b < 3; ++b)
    for (int c = 0; c < fast.columns; ++c) {
      CHECK(std::isnan(fast.at(0, b, c)));
      CHECK(std::isnan(ref.at(0, b, c)));
      CHECK(std::isfinite(fast.at(1, b, c)));
      check_close(fast.at(1, b, c), ref.at(1, b, c), 2e-4, 1e-4);
    }
}

TEST_CASE("tilt_sweep: a beta so small that 1 / beta overflows a float keeps the float pass finite") {
  // one candidate holds the best proxy well inside pi_ref: the float pass runs, with 1 / beta clamped
  const int P = 3, K = 64;
  RowMatrixXf log_ref = random_matrix(P, K, 13);
  normalize_rows(log_ref);
  const RowMatrixXf proxy = random_matrix(P, K, 14), gold = random_matrix(P, K, 15);
  check_tilt_matches_ref(log_ref, proxy, gold, {1e-45, 1e-40, 1e-30});
}

TEST_CASE("tilt of a finely discretized gaussian meets the tilted-gaussian closed form") {
  // pi_ref = N(mu, s^2) on a grid, reward a*y: optimum N(mu + a s^2 / beta, s^2), KL = a^2 s^2 / (2 beta^2)
  const double mu = 0.5, s = 0.8, a = 1.3, h = 1e-3;
  const int K = static_cast<int>(20.0 / h) + 1;
  RowMatrixXf log_ref(1, K), proxy(1, K), y(1, K);
  double lse = 0.0;
  for (int k = 0; k < K; ++k) {
    y(0, k) = static_cast<float>(-10.0 + k * h);
    log_ref(0, k) = static_cast<float>(-0.5 * std::pow((y(0, k) - mu) / s, 2));
    proxy(0, k) = static_cast<float>(a * y(0, k));
    lse += std::exp(static_cast<double>(log_ref(0, k)));
  }
  log_ref.array() -= static_cast<float>(std::log(lse));
  const std::vector<double> betas = {0.5, 1.0, 2.0};
  TiltResult ref;
  tilt_sweep_ref({&log_ref, &proxy, {&y}}, betas, ref);
  for (int b = 0; b < 3; ++b) {
    CHECK(ref.at(0, b, tilt_kl) == doctest::Approx(a * a * s * s / (2 * betas[b] * betas[b])).epsilon(1e-4));
    CHECK(ref.at(0, b, tilt_first_value) == doctest::Approx(mu + a * s * s / betas[b]).epsilon(1e-4));
  }
}

namespace {

// a small categorical world: 60 prompts x 300 candidates (not a multiple of a SIMD width) in 7 dimensions,
// normalized log pi_ref with every eleventh candidate of prompt 0 impossible, policies already moved off pi_ref
struct PolicyWorld {
  RowMatrixXf features = random_matrix(60 * 300, 7, 30);
  RowMatrixXd log_ref = RowMatrixXd(60, 300);
  Eigen::VectorXd log_linear_theta = Eigen::VectorXd::LinSpaced(7, -0.5, 0.7);
  Eigen::VectorXd tabular_theta = random_matrix(1, 60 * 300, 32, 1.0).cast<double>().transpose();
  PolicyWorld() {
    for (int p = 0; p < 60; ++p) {
      log_ref.row(p) = random_matrix(1, 300, 200 + p, 1.5).cast<double>();
      if (p == 0)
        for (int k = 0; k < 300; k += 11) log_ref(0, k) = -std::numeric_limits<double>::infinity();
      const double m = log_ref.row(p).maxCoeff();
      log_ref.row(p).array() -= m + std::log((log_ref.row(p).array() - m).exp().sum());
    }
    tabular_theta.segment(5 * 300, 300).setZero();  // prompt 5 of the tabular policy at pi_ref exactly
  }
  PolicyTable table(bool tabular) const { return {&features, &log_ref, tabular, nullptr}; }
  const Eigen::VectorXd& theta(bool tabular) const { return tabular ? tabular_theta : log_linear_theta; }
};

}  // namespace

TEST_CASE("policy_pass and policy_slots: cpu match the double reference; identical at 1 and 2 threads") {
  const PolicyWorld w;
  for (bool tabular : {false, true}) {
    INFO((tabular ? "tabular" : "log_linear"));
    const PolicyTable t = w.table(tabular);
    for (int step : {0, 3, 17}) {
      PolicyPassRequest request{8, 11, step, true};
      PolicyPass fast, ref;
      policy_pass_cpu(t, w.theta(tabular), request, fast);
      policy_pass_ref(t, w.theta(tabular), request, ref);
      // the same draws (no uniform falls within float rounding of a CDF boundary here; a wrong draw is a
      // different candidate), log pi to float rounding of the offsets (|phi theta| ~ 3), E_pi[feature] likewise
      CHECK(fast.chosen == ref.chosen);
      CHECK((fast.log_prob - ref.log_prob).cwiseAbs().maxCoeff() < 5e-6);
      CHECK((fast.mean_feature - ref.mean_feature).cwiseAbs().maxCoeff() < 1e-5);
      for (int k = 0; k < 300; k += 11) CHECK((fast.chosen.row(0).array() != k).all());  // never impossible
      // slots over a minibatch [2, 6) of coefficients that do not sum to zero, with and without the mean term
      const RowMatrixXd coef = random_matrix(60, 8, 40 + step).cast<double>();
      for (bool with_mean : {true, false}) {
        Eigen::MatrixXd slots_fast, slots_ref;
        policy_slots_cpu(t, fast, coef, 2, 6, with_mean, slots_fast);
        policy_slots_ref(t, ref, coef, 2, 6, with_mean, slots_ref);
        REQUIRE(slots_fast.rows() == t.block_size());
        REQUIRE(slots_fast.cols() == 60);
        CHECK((slots_fast - slots_ref).cwiseAbs().maxCoeff() < 1e-4);
      }
    }
    // pi_ref exactly at a zero offset (tabular prompt 5), as Policy::log_probs
    if (tabular) {
      PolicyPass given;
      given.chosen = IndexMatrix::Constant(60, 1, 4);
      policy_pass_cpu(t, w.theta(true), {0, 0, 0, false}, given);
      CHECK(given.log_prob(5, 0) == w.log_ref(5, 4));
    }
    const int threads = omp_get_max_threads();
    PolicyPass one, two;
    omp_set_num_threads(1);
    policy_pass_cpu(t, w.theta(tabular), {8, 11, 5, true}, one);
    omp_set_num_threads(2);
    policy_pass_cpu(t, w.theta(tabular), {8, 11, 5, true}, two);
    omp_set_num_threads(threads);
    CHECK(one.chosen == two.chosen);
    CHECK(one.log_prob == two.log_prob);
    CHECK(one.mean_feature == two.mean_feature);
  }
}
