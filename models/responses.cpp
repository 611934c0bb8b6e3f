// responses.cpp — drawing response batches and their per-response draws.
// Contract: see responses.h.
#include "models/responses.h"

#include "models/noise.h"

namespace goodhart {

namespace {

void draw_extras(const DrawNeeds& needs, std::uint64_t seed, std::uint32_t stream, std::uint32_t a,
                 std::uint32_t b, Eigen::Index row, Responses& out) {
  if (needs.error) {
    CounterRng rng(seed, stream + stream_id(Stream::error_offset), a, b);
    out.error(row) = static_cast<float>(draw_error(*needs.error, rng));
  }
  if (needs.spurious) {
    CounterRng rng(seed, stream + stream_id(Stream::spurious_offset), a, b);
    out.spurious(row) = static_cast<float>(rng.normal());
  }
}

void resize_extras(const DrawNeeds& needs, Eigen::Index count, Responses& out) {
  out.gold.resize(count);
  out.error.resize(needs.error ? count : 0);
  out.spurious.resize(needs.spurious ? count : 0);
}

}  // namespace

void draw_shifted_responses(const World& world, const Eigen::VectorXd& mean, const Gold& gold, const DrawNeeds& needs,
                            Backend backend, std::uint64_t seed, std::uint32_t stream, std::uint32_t a,
                            std::uint32_t b0, Eigen::Index count, Responses& out) {
  draw_scaled_responses(world, mean, world.scale, gold, needs, backend, seed, stream, a, b0, count, out);
}

void draw_scaled_responses(const World& world, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale,
                           const Gold& gold, const DrawNeeds& needs, Backend backend, std::uint64_t seed,
                           std::uint32_t stream, std::uint32_t a, std::uint32_t b0, Eigen::Index count,
                           Responses& out) {
  out.x.resize(count, world.dim);
  sample_gaussian_scaled(world, mean, scale, seed, stream, a, b0, out.x);
  resize_extras(needs, count, out);
  gold.score(backend, out.x, out.gold);
  for (Eigen::Index i = 0; i < count; ++i)
    draw_extras(needs, seed, stream, a, b0 + static_cast<std::uint32_t>(i), i, out);
}

void draw_gaussian_responses(const World& world, const Gold& gold, const DrawNeeds& needs, Backend backend,
                             std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                             Eigen::Index count, Responses& out) {
  draw_shifted_responses(world, world.mean, gold, needs, backend, seed, stream, a, b0, count, out);
}

void categorical_responses(const World& world, const Gold& gold, const DrawNeeds& needs, Backend backend,
                           std::uint64_t seed, const std::vector<std::pair<int, int>>& chosen, Responses& out) {
  const auto count = static_cast<Eigen::Index>(chosen.size());
  out.x.resize(count, world.dim);
  for (Eigen::Index i = 0; i < count; ++i)
    out.x.row(i) = world.features.row(static_cast<Eigen::Index>(chosen[i].first) * world.candidates + chosen[i].second);
  resize_extras(needs, count, out);
  gold.score(backend, out.x, out.gold);
  for (Eigen::Index i = 0; i < count; ++i)
    draw_extras(needs, seed, stream_id(Stream::pool), chosen[i].first, chosen[i].second, i, out);
}

void all_candidates(const World& world, const Gold& gold, const DrawNeeds& needs, Backend backend,
                    std::uint64_t seed, Responses& out) {
  std::vector<std::pair<int, int>> chosen;
  chosen.reserve(static_cast<std::size_t>(world.prompts) * world.candidates);
  for (int p = 0; p < world.prompts; ++p)
    for (int k = 0; k < world.candidates; ++k) chosen.emplace_back(p, k);
  categorical_responses(world, gold, needs, backend, seed, chosen, out);
}

}  // namespace goodhart
