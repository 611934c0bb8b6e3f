// test_scenarios_beyond_kl.cpp — InferenceTimePessimism's pieces against their oracles (the normalization on the
// sample, the rejection step's output distribution against a simulation of it, convergence to the chi-squared
// optimum), and the claims of beyond_kl and chipo_dpo at tiny size.
// Contract: fixed seeds; the simulation check uses k = 4 standard errors; scenario margins are far outside the
// seed-to-seed noise (checked with three seeds when the scenarios were written).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/backend/ops.h"
#include "sim/optimizers/pessimism.h"
#include "test_helpers.h"

using namespace goodhart;

namespace {

// the rows of one optimizer, or of one dpo run (its beta)
std::vector<MetricRow> curve(const std::vector<MetricRow>& rows, const std::string& optimizer, double beta = NAN) {
  std::vector<MetricRow> out;
  for (const MetricRow& m : rows)
    if (m.optimizer == optimizer && (std::isnan(beta) || m.beta == beta)) out.push_back(m);
  REQUIRE(!out.empty());
  return out;
}

}  // namespace

TEST_CASE("pessimism: lambda-hat normalizes the sample's chi-squared weights exactly") {
  const std::vector<double> r = {0.3, -1.2, 2.5, 0.9, 0.9, -0.1, 1.7};
  for (const double beta : {0.01, 0.2, 1.0, 30.0}) {
    const double lambda = pessimism_detail::empirical_lambda(r, beta);
    double mean = 0.0;
    for (const double x : r) mean += std::max(0.0, (x - lambda) / beta) / r.size();
    CAPTURE(beta);
    CHECK(mean == doctest::Approx(1.0).epsilon(1e-12));
  }
}

TEST_CASE("pessimism: the rejection step's output distribution matches a simulation of the sampler (4 se)") {
  const std::vector<double> q = {0.4, 0.3, 0.2, 0.1}, r = {-0.5, 0.2, 0.9, 1.5};
  const double beta = 0.4, lambda = 0.1, r_max = 1.5;
  const int N = 3, runs = 200000;
  std::vector<double> exact(4, 0.0), count(4, 0.0);
  pessimism_detail::add_output_distribution(q, r, r_max, lambda, N, 1.0, exact);
  CHECK(exact[0] + exact[1] + exact[2] + exact[3] == doctest::Approx(1.0).epsilon(1e-12));
  const auto draw = [&](CounterRng& rng) {
    double u = rng.uniform(), c = 0.0;
    int k = 0;
    while (k < 3 && u >= (c += q[k])) ++k;
    return k;
  };
  for (int run = 0; run < runs; ++run) {
    CounterRng rng(3, 91, run);
    int out = -1;
    for (int i = 0; i < N && out < 0; ++i) {
      const int k = draw(rng);
      const double accept = std::max(0.0, (r[k] - lambda) / beta) / ((r_max - lambda) / beta);
      if (rng.uniform() < accept) out = k;
    }
    if (out < 0) out = draw(rng);  // none accepted: one more pi_ref draw
    count[out] += 1.0;
  }
  for (int k = 0; k < 4; ++k) {
    const double freq = count[k] / runs, se = std::sqrt(exact[k] * (1 - exact[k]) / runs);
    CAPTURE(k);
    CHECK(std::abs(freq - exact[k]) < 4.0 * se);
  }
}

TEST_CASE("pessimism converges to the chi-squared optimum at its beta as N grows") {
  // 1 prompt, 40 candidates: the sampler's policy for N = 4096 (many draws of lambda-hat) against the exact chi2
  // optimum; the chi2 weight max(0, 1 + (r - lambda') / beta) is the paper's max(0, (r - lambda) / beta) at
  // lambda = lambda' - beta
  const int K = 40;
  const RowMatrixXf proxy = test::random_matrix(1, K, 51);
  RowMatrixXf log_ref = test::random_matrix(1, K, 52);
  test::normalize_rows(log_ref);
  std::vector<double> q(K), r(K);
  double mass = 0.0;
  for (int k = 0; k < K; ++k) mass += q[k] = std::exp(static_cast<double>(log_ref(0, k)));
  for (int k = 0; k < K; ++k) {
    q[k] /= mass;
    r[k] = proxy(0, k);
  }
  const double beta = 0.3, r_max = *std::max_element(r.begin(), r.end());
  const std::vector<double> chi2 = fdiv_policy_row(Divergence::chi2, log_ref.data(), proxy.data(), K, beta);
  double previous = INFINITY;
  for (const int N : {16, 256, 4096}) {
    std::vector<double> policy(K, 0.0), drawn(N);
    const int draws = 200;
    for (int m = 0; m < draws; ++m) {
      CounterRng rng(1, 5, N, m);
      for (int i = 0; i < N; ++i) {
        double u = rng.uniform(), c = 0.0;
        int k = 0;
        while (k < K - 1 && u >= (c += q[k])) ++k;
        drawn[i] = r[k];
      }
      pessimism_detail::add_output_distribution(q, r, r_max, pessimism_detail::empirical_lambda(drawn, beta), N,
                                                1.0 / draws, policy);
    }
    double tv = 0.0;
    for (int k = 0; k < K; ++k) tv += 0.5 * std::abs(policy[k] - chi2[k]);
    MESSAGE("N " << N << ": total variation to the chi2 optimum " << tv);
    CHECK(tv < previous);
    previous = tv;
  }
  CHECK(previous < 0.01);
}

