// noise.h — the error term of a `noisy` proxy (proxy = gold + scale * e): gaussian, student_t, lognormal,
// pareto and levy draws, and their moments for standardization (Kwa et al. 2024's light and heavy tails).
// Contract: draw_error consumes only the CounterRng given; moments are of the unit draw e (before scale).
#pragma once

#include "sim/numeric/philox_hd.h"
#include "sim/scenario/config.h"

namespace goodhart {

// unit draws: gaussian z; student_t with shape degrees of freedom; lognormal exp(shape z); pareto U^(-1/shape)
// (support [1, inf)); levy 1 / z^2 (standard Levy, no finite mean)
double draw_error(const NoiseConfig& noise, CounterRng& rng);

struct ErrorMoments {
  bool finite_mean = true, finite_variance = true;
  double mean = 0.0, variance = 1.0, median = 0.0;
};
ErrorMoments error_moments(const NoiseConfig& noise);

}  // namespace goodhart
