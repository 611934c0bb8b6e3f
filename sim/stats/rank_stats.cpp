// rank_stats.cpp — interpolation, aggregation, average ranks and Spearman's rho.
// Contract: see rank_stats.h.
#include "sim/stats/rank_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace goodhart {

namespace {
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
}  // namespace

Estimate aggregate(const std::vector<double>& values) {
  std::vector<double> v;
  for (double x : values)
    if (!std::isnan(x)) v.push_back(x);
  Estimate e;
  if (v.empty()) return e;
  double sum = 0.0;
  for (double x : v) sum += x;
  e.mean = sum / static_cast<double>(v.size());
  if (v.size() >= 2) {
    double ss = 0.0;
    for (double x : v) ss += (x - e.mean) * (x - e.mean);
    e.se = std::sqrt(ss / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()));
  }
  return e;
}

double interpolate_sorted(std::span<const double> x, std::span<const double> y, double at) {
  if (x.size() != y.size()) throw std::invalid_argument("interpolate_sorted: x and y of different lengths");
  if (x.empty() || std::isnan(at) || at < x.front() || at > x.back()) return nan;
  const std::size_t i = static_cast<std::size_t>(std::lower_bound(x.begin(), x.end(), at) - x.begin());
  if (x[i] == at) return y[i];
  const double t = (at - x[i - 1]) / (x[i] - x[i - 1]);
  return y[i - 1] + t * (y[i] - y[i - 1]);
}

std::vector<double> average_ranks(std::span<const double> v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double r = 0.5 * static_cast<double>(i + j) + 1.0;  // ranks i+1 .. j+1, averaged
    for (std::size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  return rank;
}

double spearman(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw std::invalid_argument("spearman: x and y of different lengths");
  std::vector<double> a, b;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isnan(x[i]) && !std::isnan(y[i])) {
      a.push_back(x[i]);
      b.push_back(y[i]);
    }
  if (a.size() < 3) return nan;
  const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
  const double n = static_cast<double>(a.size()), mean = (n + 1.0) / 2.0;  // every rank set sums to n (n + 1) / 2
  double sab = 0.0, saa = 0.0, sbb = 0.0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  if (saa <= 0.0 || sbb <= 0.0) return nan;
  return sab / std::sqrt(saa * sbb);
}

}  // namespace goodhart
