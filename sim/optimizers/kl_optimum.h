// kl_optimum.h — the exact regularized optimum: KL's pi_beta ∝ pi_ref exp(proxy / beta), or the chi-squared and
// mixed chi-squared + KL optima (kl_optimum.cpp).
// Contract: one row per beta (param_name "beta") or per KL budget (param_name "kl_budget"), in grid order.
#pragma once

#include <string>
#include <vector>

#include "sim/optimizers/optimizer.h"

namespace goodhart {

struct KlOptimumConfig {
  std::vector<double> beta;            // inverse strengths; with kl_budget empty too: logspace(-2, 1, 16)
  std::vector<double> kl_budget;       // KL targets; the beta meeting each is found by root-finding
  int samples = 4096;                  // gaussian world: samples per prompt (exact draws or the SNIS pool)
  std::string divergence = "kl";       // kl | chi2 | chi2_kl: the regularizer D in max E[proxy] - beta D
};

std::vector<MetricRow> run_kl_optimum(const KlOptimumConfig& opt, const OptimizerContext& ctx);

}  // namespace goodhart
