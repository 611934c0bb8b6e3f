// kl_estimators.h — the per-sample estimators of KL(pi || pi_ref) that trainers use (Schulman 2020, "Approximating
// KL divergence"), shared by policy_gradient (which trains with them) and kl_audit (which audits their gradients).
// Contract: with the log-ratio l = log pi(y) - log pi_ref(y), k1 = l, k2 = l^2 / 2, k3 = e^-l - 1 + l;
// derivative() is dk/dl (k1' = 1, k2' = l, k3' = 1 - e^-l). parse throws std::invalid_argument on other names.
#pragma once

#include <cmath>
#include <stdexcept>
#include <string>

namespace goodhart {

enum class KlEstimator { k1, k2, k3 };

inline KlEstimator parse_kl_estimator(const std::string& e) {
  if (e == "k1") return KlEstimator::k1;
  if (e == "k2") return KlEstimator::k2;
  if (e == "k3") return KlEstimator::k3;
  throw std::invalid_argument("unknown kl_estimator '" + e + "'");
}

inline const char* kl_estimator_name(KlEstimator e) {
  return e == KlEstimator::k1 ? "k1" : e == KlEstimator::k2 ? "k2" : "k3";
}

// k(l)
inline double kl_estimate(KlEstimator e, double l) {
  switch (e) {
    case KlEstimator::k1: return l;
    case KlEstimator::k2: return 0.5 * l * l;
    case KlEstimator::k3: return std::expm1(-l) + l;
  }
  return l;
}

// dk/dl
inline double kl_estimate_derivative(KlEstimator e, double l) {
  switch (e) {
    case KlEstimator::k1: return 1.0;
    case KlEstimator::k2: return l;
    case KlEstimator::k3: return -std::expm1(-l);
  }
  return 1.0;
}

}  // namespace goodhart
