// test_divergences.cpp — the chi-squared and mixed chi-squared + KL optima (fdiv_sweep, kl_optimum's
// `divergence`) against their oracles: the first-order conditions of max E[r] - beta D_f, brute force over the
// simplex of tiny worlds, the KL tilt for D = KL, and the cpu and cuda paths against the double reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/backend/ops.h"
#include "sim/engine/run.h"
#include "sim/optimizers/kl_optimum.h"
#include "tests/test_helpers.h"

namespace goodhart {

namespace {

// the optimum's distribution recovered from the op: one value column per candidate (its indicator)
std::vector<std::vector<double>> optimum_distribution(Backend b, Divergence d, const RowMatrixXf& log_ref,
                                                      const RowMatrixXf& proxy, double beta, int p) {
  const int K = static_cast<int>(proxy.cols());
  std::vector<RowMatrixXf> indicators(K, RowMatrixXf::Zero(proxy.rows(), K));
  TiltInput in{&log_ref, &proxy, {}};
  for (int k = 0; k < K; ++k) {
    indicators[k].col(k).setOnes();
    in.values.emplace_back(&indicators[k]);
  }
  TiltResult r;
  const double betas[] = {beta};
  if (b == Backend::ref)
    fdiv_sweep_ref(d, in, betas, r);
  else
    fdiv_sweep(b, d, in, betas, r);
  std::vector<std::vector<double>> out(1, std::vector<double>(K));
  for (int k = 0; k < K; ++k) out[0][k] = r.at(p, 0, tilt_first_value + k);
  return out;
}

bool close(double a, double b, double tol_abs, double tol_rel) {
  return std::abs(a - b) <= tol_abs + tol_rel * std::abs(b);
}

double objective(Divergence d, const std::vector<double>& pi, const std::vector<double>& q,
                 const std::vector<double>& r, double beta) {
  double value = 0.0;
  for (std::size_t k = 0; k < pi.size(); ++k) value += pi[k] * r[k] - beta * q[k] * fdiv_f(d, pi[k] / q[k]);
  return value;
}

}  // namespace

TEST_CASE("fdiv optimum: the first-order conditions hold (f'(w) - r / beta is one constant where w > 0)") {
  const RowMatrixXf proxy = test::random_matrix(4, 40, 31);
  RowMatrixXf log_ref = test::random_matrix(4, 40, 32);
  test::normalize_rows(log_ref);
  // cpu for chi2 and chi2_kl (the double Newton path); kl through the reference's root find (cpu's kl is the
  // float tilt kernel, whose expectations are good to ~1e-5 only)
  for (const Divergence d : {Divergence::chi2, Divergence::chi2_kl, Divergence::kl})
    for (const double beta : {0.05, 0.3, 2.0, 50.0}) {
      const Backend backend = d == Divergence::kl ? Backend::ref : Backend::cpu;
      const std::vector<double> pi = optimum_distribution(backend, d, log_ref, proxy, beta, 2)[0];
      double total = 0.0;
      for (const double x : pi) total += x;
      CHECK(total == doctest::Approx(1.0).epsilon(1e-12));
      // -lambda / beta = f'(w_k) - r_k / beta for every k with w_k > 0; chi2's dropped ones have r_k <= lambda - beta
      std::vector<double> constants;
      double lambda = NAN, mass = 0.0;
      for (int k = 0; k < 40; ++k) mass += std::exp(static_cast<double>(log_ref(2, k)));
      for (int k = 0; k < 40; ++k) {
        const double w = pi[k] / (std::exp(static_cast<double>(log_ref(2, k))) / mass);  // pi_ref renormalized
        if (w <= 0.0) continue;
        const double fprime = d == Divergence::chi2 ? w - 1.0 : d == Divergence::kl ? std::log(w) + 1.0 : w + std::log(w);
        constants.push_back(fprime - proxy(2, k) / beta);
        lambda = -constants.back() * beta;
      }
      CAPTURE(static_cast<int>(d));
      CAPTURE(beta);
      REQUIRE(!constants.empty());
      const auto [lo, hi] = std::minmax_element(constants.begin(), constants.end());
      CHECK(*hi - *lo < 1e-9 * (1.0 + std::abs(*lo)));
      if (d == Divergence::chi2)
        for (int k = 0; k < 40; ++k)
          if (pi[k] == 0.0) CHECK(proxy(2, k) <= lambda - beta + 1e-9);
    }
}

TEST_CASE("fdiv optimum: brute force over the simplex of a 3-candidate world finds nothing better") {
  RowMatrixXf log_ref(1, 3), proxy(1, 3);
  log_ref << std::log(0.5f), std::log(0.3f), std::log(0.2f);
  proxy << 0.1f, 1.0f, -0.7f;
  const std::vector<double> q = {0.5, 0.3, 0.2}, r = {0.1, 1.0, -0.7};
  for (const Divergence d : {Divergence::chi2, Divergence::chi2_kl})
    for (const double beta : {0.1, 0.5, 3.0}) {
      const std::vector<double> pi = optimum_distribution(Backend::ref, d, log_ref, proxy, beta, 0)[0];
      const double best = objective(d, pi, q, r, beta);
      double grid_best = -INFINITY;
      const int steps = 1000;
      for (int i = 0; i <= steps; ++i)
        for (int j = 0; i + j <= steps; ++j) {
          const std::vector<double> x = {double(i) / steps, double(j) / steps, double(steps - i - j) / steps};
          grid_best = std::max(grid_best, objective(d, x, q, r, beta));
        }
      CAPTURE(beta);
      CHECK(best >= grid_best - 1e-12);       // no point of the grid beats the optimum
      CHECK(best - grid_best < 5e-6);         // and the grid comes within its resolution of it
    }
}

TEST_CASE("fdiv optimum: chi2 at a large beta is pi_ref + (r - E_ref r) pi_ref / beta (no clipping) in closed form") {
  RowMatrixXf log_ref(1, 4), proxy(1, 4);
  log_ref << std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f);
  proxy << -1.0f, 0.5f, 0.2f, 1.5f;
  const double beta = 10.0, mean = 0.1 * -1.0 + 0.2 * 0.5 + 0.3 * 0.2 + 0.4 * 1.5;
  const std::vector<double> pi = optimum_distribution(Backend::cpu, Divergence::chi2, log_ref, proxy, beta, 0)[0];
  for (int k = 0; k < 4; ++k) {
    const double qk = std::exp(static_cast<double>(log_ref(0, k)));
    CHECK(pi[k] == doctest::Approx(qk * (1.0 + (proxy(0, k) - mean) / beta)).epsilon(1e-6));
  }
}

