// categorical.cpp — the categorical world: each prompt has K fixed candidates with features phi[p,k], and pi_ref
// is a softmax over them (logits ref_logit_scale * z + phi . ref_feature_weights). Offers Candidates, so
// expectations and KL are exact sums.
// Contract: features and logits come from CounterRng(world.seed, world_features | world_logits, p, k), so the world
// is fixed across run seeds; its draws are CandidateWorld's (world.h).
#include <algorithm>
#include <cmath>

#include "models/worlds/categorical.h"
#include "models/worlds/registry.h"
#include "sim/scenario/check.h"

namespace goodhart {

namespace {

class CategoricalWorld final : public CandidateWorld {
 public:
  explicit CategoricalWorld(const WorldConfig& world) : CandidateWorld(world.dim, world.prompts) {
    const CategoricalWorldConfig& cfg = world.get<CategoricalWorldConfig>();
    // phi[p,k] ~ N(0, feature_scale^2 I) (rescaled to norm feature_scale sqrt(d) when normalize_features);
    // logits = ref_logit_scale * z + phi . w_ref
    const int P = world.prompts, K = cfg.candidates, d = world.dim;
    c_.count = K;
    c_.features.resize(static_cast<Eigen::Index>(P) * K, d);
    c_.log_ref.resize(P, K);
    for (int p = 0; p < P; ++p) {
      for (int k = 0; k < K; ++k) {
        CounterRng rng(cfg.seed, Stream::world_features, p, k);
        for (int j = 0; j < d; ++j) c_.features(p * K + k, j) = static_cast<float>(cfg.feature_scale * rng.normal());
        if (cfg.normalize_features) {
          // a finite resource: every candidate's features have norm feature_scale * sqrt(d)
          const double norm = c_.features.row(p * K + k).cast<double>().norm();
          const double target = cfg.feature_scale * std::sqrt(static_cast<double>(d));
          if (norm > 0.0) c_.features.row(p * K + k) *= static_cast<float>(target / norm);
        }
        CounterRng logit_rng(cfg.seed, Stream::world_logits, p, k);
        double logit = cfg.ref_logit_scale * logit_rng.normal();
        for (std::size_t j = 0; j < cfg.ref_feature_weights.size(); ++j)
          logit += cfg.ref_feature_weights[j] * c_.features(p * K + k, j);
        c_.log_ref(p, k) = logit;
      }
      // normalize with log-sum-exp
      const double m = c_.log_ref.row(p).maxCoeff();
      const double lse = m + std::log((c_.log_ref.row(p).array() - m).exp().sum());
      c_.log_ref.row(p).array() -= lse;
    }
  }
};

ConfigType config_type() {
  using W = CategoricalWorldConfig;
  ConfigType t = typed_config_type<W>(
      "world", "categorical",
      "each prompt has K fixed candidates with features phi[p,k], and pi_ref is a softmax over them: expectations "
      "and KL are exact sums",
      {});
  t.table = {{
      field<W>("candidates", &W::candidates, "K candidates per prompt", at_least(1)),
      field<W>("feature_scale", &W::feature_scale, "phi[p,k] ~ N(0, feature_scale^2 I)", positive()),
      field<W>("ref_logit_scale", &W::ref_logit_scale,
               "reference logits = ref_logit_scale * N(0,1) + phi . ref_feature_weights", non_negative()),
      field<W>("ref_feature_weights", &W::ref_feature_weights,
               "a feature direction that pi_ref prefers (e.g. \"fluency\"); empty: none")
          .allowed("empty or `dim` values"),
      field<W>("seed", &W::seed,
               "seed of features and logits. The world stays fixed across run seeds unless this is swept"),
      field<W>("normalize_features", &W::normalize_features,
               "rescale every candidate's phi[p,k] to norm feature_scale * sqrt(dim) (before the reference "
               "logits), so attributes trade off against each other: a finite resource (Zhuang & "
               "Hadfield-Menell 2020)"),
  }};
  t.validate = [](const void* c, const Scenario& s, const Check& k, const std::string& path) {
    const W& w = *static_cast<const W*>(c);
    k.dims(w.ref_feature_weights.size(), s.world.dim, path + ".ref_feature_weights", true, false);
  };
  return t;
}

const WorldRegistration registered(config_type(),
                                   {"categorical",
                                    [](const WorldConfig& c) -> std::unique_ptr<const World> {
                                      return std::make_unique<CategoricalWorld>(c);
                                    },
                                    [](const WorldConfig& c) {
                                      return WorldAbilities{c.get<CategoricalWorldConfig>().candidates, false};
                                    }});

}  // namespace

}  // namespace goodhart
