// world.cpp — the Candidates capability's helpers (identity, a prompt's features, inverse-CDF draws) and the draws
// of a world made of candidates.
// Contract: see world.h.
#include "models/worlds/world.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/numeric/philox_hd.h"

namespace goodhart {

ResponseId Candidates::id(int prompt, int candidate) const {
  return {prompt, candidate, stream_id(Stream::pool), static_cast<std::uint32_t>(prompt),
          static_cast<std::uint32_t>(candidate)};
}

Eigen::Map<const RowMatrixXf> Candidates::prompt_features(int prompt) const {
  return {features.data() + static_cast<std::size_t>(prompt) * count * features.cols(), count, features.cols()};
}

int Candidates::sample(int prompt, double uniform) const {
  double cumulative = 0.0;
  for (int k = 0; k < count; ++k) {
    cumulative += std::exp(log_ref(prompt, k));
    if (uniform < cumulative) return k;
  }
  return count - 1;
}

Mlp score_column_reader(const World& world, const std::string& name, const std::string& key) {
  const int column = world.score_column(name);
  if (column < 0) throw std::invalid_argument(key + ": '" + name + "' is not a column of the world");
  Eigen::VectorXd w = Eigen::VectorXd::Zero(world.dim());
  w(column) = 1.0;
  return make_linear(w);
}

namespace {

int uniform_prompt(CounterRng& rng, int prompts) {
  return std::min(prompts - 1, static_cast<int>(rng.uniform() * prompts));
}

}  // namespace

void CandidateWorld::set(ResponseDraws& out, Eigen::Index i, int prompt, int candidate) const {
  out.x.row(i) = c_.features.row(static_cast<Eigen::Index>(prompt) * c_.count + candidate);
  out.id[static_cast<std::size_t>(i)] = c_.id(prompt, candidate);
}

void CandidateWorld::draw_reference(std::uint64_t seed, int prompt, std::uint32_t stream, std::uint32_t a,
                                    std::uint32_t b0, Eigen::Index count, ResponseDraws& out) const {
  out.x.resize(count, dim());
  out.id.resize(static_cast<std::size_t>(count));
  for (Eigen::Index i = 0; i < count; ++i) {
    CounterRng rng(seed, stream, a, b0 + static_cast<std::uint32_t>(i));
    const int p = prompt == any_prompt ? uniform_prompt(rng, prompts()) : prompt;
    set(out, i, p, c_.sample(p, rng.uniform()));
  }
}

void CandidateWorld::draw_pairs(std::uint64_t seed, std::uint32_t stream, Eigen::Index count, ResponseDraws& a,
                                ResponseDraws& b) const {
  for (ResponseDraws* side : {&a, &b}) {
    side->x.resize(count, dim());
    side->id.resize(static_cast<std::size_t>(count));
  }
  for (Eigen::Index i = 0; i < count; ++i) {
    CounterRng rng(seed, stream, static_cast<std::uint32_t>(i));
    const int p = uniform_prompt(rng, prompts());
    set(a, i, p, c_.sample(p, rng.uniform()));
    set(b, i, p, c_.sample(p, rng.uniform()));
  }
}

void CandidateWorld::add_log_ref(const ResponseDraws& r, double weight, Eigen::VectorXf& score) const {
  const float w = static_cast<float>(weight);
  for (std::size_t i = 0; i < r.id.size(); ++i)
    score(static_cast<Eigen::Index>(i)) +=
        w * static_cast<float>(log_ref(Response{r.id[i].prompt, r.id[i].candidate, {}}));
}

}  // namespace goodhart
