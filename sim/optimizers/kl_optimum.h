// kl_optimum.h — the exact KL-regularized optimum pi_beta ∝ pi_ref exp(proxy / beta) (kl_optimum.cpp).
// Contract: one row per beta (param_name "beta") or per KL budget (param_name "kl_budget"), in grid order.
#pragma once

#include <vector>

#include "sim/optimizers/optimizer.h"

namespace goodhart {

struct KlOptimumConfig {
  std::vector<double> beta;            // inverse strengths; with kl_budget empty too: logspace(-2, 1, 16)
  std::vector<double> kl_budget;       // KL targets; the beta meeting each is found by root-finding
  int samples = 4096;                  // gaussian world: samples per prompt (exact draws or the SNIS pool)
};

std::vector<MetricRow> run_kl_optimum(const KlOptimumConfig& opt, const OptimizerContext& ctx);

}  // namespace goodhart
