// test_parity_cuda.cpp — the CUDA ops against the double references (and the CPU ops) on the same cases, and how
// the backend is chosen: `auto`, `cuda` without a device, the CLI's exit code.
// Contract: float32 tolerances |cuda - ref| <= tol_abs + tol_rel * |ref|, the same as the CPU's in
// test_backend.cpp: mlp 1e-5 + 1e-5 |ref| (float products over <= 64 inputs); bon 1e-9 + 1e-12 |ref| (double
// sums of float values); policy_pass / policy_slots against their double references 1e-12 + 1e-9 |ref| (double
// products and sums, the same draws); tilt kl and entropy 2e-4 + 1e-4 |ref|, ess and expectations 1e-4 + 1e-4
// |ref| (float exponentials and sums, double where the KL is small). With no usable CUDA device (or a build without
// CUDA) every parity case says "skipped: no CUDA device (why)" and returns: it neither fails nor passes silently.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "cli_helpers.h"
#include "sim/numeric/philox_hd.h"
#include "models/worlds/registry.h"
#include "sim/backend/ops.h"
#include "sim/optimizers/optimizer.h"
#include "test_helpers.h"

using namespace goodhart;
using goodhart::test::random_matrix;

namespace {

bool cuda_or_skip() {
  std::string detail;
  if (cuda_device_available(&detail)) return true;
  MESSAGE("skipped: no CUDA device (" << detail << ")");
  return false;
}

// each row a normalized log pi_ref; every seventh candidate of the first row impossible (-inf)
RowMatrixXf random_log_ref(int P, int K, std::uint32_t stream) {
  RowMatrixXf log_ref = random_matrix(P, K, stream);
  for (int k = 0; k < K; k += 7) log_ref(0, k) = -std::numeric_limits<float>::infinity();
  test::normalize_rows(log_ref);
  return log_ref;
}

bool close(double fast, double ref, double tol_abs, double tol_rel) {
  return std::isfinite(fast) && std::abs(fast - ref) <= tol_abs + tol_rel * std::abs(ref);
}

// every output of a CUDA tilt against the reference, with the tolerances above
void check_tilt(const TiltInput& in, const std::vector<double>& betas) {
  TiltResult fast, ref;
  tilt_sweep(Backend::cuda, in, betas, fast);
  tilt_sweep_ref(in, betas, ref);
  REQUIRE(fast.data.size() == ref.data.size());
  int bad = 0;
  for (int p = 0; p < ref.prompts; ++p)
    for (int b = 0; b < ref.betas; ++b)
      for (int c = 0; c < ref.columns; ++c) {
        const bool log_scale = c == tilt_kl || c == tilt_entropy;
        const double f = fast.at(p, b, c), r = ref.at(p, b, c);
        if (!close(f, r, log_scale ? 2e-4 : 1e-4, 1e-4) && ++bad <= 5)
          FAIL_CHECK("prompt " << p << " beta " << betas[b] << " column " << c << ": cuda " << f << " ref " << r);
      }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("cuda score_mlp matches the double reference (tanh and relu, linear and deep, ragged batches)") {
  if (!cuda_or_skip()) return;
  // 1000 rows: not a multiple of the block; 14 columns of which the MLPs read the first 12
  const RowMatrixXf x = random_matrix(1000, 14, 1);
  for (Activation act : {Activation::tanh, Activation::relu})
    for (std::vector<int> hidden : {std::vector<int>{}, std::vector<int>{64}, std::vector<int>{32, 16},
                                    std::vector<int>{5, 7, 3}}) {
      CounterRng rng(7, 3, 0);
      const Mlp f = make_random_mlp(12, hidden, act, rng);
      Eigen::VectorXf fast(1000), ref(1000), cpu(1000);
      score_mlp(Backend::cuda, f, x, fast);
      score_mlp_ref(f, x, ref);
      score_mlp_cpu(f, x, cpu);
      int bad = 0;
      for (int i = 0; i < 1000; ++i) bad += !close(fast(i), ref(i), 1e-5, 1e-5);
      CHECK_MESSAGE(bad == 0, bad << " rows off for hidden layers " << hidden.size());
      CHECK((fast - cpu).cwiseAbs().maxCoeff() <= 2e-5);
    }
  Eigen::VectorXf empty(0);
  CounterRng rng(1, 3, 0);
  score_mlp(Backend::cuda, make_random_mlp(12, {8}, Activation::tanh, rng), RowMatrixXf(0, 12), empty);
}

TEST_CASE("cuda bon_moments matches the reference on a sorted pool with ties") {
  if (!cuda_or_skip()) return;
  // proxy rounded to a coarse grid: many ties, broken by index as best_of_n.cpp does
  const int N = 512;
  const std::vector<int> grid = {1, 2, 4, 16, 100, 512};
  const Eigen::MatrixXd weights = bon_rank_weights(grid, N);
  RowMatrixXf raw = random_matrix(N, 2, 9);
  std::vector<int> order(N);
  for (int i = 0; i < N; ++i) {
    raw(i, 0) = std::round(raw(i, 0) * 4.0f) / 4.0f;
    order[i] = i;
  }
  std::sort(order.begin(), order.end(), [&](int a, int b) { return raw(a, 0) < raw(b, 0) || (raw(a, 0) == raw(b, 0) && a < b); });
  Eigen::MatrixXf values(N, 6);
  for (int i = 0; i < N; ++i) {
    const float proxy = raw(order[i], 0), gold = raw(order[i], 1);
    values.row(i) << proxy, gold, 0.5f, proxy * proxy, gold * gold, proxy * gold;
  }
  Eigen::MatrixXd fast, ref;
  bon_moments(Backend::cuda, weights, values, fast);
  bon_moments_ref(weights, values, ref);
  REQUIRE(fast.rows() == ref.rows());
  REQUIRE(fast.cols() == ref.cols());
  for (int g = 0; g < ref.rows(); ++g)
    for (int j = 0; j < ref.cols(); ++j) CHECK(close(fast(g, j), ref(g, j), 1e-9, 1e-12));
  // the oracle of DESIGN.md: pool proxy (.1, .5, .3, .9), gold (1, 2, 0, -1), n = 2 -> unbiased gold 1/6
  Eigen::MatrixXf tiny(4, 1);
  tiny << 1.0f, 0.0f, 2.0f, -1.0f;  // gold in proxy order .1, .3, .5, .9
  bon_moments(Backend::cuda, bon_rank_weights({2}, 4), tiny, fast);
  CHECK(fast(0, 0) == doctest::Approx(1.0 / 6.0).epsilon(1e-12));
}

namespace {

// a small categorical world: 50 prompts x 40 candidates in 6 dimensions, policies already moved off pi_ref
// (the tabular one's prompt 3 left at pi_ref exactly)
struct PolicyCase {
  RowMatrixXf features = random_matrix(50 * 40, 6, 20);
  RowMatrixXd log_ref = RowMatrixXd(50, 40);
  Eigen::VectorXd log_linear_theta = Eigen::VectorXd::LinSpaced(6, -0.4, 0.6);
  Eigen::VectorXd tabular_theta = random_matrix(1, 50 * 40, 22).cast<double>().transpose();
  PolicyCase() {
    for (int p = 0; p < 50; ++p) {  // exactly normalized in double, and no impossible candidates
      log_ref.row(p) = random_matrix(1, 40, 100 + p).cast<double>();
      const double m = log_ref.row(p).maxCoeff();
      log_ref.row(p).array() -= m + std::log((log_ref.row(p).array() - m).exp().sum());
    }
    tabular_theta.segment(3 * 40, 40).setZero();
  }
};

}  // namespace

TEST_CASE("cuda policy_pass and policy_slots (device draws, log pi, E_pi[feature], slots) match the double reference") {
  if (!cuda_or_skip()) return;
  const PolicyCase c;
  for (bool tabular : {false, true}) {
    INFO((tabular ? "tabular" : "log_linear"));
    const PolicyTable t{&c.features, &c.log_ref, tabular, nullptr};
    const Eigen::VectorXd& theta = tabular ? c.tabular_theta : c.log_linear_theta;
    for (int step : {0, 3, 17}) {
      PolicyPass fast, ref;
      policy_pass(Backend::cuda, t, theta, {8, 5, step, true}, fast);  // the second call reuses the device table
      policy_pass_ref(t, theta, {8, 5, step, true}, ref);
      CHECK(fast.chosen == ref.chosen);
      for (Eigen::Index i = 0; i < ref.log_prob.size(); ++i)
        CHECK(close(fast.log_prob.data()[i], ref.log_prob.data()[i], 1e-12, 1e-9));
      for (Eigen::Index i = 0; i < ref.mean_feature.size(); ++i)
        CHECK(close(fast.mean_feature.data()[i], ref.mean_feature.data()[i], 1e-12, 1e-9));
      const RowMatrixXd coef = random_matrix(50, 8, 30 + step).cast<double>();
      Eigen::MatrixXd slots_fast, slots_ref;
      policy_slots(Backend::cuda, t, fast, coef, 1, 7, true, slots_fast);
      policy_slots_ref(t, ref, coef, 1, 7, true, slots_ref);
      REQUIRE(slots_fast.size() == slots_ref.size());
      for (Eigen::Index i = 0; i < slots_ref.size(); ++i)
        CHECK(close(slots_fast.data()[i], slots_ref.data()[i], 1e-12, 1e-9));
    }
    CHECK(t.device != nullptr);
  }
}

TEST_CASE("cuda tilt_sweep matches the reference for beta from 1e-6 to 1e6") {
  if (!cuda_or_skip()) return;
  const std::vector<double> betas = {1e-6, 1e-4, 1e-2, 0.1, 0.3, 1.0, 3.0, 100.0, 1e4, 1e6};
  // K = 300: not a multiple of a warp; proxy with ties at the maximum in prompt 1
  const int P = 7, K = 300;
  const RowMatrixXf log_ref = random_log_ref(P, K, 4);
  RowMatrixXf proxy = random_matrix(P, K, 5, 2.0);
  const RowMatrixXf gold = random_matrix(P, K, 6);
  proxy(1, 10) = proxy(1, 20) = proxy(1, 30) = proxy.row(1).maxCoeff() + 1.0f;
  SUBCASE("two value columns") { check_tilt({&log_ref, &proxy, {&proxy, &gold}}, betas); }
  SUBCASE("no value columns (the KL-only sweep of a budget search)") { check_tilt({&log_ref, &proxy, {}}, betas); }
  SUBCASE("eleven value columns (more than one launch)") {
    std::vector<FloatMatrixView> values;
    for (int v = 0; v < 11; ++v) values.emplace_back(v % 2 ? &gold : &proxy);
    check_tilt({&log_ref, &proxy, values}, betas);
  }
  SUBCASE("deterministic: two runs agree to the bit") {
    TiltResult a, b;
    tilt_sweep(Backend::cuda, {&log_ref, &proxy, {&proxy, &gold}}, betas, a);
    tilt_sweep(Backend::cuda, {&log_ref, &proxy, {&proxy, &gold}}, betas, b);
    CHECK(a.data == b.data);
  }
}

TEST_CASE("cuda tilt_sweep: long prompts (global-memory path) and wide proxies") {
  if (!cuda_or_skip()) return;
  const std::vector<double> betas = {1e-6, 1e-2, 1.0, 1e2, 1e6};
  // 4096 candidates (W2's K, shared memory) and 70000 (too long for shared memory: read from global memory)
  for (int K : {4096, 70000}) {
    const RowMatrixXf log_ref = random_log_ref(3, K, 7);
    const RowMatrixXf proxy = random_matrix(3, K, 8, 30.0), gold = random_matrix(3, K, 9);
    check_tilt({&log_ref, &proxy, {&proxy, &gold}}, betas);
  }
}

TEST_CASE("cuda tilt_sweep: the proxy's best candidate impossible or far in pi_ref's tail, beta down to 1e-40") {
  if (!cuda_or_skip()) return;
  const test::HostileTilt h;  // see test_helpers.h
  check_tilt({&h.log_ref, &h.proxy, {&h.proxy, &h.gold}}, h.betas);
}

TEST_CASE("cuda fdiv_sweep (chi2, chi2_kl) matches the double reference; deterministic") {
  if (!cuda_or_skip()) return;
  const std::vector<double> betas = {1e-6, 1e-3, 0.1, 1.0, 30.0, 1e6};
  const RowMatrixXf log_ref = random_log_ref(5, 300, 10);
  const RowMatrixXf proxy = random_matrix(5, 300, 11, 2.0), gold = random_matrix(5, 300, 12);
  for (const Divergence d : {Divergence::chi2, Divergence::chi2_kl}) {
    TiltResult fast, again, ref;
    fdiv_sweep(Backend::cuda, d, {&log_ref, &proxy, {&proxy, &gold}}, betas, fast);
    fdiv_sweep(Backend::cuda, d, {&log_ref, &proxy, {&proxy, &gold}}, betas, again);
    fdiv_sweep_ref(d, {&log_ref, &proxy, {&proxy, &gold}}, betas, ref);
    REQUIRE(fast.data.size() == ref.data.size());
    for (std::size_t i = 0; i < ref.data.size(); ++i) CHECK(close(fast.data[i], ref.data[i], 1e-9, 1e-9));
    CHECK(fast.data == again.data);
  }
}

TEST_CASE("backend choice: auto follows the device, cuda without one is a usage error") {
  std::string detail;
  const bool usable = cuda_device_available(&detail);
  MESSAGE("CUDA: " << std::string(usable ? "usable, " : "not usable: ") << detail);
  CHECK(!detail.empty());
  CHECK(parse_backend("auto") == (usable ? Backend::cuda : Backend::cpu));
  CHECK(parse_backend("cpu") == Backend::cpu);
  if (usable) {
    CHECK(parse_backend("cuda") == Backend::cuda);
  } else {
    const std::string expected = "--backend cuda: " + detail;
    CHECK_THROWS_WITH_AS(parse_backend("cuda"), expected.c_str(), std::invalid_argument);
  }
  CHECK_THROWS_AS(parse_backend("tpu"), std::invalid_argument);
}

TEST_CASE("cli: --backend cuda runs on a device and exits 2 with the reason without one") {
  std::string detail;
  const bool usable = cuda_device_available(&detail);
  const test::CliResult r = test::cli("run scenarios/tiny/regressional_gaussian.yaml --backend cuda --quiet --out " +
                                      test::scratch("backend_cuda").string());
  if (usable) {
    CHECK(r.exit_code == 0);
  } else {
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--backend cuda: " + detail) != std::string::npos);
  }
}
