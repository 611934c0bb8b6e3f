// normal_draws.cpp — the fast host fill of gaussian rows defined in normal_draws.h: Philox4x32-10 on `lanes`
// blocks at once (AVX2 where the build targets it, else plain loops over lane arrays that GCC vectorizes), then
// Box-Muller on all their pairs with Eigen's vectorized float log, sqrt, cos and sin.
// Contract: see normal_draws.h; single-threaded, no allocation; agrees with draw_gaussian_row (normal_block's
// r123::Philox4x32, the plain reference of both Philox paths) within float ulps.
#include "sim/numeric/normal_draws.h"

#include <algorithm>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include <Eigen/Dense>

namespace goodhart {

namespace {

constexpr int lanes = 16;  // Philox blocks per batch
using PairArray = Eigen::Array<float, 2 * lanes, 1>;

// the counters of a batch on input, Philox4x32-10 of them under key (k0, k1) on output; lane l is one block
struct PhiloxLanes {
  alignas(64) std::uint32_t w0[lanes], w1[lanes], w2[lanes], w3[lanes];
};

#if defined(__AVX2__)
// Philox4x32-10 rounds on every lane, each word in a 64-bit lane, 4 lanes a register, so one vpmuludq makes 4 full
// products (plain loops, the #else branch, need shuffles around it); only the low 32 bits of a lane are meaningful
void philox_rounds(PhiloxLanes& c, std::uint32_t k0, std::uint32_t k1) {
  constexpr int groups = lanes / 4;
  __m256i w0[groups], w1[groups], w2[groups], w3[groups];
  const auto load = [](const std::uint32_t* w) {
    return _mm256_cvtepu32_epi64(_mm_load_si128(reinterpret_cast<const __m128i*>(w)));
  };
  for (int g = 0; g < groups; ++g) {
    w0[g] = load(c.w0 + 4 * g);
    w1[g] = load(c.w1 + 4 * g);
    w2[g] = load(c.w2 + 4 * g);
    w3[g] = load(c.w3 + 4 * g);
  }
  const __m256i m0 = _mm256_set1_epi64x(PHILOX_M4x32_0), m1 = _mm256_set1_epi64x(PHILOX_M4x32_1);
  for (int round = 0; round < 10; ++round) {
    const __m256i key0 = _mm256_set1_epi32(static_cast<int>(k0)), key1 = _mm256_set1_epi32(static_cast<int>(k1));
    for (int g = 0; g < groups; ++g) {
      const __m256i p0 = _mm256_mul_epu32(w0[g], m0), p1 = _mm256_mul_epu32(w2[g], m1);
      w0[g] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), w1[g]), key0);
      w2[g] = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), w3[g]), key1);
      w1[g] = p1;
      w3[g] = p0;
    }
    k0 += PHILOX_W32_0;
    k1 += PHILOX_W32_1;
  }
  // the low halves back to 32-bit words
  const __m256i low_halves = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  const auto store = [&](std::uint32_t* w, __m256i v) {
    const __m256i packed = _mm256_permutevar8x32_epi32(v, low_halves);
    _mm_store_si128(reinterpret_cast<__m128i*>(w), _mm256_castsi256_si128(packed));
  };
  for (int g = 0; g < groups; ++g) {
    store(c.w0 + 4 * g, w0[g]);
    store(c.w1 + 4 * g, w1[g]);
    store(c.w2 + 4 * g, w2[g]);
    store(c.w3 + 4 * g, w3[g]);
  }
}
#else
// Philox4x32-10 rounds on every lane: plain loops (GCC vectorizes them, with shuffles around each product)
void philox_rounds(PhiloxLanes& c, std::uint32_t k0, std::uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    PhiloxLanes next;  // a fresh array per round: GCC vectorizes this form, not an in-place update
    for (int l = 0; l < lanes; ++l) {
      const std::uint64_t p0 = static_cast<std::uint64_t>(PHILOX_M4x32_0) * c.w0[l];
      const std::uint64_t p1 = static_cast<std::uint64_t>(PHILOX_M4x32_1) * c.w2[l];
      next.w0[l] = static_cast<std::uint32_t>(p1 >> 32) ^ c.w1[l] ^ k0;
      next.w1[l] = static_cast<std::uint32_t>(p1);
      next.w2[l] = static_cast<std::uint32_t>(p0 >> 32) ^ c.w3[l] ^ k1;
      next.w3[l] = static_cast<std::uint32_t>(p0);
    }
    c = next;
    k0 += PHILOX_W32_0;
    k1 += PHILOX_W32_1;
  }
}
#endif

}  // namespace

void fill_gaussian_rows(std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b0, int rows,
                        int dim, const float* mean, const float* scale, float* out, std::ptrdiff_t row_stride) {
  if (rows <= 0 || dim <= 0) return;
  const int blocks_per_row = (dim + 3) / 4;
  const std::int64_t blocks = static_cast<std::int64_t>(rows) * blocks_per_row;
  const std::uint32_t seed_high = static_cast<std::uint32_t>(seed >> 32);
  PhiloxLanes c;
  PairArray radius_words, angle_words;
  int row = 0, block = 0;  // of the batch's first lane
  for (std::int64_t first = 0; first < blocks; first += lanes) {
    // counters (a, b0 + row, block, seed >> 32), lane by lane in row-major block order
    int lane_row = row, lane_block = block;
    for (int l = 0; l < lanes; ++l) {
      c.w0[l] = a;
      c.w1[l] = b0 + static_cast<std::uint32_t>(lane_row);
      c.w2[l] = static_cast<std::uint32_t>(lane_block);
      c.w3[l] = seed_high;
      if (++lane_block == blocks_per_row) lane_block = 0, ++lane_row;
    }
    philox_rounds(c, static_cast<std::uint32_t>(seed), stream);
    // box-muller on both pairs of every lane: pair 0 in [0, lanes), pair 1 in [lanes, 2 lanes)
    for (int l = 0; l < lanes; ++l) {
      radius_words(l) = static_cast<float>((c.w0[l] >> 8) + 1u);
      radius_words(lanes + l) = static_cast<float>((c.w2[l] >> 8) + 1u);
      angle_words(l) = static_cast<float>(c.w1[l] >> 8);
      angle_words(lanes + l) = static_cast<float>(c.w3[l] >> 8);
    }
    const PairArray radius = (-2.0f * (radius_words * two_to_minus_24).log()).sqrt();
    const PairArray angle = two_pi_float * (angle_words * two_to_minus_24);
    const PairArray cosine = radius * angle.cos(), sine = radius * angle.sin();
    // the batch's normals in block order, then out row by row (the lanes past the last block unused)
    alignas(64) float normals[4 * lanes];
    for (int l = 0; l < lanes; ++l) {
      normals[4 * l] = cosine(l);
      normals[4 * l + 1] = sine(l);
      normals[4 * l + 2] = cosine(lanes + l);
      normals[4 * l + 3] = sine(lanes + l);
    }
    const int used = static_cast<int>(std::min<std::int64_t>(lanes, blocks - first));
    for (int l = 0; l < used;) {
      const int row_blocks = std::min(used - l, blocks_per_row - block);
      const int k0 = 4 * block, count = std::min(4 * row_blocks, dim - k0);
      float* dst = out + row * row_stride + k0;
      for (int e = 0; e < count; ++e) dst[e] = mean[k0 + e] + scale[k0 + e] * normals[4 * l + e];
      l += row_blocks;
      block += row_blocks;
      if (block == blocks_per_row) block = 0, ++row;
    }
  }
}

}  // namespace goodhart
