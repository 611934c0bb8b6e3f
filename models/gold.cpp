// gold.cpp — construction, standardization and scoring of gold rewards.
// Contract: see gold.h.
#include "models/gold.h"

#include <cmath>

namespace goodhart {

Eigen::VectorXd gold_direction(const std::vector<double>& weights, int dim, std::uint64_t seed, std::uint32_t index) {
  if (!weights.empty()) return Eigen::Map<const Eigen::VectorXd>(weights.data(), dim);
  CounterRng rng(seed, Stream::gold_weights, index);
  Eigen::VectorXd u(dim);
  for (int j = 0; j < dim; ++j) u(j) = rng.normal();
  return u / u.norm();
}

void Gold::score(Backend b, const RowMatrixXf& y, Eigen::Ref<Eigen::VectorXf> out) const {
  if (!concave) {
    score_mlp(b, mlp, y, out);
    return;
  }
  // concave: vectorized rows (u . y - lambda |y|^2 - shift) / scale
  const Eigen::VectorXf u = direction.cast<float>();
  out = ((y * u).array() - static_cast<float>(penalty) * y.rowwise().squaredNorm().array() -
         static_cast<float>(shift)) / static_cast<float>(scale);
}

double Gold::score_one(const double* y) const {
  if (!concave) return mlp_eval(mlp, y);
  double dot = 0.0, sq = 0.0;
  for (int j = 0; j < direction.size(); ++j) {
    dot += direction(j) * y[j];
    sq += y[j] * y[j];
  }
  return (dot - penalty * sq - shift) / scale;
}

namespace {

// mean and variance of the (unstandardized) gold under pi_ref: exact over candidates or Monte Carlo
void moments_by_sampling(const Gold& g, const World& world, std::uint64_t seed, int samples, double& mean,
                         double& var) {
  double s1 = 0.0, s2 = 0.0, total = 0.0;
  if (const Candidates* c = world.candidates()) {
    Eigen::VectorXf r(c->features.rows());
    g.score(Backend::cpu, c->features, r);
    for (int p = 0; p < world.prompts(); ++p)
      for (int k = 0; k < c->count; ++k) {
        const double w = std::exp(c->log_ref(p, k)), v = r(p * c->count + k);
        s1 += w * v;
        s2 += w * v * v;
        total += w;
      }
  } else {
    ResponseDraws y;
    world.draw_reference(seed, World::any_prompt, stream_id(Stream::standardize), 0, 0, samples, y);
    Eigen::VectorXf r(samples);
    g.score(Backend::cpu, y.x, r);
    const Eigen::VectorXd rd = r.cast<double>();
    s1 = rd.sum();
    s2 = rd.squaredNorm();
    total = samples;
  }
  mean = s1 / total;
  var = s2 / total - mean * mean;
}

}  // namespace

Gold make_gold(const GoldConfig& cfg, const World& world, int standardize_samples) {
  Gold g;
  const int d = world.dim();
  double mean = 0.0, var = 1.0;
  const GaussianReference* ref = world.gaussian();
  bool closed_form = ref != nullptr;
  if (cfg.type == "linear") {
    g.mlp = make_linear(gold_direction(cfg.weights, d, cfg.seed, 0));
    const Eigen::VectorXd& w = g.mlp.weights[0];
    if (closed_form) {
      mean = w.dot(ref->mean);
      var = (w.array().square() * ref->scale.array().square()).sum();
    }
  } else if (cfg.type == "concave") {
    g.concave = true;
    g.direction = gold_direction(cfg.weights, d, cfg.seed, 0);
    g.penalty = cfg.penalty;
    // y ~ N(mu, s^2): E|y|^2 = sum mu^2 + s^2, Var|y|^2 = sum 2 s^4 + 4 mu^2 s^2, Cov(u.y, |y|^2) = sum 2 u mu s^2
    if (closed_form) {
      const Eigen::ArrayXd u = g.direction.array(), mu = ref->mean.array(), s2 = ref->scale.array().square();
      mean = (u * mu).sum() - g.penalty * (mu.square() + s2).sum();
      var = (u.square() * s2).sum() + g.penalty * g.penalty * (2.0 * s2.square() + 4.0 * mu.square() * s2).sum() -
            2.0 * g.penalty * (2.0 * u * mu * s2).sum();
    }
  } else if (cfg.type == "scored") {
    g.mlp = score_column_reader(world, cfg.column, "gold.column");
    closed_form = false;
  } else {  // mlp: a random teacher
    CounterRng rng(cfg.seed, Stream::gold_weights, 1);
    g.mlp = make_random_mlp(d, cfg.hidden, parse_activation(cfg.activation), rng);
    closed_form = false;
  }
  if (!cfg.standardize) return g;
  if (!closed_form) moments_by_sampling(g, world, cfg.seed, standardize_samples, mean, var);
  const double sd = var > 1e-300 ? std::sqrt(var) : 1.0;  // a constant gold stays constant
  g.variance = var > 1e-300 ? 1.0 : 0.0;
  if (g.concave) {
    g.shift = mean;
    g.scale = sd;
  } else {
    standardize_output(g.mlp, mean, sd);
  }
  return g;
}

}  // namespace goodhart
