// world.cpp — construction of gaussian and categorical worlds and draws from pi_ref.
// Contract: see world.h; structure from CounterRng keyed by world.seed; draws (normal_draws.h) by the run seed.
#include "models/world.h"

#include <cmath>

#include "models/normal_draws.h"

namespace goodhart {

namespace {

Eigen::VectorXd broadcast(const std::vector<double>& v, int dim) {
  if (v.size() == 1) return Eigen::VectorXd::Constant(dim, v[0]);
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

}  // namespace

World make_world(const WorldConfig& cfg) {
  World w;
  w.dim = cfg.dim;
  w.prompts = cfg.prompts;
  if (cfg.type == "gaussian") {
    w.mean = broadcast(cfg.mean, cfg.dim);
    w.scale = broadcast(cfg.scale, cfg.dim);
    return w;
  }
  // categorical: phi[p,k] ~ N(0, feature_scale^2 I) (rescaled to norm feature_scale sqrt(d) when
  // normalize_features); logits = ref_logit_scale * z + phi . w_ref
  w.categorical = true;
  w.candidates = cfg.candidates;
  const int P = cfg.prompts, K = cfg.candidates, d = cfg.dim;
  w.features.resize(static_cast<Eigen::Index>(P) * K, d);
  w.log_ref.resize(P, K);
  for (int p = 0; p < P; ++p) {
    for (int k = 0; k < K; ++k) {
      CounterRng rng(cfg.seed, Stream::world_features, p, k);
      for (int j = 0; j < d; ++j) w.features(p * K + k, j) = static_cast<float>(cfg.feature_scale * rng.normal());
      if (cfg.normalize_features) {
        // a finite resource: every candidate's features have norm feature_scale * sqrt(d)
        const double norm = w.features.row(p * K + k).cast<double>().norm();
        const double target = cfg.feature_scale * std::sqrt(static_cast<double>(d));
        if (norm > 0.0) w.features.row(p * K + k) *= static_cast<float>(target / norm);
      }
      CounterRng logit_rng(cfg.seed, Stream::world_logits, p, k);
      double logit = cfg.ref_logit_scale * logit_rng.normal();
      for (std::size_t j = 0; j < cfg.ref_feature_weights.size(); ++j)
        logit += cfg.ref_feature_weights[j] * w.features(p * K + k, j);
      w.log_ref(p, k) = logit;
    }
    // normalize with log-sum-exp
    const double m = w.log_ref.row(p).maxCoeff();
    const double lse = m + std::log((w.log_ref.row(p).array() - m).exp().sum());
    w.log_ref.row(p).array() -= lse;
  }
  return w;
}

void sample_gaussian(const World& w, std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                     Eigen::Ref<RowMatrixXf> out) {
  sample_gaussian_shifted(w, w.mean, seed, stream, a, b0, out);
}

void sample_gaussian_shifted(const World& w, const Eigen::VectorXd& mean, std::uint64_t seed, std::uint32_t stream,
                             std::uint32_t a, std::uint32_t b0, Eigen::Ref<RowMatrixXf> out) {
  sample_gaussian_scaled(w, mean, w.scale, seed, stream, a, b0, out);
}

void sample_gaussian_scaled(const World& w, const Eigen::VectorXd& mean, const Eigen::VectorXd& scale,
                            std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                            Eigen::Ref<RowMatrixXf> out) {
  const Eigen::VectorXf mean_f = mean.cast<float>(), scale_f = scale.cast<float>();
  fill_gaussian_rows(seed, stream, a, b0, static_cast<int>(out.rows()), w.dim, mean_f.data(), scale_f.data(),
                     out.data(), out.outerStride());
}

int sample_candidate(const World& w, int prompt, double uniform) {
  double cumulative = 0.0;
  for (int k = 0; k < w.candidates; ++k) {
    cumulative += std::exp(w.log_ref(prompt, k));
    if (uniform < cumulative) return k;
  }
  return w.candidates - 1;
}

}  // namespace goodhart
