// config.h — the scenario as one tree of plain structs with documented defaults.
// Contract: parse.cpp fills it from YAML through the field tables (sections.cpp for these structs; each world's and
// optimizer's own file for its struct); which keys a section reads depends on its `type` (world: gaussian |
// categorical, ...): a member the chosen type's table does not list keeps its default. validate() in validate.cpp is the only place
// that checks it. Engine code reads it and never changes it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/scenario/types.h"

namespace goodhart {

// world: what a response is and the reference policy pi_ref that generates it. The keys every world has are here;
// each world type's own keys are its struct (models/worlds/<type>.h, with its table in <type>.cpp), held by params
// and read as world.get<CategoricalWorldConfig>()
struct WorldConfig {
  std::string type = "gaussian";       // a registered world type (models/worlds/)
  int dim = 8;                         // d: features per response
  int prompts = 64;                    // P: prompts (gaussian world: independent pools, for standard errors)
  TypedConfig params;                  // the type's own config struct

  WorldConfig() { retype(); }
  // params become the default struct of `type` when they hold another type's (or none); an unregistered type
  // leaves them empty (validate names the type)
  void retype() {
    if (params.type() && params.type()->name == type) return;
    const ConfigType* t = find_config_type("world", type);
    params = t ? TypedConfig(*t) : TypedConfig();
  }
  // the type's struct, made anew when `type` changed since (so code that builds a config can set type, then keys)
  template <class T>
  T& get() {
    retype();
    return params.as<T>();
  }
  // throws std::logic_error when params are not of `type`'s struct (type changed without retype)
  template <class T>
  const T& get() const {
    if (!params.type() || params.type()->name != type)
      throw std::logic_error("world.params do not hold the config of world type '" + type + "'");
    return params.as<T>();
  }
};

// gold: the true reward r*(features), standardized to mean 0, variance 1 under pi_ref
struct GoldConfig {
  std::string type = "linear";         // linear | mlp | concave | scored
  std::vector<double> weights;         // linear: w; concave: quality direction u; empty: random unit vector
  double penalty = 0.5;                // concave: lambda in u.y - lambda |y|^2
  std::vector<int> hidden = {64};      // mlp: hidden widths of the random teacher
  std::string activation = "tanh";     // mlp: tanh | relu
  std::uint64_t seed = 0;              // seed of random directions and teacher weights
  std::string column = "gold";         // scored: the score file's gold column
  bool standardize = true;             // rescale to mean 0, variance 1 under pi_ref
};

// preferences: labelled pairs drawn from pi_ref for learning the proxy
struct PreferenceConfig {
  int n_pairs = 1000;                  // training pairs
  int heldout_pairs = 2000;            // held-out pairs (same labelling) for the reported proxy accuracy
  std::string labels = "bradley_terry";  // bradley_terry | hard (higher gold wins)
  double temperature = 1.0;            // Bradley-Terry: P(a > b) = sigmoid((r*(a) - r*(b)) / temperature)
  double label_noise = 0.0;            // probability of flipping each label, in [0, 0.5]
  int bias_feature = -1;               // labellers' bias (Singhal et al. 2023's length): labels are drawn from
                                       // gold + bias_weight * x[bias_feature] in place of gold; -1: none
  double bias_weight = 0.0;            // weight of that feature in the labellers' reward (needs bias_feature)
};

// proxy error for proxy.type = noisy: proxy = gold + error
struct NoiseConfig {
  std::string distribution = "gaussian";  // gaussian | student_t | lognormal | pareto | levy
  double scale = 1.0;                  // error scale (gaussian: std)
  double shape = 3.0;                  // student_t: degrees of freedom; lognormal: sigma; pareto: alpha
};

// proxy: the reward model the optimizer sees
struct ProxyConfig {
  std::string type = "learned";        // learned | noisy | scored
  std::string model = "linear";        // learned: linear | quadratic (x and x^2 per feature) | mlp
  std::vector<int> hidden = {32};      // learned mlp: hidden widths
  std::string activation = "tanh";     // learned mlp: tanh | relu
  double l2 = 1e-4;                    // learned: L2 penalty on weights
  std::string optimizer = "adam";      // learned: adam | lbfgs
  double learning_rate = 1e-2;         // learned adam: step size
  int epochs = 30;                     // learned: passes over the data (adam) or iterations / 10 (lbfgs)
  int batch_size = 128;                // learned adam: minibatch size
  std::vector<int> features;           // learned: feature indices the proxy sees; empty: all (a missing attribute)
  double spurious_correlation = 0.0;   // learned: an extra feature s = rho*gold + sqrt(1-rho^2)*noise; 0: none
  int ensemble_members = 1;            // learned: k proxies aggregated into one (Coste et al. 2023); 1: a single proxy
  std::string ensemble_method = "bootstrap";  // bootstrap (each member on a resample of the pairs, own init) |
                                              // seeds (every member on the same pairs, own init and batch order)
  std::string ensemble_init = "own";   // learned: own (each member its own initial weights) | shared (every member
                                       // starts from one random draw)
  double shared_pairs = 1.0;           // learned: fraction of the n_pairs every member fits; the rest are its own
  std::string aggregate = "mean";      // mean | min (worst-case optimization, WCO) | uwo (mean - uwo_lambda *
                                       // variance) | weights (learned: average the members' weights, WARM)
  double uwo_lambda = 1.0;             // uwo: weight of the members' population variance
  std::string disentangle = "none";    // learned: none | odin (a quality and a bias head; the quality head is kept)
  int bias_feature = -1;               // learned: the feature odin's bias head takes up; -1: none
  double odin_correlation_weight = 1.0;    // odin: weight of rho(q, b)^2 - rho(l, b)^2
  double odin_orthogonality_weight = 1.0;  // odin: weight of (w_q . w_l)^2
  NoiseConfig noise;                   // noisy: the error term
  std::vector<std::string> columns = {"proxy"};  // scored: the score file's proxy columns (several: an ensemble)
  bool standardize = true;             // rescale to mean 0, variance 1 under pi_ref (where the variance exists)
};

// one optimizer pushed against the proxy: the keys every type has, and the type's own struct (declared beside the
// optimizer, sim/optimizers/<type>.h, with its field table), read as opt.get<BestOfNConfig>()
struct OptimizerConfig {
  std::string type = "best_of_n";      // a registered optimizer type (sim/optimizers/)
  std::string name;                    // label in outputs; empty: type
  TypedConfig params;                  // the type's own config struct

