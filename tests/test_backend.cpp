// test_backend.cpp — every fast CPU op against its plain double reference, and the tilt's numerical range.
// Contract: tolerances are tol + eps * |ref| with float32 fast paths; inputs from fixed seeds.
#include <doctest/doctest.h>

#include <cmath>

#include "models/philox_hd.h"
#include "sim/backend/ops.h"
#include "test_helpers.h"

using namespace goodhart;
using goodhart::test::random_matrix;

namespace {

void check_close(double fast, double ref, double tol, double eps) {
  CHECK(std::isfinite(fast));
  CHECK(std::abs(fast - ref) <= tol + eps * std::abs(ref));
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
  for (int p = 0; p < P; ++p) {  // normalize each prompt
    const double m = log_ref.row(p).maxCoeff();
    const double lse = m + std::log((log_ref.row(p).array().cast<double>() - m).exp().sum());
    log_ref.row(p).array() -= static_cast<float>(lse);
  }
  const RowMatrixXf proxy = random_matrix(P, K, 5, 2.0), gold = random_matrix(P, K, 6);
  const std::vector<double> betas = {1e-4, 1e-2, 0.1, 0.3, 1.0, 3.0, 100.0, 1e4};
  TiltInput in{&log_ref, &proxy, {&proxy, &gold}};
  TiltResult fast, ref;
  tilt_sweep_cpu(in, betas, fast);
  tilt_sweep_ref(in, betas, ref);
  for (int p = 0; p < P; ++p)
    for (int b = 0; b < static_cast<int>(betas.size()); ++b) {
      check_close(fast.at(p, b, tilt_kl), ref.at(p, b, tilt_kl), 2e-4, 1e-4);
      check_close(fast.at(p, b, tilt_entropy), ref.at(p, b, tilt_entropy), 2e-4, 1e-4);
      check_close(fast.at(p, b, tilt_ess), ref.at(p, b, tilt_ess), 1e-4, 1e-4);
      for (int v = 0; v < 2; ++v)
        check_close(fast.at(p, b, tilt_first_value + v), ref.at(p, b, tilt_first_value + v), 1e-4, 1e-4);
    }
  // limits: beta -> infinity is pi_ref (KL -> 0); beta -> 0 puts all mass on the best proxy (KL = -log pi_ref)
  for (int p = 0; p < P; ++p) {
    Eigen::Index best = 0;
    proxy.row(p).maxCoeff(&best);
    CHECK(ref.at(p, 7, tilt_kl) < 1e-6);
    CHECK(ref.at(p, 0, tilt_kl) == doctest::Approx(-log_ref(p, best)).epsilon(1e-6));
    CHECK(ref.at(p, 0, tilt_first_value) == doctest::Approx(proxy(p, best)).epsilon(1e-6));
  }
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