TEST_CASE("scenario beyond_kl: pessimism never falls and lands on the chi2 optimum; best-of-n falls; chi2 beats KL on gold") {
  const auto runs = test::run_scenario("scenarios/tiny/beyond_kl.yaml");
  REQUIRE(runs.size() == 1);
  const std::vector<MetricRow>& rows = runs[0].result.rows;
  const auto bon = curve(rows, "best_of_n"), soft = curve(rows, "soft_best_of_n"),
             itp = curve(rows, "pessimism_0.2"), kl = curve(rows, "kl"), chi2 = curve(rows, "chi2");
  // pessimism: gold non-decreasing in N (up to the Monte Carlo noise of 16 draws of lambda-hat), and its last row
  // the chi2 optimum at the same beta
  for (std::size_t i = 1; i < itp.size(); ++i) CHECK(itp[i].gold_mean >= itp[i - 1].gold_mean - 0.005);
  const MetricRow& at_beta = *std::find_if(chi2.begin(), chi2.end(), [](const MetricRow& m) { return m.beta == 0.2; });
  CHECK(itp.back().kl == doctest::Approx(at_beta.kl).epsilon(0.02));
  CHECK(std::abs(itp.back().gold_mean - at_beta.gold_mean) < 0.01);
  // best-of-n: gold falls by more than 0.1 from its peak; soft best-of-n spends far less KL at the same n
  double peak = -INFINITY;
  for (const MetricRow& m : bon) peak = std::max(peak, m.gold_mean);
  MESSAGE("best-of-n peak gold " << peak << ", last " << bon.back().gold_mean << "; pessimism last "
                                 << itp.back().gold_mean << " at KL " << itp.back().kl);
  CHECK(peak - bon.back().gold_mean > 0.1);
  CHECK(soft.back().kl < 0.6 * bon.back().kl);
  for (std::size_t i = 1; i < soft.size(); ++i) CHECK(soft[i].kl > soft[i - 1].kl);
  // the chi-squared optimum's best gold is above the KL optimum's best by more than 0.05
  double best_kl = -INFINITY, best_chi2 = -INFINITY;
  for (const MetricRow& m : kl) best_kl = std::max(best_kl, m.gold_mean);
  for (const MetricRow& m : chi2) best_chi2 = std::max(best_chi2, m.gold_mean);
  CHECK(best_chi2 > best_kl + 0.05);
}

TEST_CASE("scenario chipo_dpo: at beta 0.1 chiPO holds its gold where DPO collapses; at 0.03 both overoptimize") {
  const auto runs = test::run_scenario("scenarios/tiny/chipo_dpo.yaml");
  REQUIRE(runs.size() == 1);
  const std::vector<MetricRow>& rows = runs[0].result.rows;
  const MetricRow dpo = curve(rows, "dpo", 0.1).back(), chi = curve(rows, "chi_po", 0.1).back(),
                  clip = curve(rows, "chi_po_clip1", 0.1).back();
  MESSAGE("beta 0.1 after 1000 steps: dpo gold " << dpo.gold_mean << " (KL " << dpo.kl << "), chi_po "
                                                 << chi.gold_mean << " (KL " << chi.kl << "), clipped "
                                                 << clip.gold_mean);
  CHECK(chi.gold_mean > dpo.gold_mean + 3.0 * (chi.gold_se + dpo.gold_se));
  CHECK(chi.kl < dpo.kl / 5.0);
  CHECK(clip.gold_mean < 0.0);
  CHECK(curve(rows, "dpo", 0.03).back().gold_mean < 0.0);
  CHECK(curve(rows, "chi_po", 0.03).back().gold_mean < 0.0);
}

TEST_CASE("hostile: tiny temperatures, a levy proxy and extreme betas give finite rows in bounded time") {
  const std::string body =
      "schema_version: 1\nname: hostile\ndescription: t\n"
      "world: {type: categorical, dim: 4, prompts: 3, candidates: 50}\ngold: {type: linear}\n"
      "proxy: {type: noisy, noise: {distribution: levy, scale: 1.0}}\npreferences: {n_pairs: 0}\n"
      "optimizers:\n"
      "  - {type: soft_best_of_n, name: cold, temperature: 1e-12, n: [1, 2, 64, 4096]}\n"
      "  - {type: soft_best_of_n, name: hot, temperature: 1e12, n: [1, 4096]}\n"
      "  - {type: inference_time_pessimism, name: itp, beta: 1e-9, n: [1, 64], draws: 4}\n"
      "  - {type: inference_time_pessimism, name: itp_wide, beta: 1e9, n: [1, 64], draws: 4}\n"
      "  - {type: kl_optimum, name: chi2, divergence: chi2, beta: [1e-6, 1e6]}\n"
      "  - {type: kl_optimum, name: chi2_kl, divergence: chi2_kl, beta: [1e-6, 1e6]}\n";
  for (const RunSpec& spec : expand_sweep_text(body, "hostile.yaml", {})) {
    const PointResult r = run_point(spec, Backend::cpu);
    for (const MetricRow& m : r.rows) {
      INFO(m.optimizer << " " << m.param << " kl " << m.kl << " gold " << m.gold_mean);
      CHECK(std::isfinite(m.kl));
      CHECK(m.kl >= 0.0);
      CHECK(std::isfinite(m.gold_mean));
      CHECK(std::isfinite(m.proxy_mean));
    }
  }
}