TEST_CASE("fdiv_sweep: the kl root find of the reference is tilt_sweep_ref; cpu matches the reference") {
  const RowMatrixXf proxy = test::random_matrix(6, 300, 33), gold = test::random_matrix(6, 300, 34);
  RowMatrixXf log_ref = test::random_matrix(6, 300, 35, 2.0);
  test::normalize_rows(log_ref);
  const std::vector<double> betas = {1e-6, 1e-3, 0.05, 0.3, 1.0, 7.0, 1e3, 1e6};
  const TiltInput in{&log_ref, &proxy, {&proxy, &gold}};
  TiltResult tilt, kl;
  tilt_sweep_ref(in, betas, tilt);
  fdiv_sweep_ref(Divergence::kl, in, betas, kl);
  for (int p = 0; p < 6; ++p)
    for (int b = 0; b < 8; ++b)
      for (int c = 0; c < tilt.columns; ++c) {
        CAPTURE(b);
        CAPTURE(c);
        CHECK(close(kl.at(p, b, c), tilt.at(p, b, c), 1e-12, 1e-7));
      }
  for (const Divergence d : {Divergence::chi2, Divergence::chi2_kl}) {
    TiltResult fast, ref;
    fdiv_sweep_cpu(d, in, betas, fast);
    fdiv_sweep_ref(d, in, betas, ref);
    for (int p = 0; p < 6; ++p)
      for (int b = 0; b < 8; ++b)
        for (int c = 0; c < ref.columns; ++c) {
          CAPTURE(static_cast<int>(d));
          CAPTURE(b);
          CAPTURE(c);
          CHECK(std::isfinite(fast.at(p, b, c)));
          CHECK(close(fast.at(p, b, c), ref.at(p, b, c), 1e-13, 1e-9));
        }
  }
}

