// test_normal_draws.cpp — the float gaussian rows of sim/numeric/normal_draws.h: the fast host fill against the
// scalar definition, independence from how rows are split, and the distribution of the draws.
// Contract: fixed seeds; the statistical checks allow 5 standard errors (a false failure about once in 10^6 per
// check at these seeds, which are fixed, so a failure means a changed draw).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sim/numeric/normal_draws.h"

using namespace goodhart;

namespace {

constexpr float float_eps = std::numeric_limits<float>::epsilon();

// rows x dim draws by the fast fill into rows row_stride floats apart
std::vector<float> fast_rows(std::uint64_t seed, std::uint32_t a, std::uint32_t b0, int rows, int dim, int row_stride,
                             const std::vector<float>& mean, const std::vector<float>& scale) {
  std::vector<float> out(static_cast<std::size_t>(rows) * row_stride, -99.0f);
  fill_gaussian_rows(seed, 10, a, b0, rows, dim, mean.data(), scale.data(), out.data(), row_stride);
  return out;
}

}  // namespace

TEST_CASE("normal_block is the j-th Philox block of CounterRng, as a float Box-Muller") {
  const std::uint64_t seed = 0x123456789abcdefull;
  CounterRng rng(seed, 10, 4, 7);
  for (std::uint32_t block = 0; block < 3; ++block) {
    const std::uint32_t w0 = rng(), w1 = rng(), w2 = rng(), w3 = rng();
    float z[4];
    normal_block(seed, 10, 4, 7, block, z);
    const float u0 = static_cast<float>((w0 >> 8) + 1u) / 16777216.0f, v0 = static_cast<float>(w1 >> 8) / 16777216.0f;
    const float u1 = static_cast<float>((w2 >> 8) + 1u) / 16777216.0f, v1 = static_cast<float>(w3 >> 8) / 16777216.0f;
    CHECK(z[0] == std::sqrt(-2.0f * std::log(u0)) * std::cos(two_pi_float * v0));
    CHECK(z[1] == std::sqrt(-2.0f * std::log(u0)) * std::sin(two_pi_float * v0));
    CHECK(z[2] == std::sqrt(-2.0f * std::log(u1)) * std::cos(two_pi_float * v1));
    CHECK(z[3] == std::sqrt(-2.0f * std::log(u1)) * std::sin(two_pi_float * v1));
  }
}

TEST_CASE("fill_gaussian_rows matches draw_gaussian_row within a few float ulps") {
  const std::uint64_t seed = 0xfedcba9876543ull;  // high word nonzero: the fourth counter word is used
  for (int dim : {1, 3, 4, 8, 13, 32, 33}) {
    CAPTURE(dim);
    const int rows = 531, row_stride = dim + 3;
    std::vector<float> mean(dim), scale(dim), unit_mean(dim, 0.0f), unit_scale(dim, 1.0f);
    for (int k = 0; k < dim; ++k) mean[k] = 0.25f * k - 1.0f, scale[k] = 0.5f + 0.1f * k;
    // standard normals: within 4 ulps of max(1, |z|) (vectorized log, sin, cos against libm's)
    const std::vector<float> z = fast_rows(seed, 6, 1000, rows, dim, row_stride, unit_mean, unit_scale);
    const std::vector<float> x = fast_rows(seed, 6, 1000, rows, dim, row_stride, mean, scale);
    int far = 0;
    for (int i = 0; i < rows; ++i) {
      std::vector<float> z_ref(dim), x_ref(dim);
      draw_gaussian_row(seed, 10, 6, 1000 + i, unit_mean.data(), unit_scale.data(), dim, z_ref.data());
      draw_gaussian_row(seed, 10, 6, 1000 + i, mean.data(), scale.data(), dim, x_ref.data());
      for (int k = 0; k < dim; ++k) {
        const float zk = z[i * row_stride + k], xk = x[i * row_stride + k];
        far += std::abs(zk - z_ref[k]) > 4 * float_eps * std::max(1.0f, std::abs(z_ref[k]));
        // mean + scale z: the draw's error times scale, plus a rounding of the sum
        far += std::abs(xk - x_ref[k]) >
               4 * float_eps * (scale[k] * std::max(1.0f, std::abs(z_ref[k])) + std::abs(x_ref[k]));
      }
      for (int k = dim; k < row_stride; ++k) far += z[i * row_stride + k] != -99.0f;  // padding untouched
    }
    CHECK(far == 0);
  }
}

TEST_CASE("fill_gaussian_rows does not depend on how the rows are split") {
  const int rows = 100, dim = 7;
  const std::vector<float> mean(dim, 0.0f), scale(dim, 1.0f);
  const std::vector<float> whole = fast_rows(3, 2, 0, rows, dim, dim, mean, scale);
  const std::vector<float> head = fast_rows(3, 2, 0, 37, dim, dim, mean, scale);
  const std::vector<float> tail = fast_rows(3, 2, 37, rows - 37, dim, dim, mean, scale);
  std::vector<float> joined(head);
  joined.insert(joined.end(), tail.begin(), tail.end());
  CHECK(joined == whole);
}

TEST_CASE("gaussian rows are standard normal: moments, tails, uncorrelated pairs (5 standard errors)") {
  const int rows = 1 << 15, dim = 32;
  const std::vector<float> mean(dim, 0.0f), scale(dim, 1.0f);
  const std::vector<float> z = fast_rows(20261127, 0, 0, rows, dim, dim, mean, scale);
  const double n = static_cast<double>(z.size());
  double s1 = 0, s2 = 0, s4 = 0, above2 = 0, above3 = 0, cross = 0;
  for (std::size_t i = 0; i < z.size(); ++i) {
    const double v = z[i];
    s1 += v, s2 += v * v, s4 += v * v * v * v;
    above2 += v > 2.0, above3 += std::abs(v) > 3.0;
    if (i % 2 == 0) cross += v * z[i + 1];  // the cosine and sine of one pair
  }
  const double p2 = 0.5 * std::erfc(2.0 / std::sqrt(2.0)), p3 = std::erfc(3.0 / std::sqrt(2.0));
  CHECK(std::abs(s1 / n) <= 5.0 / std::sqrt(n));                                  // var z = 1
  CHECK(std::abs(s2 / n - 1.0) <= 5.0 * std::sqrt(2.0 / n));                      // var z^2 = 2
  CHECK(std::abs(s4 / n - 3.0) <= 5.0 * std::sqrt(96.0 / n));                     // var z^4 = 105 - 9
  CHECK(std::abs(above2 / n - p2) <= 5.0 * std::sqrt(p2 * (1 - p2) / n));
  CHECK(std::abs(above3 / n - p3) <= 5.0 * std::sqrt(p3 * (1 - p3) / n));
  CHECK(std::abs(cross / (n / 2)) <= 5.0 / std::sqrt(n / 2));                     // var (z1 z2) = 1
  // the far tail is there (24-bit uniforms reach 5.77; a 16-bit uniform would stop at 4.71): P(|z| > 4) = 6.3e-5
  double above4 = 0;
  for (float v : z) above4 += std::abs(v) > 4.0f;
  const double p4 = std::erfc(4.0 / std::sqrt(2.0));
  CHECK(std::abs(above4 / n - p4) <= 5.0 * std::sqrt(p4 * (1 - p4) / n));
}
