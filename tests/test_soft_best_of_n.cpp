// test_soft_best_of_n.cpp — soft best-of-n against its oracles: enumeration of every n-tuple of a tiny world, the
// limits (n = 1 is pi_ref, temperature -> 0 is best-of-n, n -> inf is the KL tilt at beta = temperature: within
// Verdun et al.'s O(1/n) bound, at 1/n^2 here), and the pool estimator's unbiasedness across independent pools.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "sim/optimizers/soft_best_of_n.h"
#include "tests/test_helpers.h"

namespace goodhart {

namespace {

// P(k) by summing over all K^n ordered tuples of draws
std::vector<double> enumerate(const std::vector<double>& q, const std::vector<float>& r, int n, double temperature) {
  const int K = static_cast<int>(q.size());
  std::vector<double> P(K, 0.0);
  std::vector<int> tuple(n, 0);
  while (true) {
    double prob = 1.0, z = 0.0;
    for (int i = 0; i < n; ++i) {
      prob *= q[tuple[i]];
      z += std::exp(r[tuple[i]] / temperature);
    }
    for (int i = 0; i < n; ++i) P[tuple[i]] += prob * std::exp(r[tuple[i]] / temperature) / z;
    int i = 0;
    while (i < n && ++tuple[i] == K) tuple[i++] = 0;
    if (i == n) break;
  }
  return P;
}

double kl(const std::vector<double>& p, const std::vector<double>& q) {
  double s = 0.0;
  for (std::size_t k = 0; k < p.size(); ++k)
    if (p[k] > 0) s += p[k] * std::log(p[k] / q[k]);
  return s;
}

}  // namespace

TEST_CASE("soft best-of-n: the integral equals enumeration over every tuple of draws") {
  const std::vector<double> q = {0.5, 0.2, 0.25, 0.05};
  const std::vector<float> r = {0.0f, 1.3f, -0.4f, 2.0f};
  for (const int n : {1, 2, 3, 6})
    for (const double temperature : {0.05, 0.3, 1.0, 10.0}) {
      std::vector<double> P;
      const double total = soft_bon_detail::distribution(q, r, n, temperature, P);
      const std::vector<double> truth = enumerate(q, r, n, temperature);
      CAPTURE(n);
      CAPTURE(temperature);
      CHECK(total == doctest::Approx(1.0).epsilon(1e-12));
      for (int k = 0; k < 4; ++k) CHECK(P[k] == doctest::Approx(truth[k]).epsilon(1e-11));
    }
}

TEST_CASE("soft best-of-n: n = 1 is pi_ref; a tiny temperature is best-of-n's F_k^n - F_(k-1)^n") {
  const std::vector<double> q = {0.1, 0.3, 0.4, 0.2};
  const std::vector<float> r = {3.0f, -1.0f, 0.5f, 1.0f};  // proxy order: 1, 2, 3, 0
  std::vector<double> P;
  soft_bon_detail::distribution(q, r, 1, 0.2, P);
  for (int k = 0; k < 4; ++k) CHECK(P[k] == doctest::Approx(q[k]).epsilon(1e-12));
  const int n = 50;
  soft_bon_detail::distribution(q, r, n, 1e-4, P);
  const double F1 = 0.3, F2 = 0.7, F3 = 0.9;  // cumulative pi_ref in proxy order
  CHECK(P[1] == doctest::Approx(std::pow(F1, n)).epsilon(1e-9).scale(1e-300));
  CHECK(P[2] == doctest::Approx(std::pow(F2, n) - std::pow(F1, n)).epsilon(1e-9));
  CHECK(P[3] == doctest::Approx(std::pow(F3, n) - std::pow(F2, n)).epsilon(1e-9));
  CHECK(P[0] == doctest::Approx(1.0 - std::pow(F3, n)).epsilon(1e-9));
}

TEST_CASE("soft best-of-n approaches the KL tilt at beta = temperature, KL to it falling as 1/n^2") {
  const int K = 64;
  const RowMatrixXf proxy = test::random_matrix(1, K, 41);
  RowMatrixXf log_ref = test::random_matrix(1, K, 42);
  test::normalize_rows(log_ref);
  std::vector<double> q(K);
  std::vector<float> r(K);
  double mass = 0.0;
  for (int k = 0; k < K; ++k) mass += q[k] = std::exp(static_cast<double>(log_ref(0, k)));
  for (int k = 0; k < K; ++k) {
    q[k] /= mass;
    r[k] = proxy(0, k);
  }
  const double temperature = 0.5;
  std::vector<double> tilt(K);
  double z = 0.0;
  for (int k = 0; k < K; ++k) z += tilt[k] = q[k] * std::exp(r[k] / temperature);
  for (double& t : tilt) t /= z;
  std::vector<double> P;
  double previous = INFINITY;
  for (const int n : {64, 256, 1024, 4096}) {
    soft_bon_detail::distribution(q, r, n, temperature, P);
    const double gap = kl(P, tilt);
    MESSAGE("n " << n << ": KL(soft best-of-n || tilt) = " << gap << ", n^2 * KL = " << n * n * gap);
    CHECK(gap < previous);
    // n^2 KL settles (the density ratio is off by O(1/n), KL is its square): each 4x in n divides KL by 16 +- 15%
    if (n >= 256) CHECK(std::abs(previous / gap / 16.0 - 1.0) < 0.15);
    previous = gap;
  }
}

TEST_CASE("soft best-of-n pool estimate: unbiased across independent pools (within 4 standard errors)") {
  const std::vector<double> q = {0.4, 0.3, 0.2, 0.1};
  const std::vector<float> r = {-0.5f, 0.4f, 1.0f, 2.0f};
  const int n = 8, N = 64, pools = 400;
  const double temperature = 0.5;
  std::vector<double> truth;
  soft_bon_detail::distribution(q, r, n, temperature, truth);
  std::vector<double> sum(4, 0.0), sum_sq(4, 0.0), w;
  for (int b = 0; b < pools; ++b) {
    CounterRng draw(9, 77, b);
    std::vector<float> proxy(N);
    std::vector<int> which(N);
    for (int i = 0; i < N; ++i) {
      double u = draw.uniform(), c = 0.0;
      int k = 0;
      while (k < 3 && u >= (c += q[k])) ++k;
      which[i] = k;
      proxy[i] = r[k];
    }
    CounterRng rng(9, 78, b);
    soft_bon_detail::pool_weights(proxy.data(), N, n, temperature, 4, rng, w);
    std::vector<double> est(4, 0.0);
    for (int i = 0; i < N; ++i) est[which[i]] += w[i];
    for (int k = 0; k < 4; ++k) {
      sum[k] += est[k];
      sum_sq[k] += est[k] * est[k];
    }
  }
  for (int k = 0; k < 4; ++k) {
    const double mean = sum[k] / pools, se = std::sqrt((sum_sq[k] / pools - mean * mean) / (pools - 1));
    CAPTURE(k);
    CHECK(std::abs(mean - truth[k]) < 4.0 * se);
    CHECK(se < 0.01);  // the check has power: 4 se is well below the differences between candidates
  }
}

}  // namespace goodhart
