// config.h — the scenario as one tree of plain structs with documented defaults.
// Contract: parse.cpp fills it from YAML (keys below, in snake_case, are the scenario keys); validate() in
// validate.cpp is the only place that checks it. Engine code reads it and never changes it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace goodhart {

// world: what a response is and the reference policy pi_ref that generates it
struct WorldConfig {
  std::string type = "gaussian";       // gaussian | categorical
  int dim = 8;                         // d: features per response
  int prompts = 64;                    // P: prompts (gaussian world: independent pools, for standard errors)
  std::vector<double> mean = {0.0};    // gaussian: pi_ref mean, one value for every dim or d values
  std::vector<double> scale = {1.0};   // gaussian: pi_ref std, one value or d values (> 0)
  int candidates = 64;                 // categorical: K candidate responses per prompt
  double feature_scale = 1.0;          // categorical: phi[p,k] ~ N(0, feature_scale^2 I)
  double ref_logit_scale = 1.0;        // categorical: reference logits = ref_logit_scale * N(0,1) + ...
  std::vector<double> ref_feature_weights;  // categorical: ... + phi . w (a "fluency" direction); empty: none
  std::uint64_t seed = 0;              // categorical: seed of the features and logits (the world is fixed
                                       // across run seeds unless this is swept)
  bool normalize_features = false;     // categorical: rescale each phi[p,k] to norm feature_scale * sqrt(dim)
                                       // (before the logits), so attributes trade off against each other: a
                                       // finite resource (Zhuang & Hadfield-Menell 2020); false: as drawn
};

// gold: the true reward r*(features), standardized to mean 0, variance 1 under pi_ref
struct GoldConfig {
  std::string type = "linear";         // linear | mlp | concave
  std::vector<double> weights;         // linear: w; concave: quality direction u; empty: random unit vector
  double penalty = 0.5;                // concave: lambda in u.y - lambda |y|^2
  std::vector<int> hidden = {64};      // mlp: hidden widths of the random teacher
  std::string activation = "tanh";     // mlp: tanh | relu
  std::uint64_t seed = 0;              // seed of random directions and teacher weights
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
  std::string type = "learned";        // learned | noisy
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
  std::string aggregate = "mean";      // mean | min (worst-case optimization, WCO) | uwo (mean - uwo_lambda * variance)
  double uwo_lambda = 1.0;             // uwo: weight of the members' population variance
  NoiseConfig noise;                   // noisy: the error term
  bool standardize = true;             // rescale to mean 0, variance 1 under pi_ref (where the variance exists)
};

// one optimizer pushed against the proxy
struct OptimizerConfig {
  std::string type = "best_of_n";      // best_of_n | kl_optimum | policy_gradient | dpo
  std::string name;                    // label in outputs; empty: type
  int pool = 4096;                     // best_of_n, gaussian world: N samples per prompt (>= max n)
  std::vector<int> n = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096};  // best_of_n grid
  std::vector<double> beta;            // kl_optimum: inverse strengths (empty with kl_budget empty: a default grid);
                                       // dpo: DPO's beta, one training run per value (default 0.1)
  std::vector<double> kl_budget;       // kl_optimum: KL targets; the beta meeting each is found by root-finding
  int samples = 4096;                  // kl_optimum, gaussian world: samples per prompt (exact draws or SNIS pool)

  // policy_gradient and dpo: the trained policy
  std::string policy = "auto";         // auto | tabular | log_linear | mean_shift; auto: log_linear (categorical
                                       // world) or mean_shift (gaussian world)
  bool learn_scale = false;            // mean_shift: also learn a log-scale per dimension
  double learning_rate = 0.05;         // Adam step size
  int steps = 200;                     // optimizer steps
  int eval_every = 10;                 // steps between evaluation rows (exact KL, proxy, gold, ...)
  // early stopping on a held-out signal (policy_gradient and dpo). heldout_proxy: a validation reward model — the
  // proxy's config fitted to preferences.heldout_pairs, pairs the training proxy never saw — is evaluated on the
  // policy at every evaluation row; training stops once its mean has not improved for `patience` evaluations,
  // and the run ends at the best evaluation (rows after it are dropped; its row gets stopped = 1). Without gold,
  // this is a researcher's honest out-of-sample check: the validation RM's estimation errors are independent of
  // the training proxy's, so a policy exploiting the training proxy's errors does not raise it (errors the two
  // share, such as a model class that cannot represent the gold, it cannot see).
  std::string early_stopping = "none";  // none | heldout_proxy
  int patience = 3;                    // evaluations without improvement before stopping (>= 1)

  // policy_gradient
  std::string algorithm = "rloo";      // reinforce | rloo | ppo | grpo (alias advantage_estimator)
  int num_generations = 8;             // sampled responses per prompt and step (aliases n_samples_per_prompt, rloo_k)
  double kl_coef = 0.05;               // KL coefficient, initial value when adaptive (alias init_kl_coef)
  bool adaptive_kl = false;            // Ziegler et al. 2019 controller (alias adap_kl_ctrl)
  double adaptive_kl_target = 1.0;     // target KL of the controller (aliases kl_target, target)
  double adaptive_kl_horizon = 10000;  // horizon in sampled responses (aliases kl_horizon, horizon)
  std::string kl_estimator = "k1";     // k1 | k2 | k3, per-sample estimators of KL(pi || pi_ref)
  std::string kl_in = "reward";        // reward (penalty in the reward) | loss (a KL term in the loss)
  double max_kl = 0.0;                 // a hard KL budget: stop once the exact KL reaches it; 0: none
  double cliprange = 0.2;              // ppo and grpo: ratio clip (alias eps_clip)
  int num_ppo_epochs = 4;              // ppo and grpo: passes over each batch (alias ppo_epochs)
  int num_mini_batches = 1;            // ppo and grpo: minibatches per pass
  bool whiten_rewards = false;         // standardize the batch's rewards before advantages
  double reward_clip = 0.0;            // clip proxy rewards to [-reward_clip, reward_clip]; 0: no clipping

  // dpo (trained on the scenario's preference pairs; `beta` above is DPO's beta, one run per value)
  std::string loss_type = "sigmoid";   // sigmoid (DPO) | ipo
  int batch_size = 64;                 // pairs per step

  // best_of_n mitigation (Jinnai et al. 2024): select argmax proxy + ref_logprob_weight * log pi_ref
  double ref_logprob_weight = 0.0;
};

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