TEST_CASE("fdiv_sweep: an inf proxy at a possible candidate gives NaN; at an impossible one, nothing; ties give pi_ref") {
  RowMatrixXf log_ref(3, 3), proxy(3, 3);
  log_ref << std::log(0.5f), std::log(0.5f), -INFINITY,  //
      std::log(0.5f), std::log(0.5f), -INFINITY,          //
      std::log(0.25f), std::log(0.75f), -INFINITY;
  proxy << 0.0f, INFINITY, 1.0f,  //
      0.0f, 1.0f, INFINITY,       //
      2.0f, 2.0f, -5.0f;
  const std::vector<double> betas = {0.1, 1.0};
  for (const Divergence d : {Divergence::chi2, Divergence::chi2_kl}) {
    TiltResult fast, ref;
    fdiv_sweep_cpu(d, {&log_ref, &proxy, {&proxy}}, betas, fast);
    fdiv_sweep_ref(d, {&log_ref, &proxy, {&proxy}}, betas, ref);
    for (int b = 0; b < 2; ++b) {
      CHECK(std::isnan(fast.at(0, b, tilt_kl)));
      CHECK(std::isnan(ref.at(0, b, tilt_kl)));
      CHECK(std::isfinite(fast.at(1, b, tilt_kl)));
      CHECK(fast.at(1, b, tilt_kl) == doctest::Approx(ref.at(1, b, tilt_kl)).epsilon(1e-9));
      CHECK(fast.at(2, b, tilt_kl) == doctest::Approx(0.0).scale(1e-12));
      CHECK(ref.at(2, b, tilt_kl) == doctest::Approx(0.0).scale(1e-12));
      CHECK(fast.at(2, b, tilt_first_value) == doctest::Approx(2.0));
    }
  }
}

TEST_CASE("kl_optimum divergence: at equal KL, chi2 and chi2_kl put less mass on the proxy's top response than KL") {
  // one prompt, the reference uniform over 64 candidates with the proxy spread out: the KL tilt is exponential in
  // the proxy, chi2's ratio linear, so at the same KL budget chi2 spreads its mass over more responses
  RowMatrixXf log_ref = RowMatrixXf::Constant(1, 64, static_cast<float>(-std::log(64.0)));
  RowMatrixXf proxy(1, 64);
  for (int k = 0; k < 64; ++k) proxy(0, k) = static_cast<float>(-2.0 + 4.0 * k / 63.0);
  RowMatrixXf top = RowMatrixXf::Zero(1, 64);
  top(0, 63) = 1.0f;
  const TiltInput in{&log_ref, &proxy, {&top}};
  // find each divergence's beta at KL = 1 by bisection on the op itself
  const auto top_mass_at_kl = [&](Divergence d) {
    double lo = std::log(1e-4), hi = std::log(1e4);
    TiltResult r;
    for (int it = 0; it < 100; ++it) {
      const double mid = 0.5 * (lo + hi), beta[] = {std::exp(mid)};
      fdiv_sweep_ref(d, in, beta, r);
      (r.at(0, 0, tilt_kl) > 1.0 ? lo : hi) = mid;
    }
    CHECK(r.at(0, 0, tilt_kl) == doctest::Approx(1.0).epsilon(1e-6));
    return r.at(0, 0, tilt_first_value);
  };
  const double kl = top_mass_at_kl(Divergence::kl), chi2 = top_mass_at_kl(Divergence::chi2),
               mixed = top_mass_at_kl(Divergence::chi2_kl);
  CHECK(chi2 < kl);
  CHECK(mixed < kl);
}

TEST_CASE("kl_optimum divergence: kl_budget finds the beta whose optimum has that KL, for every divergence") {
  // the categorical world (exact sums) and the gaussian one (a pool per prompt, a learned proxy)
  const std::string worlds[] = {"world: {type: categorical, dim: 4, prompts: 3, candidates: 32, seed: 1}\n",
                                "world: {type: gaussian, dim: 4, prompts: 3}\n"};
  for (const std::string& world : worlds)
    for (const char* divergence : {"kl", "chi2", "chi2_kl"}) {
      const auto specs = expand_sweep_text("schema_version: 1\nname: b\ndescription: t\nseed: 2\n" + world +
                                               "gold: {type: linear}\npreferences: {n_pairs: 200}\n"
                                               "proxy: {type: learned, optimizer: lbfgs}\n"
                                               "optimizer: {type: kl_optimum, samples: 512, divergence: " +
                                               divergence + ", kl_budget: [0.05, 0.5, 2]}\n",
                                           "b.yaml");
      const PointResult r = run_point(specs.at(0), Backend::cpu);
      REQUIRE(r.rows.size() == 3);
      const double budgets[] = {0.05, 0.5, 2.0};
      for (std::size_t b = 0; b < 3; ++b) {
        CAPTURE(world);
        CAPTURE(divergence);
        CAPTURE(b);
        CHECK(r.rows[b].param_name == "kl_budget");
        CHECK(r.rows[b].param == budgets[b]);
        CHECK(r.rows[b].kl == doctest::Approx(budgets[b]).epsilon(1e-4));
        if (b > 0) CHECK(r.rows[b].beta < r.rows[b - 1].beta);  // more KL, less regularization
      }
    }
}

}  // namespace goodhart
