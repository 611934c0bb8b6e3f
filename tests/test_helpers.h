// test_helpers.h — shared helpers of the tests: analytic constants, running a scenario in-process, paths.
// Contract: header-only, no global state; scenario paths are relative to the source tree.
#pragma once

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "models/proxy.h"
#include "models/worlds/registry.h"
#include "sim/numeric/philox_hd.h"
#include "sim/engine/run.h"
#include "sim/scenario/scenario.h"

namespace goodhart::test {

// a rows x cols matrix of normals times scale, row i drawn from CounterRng(42, stream, i)
inline RowMatrixXf random_matrix(int rows, int cols, std::uint32_t stream, double scale = 1.0) {
  RowMatrixXf m(rows, cols);
  for (int i = 0; i < rows; ++i) {
    CounterRng rng(42, stream, i);
    for (int j = 0; j < cols; ++j) m(i, j) = static_cast<float>(scale * rng.normal());
  }
  return m;
}

// normalize each row of log_ref as a log-distribution (log-sum-exp in double)
inline void normalize_rows(RowMatrixXf& log_ref) {
  for (Eigen::Index p = 0; p < log_ref.rows(); ++p) {
    const double m = log_ref.row(p).maxCoeff();
    const double lse = m + std::log((log_ref.row(p).array().cast<double>() - m).exp().sum());
    log_ref.row(p).array() -= static_cast<float>(lse);
  }
}

// a tilt case where float arithmetic alone fails (6 prompts x 300 candidates, log_ref normalized per prompt):
// prompts 0-4 have the proxy's best candidate at log_ref - 80 and an impossible candidate (log_ref = -inf) next to
// it; in prompt 5 the best candidate is impossible and two possible ones tie on the proxy (pi_beta = pi_ref =
// (2/3, 1/3) at every beta, while (proxy - max) / beta dwarfs their log_ref at tiny beta). Betas from 1e-40 (1 /
// beta overflows a float) to 1e3.
struct HostileTilt {
  RowMatrixXf log_ref = random_matrix(6, 300, 10), proxy = random_matrix(6, 300, 11);
  RowMatrixXf gold = random_matrix(6, 300, 12);
  std::vector<double> betas = {1e-40, 1e-8, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 1e3};
  HostileTilt() {
    const float impossible = -std::numeric_limits<float>::infinity();
    for (int p = 0; p < 5; ++p) {
      Eigen::Index best = 0;
      proxy.row(p).maxCoeff(&best);
      log_ref(p, best) -= 80.0f;
      log_ref(p, (best + 1) % 300) = impossible;
    }
    log_ref.row(5).setConstant(impossible);
    log_ref(5, 1) = std::log(2.0f / 3.0f);
    log_ref(5, 2) = std::log(1.0f / 3.0f);
    proxy.row(5).setZero();
    proxy(5, 0) = 10.0f;
    normalize_rows(log_ref);
  }
};

inline std::string source_path(const std::string& relative) { return std::string(GOODHART_SOURCE_DIR) + "/" + relative; }

// e_n = E[max of n standard normals] = integral of x n phi(x) Phi(x)^(n-1) dx (trapezoid on [-12, 12])
inline double expected_max_normal(int n) {
  const double h = 1e-3;
  double s = 0.0;
  for (double x = -12.0; x <= 12.0; x += h) {
    const double phi = std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
    const double cdf = 0.5 * std::erfc(-x / std::sqrt(2.0));
    s += x * n * phi * std::pow(cdf, n - 1) * h;
  }
  return s;
}

struct PointRun {
  RunSpec spec;
  PointResult result;
  // the value of a swept key at this point ("" when not swept)
  std::string swept(const std::string& key) const {
    for (const auto& [k, v] : spec.swept)
      if (k == key) return v;
    return "";
  }
};

// every point of a scenario file (with overrides), run in-process on the CPU backend
inline std::vector<PointRun> run_scenario(const std::string& relative, const std::vector<std::string>& overrides = {}) {
  std::vector<PointRun> out;
  for (const RunSpec& spec : expand_sweep(source_path(relative), overrides))
    out.push_back({spec, run_point(spec, Backend::cpu)});
  return out;
}

// a scenario's world, gold and proxy, built as a point builds them (CPU backend, the scenario's seed)
struct FittedProxy {
  Scenario s;
  std::unique_ptr<const World> world = make_world(s.world);
  Gold gold = make_gold(s.gold, *world, s.eval.standardize_samples);
  Proxy proxy = make_proxy(s.proxy, s.preferences, s.eval, *world, gold, true, Backend::cpu, s.seed);
  explicit FittedProxy(Scenario sc) : s(std::move(sc)) {}
};

// the rows of one optimizer
inline std::vector<MetricRow> rows_of(const PointResult& r, const std::string& optimizer) {
  std::vector<MetricRow> rows;
  for (const MetricRow& m : r.rows)
    if (m.optimizer == optimizer) rows.push_back(m);
  return rows;
}

}  // namespace goodhart::test
