// validate.cpp — every range, length, enum and consistency check of a parsed scenario, in one place.
// Contract: the first failure throws ScenarioError naming the dotted key, its location (Locations::where) and the
// expected range; a scenario that passes is safe for the engine to run as is.
#include <algorithm>
#include <initializer_list>
#include <set>

#include "sim/scenario/internal.h"

namespace goodhart {

namespace {

using scenario_detail::number_text;

constexpr int kMaxPool = 1 << 20;
constexpr std::size_t kMaxPoints = 100000;  // every point is expanded and validated up front (~0.3 ms each)

struct Check {
  const Locations& at;

  // `loc` names the key whose location is reported when it differs from `key` (a list element)
  [[noreturn]] void fail(const std::string& key, const std::string& expected, const std::string& loc = "") const {
    throw ScenarioError(at.where(loc.empty() ? key : loc), key, expected);
  }
  static std::string element(const std::string& key, std::size_t i) { return scenario_detail::index_key(key, i); }

  void at_least(long long v, long long lo, const std::string& key, const std::string& loc = "") const {
    if (v < lo) fail(key, "an integer >= " + std::to_string(lo) + ", got " + std::to_string(v), loc);
  }
  void positive(double v, const std::string& key, const std::string& loc = "") const {
    if (!(v > 0)) fail(key, "a number > 0, got " + number_text(v), loc);
  }
  void non_negative(double v, const std::string& key) const {
    if (!(v >= 0)) fail(key, "a number >= 0, got " + number_text(v));
  }
  void one_of(const std::string& v, const std::string& key, std::initializer_list<const char*> allowed) const {
    std::string list;
    for (const char* a : allowed) {
      if (v == a) return;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    fail(key, "one of " + list + ", got '" + v + "'");
  }
  // a per-dimension list: one value for every dimension or exactly dim values (or none, when allowed)
  void dims(std::size_t n, int dim, const std::string& key, bool may_be_empty, bool may_be_one) const {
    if ((may_be_empty && n == 0) || (may_be_one && n == 1) || n == std::size_t(dim)) return;
    std::string ok = std::string(may_be_empty ? "no values or " : "") + (may_be_one ? "1 value or " : "");
    fail(key, ok + std::to_string(dim) + " values (world.dim), got " + std::to_string(n));
  }
  void widths(const std::vector<int>& hidden, const std::string& key) const {
    for (std::size_t i = 0; i < hidden.size(); ++i) at_least(hidden[i], 1, key, element(key, i));
  }
};

void validate_world(const Check& c, const WorldConfig& w) {
  c.one_of(w.type, "world.type", {"gaussian", "categorical"});
  c.at_least(w.dim, 1, "world.dim");
  c.at_least(w.prompts, 1, "world.prompts");
  c.dims(w.mean.size(), w.dim, "world.mean", false, true);
  c.dims(w.scale.size(), w.dim, "world.scale", false, true);
  for (std::size_t i = 0; i < w.scale.size(); ++i)
    c.positive(w.scale[i], "world.scale", Check::element("world.scale", i));
  c.at_least(w.candidates, 1, "world.candidates");
  c.positive(w.feature_scale, "world.feature_scale");
  c.non_negative(w.ref_logit_scale, "world.ref_logit_scale");
  c.dims(w.ref_feature_weights.size(), w.dim, "world.ref_feature_weights", true, false);
}

void validate_gold(const Check& c, const GoldConfig& g, int dim) {
  c.one_of(g.type, "gold.type", {"linear", "mlp", "concave"});
  c.dims(g.weights.size(), dim, "gold.weights", true, false);
  c.non_negative(g.penalty, "gold.penalty");
  c.widths(g.hidden, "gold.hidden");
  c.one_of(g.activation, "gold.activation", {"tanh", "relu"});
}

void validate_preferences(const Check& c, const PreferenceConfig& p, bool learned, int dim) {
  c.at_least(p.n_pairs, learned ? 1 : 0, "preferences.n_pairs");
  c.at_least(p.heldout_pairs, 0, "preferences.heldout_pairs");
  c.one_of(p.labels, "preferences.labels", {"bradley_terry", "hard"});
  c.positive(p.temperature, "preferences.temperature");
  if (!(p.label_noise >= 0 && p.label_noise <= 0.5))
    c.fail("preferences.label_noise", "a probability in [0, 0.5], got " + number_text(p.label_noise));
  if (p.bias_feature < -1 || p.bias_feature >= dim)
    c.fail("preferences.bias_feature", "-1 (none) or an index in [0, " + std::to_string(dim) + ") (world.dim), got " +
                                           std::to_string(p.bias_feature));
  if (p.bias_weight != 0.0 && p.bias_feature < 0)
    c.fail("preferences.bias_weight", "0 without preferences.bias_feature, got " + number_text(p.bias_weight));
}

void validate_proxy(const Check& c, const ProxyConfig& p, int dim) {
  c.one_of(p.type, "proxy.type", {"learned", "noisy"});
  c.one_of(p.model, "proxy.model", {"linear", "quadratic", "mlp"});
  c.widths(p.hidden, "proxy.hidden");
  c.one_of(p.activation, "proxy.activation", {"tanh", "relu"});
  c.non_negative(p.l2, "proxy.l2");
  c.one_of(p.optimizer, "proxy.optimizer", {"adam", "lbfgs"});
  c.positive(p.learning_rate, "proxy.learning_rate");
  c.at_least(p.epochs, 1, "proxy.epochs");
  c.at_least(p.batch_size, 1, "proxy.batch_size");

  // features: distinct indices into the world's features
  std::set<int> seen;
  for (std::size_t i = 0; i < p.features.size(); ++i) {
    int f = p.features[i];
    std::string loc = Check::element("proxy.features", i);
    if (f < 0 || f >= dim)
      c.fail("proxy.features", "indices in [0, " + std::to_string(dim) + ") (world.dim), got " + std::to_string(f),
             loc);
    if (!seen.insert(f).second) c.fail("proxy.features", "distinct indices, got " + std::to_string(f) + " twice", loc);
  }
  if (!(p.spurious_correlation >= 0 && p.spurious_correlation < 1))
    c.fail("proxy.spurious_correlation", "a number in [0, 1), got " + number_text(p.spurious_correlation));

  // the ensemble
  c.at_least(p.ensemble_members, 1, "proxy.ensemble_members");
  if (p.ensemble_members > 1 && p.type != "learned")
    c.fail("proxy.ensemble_members", "1 for a noisy proxy (ensembles are of learned proxies)");
  c.one_of(p.ensemble_method, "proxy.ensemble_method", {"bootstrap", "seeds"});
  c.one_of(p.aggregate, "proxy.aggregate", {"mean", "min", "uwo"});
  c.non_negative(p.uwo_lambda, "proxy.uwo_lambda");

  // the noise term
  const NoiseConfig& n = p.noise;
  c.one_of(n.distribution, "proxy.noise.distribution", {"gaussian", "student_t", "lognormal", "pareto", "levy"});
  c.positive(n.scale, "proxy.noise.scale");
  if (!(n.shape > 0)) {
    std::string meaning = n.distribution == "student_t"   ? " (student_t degrees of freedom)"
                          : n.distribution == "pareto"    ? " (pareto alpha)"
                          : n.distribution == "lognormal" ? " (lognormal sigma)"
                                                          : "";
    c.fail("proxy.noise.shape", "a number > 0" + meaning + ", got " + number_text(n.shape));
  }
}

void validate_optimizer(const Check& c, const OptimizerConfig& o, const std::string& path, bool categorical,
                        bool learned, int heldout_pairs) {
  c.one_of(o.type, path + ".type", {"best_of_n", "kl_optimum", "policy_gradient", "dpo"});
  if (o.type == "dpo" && !learned)
    c.fail(path + ".type", "dpo trains on the preference pairs: proxy.type learned (its preferences section)");
  if (o.pool < 1 || o.pool > kMaxPool) c.fail(path + ".pool", "an integer in [1, 2^20], got " + std::to_string(o.pool));

  // n: increasing, within the pool
  std::string n_key = path + ".n";
  if (o.type == "best_of_n" && o.n.empty()) c.fail(n_key, "at least one n");
  for (std::size_t i = 0; i < o.n.size(); ++i) {
    std::string loc = Check::element(n_key, i);
    c.at_least(o.n[i], 1, n_key, loc);
    if (o.n[i] > o.pool)
      c.fail(
          n_key,
          "each n <= pool (" + std::to_string(o.pool) + "), got " + std::to_string(o.n[i]) + ", larger than the pool",
          loc);
    if (i > 0 && o.n[i] <= o.n[i - 1])
      c.fail(n_key,
             "strictly increasing values, got " + std::to_string(o.n[i]) + " after " + std::to_string(o.n[i - 1]), loc);
  }

  // beta or KL budgets, not both
  for (std::size_t i = 0; i < o.beta.size(); ++i)
    c.positive(o.beta[i], path + ".beta", Check::element(path + ".beta", i));
  for (std::size_t i = 0; i < o.kl_budget.size(); ++i)
    c.positive(o.kl_budget[i], path + ".kl_budget", Check::element(path + ".kl_budget", i));
  if (!o.beta.empty() && !o.kl_budget.empty()) c.fail(path + ".kl_budget", "either beta or kl_budget, not both");
  if (o.type == "kl_optimum" && o.beta.empty() && o.kl_budget.empty())
    c.fail(path + ".beta", "at least one beta or kl_budget");
  c.at_least(o.samples, 2, path + ".samples");

  // policy_gradient and dpo
  c.one_of(o.policy, path + ".policy", {"auto", "tabular", "log_linear", "mean_shift"});
  if ((o.type == "policy_gradient" || o.type == "dpo") && o.policy != "auto") {
    const bool needs_categorical = o.policy != "mean_shift";
    if (needs_categorical != categorical)
      c.fail(path + ".policy", std::string(categorical ? "tabular or log_linear" : "mean_shift") +
                                   " (or auto) in the " + (categorical ? "categorical" : "gaussian") +
                                   " world, got '" + o.policy + "'");
  }
  c.positive(o.learning_rate, path + ".learning_rate");
  c.at_least(o.steps, 1, path + ".steps");
  c.at_least(o.eval_every, 1, path + ".eval_every");
  c.one_of(o.algorithm, path + ".algorithm", {"reinforce", "rloo", "ppo", "grpo"});
  // rloo, ppo and grpo baselines come from the prompt's other generations
  c.at_least(o.num_generations, o.algorithm == "reinforce" ? 1 : 2, path + ".num_generations");
  c.non_negative(o.kl_coef, path + ".kl_coef");
  c.positive(o.adaptive_kl_target, path + ".adaptive_kl_target");
  c.positive(o.adaptive_kl_horizon, path + ".adaptive_kl_horizon");
  c.one_of(o.kl_estimator, path + ".kl_estimator", {"k1", "k2", "k3"});
  c.one_of(o.kl_in, path + ".kl_in", {"reward", "loss"});
  c.non_negative(o.max_kl, path + ".max_kl");
  c.positive(o.cliprange, path + ".cliprange");
  c.at_least(o.num_ppo_epochs, 1, path + ".num_ppo_epochs");
  c.at_least(o.num_mini_batches, 1, path + ".num_mini_batches");
  if (o.num_mini_batches > o.num_generations && (o.algorithm == "ppo" || o.algorithm == "grpo"))
    c.fail(path + ".num_mini_batches", "at most num_generations (" + std::to_string(o.num_generations) +
                                           "): minibatches split each prompt's generations");
  c.non_negative(o.reward_clip, path + ".reward_clip");
  c.one_of(o.loss_type, path + ".loss_type", {"sigmoid", "ipo"});
  c.at_least(o.batch_size, 1, path + ".batch_size");
  c.non_negative(o.ref_logprob_weight, path + ".ref_logprob_weight");

  // early stopping: a validation RM fitted to the held-out pairs, for training runs only
  c.one_of(o.early_stopping, path + ".early_stopping", {"none", "heldout_proxy"});
  c.at_least(o.patience, 1, path + ".patience");
  if (o.early_stopping == "heldout_proxy") {
    if (o.type != "policy_gradient" && o.type != "dpo")
      c.fail(path + ".early_stopping", "none for " + o.type + " (early stopping applies to policy_gradient and dpo)");
    if (!learned)
      c.fail(path + ".early_stopping",
             "none with a noisy proxy (heldout_proxy fits a validation RM to preference pairs: proxy.type learned)");
    if (heldout_pairs < 100)
      c.fail(path + ".early_stopping", "none unless preferences.heldout_pairs >= 100 (the validation RM's data), got " +
                                           std::to_string(heldout_pairs) + " held-out pairs");
  }
}

}  // namespace

void validate(const Scenario& s, const Locations& at) {
  Check c{at};
  if (s.schema_version != 1) c.fail("schema_version", "1, got " + std::to_string(s.schema_version));
  if (s.name.empty()) c.fail("name", "a non-empty string");
  validate_world(c, s.world);
  validate_gold(c, s.gold, s.world.dim);
  validate_preferences(c, s.preferences, s.proxy.type == "learned", s.world.dim);
  validate_proxy(c, s.proxy, s.world.dim);

  // optimizers: at least one, names distinct (a missing name reads as the type)
  if (s.optimizers.empty()) c.fail("optimizers", "at least one optimizer");
  for (std::size_t i = 0; i < s.optimizers.size(); ++i) {
    const auto& o = s.optimizers[i];
    validate_optimizer(c, o, at.optimizer_key(i), s.world.type == "categorical", s.proxy.type == "learned",
                       s.preferences.heldout_pairs);
    const std::string& name = o.name.empty() ? o.type : o.name;
    for (std::size_t j = 0; j < i; ++j) {
      const auto& p = s.optimizers[j];
      if ((p.name.empty() ? p.type : p.name) == name)
        c.fail(at.optimizer_key(i) + ".name",
               "a name unique among optimizers, but '" + name + "' is also " + at.optimizer_key(j) + "'s");
    }
  }

  c.at_least(s.eval.accuracy_pairs, 1, "eval.accuracy_pairs");
  c.at_least(s.eval.standardize_samples, 1000, "eval.standardize_samples");
  if (!s.sweep.parameters.empty()) scenario_detail::validate_sweep(s.sweep, at);
}

void scenario_detail::validate_sweep(const SweepConfig& sweep, const Locations& at) {
  Check c{at};
  c.one_of(sweep.method, "sweep.method", {"grid", "zip"});
  const SweepParameter* first = sweep.parameters.empty() ? nullptr : &sweep.parameters.front();
  std::size_t points = 1;
  for (const auto& p : sweep.parameters) {
    std::string key = "sweep.parameters." + p.key;
    if (sweep.method == "zip" && p.values.size() != first->values.size())
      c.fail(key, "as many values as " + first->key + " (" + std::to_string(first->values.size()) + ") to zip, got " +
                      std::to_string(p.values.size()));
    points = sweep.method == "zip" ? p.values.size() : std::min(points * p.values.size(), kMaxPoints + 1);
  }
  if (points > kMaxPoints)
    c.fail("sweep.parameters", "at most 100000 points (split larger studies into several scenarios)");
}

}  // namespace goodhart
