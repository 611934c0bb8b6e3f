// responses.cpp — drawing response batches and their per-response draws.
// Contract: see responses.h.
#include "models/responses.h"

#include <stdexcept>

#include "models/noise.h"
#include "sim/numeric/normal_draws.h"

namespace goodhart {

void score_responses(const Gold& gold, const DrawNeeds& needs, Backend backend, std::uint64_t seed, Responses& out) {
  const Eigen::Index count = out.size();
  out.gold.resize(count);
  out.error.resize(needs.error ? count : 0);
  out.spurious.resize(needs.spurious ? count : 0);
  gold.score(backend, out.x, out.gold);
  for (Eigen::Index i = 0; i < count; ++i) {
    const ResponseId& id = out.id[i];
    if (needs.error) {
      CounterRng rng(seed, id.stream + stream_id(Stream::error_offset), id.a, id.b);
      out.error(i) = static_cast<float>(draw_error(*needs.error, rng));
    }
    if (needs.spurious) {
      CounterRng rng(seed, id.stream + stream_id(Stream::spurious_offset), id.a, id.b);
      out.spurious(i) = static_cast<float>(rng.normal());
    }
  }
}

void draw_reference_responses(const World& world, const Gold& gold, const DrawNeeds& needs, Backend backend,
                              std::uint64_t seed, int prompt, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                              Eigen::Index count, Responses& out) {
  world.draw_reference(seed, prompt, stream, a, b0, count, out);
  score_responses(gold, needs, backend, seed, out);
}

void draw_gaussian_policy_responses(const World& world, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale,
                                    const Gold& gold, const DrawNeeds& needs, Backend backend, std::uint64_t seed,
                                    int prompt, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                                    Eigen::Index count, Responses& out) {
  out.x.resize(count, world.dim());
  const Eigen::VectorXf mean_f = mean.cast<float>(), scale_f = scale.cast<float>();
  fill_gaussian_rows(seed, stream, a, b0, static_cast<int>(count), world.dim(), mean_f.data(), scale_f.data(),
                     out.x.data(), out.x.outerStride());
  out.id.resize(static_cast<std::size_t>(count));
  for (Eigen::Index i = 0; i < count; ++i) out.id[i] = {prompt, -1, stream, a, b0 + static_cast<std::uint32_t>(i)};
  score_responses(gold, needs, backend, seed, out);
}

void all_candidates(const World& world, const Gold& gold, const DrawNeeds& needs, Backend backend,
                    std::uint64_t seed, Responses& out) {
  const Candidates* c = world.candidates();
  if (!c) throw std::logic_error("all_candidates: the world has no enumerable candidates");
  out.x = c->features;
  out.id.resize(static_cast<std::size_t>(world.prompts()) * c->count);
  for (int p = 0; p < world.prompts(); ++p)
    for (int k = 0; k < c->count; ++k) out.id[static_cast<std::size_t>(p) * c->count + k] = c->id(p, k);
  score_responses(gold, needs, backend, seed, out);
}

}  // namespace goodhart