  template <class T>
  const T& get() const { return params.as<T>(); }
  template <class T>
  T& get() { return params.as<T>(); }
};

// an optimizer of registered type `type` whose struct is `params` (for tests and benchmarks that build configs in
// code); throws std::invalid_argument for an unregistered type
template <class T>
OptimizerConfig optimizer_config(const std::string& type, const T& params) {
  const ConfigType* t = find_config_type("optimizer", type);
  if (!t) throw std::invalid_argument("unknown optimizer type " + type);
  OptimizerConfig o;
  o.type = type;
  o.params = TypedConfig(*t);
  o.params.as<T>() = params;
  return o;
}

// eval: how metrics are estimated
struct EvalConfig {
  int accuracy_pairs = 4096;           // pairs sampled for rm_accuracy_ref and rm_accuracy_policy
  int standardize_samples = 65536;     // Monte Carlo samples for standardizing rewards without closed forms
};

// output: where results go
struct OutputConfig {
  std::string dir;                     // results folder; empty: results/<name>
};

// one swept key: its values, already expanded to YAML text (one scalar or flow sequence each)
struct SweepParameter {
  std::string key;                     // dotted key, e.g. preferences.n_pairs
  std::vector<std::string> values;     // YAML text of each value, in sweep order
  std::string where;                   // file:line:col of the parameter, for errors
};

struct SweepConfig {
  std::string method = "grid";         // grid (cartesian product, last key fastest) | zip
  std::vector<SweepParameter> parameters;
};

struct Scenario {
  int schema_version = 1;
  std::string name;                    // required
  std::string description;             // required
  std::uint64_t seed = 0;              // run seed: preference data, noise, pools
  WorldConfig world;
  GoldConfig gold;
  PreferenceConfig preferences;
  ProxyConfig proxy;
  std::vector<OptimizerConfig> optimizers;  // from `optimizer` (one) or `optimizers` (a list); at least one
  EvalConfig eval;
  OutputConfig output;
  SweepConfig sweep;                   // empty in a resolved point
};

}  // namespace goodhart
