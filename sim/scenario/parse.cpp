// parse.cpp — a YAML tree to the Scenario structs of config.h, one key per field, and the defaults that depend on
// other fields. Contract: types, known keys and required sections are checked here; ranges only in validate.cpp.
#include "sim/scenario/internal.h"

namespace goodhart::scenario_detail {

namespace {

void parse_world(const Ctx& ctx, Locations& locs, const YAML::Node& node, WorldConfig& w) {
  Section s(ctx, locs, node, "world", "world",
            {"type", "dim", "prompts", "mean", "scale", "candidates", "feature_scale", "ref_logit_scale",
             "ref_feature_weights", "seed", "normalize_features"});
  s.read("type", w.type);
  s.read("dim", w.dim);
  s.read("prompts", w.prompts);
  s.read("mean", w.mean);
  s.read("scale", w.scale);
  s.read("candidates", w.candidates);
  s.read("feature_scale", w.feature_scale);
  s.read("ref_logit_scale", w.ref_logit_scale);
  s.read("ref_feature_weights", w.ref_feature_weights);
  s.read("seed", w.seed);
  s.read("normalize_features", w.normalize_features);
}

void parse_gold(const Ctx& ctx, Locations& locs, const YAML::Node& node, GoldConfig& g) {
  Section s(ctx, locs, node, "gold", "gold",
            {"type", "weights", "penalty", "hidden", "activation", "seed", "standardize"});
  s.read("type", g.type);
  s.read("weights", g.weights);
  s.read("penalty", g.penalty);
  s.read("hidden", g.hidden);
  s.read("activation", g.activation);
  s.read("seed", g.seed);
  s.read("standardize", g.standardize);
}

void parse_preferences(const Ctx& ctx, Locations& locs, const YAML::Node& node, PreferenceConfig& p) {
  Section s(ctx, locs, node, "preferences", "preferences",
            {"n_pairs", "heldout_pairs", "labels", "temperature", "label_noise", "bias_feature", "bias_weight"});
  s.read("n_pairs", p.n_pairs);
  s.read("heldout_pairs", p.heldout_pairs);
  s.read("labels", p.labels);
  s.read("temperature", p.temperature);
  s.read("label_noise", p.label_noise);
  s.read("bias_feature", p.bias_feature);
  s.read("bias_weight", p.bias_weight);
}

void parse_proxy(const Ctx& ctx, Locations& locs, const YAML::Node& node, ProxyConfig& p) {
  Section s(ctx, locs, node, "proxy", "proxy",
            {"type", "model", "hidden", "activation", "l2", "optimizer", "learning_rate", "epochs", "batch_size",
             "features", "spurious_correlation", "ensemble_members", "ensemble_method", "aggregate", "uwo_lambda",
             "noise", "standardize"});
  s.read("type", p.type);
  s.read("model", p.model);
  s.read("hidden", p.hidden);
  s.read("activation", p.activation);
  s.read("l2", p.l2);
  s.read("optimizer", p.optimizer);
  s.read("learning_rate", p.learning_rate);
  s.read("epochs", p.epochs);
  s.read("batch_size", p.batch_size);
  s.read("features", p.features);
  s.read("spurious_correlation", p.spurious_correlation);
  s.read("ensemble_members", p.ensemble_members);
  s.read("ensemble_method", p.ensemble_method);
  s.read("aggregate", p.aggregate);
  s.read("uwo_lambda", p.uwo_lambda);
  s.read("standardize", p.standardize);
  if (const YAML::Node* noise = s.find("noise")) {
    locs.at["proxy.noise"] = ctx.where(*s.key_node("noise"), "proxy.noise");
    Section n(ctx, locs, *noise, "proxy.noise", "proxy.noise", {"distribution", "scale", "shape"});
    n.read("distribution", p.noise.distribution);
    n.read("scale", p.noise.scale);
    n.read("shape", p.noise.shape);
  }
}

void parse_optimizer(const Ctx& ctx, Locations& locs, const YAML::Node& node, const std::string& path,
                     OptimizerConfig& o) {
  Section s(ctx, locs, node, path, "optimizer",
            {"type", "name", "pool", "n", "beta", "kl_budget", "samples", "policy", "learn_scale", "learning_rate",
             "steps", "eval_every", "algorithm", "num_generations", "kl_coef", "adaptive_kl", "adaptive_kl_target",
             "adaptive_kl_horizon", "kl_estimator", "kl_in", "max_kl", "cliprange", "num_ppo_epochs",
             "num_mini_batches", "whiten_rewards", "reward_clip", "loss_type", "batch_size", "ref_logprob_weight",
             "early_stopping", "patience"});
  s.read("type", o.type);
  s.read("name", o.name);
  s.read("pool", o.pool);
  s.read("n", o.n);
  s.read("beta", o.beta);
  s.read("kl_budget", o.kl_budget);
  s.read("samples", o.samples);
  s.read("policy", o.policy);
  s.read("learn_scale", o.learn_scale);
  s.read("learning_rate", o.learning_rate);
  s.read("steps", o.steps);
  s.read("eval_every", o.eval_every);
  s.read("algorithm", o.algorithm);
  s.read("num_generations", o.num_generations);
  s.read("kl_coef", o.kl_coef);
  s.read("adaptive_kl", o.adaptive_kl);
  s.read("adaptive_kl_target", o.adaptive_kl_target);
  s.read("adaptive_kl_horizon", o.adaptive_kl_horizon);
  s.read("kl_estimator", o.kl_estimator);
  s.read("kl_in", o.kl_in);
  s.read("max_kl", o.max_kl);
  s.read("cliprange", o.cliprange);
  s.read("num_ppo_epochs", o.num_ppo_epochs);
  s.read("num_mini_batches", o.num_mini_batches);
  s.read("whiten_rewards", o.whiten_rewards);
  s.read("reward_clip", o.reward_clip);
  s.read("loss_type", o.loss_type);
  s.read("batch_size", o.batch_size);
  s.read("ref_logprob_weight", o.ref_logprob_weight);
  s.read("early_stopping", o.early_stopping);
  s.read("patience", o.patience);
  // the default n grid stops at the pool, so that a smaller pool alone is a valid setting
  if (!s.find("n")) std::erase_if(o.n, [&](int n) { return n > o.pool; });
}

void parse_eval(const Ctx& ctx, Locations& locs, const YAML::Node& node, EvalConfig& e) {
  Section s(ctx, locs, node, "eval", "eval", {"accuracy_pairs", "standardize_samples"});
  s.read("accuracy_pairs", e.accuracy_pairs);
  s.read("standardize_samples", e.standardize_samples);
}

void parse_output(const Ctx& ctx, Locations& locs, const YAML::Node& node, OutputConfig& o) {
  Section s(ctx, locs, node, "output", "output", {"dir"});
  s.read("dir", o.dir);
}

// a top-level section's node (null when absent), its key's location recorded
YAML::Node section(const Ctx& ctx, const Section& top, Locations& locs, std::string_view key, bool required) {
  const YAML::Node* n = top.find(key);
  if (!n) {
    if (required) throw ScenarioError(locs.file, std::string(key), "missing required section");
    return YAML::Node();
  }
  locs.at[std::string(key)] = ctx.where(*top.key_node(key), std::string(key));
  return *n;
}

}  // namespace

Scenario parse_tree(const YAML::Node& root, const Ctx& ctx, Locations& locs) {
  locs.file = ctx.file + ":1:1";
  if (!root.IsMap() && !root.IsNull()) throw ScenarioError(ctx.where(root, ""), "scenario", "a mapping of sections");
  Section top(ctx, locs, root, "", "",
              {"schema_version", "name", "description", "seed", "world", "gold", "preferences", "proxy", "optimizer",
               "optimizers", "eval", "output", "sweep"});
  Scenario s;

  // the schema version first: it decides what the rest may say
  for (std::string_view key : {"schema_version", "name", "description"})
    if (!top.find(key)) throw ScenarioError(locs.file, std::string(key), "missing required key");
  top.read("schema_version", s.schema_version);
  if (s.schema_version != 1) throw ScenarioError(locs.where("schema_version"), "schema_version", "1");
  top.read("name", s.name);
  top.read("description", s.description);
  top.read("seed", s.seed);

  // sections
  parse_world(ctx, locs, section(ctx, top, locs, "world", true), s.world);
  parse_gold(ctx, locs, section(ctx, top, locs, "gold", true), s.gold);
  parse_preferences(ctx, locs, section(ctx, top, locs, "preferences", false), s.preferences);
  parse_proxy(ctx, locs, section(ctx, top, locs, "proxy", true), s.proxy);
  parse_eval(ctx, locs, section(ctx, top, locs, "eval", false), s.eval);
  parse_output(ctx, locs, section(ctx, top, locs, "output", false), s.output);

  // one optimizer or a list of them
  const YAML::Node* one = top.find("optimizer");
  const YAML::Node* list = top.find("optimizers");
  if (one && list) {
    std::string later =
        top.key_node("optimizer")->Mark().pos > top.key_node("optimizers")->Mark().pos ? "optimizer" : "optimizers";
    throw ScenarioError(ctx.where(*top.key_node(later), later), later, "either optimizer or optimizers, not both");
  }
  if (!one && !list) throw ScenarioError(locs.file, "optimizer", "missing required section (optimizer or optimizers)");
  locs.single_optimizer = one != nullptr;
  if (one) {
    s.optimizers.resize(1);
    parse_optimizer(ctx, locs, section(ctx, top, locs, "optimizer", true), "optimizer", s.optimizers[0]);
  } else {
    YAML::Node items = section(ctx, top, locs, "optimizers", true);
    if (!items.IsSequence() || items.size() == 0)
      throw ScenarioError(ctx.where(items, "optimizers"), "optimizers", "a non-empty list of optimizer mappings");
    s.optimizers.resize(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::string path = index_key("optimizers", i);
      locs.at[path] = ctx.where(items[i], path);
      parse_optimizer(ctx, locs, items[i], path, s.optimizers[i]);
    }
  }

  if (const YAML::Node* sweep = top.find("sweep")) {
    locs.at["sweep"] = ctx.where(*top.key_node("sweep"), "sweep");
    s.sweep = parse_sweep(*sweep, ctx, locs);
  }
  return s;
}

}  // namespace goodhart::scenario_detail

namespace goodhart {

void resolve_defaults(Scenario& s) {
  for (auto& o : s.optimizers) {
    if (o.name.empty()) o.name = o.type;
    if (o.type == "kl_optimum" && o.beta.empty() && o.kl_budget.empty())
      o.beta = scenario_detail::logspace(-2.0, 1.0, 16);
    if (o.type == "dpo" && o.beta.empty()) o.beta = {0.1};
  }
}

}  // namespace goodhart
