// test_scaling.cpp — `goodhart scaling` (sim/report/scaling.h): least squares against closed forms, the slopes of
// a results folder against a regression done here from its runs.csv, the located errors, and the claims of
// scenarios/gao_scaling_capacity.yaml at tiny size.
// Contract: the tiny scenario is run once by the CLI into a scratch folder; slopes are compared to 1e-9; the claims' margins hold for seeds 0-2 (checked when the scenario was written).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_helpers.h"
#include "sim/report/scaling.h"
#include "sim/scenario/csv_read.h"
#include "test_helpers.h"

#include <Eigen/Dense>

using namespace goodhart;
namespace fs = std::filesystem;

TEST_CASE("scaling: least squares against closed forms") {
  // an exact plane: the coefficients, zero standard errors, R^2 = 1
  const std::vector<double> x1 = {0, 1, 2, 0, 1, 2}, x2 = {0, 0, 0, 1, 1, 1};
  std::vector<double> y;
  for (std::size_t i = 0; i < x1.size(); ++i) y.push_back(2.0 + 3.0 * x1[i] - 1.5 * x2[i]);
  std::vector<double> b, se;
  double r2 = 0.0;
  REQUIRE(least_squares({x1, x2}, y, b, se, r2));
  CHECK(std::abs(b[0] - 2.0) < 1e-12);
  CHECK(std::abs(b[1] - 3.0) < 1e-12);
  CHECK(std::abs(b[2] + 1.5) < 1e-12);
  CHECK(se[1] < 1e-6);
  CHECK(std::abs(r2 - 1.0) < 1e-12);
  // one regressor with noise: slope = Sxy / Sxx, se = sqrt(s^2 / Sxx), s^2 = RSS / (n - 2)
  const std::vector<double> x = {1, 2, 3, 4, 5}, z = {1.1, 1.9, 3.2, 3.8, 5.3};
  REQUIRE(least_squares({x}, z, b, se, r2));
  double sxx = 0, sxy = 0, rss = 0, tss = 0;
  for (int i = 0; i < 5; ++i) {
    sxx += (x[i] - 3) * (x[i] - 3);
    sxy += (x[i] - 3) * (z[i] - 3.06);
  }
  const double slope = sxy / sxx, intercept = 3.06 - slope * 3;
  for (int i = 0; i < 5; ++i) {
    rss += std::pow(z[i] - intercept - slope * x[i], 2);
    tss += std::pow(z[i] - 3.06, 2);
  }
  CHECK(std::abs(b[1] - slope) < 1e-12);
  CHECK(std::abs(se[1] - std::sqrt(rss / 3 / sxx)) < 1e-12);
  CHECK(std::abs(r2 - (1 - rss / tss)) < 1e-12);
  // too few rows, a constant regressor, collinear regressors: no fit
  CHECK_FALSE(least_squares({{1.0}}, {2.0}, b, se, r2));
  CHECK_FALSE(least_squares({{1, 1, 1}}, {1, 2, 3}, b, se, r2));
  CHECK_FALSE(least_squares({{1, 2, 3}, {2, 4, 6}}, {1, 2, 4}, b, se, r2));
}

namespace {

// the tiny scenario's results folder, written once by the CLI
const fs::path& tiny_results() {
  static const fs::path dir = [] {
    const fs::path d = test::scratch("scaling_tiny");
    REQUIRE(test::cli("run scenarios/tiny/gao_scaling_capacity.yaml --quiet --out " + d.string()).exit_code == 0);
    return d;
  }();
  return dir;
}

const ScalingSlope& find(const std::vector<ScalingSlope>& s, const std::string& target, const std::string& regressor) {
  for (const ScalingSlope& x : s)
    if (x.target == target && x.regressor == regressor) return x;
  FAIL("no slope for " << target << " on " << regressor);
  return s.front();
}

}  // namespace

TEST_CASE("scaling: a folder's slopes are the regression of its runs.csv, and the CLI writes them") {
  const fs::path dir = tiny_results();
  const std::vector<ScalingSlope> slopes = scaling_slopes(dir);
  // the regression redone here from runs.csv: peak_gold on [1, log10 parameters, log10 pairs]
  const CsvData runs = read_csv(dir / "runs.csv");
  std::vector<double> params, pairs, gold;
  for (std::size_t r = 0; r < runs.rows.size(); ++r) {
    params.push_back(std::log10(std::stod(runs.cell(r, "proxy_parameters"))));
    pairs.push_back(std::log10(std::stod(runs.cell(r, "preferences.n_pairs"))));
    gold.push_back(std::stod(runs.cell(r, "peak_gold")));
  }
  REQUIRE(params.size() == 8);
  // parameters: 10 w + 1 for an input of 8 and one hidden layer of width w
  CHECK(std::pow(10.0, params[0]) == doctest::Approx(11.0));
  Eigen::MatrixXd X(8, 3);
  Eigen::VectorXd Y(8);
  for (int i = 0; i < 8; ++i) {
    X.row(i) << 1.0, params[i], pairs[i];
    Y(i) = gold[i];
  }
  const Eigen::VectorXd b = (X.transpose() * X).inverse() * X.transpose() * Y;
  CHECK(std::abs(find(slopes, "peak_gold", "log10_parameters").slope - b(1)) < 1e-9);
  CHECK(std::abs(find(slopes, "peak_gold", "log10_pairs").slope - b(2)) < 1e-9);
  CHECK(find(slopes, "peak_gold", "log10_pairs").curves == 8);

  const fs::path out = dir / "scaling_out";
  const test::CliResult r = test::cli("scaling " + dir.string() + " --out " + out.string());
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("peak_gold") != std::string::npos);
  std::ifstream in(out / "scaling.csv");
  std::string header;
  std::getline(in, header);
  CHECK(header == "optimizer,target,regressor,slope,se,r2,curves");
}

TEST_CASE("scaling: a folder without a learned proxy, or with nothing varying, is a clear error") {
  const fs::path d = test::scratch("scaling_noisy");
  REQUIRE(test::cli("run scenarios/tiny/regressional_gaussian.yaml --quiet --out " + d.string()).exit_code == 0);
  const test::CliResult r = test::cli("scaling " + d.string());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("proxy_parameters") != std::string::npos);
  CHECK_FALSE(fs::exists(d / "scaling.csv"));
  CHECK(test::cli("scaling " + (d / "nowhere").string()).exit_code == 2);
}

TEST_CASE("scenario gao_scaling_capacity (tiny): a larger reward model peaks later and higher") {
  const std::vector<ScalingSlope> s = scaling_slopes(tiny_results());
  // Gao et al.'s directions: peak gold and its location rise with the RM's size, beta_bon falls
  CHECK(find(s, "peak_gold", "log10_parameters").slope > 0.3);
  CHECK(find(s, "bon_peak_sqrt_kl", "log10_parameters").slope > 0.3);
  CHECK(find(s, "bon_beta", "log10_parameters").slope < -0.03);
  // more pairs help too
  CHECK(find(s, "peak_gold", "log10_pairs").slope > 0.0);
}
