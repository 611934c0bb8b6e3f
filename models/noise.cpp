// noise.cpp — draws and moments of the noisy-proxy error distributions.
// Contract: see noise.h; Boost.Random supplies the student_t draw, fed by the counter-based generator.
#include "models/noise.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <boost/random/student_t_distribution.hpp>

namespace goodhart {

double draw_error(const NoiseConfig& noise, CounterRng& rng) {
  const std::string& d = noise.distribution;
  if (d == "gaussian") return rng.normal();
  if (d == "student_t") return boost::random::student_t_distribution<double>(noise.shape)(rng);
  if (d == "lognormal") return std::exp(noise.shape * rng.normal());
  if (d == "pareto") return std::pow(rng.uniform(), -1.0 / noise.shape);
  if (d == "levy") {
    const double z = rng.normal();
    return 1.0 / (z * z);
  }
  throw std::invalid_argument("unknown noise distribution: " + d);
}

ErrorMoments error_moments(const NoiseConfig& noise) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::string& d = noise.distribution;
  const double a = noise.shape;
  ErrorMoments m;
  if (d == "gaussian") return m;
  if (d == "student_t") {
    m.finite_mean = a > 1.0;
    m.finite_variance = a > 2.0;
    m.variance = m.finite_variance ? a / (a - 2.0) : inf;
    return m;
  }
  if (d == "lognormal") {
    m.mean = std::exp(a * a / 2.0);
    m.variance = (std::exp(a * a) - 1.0) * std::exp(a * a);
    m.median = 1.0;
    return m;
  }
  if (d == "pareto") {
    m.finite_mean = a > 1.0;
    m.finite_variance = a > 2.0;
    m.mean = m.finite_mean ? a / (a - 1.0) : inf;
    m.variance = m.finite_variance ? a / ((a - 1.0) * (a - 1.0) * (a - 2.0)) : inf;
    m.median = std::pow(2.0, 1.0 / a);
    return m;
  }
  // levy: 1/z^2 has median 1 / Phi^-1(3/4)^2
  m.finite_mean = m.finite_variance = false;
  m.mean = m.variance = inf;
  m.median = 1.0 / (0.6744897501960817 * 0.6744897501960817);
  return m;
}

}  // namespace goodhart
