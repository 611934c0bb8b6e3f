// scaling.cpp — the regressions of `goodhart scaling`.
// Contract: see scaling.h.
#include "sim/report/scaling.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>

#include <Eigen/Dense>

#include "sim/io/files.h"
#include "sim/report/curves.h"

namespace goodhart {

namespace fs = std::filesystem;

bool least_squares(const std::vector<std::vector<double>>& x, const std::vector<double>& y, std::vector<double>& beta,
                   std::vector<double>& se, double& r2) {
  const Eigen::Index n = static_cast<Eigen::Index>(y.size()), p = static_cast<Eigen::Index>(x.size()) + 1;
  if (n < p) return false;
  Eigen::MatrixXd X(n, p);
  Eigen::VectorXd Y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    X(i, 0) = 1.0;
    for (Eigen::Index j = 1; j < p; ++j) X(i, j) = x[j - 1][i];
    Y(i) = y[i];
  }
  // singular: a regressor constant over the rows, or two regressors collinear
  const Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(X);
  if (qr.rank() < p) return false;
  const Eigen::VectorXd b = qr.solve(Y);
  const Eigen::VectorXd residual = Y - X * b;
  const double rss = residual.squaredNorm(), tss = (Y.array() - Y.mean()).square().sum();
  r2 = tss > 0 ? 1.0 - rss / tss : std::nan("");
  const Eigen::MatrixXd inverse = (X.transpose() * X).inverse();  // full rank, p <= 3
  const double s2 = n > p ? rss / static_cast<double>(n - p) : std::nan("");
  beta.assign(b.data(), b.data() + p);
  se.resize(p);
  for (Eigen::Index j = 0; j < p; ++j) se[j] = std::sqrt(s2 * inverse(j, j));
  return true;
}

namespace {

double swept_number(const Curve& c, const std::string& key) {
  for (const auto& [k, v] : c.swept)
    if (k == key) return cell_number(v);
  return std::nan("");
}

// the target values of the contract, in order
const char* const targets[] = {"bon_alpha", "bon_beta", "bon_peak_sqrt_kl", "bon_peak_gold", "peak_sqrt_kl",
                               "peak_gold"};

double target_of(const Curve& c, int t) {
  switch (t) {
    case 0: return c.bon.alpha;
    case 1: return c.bon.beta;
    case 2: return c.bon.beta > 0 ? c.bon.alpha / (2.0 * c.bon.beta) : std::nan("");
    case 3: return c.bon.beta > 0 ? c.bon.alpha * c.bon.alpha / (4.0 * c.bon.beta) : std::nan("");
    case 4: return c.peak_sqrt_kl;
    default: return c.peak_gold;
  }
}

}  // namespace

std::vector<ScalingSlope> scaling_slopes(const fs::path& dir) {
  const ResultsFolder folder = read_curves(dir, {});
  std::map<std::string, std::vector<const Curve*>> groups;
  std::vector<std::string> order;
  for (const Curve& c : folder.curves)
    if (std::isfinite(c.proxy_parameters) && c.proxy_parameters > 0) {
      if (!groups.contains(c.optimizer)) order.push_back(c.optimizer);
      groups[c.optimizer].push_back(&c);
    }
  if (groups.empty())
    throw std::invalid_argument(dir.string() + ": no curve with proxy_parameters in runs.csv (scaling needs a "
                                               "learned proxy; results of an older goodhart: run again)");
  std::vector<ScalingSlope> out;
  bool any_regressor = false;
  for (const std::string& name : order) {
    const std::vector<const Curve*>& curves = groups[name];
    // the regressors, each kept where it varies
    std::vector<std::string> names;
    std::vector<std::vector<double>> columns;
    std::vector<double> params, pairs;
    for (const Curve* c : curves) {
      params.push_back(std::log10(c->proxy_parameters));
      pairs.push_back(std::log10(swept_number(*c, "preferences.n_pairs")));
    }
    for (const auto& [label, values] : {std::pair{"log10_parameters", params}, std::pair{"log10_pairs", pairs}}) {
      const bool finite = std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
      if (finite && std::set<double>(values.begin(), values.end()).size() >= 2) {
        names.push_back(label);
        columns.push_back(values);
      }
    }
    if (names.empty()) continue;
    any_regressor = true;
    for (int t = 0; t < 6; ++t) {
      std::vector<std::vector<double>> x(columns.size());
      std::vector<double> y;
      for (std::size_t i = 0; i < curves.size(); ++i) {
        const double v = target_of(*curves[i], t);
        if (!std::isfinite(v)) continue;
        y.push_back(v);
        for (std::size_t j = 0; j < columns.size(); ++j) x[j].push_back(columns[j][i]);
      }
      std::vector<double> beta, se;
      double r2 = 0.0;
      if (!least_squares(x, y, beta, se, r2)) continue;
      for (std::size_t j = 0; j < names.size(); ++j)
        out.push_back({name, targets[t], names[j], beta[j + 1], se[j + 1], r2, static_cast<int>(y.size())});
    }
  }
  if (!any_regressor)
    throw std::invalid_argument(dir.string() + ": neither the proxy's parameters nor preferences.n_pairs take two "
                                               "values among its curves (sweep proxy.hidden or preferences.n_pairs)");
  return out;
}

std::vector<ScalingSlope> scaling_report(const fs::path& dir, const fs::path& out, bool quiet, std::ostream& table) {
  const std::vector<ScalingSlope> slopes = scaling_slopes(dir);
  std::string csv = "optimizer,target,regressor,slope,se,r2,curves\n";
  for (const ScalingSlope& s : slopes)
    csv += csv_escape(s.optimizer) + "," + s.target + "," + s.regressor + "," + format_double(s.slope) + "," +
           format_double(s.se) + "," + format_double(s.r2) + "," + std::to_string(s.curves) + "\n";
  fs::create_directories(out);
  write_file_atomic(out / "scaling.csv", csv);
  if (!quiet) {
    char line[256];
    std::snprintf(line, sizeof line, "%-18s %-17s %-17s %10s %9s %6s %6s\n", "optimizer", "target", "per decade of",
                  "slope", "se", "r2", "curves");
    table << line;
    for (const ScalingSlope& s : slopes) {
      std::snprintf(line, sizeof line, "%-18s %-17s %-17s %10.4f %9.4f %6.3f %6d\n", s.optimizer.c_str(),
                    s.target.c_str(), s.regressor.substr(6).c_str(), s.slope, s.se, s.r2, s.curves);
      table << line;
    }
  }
  return slopes;
}

}  // namespace goodhart
