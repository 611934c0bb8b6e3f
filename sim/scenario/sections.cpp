// sections.cpp — the field tables of the scenario's sections and of the gold and proxy types, with each
// type's cross-field checks. Contract: one row per key (the single source of its parsing, checks, hash and docs);
// world types live in models/worlds/ and optimizer types in sim/optimizers/, each in its own file.
#include <set>

#include "sim/scenario/check.h"
#include "sim/scenario/internal.h"
#include "sim/scenario/sections.h"

namespace goodhart {

namespace {

using scenario_detail::number_text;

// the tables of sections without types
Table top_table() {
  return {{
      field<Scenario>("schema_version", &Scenario::schema_version, "version of this schema")
          .shown_default("— (required)")
          .allowed("1"),
      field<Scenario>("name", &Scenario::name,
                      "scenario name; results go to `results/<name>` unless `output.dir` or `--out` says otherwise")
          .shown_default("— (required)")
          .allowed("non-empty"),
      field<Scenario>("description", &Scenario::description, "what the scenario shows").shown_default("— (required)"),
      field<Scenario>("seed", &Scenario::seed,
                      "run seed: preference data, proxy initialization and minibatches, noise and spurious-feature "
                      "draws, pools, sampled pairs, the reference sample for win rates. Does not change the world "
                      "(`world.seed`) or the gold reward (`gold.seed`)"),
  }};
}

Table preferences_table() {
  using P = PreferenceConfig;
  return {{
      field<P>("n_pairs", &P::n_pairs, "training pairs")
          .alias("num_pairs")
          .allowed(">= 1 for a learned proxy, >= 0 otherwise"),
      field<P>("heldout_pairs", &P::heldout_pairs, "held-out pairs, labelled the same way, for `rm_heldout_accuracy`",
               at_least(0)),
      field<P>("labels", &P::labels,
               "bradley_terry: a wins with probability sigmoid((r*(a) - r*(b)) / temperature). hard: the higher gold "
               "wins, ties at random",
               one_of({"bradley_terry", "hard"})),
      field<P>("temperature", &P::temperature, "Bradley-Terry temperature (labels only; training does not use it)",
               positive()),
      field<P>("label_noise", &P::label_noise, "probability of flipping each label after it is drawn",
               within(0.0, 0.5, "a probability in [0, 0.5]")),
      field<P>("bias_feature", &P::bias_feature,
               "biased labellers: labels are drawn from gold + bias_weight * x[bias_feature] instead of gold "
               "(Singhal et al. 2023's length bias), for training and held-out pairs; -1: none")
          .allowed("-1 or [0, dim)"),
      field<P>("bias_weight", &P::bias_weight, "weight of that feature in the labellers' reward")
          .allowed("any; nonzero needs bias_feature"),
  }};
}

Table eval_table() {
  using E = EvalConfig;
  return {{
      field<E>("accuracy_pairs", &E::accuracy_pairs,
               "pairs sampled for `rm_accuracy_ref` (from pi_ref) and `rm_accuracy_policy` (from each optimized "
               "policy)",
               at_least(1)),
      field<E>("standardize_samples", &E::standardize_samples,
               "Monte Carlo draws for standardizing rewards without a closed form, and the reference sample for "
               "win rates in the gaussian world",
               at_least(1000)),
  }};
}

Table output_table() {
  return {{field<OutputConfig>("dir", &OutputConfig::dir,
                               "results folder; empty: `results/<name>`. `--out` on the command line wins")}};
}

// common keys of the typed sections
Table world_common() {
  using W = WorldConfig;
  return {{
      field<W>("type", &W::type, "what a response is (see the types below)"),
      field<W>("dim", &W::dim, "d, features per response", at_least(1)),
      field<W>("prompts", &W::prompts,
               "P. Gaussian: independent pools, used for standard errors. Categorical: prompts with their own "
               "candidates",
               at_least(1)),
  }};
}

Table gold_common() {
  using G = GoldConfig;
  return {{
      field<G>("type", &G::type, "the gold reward's family (see the types below)"),
      field<G>("seed", &G::seed,
               "random direction and teacher weights; also the Monte Carlo draws that standardize an mlp gold"),
      field<G>("standardize", &G::standardize, "rescale to mean 0, variance 1 under pi_ref"),
  }};
}

Table proxy_common() {
  using X = ProxyConfig;
  return {{
      field<X>("type", &X::type, "the reward model the optimizer sees (see the types below)"),
      field<X>("standardize", &X::standardize,
               "rescale to mean 0, variance 1 under pi_ref (see \"Standardization\" below for the exceptions)"),
  }};
}

Table noise_table() {
  using N = NoiseConfig;
  return {{
      field<N>("distribution", &N::distribution,
               "unit draw e: gaussian z; student_t with `shape` degrees of freedom; lognormal exp(shape * z); pareto "
               "U^(-1/shape) on [1, inf); levy 1/z^2 (no finite mean)",
               one_of({"gaussian", "student_t", "lognormal", "pareto", "levy"})),
      field<N>("scale", &N::scale, "multiplies e (the standard deviation for gaussian)", positive()),
      field<N>("shape", &N::shape,
               "student_t: degrees of freedom; lognormal: sigma; pareto: alpha. Ignored by gaussian and levy (still "
               "must be > 0)")
          .allowed("> 0"),
  }};
}

const Table& noise_fields() {
  static const Table t = noise_table();
  return t;
}

// the types

ConfigType section_type(std::string section, std::string name, std::string doc, Table table) {
  ConfigType t;
  t.section = std::move(section);
  t.name = std::move(name);
  t.doc = std::move(doc);
  t.table = std::move(table);
  return t;
}

const GoldConfig& gold_of(const void* c) { return *static_cast<const GoldConfig*>(c); }

// whether the scenario's world is read from a file (ConfigType::read_data), whose columns gold and proxy may be
bool reads_score_file(const Scenario& s) {
  const ConfigType* world = s.world.params.type();
  return world && world->read_data;
}
const ProxyConfig& proxy_of(const void* c) { return *static_cast<const ProxyConfig*>(c); }

void register_golds(std::vector<ConfigType>& out) {
  using G = GoldConfig;
  const auto weights = [](std::string doc) {
    return field<G>("weights", &G::weights, std::move(doc)).allowed("empty or `dim` values");
  };
  const auto check_weights = [](const void* c, const Scenario& s, const Check& k, const std::string& path) {
    k.dims(gold_of(c).weights.size(), s.world.dim, path + ".weights", true, false);
  };
  ConfigType linear = section_type(
      "gold", "linear", "w . y",
      {{weights("w; empty: a random unit vector from `gold.seed`")}});
  linear.validate = check_weights;
  out.push_back(std::move(linear));

  out.push_back(section_type(
      "gold", "mlp", "a random teacher network",
      {{
          field<G>("hidden", &G::hidden, "hidden widths of the teacher (`[]`: no hidden layer)", at_least(1)),
          field<G>("activation", &G::activation, "activation of the teacher", one_of({"tanh", "relu"})),
      }}));

  ConfigType concave = section_type(
      "gold", "concave", "u . y - penalty * |y|^2: diminishing returns and an over-doing penalty",
      {{
          weights("u, used as given (not normalized); empty: a random unit vector from `gold.seed`"),
          field<G>("penalty", &G::penalty, "lambda, the over-doing penalty", non_negative()),
      }});
  concave.validate = check_weights;
  out.push_back(std::move(concave));

  ConfigType scored = section_type(
      "gold", "scored", "a column of a scored world's file (the gold reward model's scores)",
      {{field<G>("column", &G::column, "the file's gold column")}});
  scored.validate = [](const void*, const Scenario& s, const Check& k, const std::string& path) {
    if (!reads_score_file(s))
      k.fail(path + ".type", "a gold type of the " + s.world.type + " world (gold type scored is a column of a "
                             "world's score file: world.type scored)");
  };
  out.push_back(std::move(scored));
}

void register_proxies(std::vector<ConfigType>& out) {
  using X = ProxyConfig;
  // how an ensemble's members combine (learned members, or a scored world's proxy columns)
  const auto aggregate = [](bool learned) {
    std::vector<std::string> values = {"mean", "min", "uwo"};
    std::string doc = "how members' scores combine, each member first standardized under pi_ref (when `standardize`): "
                      "mean; min (worst-case optimization, WCO); uwo: mean - uwo_lambda * the members' population "
                      "variance (uncertainty-weighted optimization). The aggregate is standardized again";
    if (learned) {
      values.push_back("weights");
      doc += ". weights (WARM, Rame et al. 2024): one network whose parameters are the mean of the members' "
             "(before standardization); it averages predictions only where the members are linearly connected, as "
             "members fine-tuned from one initialization (ensemble_init shared) tend to be";
    }
    return field<X>("aggregate", &X::aggregate, doc, one_of(values));
  };
  const auto uwo_lambda = [] {
    return field<X>("uwo_lambda", &X::uwo_lambda, "uwo: weight of the variance", non_negative());
  };
  ConfigType learned = section_type(
      "proxy", "learned", "fitted to the preference pairs by Bradley-Terry maximum likelihood",
      {{
          field<X>("model", &X::model,
                   "linear in the visible features; quadratic: linear in each visible feature and its square (no "
                   "cross terms); mlp: a network with `hidden` and `activation`",
                   one_of({"linear", "quadratic", "mlp"})),
          field<X>("hidden", &X::hidden, "mlp: hidden widths", at_least(1)),
          field<X>("activation", &X::activation, "mlp: activation", one_of({"tanh", "relu"})),
          field<X>("l2", &X::l2, "loss += 0.5 * l2 * |W|^2 over weights (not biases)", non_negative())
              .alias("weight_decay"),
          field<X>("optimizer", &X::optimizer,
                   "adam on minibatches, a fresh permutation per epoch; lbfgs on the full batch",
                   one_of({"adam", "lbfgs"})),
          field<X>("learning_rate", &X::learning_rate, "adam: step size", positive()).alias("lr"),
          field<X>("epochs", &X::epochs,
                   "passes over the data (adam); lbfgs runs at most 10 * epochs iterations, and when its line "
                   "search fails starts again from the best point seen (at most twice)",
                   at_least(1))
              .alias("num_train_epochs"),
          field<X>("batch_size", &X::batch_size, "adam: minibatch size (capped at n_pairs)", at_least(1))
              .alias("per_device_train_batch_size"),
          field<X>("features", &X::features,
                   "the features the proxy sees; empty: all. Leaving one out models a missing attribute")
              .allowed("distinct indices in [0, dim)"),
          field<X>("spurious_correlation", &X::spurious_correlation,
                   "rho > 0 adds an input s = rho * gold + sqrt(1 - rho^2) * xi, xi ~ N(0,1) per response. The same "
                   "formula holds during training and optimization",
                   within(0.0, 1.0, "a number in [0, 1)", true)),
          field<X>("ensemble_members", &X::ensemble_members,
                   "k proxies aggregated into one (Coste et al. 2023)", at_least(1)),
          field<X>("ensemble_method", &X::ensemble_method,
                   "bootstrap: each member fits its own resample (with replacement) of the pairs, with its own "
                   "initialization and batch order; seeds: every member fits the same pairs with its own "
                   "initialization and batch order. A convex fit (a linear or quadratic proxy with lbfgs) reaches "
                   "the same optimum from any seed, so `seeds` members of a convex fit are identical: only bootstrap "
                   "or an mlp makes them disagree",
                   one_of({"bootstrap", "seeds"})),
          field<X>("ensemble_init", &X::ensemble_init,
                   "own: each member draws its own initial weights (Eisenstein et al. 2023's pretrain ensembles); "
                   "shared: every member starts from one draw (their fine-tune ensembles; WARM's shared start)",
                   one_of({"own", "shared"})),
          field<X>("shared_pairs", &X::shared_pairs,
                   "the fraction of the n_pairs training pairs every member fits; the rest of each member's n_pairs "
                   "are its own fresh pairs (drawn after the shared ones, member by member). 1: one dataset; 0: "
                   "independent datasets, so members share no data error (Eisenstein et al. 2023's shared "
                   "component). bootstrap resamples within the member's pairs",
                   within(0.0, 1.0, "a number in [0, 1]")),
          aggregate(true),
          uwo_lambda(),
          field<X>("disentangle", &X::disentangle,
                   "odin (in the spirit of Chen et al. 2024): the network gets a second linear head beside its "
                   "output, both fitted to the pairs through their sum q + l, with "
                   "odin_correlation_weight * (rho(q, b)^2 - rho(l, b)^2) + odin_orthogonality_weight * "
                   "(w_q . w_l)^2 added to the loss (rho: Pearson correlation with the bias feature b over the "
                   "responses fitted; w: the heads' weights); only the quality head q is kept, so the optimizer "
                   "sees quality without the bias. none: one head",
                   one_of({"none", "odin"})),
          field<X>("bias_feature", &X::bias_feature,
                   "the feature odin's bias head takes up (the modeller's guess at the labellers' bias, as length "
                   "is; it need not be preferences.bias_feature, nor visible to the proxy). Also the feature of "
                   "runs.csv's proxy_bias_correlation when preferences.bias_feature is -1")
              .allowed("-1 (none) or [0, dim); odin needs one"),
          field<X>("odin_correlation_weight", &X::odin_correlation_weight,
                   "odin: weight of rho(q, b)^2 - rho(l, b)^2", non_negative()),
          field<X>("odin_orthogonality_weight", &X::odin_orthogonality_weight,
                   "odin: weight of (w_q . w_l)^2", non_negative()),
      }});
  learned.validate = [](const void* c, const Scenario& s, const Check& k, const std::string& path) {
    // features: distinct indices into the world's features
    const ProxyConfig& p = proxy_of(c);
    const int dim = s.world.dim;
    const std::string key = path + ".features";
    std::set<int> seen;
    for (std::size_t i = 0; i < p.features.size(); ++i) {
      const int f = p.features[i];
      if (f < 0 || f >= dim)
        k.fail(key, "indices in [0, " + std::to_string(dim) + ") (world.dim), got " + std::to_string(f),
               Check::element(key, i));
      if (!seen.insert(f).second)
        k.fail(key, "distinct indices, got " + std::to_string(f) + " twice", Check::element(key, i));
    }
    if (p.bias_feature < -1 || p.bias_feature >= dim)
      k.fail(path + ".bias_feature", "-1 (none) or an index in [0, " + std::to_string(dim) + ") (world.dim), got " +
                                         std::to_string(p.bias_feature));
    else if (p.disentangle == "odin" && p.bias_feature < 0)
      k.fail(path + ".bias_feature", "an index in [0, " + std::to_string(dim) +
                                         ") (world.dim): disentangle odin fits a head to that feature, got -1");
  };
  out.push_back(std::move(learned));

  ConfigType noisy = section_type(
      "proxy", "noisy", "gold + noise.scale * e: the analytic family, for exact oracles",
      {{section_field<X>("noise", &X::noise, noise_fields(), "the error term (the table below)")}});
  noisy.validate = [](const void* c, const Scenario&, const Check& k, const std::string& path) {
    const NoiseConfig& n = proxy_of(c).noise;
    if (!(n.shape > 0)) {
      const std::string meaning = n.distribution == "student_t"   ? " (student_t degrees of freedom)"
                                  : n.distribution == "pareto"    ? " (pareto alpha)"
                                  : n.distribution == "lognormal" ? " (lognormal sigma)"
                                                                  : "";
      k.fail(path + ".noise.shape", "a number > 0" + meaning + ", got " + number_text(n.shape));
    }
  };
  out.push_back(std::move(noisy));

  ConfigType scored = section_type(
      "proxy", "scored",
      "columns of a scored world's file (proxy reward models' scores); several are an ensemble (Coste et al. "
      "2023's members), combined by `aggregate`",
      {{
          field<X>("columns", &X::columns, "the file's proxy columns, at least one").allowed("distinct column names"),
          aggregate(false),
          uwo_lambda(),
      }});
  scored.validate = [](const void* c, const Scenario& s, const Check& k, const std::string& path) {
    const std::vector<std::string>& columns = proxy_of(c).columns;
    if (!reads_score_file(s))
      k.fail(path + ".type", "a proxy type of the " + s.world.type + " world (proxy type scored is columns of a "
                             "world's score file: world.type scored)");
    if (columns.empty()) k.fail(path + ".columns", "at least one column");
    for (std::size_t i = 0; i < columns.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (columns[i] == columns[j])
          k.fail(path + ".columns", "distinct columns, got '" + columns[i] + "' twice",
                 Check::element(path + ".columns", i));
  };
  out.push_back(std::move(scored));
}

}  // namespace

std::vector<ConfigType> section_types() {
  std::vector<ConfigType> out;
  register_golds(out);
  register_proxies(out);
  return out;
}

void* section_object(Scenario& s, const std::string& section) {
  if (section.empty()) return &s;
  if (section == "preferences") return &s.preferences;
  if (section == "eval") return &s.eval;
  if (section == "output") return &s.output;
  if (section == "world") return &s.world;
  if (section == "gold") return &s.gold;
  if (section == "proxy") return &s.proxy;
  if (section == "proxy.noise") return &s.proxy.noise;
  return nullptr;
}

const Table& section_table(const std::string& section) {
  static const Table top = top_table(), preferences = preferences_table(), eval = eval_table(),
                     output = output_table(), world = world_common(), gold = gold_common(),
                     proxy = proxy_common();
  static const Table optimizer = {{
      field<OptimizerConfig>("type", &OptimizerConfig::type, "the optimizer (see the types below)"),
      field<OptimizerConfig>("name", &OptimizerConfig::name,
                             "label in the `optimizer` column. Two entries of one type need distinct names")
          .shown_default("the type")
          .allowed("unique among optimizers"),
  }};
  static const Table none;
  if (section.empty()) return top;
  if (section == "preferences") return preferences;
  if (section == "eval") return eval;
  if (section == "output") return output;
  if (section == "world") return world;
  if (section == "gold") return gold;
  if (section == "proxy") return proxy;
  if (section == "proxy.noise") return noise_fields();
  if (section == "optimizer") return optimizer;
  return none;
}

}  // namespace goodhart
