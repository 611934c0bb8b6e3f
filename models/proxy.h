// proxy.h — the reward model the optimizer sees: `learned` (Bradley-Terry on preference pairs, linear or MLP,
// maybe missing features or with a spurious one, maybe the quality head of an ODIN pair of heads), `noisy`
// (gold + scale * error, the analytic family) or `scored` (columns of a scored world's file: several make an
// ensemble, aggregated as a learned one's members).
// Contract: make_proxy depends on the run seed (data, initialization, errors) and is standardized to mean 0,
// variance 1 under pi_ref where that variance exists (infinite-variance errors: centered only, see noise.h).
#pragma once

#include <cmath>
#include <limits>

#include "models/responses.h"

namespace goodhart {

struct Proxy {
  bool noisy = false;
  // noisy: (gold + noise.scale * e - shift) / scale
  NoiseConfig noise;
  // learned: f([x[:, columns], (x[:, columns]^2 if quadratic), spurious]) with
  // spurious = rho * gold + sqrt(1 - rho^2) * noise
  // an ensemble (Coste et al. 2023) aggregates its members' standardized scores by mean, min or mean - lambda var;
  // a weight-averaged one (aggregate weights, WARM) is one member, the mean of the fitted members' parameters.
  // Members fit shared_pairs of the pairs together and the rest each alone, from their own or a shared init
  std::vector<Mlp> members;
  std::vector<int> columns;
  bool quadratic = false;
  double rho = 0.0;
  std::string aggregate = "mean";
  double uwo_lambda = 1.0;
  double shift = 0.0, scale = 1.0;  // noisy proxy, or the aggregate of an ensemble: (value - shift) / scale
  double heldout_accuracy = std::numeric_limits<double>::quiet_NaN();  // vs held-out labels

  DrawNeeds needs() const { return {noisy ? &noise : nullptr, !noisy && rho > 0.0}; }
  // out(i) = proxy of response i on the backend's fast path
  void score(Backend b, const Responses& r, Eigen::Ref<Eigen::VectorXf> out) const;
  // out(i, m) = member m's standardized score of response i, before aggregation (not for a noisy proxy)
  void member_scores(Backend b, const Responses& r, Eigen::MatrixXf& out) const;
  // plain double reference for one response
  double score_one(const double* x, double gold, double error, double spurious) const;
  // a linear proxy a . y + c over the world features (learned, no hidden layer, no spurious feature)
  bool linear_in_features(int dim, Eigen::VectorXd& a, double& c) const;
};

// the proxy's input matrix of a batch: the visible columns, their squares (quadratic), the spurious feature
RowMatrixXf proxy_inputs(const Proxy& p, const Responses& r);

// the preference pairs a learned proxy is fitted to. training: the n_pairs training pairs, heldout_accuracy on the
// heldout_pairs held-out pairs. heldout: the validation RM of early stopping (OptimizerConfig::early_stopping) —
// the same config fitted to the held-out pairs instead, with its own initialization and batch order (member keys
// offset by validation_member_offset), heldout_accuracy on the training pairs. The training proxy never sees the
// held-out pairs, so the two proxies' estimation errors are independent.
enum class ProxyData { training, heldout };
inline constexpr int validation_member_offset = 1 << 14;

// the Pearson correlation under pi_ref between the proxy and feature x[feature] (a length's, for
// proxy_bias_correlation): closed form for a linear proxy under a gaussian pi_ref, exact over candidates, else over
// eval.standardize_samples Monte Carlo responses (the standardization's draws); NaN when either side is constant
double reference_correlation(const Proxy& p, int feature, const EvalConfig& eval, const World& world,
                             const Gold& gold, Backend backend, std::uint64_t seed);

// the rows of the training pairs member `member` fits: the `shared` first, then its own `own` (rows shared +
// member * own onwards)
std::vector<Eigen::Index> member_pair_rows(Eigen::Index shared, Eigen::Index own, int member);

// one network whose parameters are the mean of the members' (WARM's weight averaging; the members share a shape)
Mlp average_weights(const std::vector<Mlp>& members);

Proxy make_proxy(const ProxyConfig& cfg, const PreferenceConfig& prefs, const EvalConfig& eval, const World& world,
                 const Gold& gold, bool gold_standardized, Backend backend, std::uint64_t seed,
                 ProxyData data = ProxyData::training);

}  // namespace goodhart
