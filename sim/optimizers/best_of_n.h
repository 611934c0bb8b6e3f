// best_of_n.h — best-of-n: the best of n pi_ref samples by the proxy, for a grid of n (best_of_n.cpp).
// Contract: one row per n, in grid order, param_name "n".
#pragma once

#include <vector>

#include "sim/optimizers/optimizer.h"

namespace goodhart {

struct BestOfNConfig {
  int pool = 4096;                     // gaussian world: N samples per prompt (>= max n)
  std::vector<int> n = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};  // the grid
  double ref_logprob_weight = 0.0;     // Jinnai et al. 2024: select argmax proxy + weight * log pi_ref
};

std::vector<MetricRow> run_best_of_n(const BestOfNConfig& opt, const OptimizerContext& ctx);

// the pool best-of-n ranks for `prompt` in a world without candidates: `pool` pi_ref responses, keyed by
// (pool stream, prompt, row), and their proxy scores (what `goodhart export-pools` writes)
void draw_bon_pool(const BestOfNConfig& opt, const OptimizerContext& ctx, int prompt, Responses& r,
                   Eigen::VectorXf& proxy);

}  // namespace goodhart
