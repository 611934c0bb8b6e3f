// normal_draws.h — rows of gaussian draws in float: how every backend draws a response of the gaussian world
// (models/worlds/gaussian.cpp, gaussian policies).
// Definition, row (seed, stream, a, b) of dim elements: block j (elements 4j .. 4j + 3) is Philox4x32-10 with
// counter (a, b, j, seed >> 32) and key (seed, stream) — the j-th block CounterRng(seed, stream, a, b) would give.
// Its words (w0, w1, w2, w3) make two Box-Muller pairs, (w0, w1) and (w2, w3): a pair (s, t) gives the radius
// r = sqrt(-2 log u), u = ((s >> 8) + 1) 2^-24 in (0, 1], and the angle 2 pi v, v = (t >> 8) 2^-24 in [0, 1) (24
// bits each, both exact in float, u never 0), and the normals r cos(angle), r sin(angle) in that order; all float.
// Element k of the row is mean[k] + scale[k] * z[k]. Elements past dim in the last block are not used.
// Contract: normal_block and draw_gaussian_row are the definition, usable on host and device (the reference);
// fill_gaussian_rows is the fast host version (Philox over many blocks in SIMD lanes, the transform with Eigen's
// vectorized float log, sqrt, sin, cos) and agrees with the reference within a few float ulps of each draw's
// radius (tests/test_normal_draws.cpp); its result never depends on threads or on how rows are split.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "sim/numeric/philox_hd.h"

namespace goodhart {

inline constexpr float two_to_minus_24 = 5.9604644775390625e-8f;
inline constexpr float two_pi_float = 6.28318530717958647692f;

// radius and angle of one Box-Muller pair from two Philox words
GOODHART_HD inline float box_muller_radius(std::uint32_t s) {
  return std::sqrt(-2.0f * std::log(static_cast<float>((s >> 8) + 1u) * two_to_minus_24));
}
GOODHART_HD inline float box_muller_angle(std::uint32_t t) {
  return two_pi_float * (static_cast<float>(t >> 8) * two_to_minus_24);
}

// the four standard normals of block `block` of row (seed, stream, a, b)
GOODHART_HD inline void normal_block(std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b,
                                     std::uint32_t block, float z[4]) {
  const r123::Philox4x32::key_type key = {{static_cast<std::uint32_t>(seed), stream}};
  const r123::Philox4x32::ctr_type ctr = {{a, b, block, static_cast<std::uint32_t>(seed >> 32)}};
  const r123::Philox4x32::ctr_type w = r123::Philox4x32()(ctr, key);
  const float r0 = box_muller_radius(w.v[0]), angle0 = box_muller_angle(w.v[1]);
  const float r1 = box_muller_radius(w.v[2]), angle1 = box_muller_angle(w.v[3]);
  z[0] = r0 * std::cos(angle0);
  z[1] = r0 * std::sin(angle0);
  z[2] = r1 * std::cos(angle1);
  z[3] = r1 * std::sin(angle1);
}

// out[k] = mean[k] + scale[k] * z[k] for k < dim, z the normals of row (seed, stream, a, b): the reference
GOODHART_HD inline void draw_gaussian_row(std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b,
                                          const float* mean, const float* scale, int dim, float* out) {
  for (int j = 0; 4 * j < dim; ++j) {
    float z[4];
    normal_block(seed, stream, a, b, static_cast<std::uint32_t>(j), z);
    for (int e = 0; e < 4 && 4 * j + e < dim; ++e) out[4 * j + e] = mean[4 * j + e] + scale[4 * j + e] * z[e];
  }
}

// the same rows, fast, on the host: row i (i < rows) of out (dim floats, rows row_stride floats apart) is row
// (seed, stream, a, b0 + i); mean and scale have dim elements
void fill_gaussian_rows(std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b0, int rows,
                        int dim, const float* mean, const float* scale, float* out, std::ptrdiff_t row_stride);

}  // namespace goodhart
