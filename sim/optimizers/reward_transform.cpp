// reward_transform.cpp — the reference rewards and the shaped reward of PAR and log-sigmoid-centered.
// Contract: see reward_transform.h.
#include "sim/optimizers/reward_transform.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "models/responses.h"

namespace goodhart {

RewardTransform parse_reward_transform(const std::string& name) {
  if (name == "none") return RewardTransform::none;
  if (name == "par") return RewardTransform::par;
  if (name == "log_sigmoid_centered") return RewardTransform::log_sigmoid_centered;
  throw std::invalid_argument("unknown reward_transform '" + name + "'");
}

double empirical_quantile(std::vector<double>& values, double q) {
  if (values.empty()) throw std::invalid_argument("empirical_quantile of no values");
  std::sort(values.begin(), values.end());
  const double h = q * static_cast<double>(values.size() - 1);
  const std::size_t lo = static_cast<std::size_t>(std::floor(h)), hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (h - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

std::vector<std::vector<double>> RewardShaping::reference_rewards(const OptimizerContext& ctx, int references) {
  const int P = ctx.world.prompts();
  std::vector<std::vector<double>> out(P);
  for (int p = 0; p < P; ++p) {
    Responses r;
    draw_reference_responses(ctx.world, ctx.gold, ctx.proxy.needs(), ctx.backend, ctx.seed, p,
                             stream_id(Stream::reward_references), static_cast<std::uint32_t>(p), 0, references, r);
    Eigen::VectorXf proxy(r.size());
    ctx.proxy.score(ctx.backend, r, proxy);
    out[p].assign(proxy.data(), proxy.data() + proxy.size());
  }
  return out;
}

namespace {

// log sigmoid(x) = -softplus(-x), stable at both ends
double log_sigmoid(double x) { return std::min(x, 0.0) - std::log1p(std::exp(-std::abs(x))); }

double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

}  // namespace

double RewardShaping::operator()(int prompt, double r) const {
  switch (transform_) {
    case RewardTransform::none: return r;
    case RewardTransform::par: {
      const std::vector<double>& refs = references_[prompt];
      double s = 0.0;
      for (double ref : refs) s += sigmoid(r - ref);
      return s / static_cast<double>(refs.size());
    }
    case RewardTransform::log_sigmoid_centered: return log_sigmoid(r - centers_[prompt]);
  }
  return r;
}

}  // namespace goodhart
