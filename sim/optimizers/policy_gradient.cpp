// policy_gradient.cpp — a policy (models/policy.h) trained against the proxy by REINFORCE, RLOO, PPO (clipped) or
// GRPO with a fixed or adaptive KL penalty, evaluated every `eval_every` steps: one run is a trajectory through KL.
// Contract:
//   optimizer   Adam (beta1 0.9, beta2 0.999, eps 1e-8, bias-corrected) on theta from 0 (= pi_ref), step size
//               learning_rate, minimizing the loss L below.
//   batch       step t (t = 0 .. steps-1; after it the policy is at step t + 1) draws num_generations (G) samples
//               per prompt from the current policy: categorical with G uniforms of CounterRng(seed,
//               policy_samples, t, p) by inverse CDF; gaussian as responses with identities (policy_samples,
//               t*P + p, i), so a noisy proxy gets its per-response error draws. Reward r = proxy score (the
//               candidate table in the categorical world), clipped to [-reward_clip, reward_clip] when > 0, then
//               shaped by reward_transform against the prompt's reference responses (reward_transform.h: par
//               (1/M) sum_m sigmoid(r - r_ref_m); log_sigmoid_centered log sigmoid(r - quantile of the r_ref)).
//   KL          lr = log pi(y) - log pi_ref(y) at sampling time; k1 = lr, k2 = lr^2/2, k3 = exp(-lr) - 1 + lr.
//               kl_in reward: r' = r - kl_coef * k(lr). kl_in loss: L += kl_coef * mean(k(lr)), lr at the current
//               theta with the samples held fixed, gradient kl_coef * k'(lr) * grad log pi (k1' = 1, k2' = lr,
//               k3' = 1 - exp(-lr)).
//   whitening   whiten_rewards: r' standardized over the whole batch, (r' - mean) / sqrt(var + 1e-8), var with
//               n - 1 (as TRL's whiten).
//   advantages  reinforce A = r'; rloo A_i = r'_i - mean_{j != i} r'_j within the prompt's G samples; ppo
//               A_i = r'_i - mean_j r'_j (a group-mean baseline: a response is one action, so there is no value
//               network and no GAE; with G = 1 this advantage is 0); grpo A_i = (r'_i - mean) / (sd + 1e-8) in the
//               group, sd with G - 1 (as TRL).
//   loss        reinforce, rloo: one Adam step on L = -mean(A log pi(y)) (num_ppo_epochs, num_mini_batches and
//               cliprange unused). ppo, grpo: num_ppo_epochs passes over the batch, each split into
//               num_mini_batches minibatches (every prompt's G samples split evenly by index, minibatch j holding
//               indices [j G / M, (j + 1) G / M)), an Adam step per minibatch, ratio = exp(log pi(y) - log pi_old(y)),
//               L = -mean(min(ratio A, clip(ratio, 1 - cliprange, 1 + cliprange) A)), gradient -A ratio grad log pi
//               where the unclipped term is the min, else 0. Means are over the samples of the (mini)batch.
//   adaptive    Ziegler et al. 2019, after each step with the batch's mean k1 estimate KL_b:
//               e = clip(KL_b / adaptive_kl_target - 1, -0.2, 0.2); kl_coef *= 1 + e * (P G) / adaptive_kl_horizon,
//               never below 0 (a horizon under 5 batches of samples could otherwise flip its sign).
//   max_kl      > 0: after each step the exact mean KL is computed; once it reaches max_kl that step is evaluated
//               and training stops.
//   signals     every row gets the TrainingSignals of policy_eval.h: validation_proxy (early_stopping heldout_proxy
//               or monitor: the mean under the policy of a validation RM fitted to the held-out pairs) and
//               ensemble_disagreement (an ensemble proxy).
//   early stop  early_stopping heldout_proxy: once `patience` evaluations in a row have not improved on the best
//               validation_proxy, training stops and the run ends at the best evaluation (later rows dropped, its
//               row stopped = 1). monitor never stops; with none no validation RM is fitted.
//   rows        at step 0, every eval_every steps and at the final step (no duplicate), param_name "step",
//               param = step = the number of steps taken, kl_coef = the coefficient the step's batch used (the
//               initial one at step 0); see policy_eval.h for the metrics.
//   backend     categorical: sampling, log-probabilities and gradients are the backend ops policy_pass and
//               policy_slots (sim/backend/ops.h) on ctx.backend, the same names on cpu and cuda; the algorithms
//               (rewards, advantages, clipping, KL terms) are here, once. A step's first update runs at the
//               sampling theta, so it reuses the sampling pass. Evaluations from Policy::log_probs (double).
//   precision   cpu: float feature products and exponentials, double sums; cuda: double products.
//   threads     per-prompt work in OpenMP loops (parallel only above a work threshold) writing per-prompt slots,
//               summed in prompt order: rows are byte-identical at any thread count.
#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>

#include "models/policy.h"
#include "sim/optimizers/adam.h"
#include "sim/optimizers/kl_estimators.h"
#include "sim/optimizers/policy_gradient.h"
#include "sim/optimizers/policy_eval.h"
#include "sim/optimizers/registry.h"
#include "sim/optimizers/reward_transform.h"

namespace goodhart {

namespace {

enum class Algorithm { reinforce, rloo, ppo, grpo };

Algorithm parse_algorithm(const std::string& a) {
  if (a == "reinforce") return Algorithm::reinforce;
  if (a == "rloo") return Algorithm::rloo;
  if (a == "ppo") return Algorithm::ppo;
  if (a == "grpo") return Algorithm::grpo;
  throw std::invalid_argument("unknown policy_gradient algorithm '" + a + "'");
}

// a parallel loop only where a step has enough work (results never depend on it: per-prompt slots either way)
bool worth_threads(double work) { return work > 65536.0; }

// one step's samples, sample n = p * G + i
struct Batch {
  std::vector<Response> samples;
  Eigen::VectorXd reward, log_old, log_ref, advantage;
  PolicyPass pass;  // categorical: the sampling pass (draws, log pi at the sampling theta, E_pi[feature])
};

struct Trainer {
  const PolicyGradientConfig& opt;
  const OptimizerContext& ctx;
  Policy policy;
  Algorithm algorithm;
  KlEstimator estimator;
  int P, G;
  double kl_coef;
  RewardShaping shaping;
  TrainingSignals signals;  // validation_proxy, ensemble_disagreement
  EarlyStopping early;
  const bool clipped = algorithm == Algorithm::ppo || algorithm == Algorithm::grpo;
  const int minibatches = clipped ? opt.num_mini_batches : 1, epochs = clipped ? opt.num_ppo_epochs : 1;
  // the first update of a step (samples [0, G / minibatches) of every group) runs at the sampling theta and
  // reuses the sampling pass. Without whitening, over whole groups, with the KL in the reward, the advantages of
  // rloo, ppo and grpo sum to zero within each group, so its E_pi[feature] term drops out and is not computed
  const bool first_update_sums_to_zero = !opt.whiten_rewards && algorithm != Algorithm::reinforce &&
                                         minibatches == 1 && opt.kl_in == "reward";

  Trainer(const PolicyGradientConfig& o, const OptimizerContext& c)
      : opt(o), ctx(c), policy(c.world, o.policy, o.learn_scale), algorithm(parse_algorithm(o.algorithm)),
        estimator(parse_kl_estimator(o.kl_estimator)), P(c.world.prompts()), G(o.num_generations), kl_coef(o.kl_coef),
        shaping(parse_reward_transform(o.reward_transform), o.reference_responses, o.reference_quantile, c,
                [&o](double r) { return clip(o, r); }),
        signals(c, o.early_stopping) {
    early.patience = o.patience;
  }

  static double clip(const PolicyGradientConfig& o, double r) {
    return o.reward_clip > 0 ? std::clamp(r, -o.reward_clip, o.reward_clip) : r;
  }

  // the training reward of a response to prompt p whose proxy score is r: clipped, then shaped
  double train_reward(int p, double r) const { return shaping(p, clip(opt, r)); }

  // draw G samples per prompt from the current policy, with rewards and log-probabilities
  Batch sample(int t) const {
    Batch b;
    const Eigen::Index N = static_cast<Eigen::Index>(P) * G;
    b.samples.resize(N);
    b.reward.resize(N);
    b.log_old.resize(N);
    b.log_ref.resize(N);
    if (ctx.candidates) {
      PolicyPassRequest request;
      request.draws = G;
      request.seed = ctx.seed;
      request.step = t;
      request.mean_feature = !first_update_sums_to_zero;
      policy_pass(ctx.backend, policy.table(), policy.theta(), request, b.pass);
      const RowMatrixXd& log_ref = ctx.world.candidates()->log_ref;
      for (int p = 0; p < P; ++p)
        for (int i = 0; i < G; ++i) {
          const Eigen::Index n = static_cast<Eigen::Index>(p) * G + i;
          const int k = b.pass.chosen(p, i);
          b.samples[n].prompt = p;
          b.samples[n].candidate = k;
          b.reward(n) = train_reward(p, ctx.candidates->values[v_proxy](p, k));
          b.log_old(n) = b.pass.log_prob(p, i);
          b.log_ref(n) = log_ref(p, k);
        }
      return b;
    }
    const Eigen::VectorXd mean = policy.mean(), scale = policy.scale();
#pragma omp parallel for schedule(static) if (worth_threads(16.0 * P * G * ctx.world.dim()))
    for (int p = 0; p < P; ++p) {
      const Eigen::Index first = static_cast<Eigen::Index>(p) * G;
      Responses r;
      draw_gaussian_policy_responses(ctx.world, mean, scale, ctx.gold, ctx.proxy.needs(), ctx.backend, ctx.seed, p,
                                     stream_id(Stream::policy_samples), static_cast<std::uint32_t>(t) * P + p, 0, G,
                                     r);
      Eigen::VectorXf proxy(G);
      ctx.proxy.score(ctx.backend, r, proxy);
      for (int i = 0; i < G; ++i) {
        Response s;
        s.prompt = p;
        s.y = r.x.row(i).transpose().cast<double>();
        b.reward(first + i) = train_reward(p, proxy(i));
        b.log_old(first + i) = policy.log_prob(s);
        b.log_ref(first + i) = policy.log_ref(s);
        b.samples[first + i] = std::move(s);
      }
    }
    return b;
  }

  // r' = r - kl_coef k(lr) where the KL is in the reward
  double shaped_reward(const Batch& b, Eigen::Index n) const {
    const double r = b.reward(n);
    return opt.kl_in == "reward" ? r - kl_coef * kl_estimate(estimator, b.log_old(n) - b.log_ref(n)) : r;
  }

  // one group's advantages from its shaped (and maybe whitened) rewards
  void group_advantages(const Eigen::Ref<const Eigen::VectorXd>& group, Eigen::Ref<Eigen::VectorXd> a) const {
    const double sum = group.sum(), mean = sum / G;
    switch (algorithm) {
      case Algorithm::reinforce: a = group; break;
      case Algorithm::rloo: a = (group.array() - (sum - group.array()) / (G - 1.0)).matrix(); break;
      case Algorithm::ppo: a = (group.array() - mean).matrix(); break;
      case Algorithm::grpo: {
        const double sd = std::sqrt((group.array() - mean).square().sum() / (G - 1.0));
        a = ((group.array() - mean) / (sd + 1e-8)).matrix();
        break;
      }
    }
  }

  // shaped rewards, whitening and advantages
  void advantages(Batch& b) const {
    const Eigen::Index N = b.reward.size();
    Eigen::VectorXd r(N);
    for (Eigen::Index n = 0; n < N; ++n) r(n) = shaped_reward(b, n);
    if (opt.whiten_rewards) {
      const double mean = r.mean();
      const double var = N > 1 ? (r.array() - mean).square().sum() / static_cast<double>(N - 1) : 0.0;
      r = (r.array() - mean) / std::sqrt(var + 1e-8);
    }
    b.advantage.resize(N);
    for (int p = 0; p < P; ++p)
      group_advantages(r.segment(static_cast<Eigen::Index>(p) * G, G), b.advantage.segment(p * G, G));
  }

  // dL/d log pi(y_n) for one sample at the current log-probability, over a (mini)batch of `count` samples
  double loss_coefficient(const Batch& b, Eigen::Index n, double log_prob, double count) const {
    const double A = b.advantage(n);
    double c = 0.0;
    if (algorithm == Algorithm::reinforce || algorithm == Algorithm::rloo) {
      c = -A;
    } else {
      const double ratio = std::exp(log_prob - b.log_old(n));
      const double clipped_ratio = std::clamp(ratio, 1.0 - opt.cliprange, 1.0 + opt.cliprange);
      if (ratio * A <= clipped_ratio * A) c = -A * ratio;
    }
    if (opt.kl_in == "loss") c += kl_coef * kl_estimate_derivative(estimator, log_prob - b.log_ref(n));
    return c / count;
  }

  // gradient of L over samples [first, last) of every prompt's group at the current theta (the first update:
  // at the sampling theta, from the sampling pass)
  Eigen::VectorXd gradient(const Batch& b, int first, int last, bool first_update) const {
    const double count = static_cast<double>(P) * (last - first);
    Eigen::MatrixXd slots;  // column p: prompt p's gradient block
    if (ctx.candidates) {
      PolicyPass current;
      if (!first_update) {
        current.chosen = b.pass.chosen;
        PolicyPassRequest request;
        request.mean_feature = true;
        policy_pass(ctx.backend, policy.table(), policy.theta(), request, current);
      }
      const PolicyPass& pass = first_update ? b.pass : current;
      RowMatrixXd coef = RowMatrixXd::Zero(P, G);
      for (int p = 0; p < P; ++p)
        for (int i = first; i < last; ++i)
          coef(p, i) = loss_coefficient(b, static_cast<Eigen::Index>(p) * G + i, pass.log_prob(p, i), count);
      policy_slots(ctx.backend, policy.table(), pass, coef, first, last, !(first_update && first_update_sums_to_zero),
                   slots);
    } else {
      slots.resize(policy.block_size(), P);
#pragma omp parallel for schedule(static) if (worth_threads(4.0 * P * ctx.world.dim() * (last - first)))
      for (int p = 0; p < P; ++p) {
        auto slot = slots.col(p);
        slot.setZero();
        const Eigen::Index base = static_cast<Eigen::Index>(p) * G;
        for (int i = first; i < last; ++i) {
          const Response& s = b.samples[base + i];
          policy.add_grad_log_prob(s, loss_coefficient(b, base + i, policy.log_prob(s), count), slot);
        }
      }
    }
    // prompt order: disjoint blocks (tabular) or a fixed-order sum (shared parameters)
    Eigen::VectorXd grad = Eigen::VectorXd::Zero(policy.parameters());
    for (int p = 0; p < P; ++p) grad.segment(policy.block_first(p), policy.block_size()) += slots.col(p);
    return grad;
  }

  void check_finite(const Eigen::VectorXd& grad, int t) const {
    if (!grad.allFinite() || !policy.theta().allFinite())
      throw std::overflow_error("policy_gradient diverged at step " + std::to_string(t + 1) +
                                " (a non-finite gradient or parameter); lower optimizer.learning_rate or set "
                                "optimizer.reward_clip");
  }

  MetricRow row(int step, double coef) const {
    MetricRow r = evaluate_policy(policy, ctx, opt.samples, step);
    r.kl_coef = coef;
    signals.fill(r, policy, opt.samples);
    return r;
  }

  // early stopping: true once the rows' validation signal has stalled for `patience` evaluations
  bool stalled(const std::vector<MetricRow>& rows) {
    return signals.stops_early() && early.observe(rows.back().validation_proxy, rows.size() - 1);
  }

  std::vector<MetricRow> run() {
    std::vector<MetricRow> rows{row(0, kl_coef)};
    if (stalled(rows)) {  // only when the signal is NaN and patience 1
      early.finish(rows, 0);
      return rows;
    }
    Adam adam(opt.learning_rate, policy.parameters());
    Eigen::VectorXd theta = policy.theta();
    const int M = minibatches;
    for (int t = 0; t < opt.steps; ++t) {
      Batch b = sample(t);
      advantages(b);
      // the updates: one step (reinforce, rloo) or epochs x minibatches (ppo, grpo)
      for (int e = 0; e < epochs; ++e)
        for (int j = 0; j < M; ++j) {
          const Eigen::VectorXd grad = gradient(b, j * G / M, (j + 1) * G / M, e == 0 && j == 0);
          adam.step(grad, theta);
          policy.set_theta(theta);
          check_finite(grad, t);
        }
      const double used = kl_coef;
      // the adaptive controller on the batch's mean k1 estimate
      if (opt.adaptive_kl) {
        const double kl_batch = (b.log_old - b.log_ref).mean();
        const double err = std::clamp(kl_batch / opt.adaptive_kl_target - 1.0, -0.2, 0.2);
        kl_coef = std::max(0.0, kl_coef * (1.0 + err * static_cast<double>(P) * G / opt.adaptive_kl_horizon));
      }
      const int step = t + 1;
      const bool stop = opt.max_kl > 0 && policy.mean_kl() >= opt.max_kl;
      if (stop || step % opt.eval_every == 0 || step == opt.steps) {
        rows.push_back(row(step, used));
        if (stalled(rows)) break;
      }
      if (stop) break;
    }
    early.finish(rows, 0);
    return rows;
  }
};

}  // namespace

std::vector<MetricRow> run_policy_gradient(const PolicyGradientConfig& opt, const OptimizerContext& ctx) {
  Trainer trainer(opt, ctx);
  return trainer.run();
}


namespace {

void validate(const PolicyGradientConfig& c, const Scenario& s, const Check& k, const std::string& path) {
  // rloo, ppo and grpo baselines come from the prompt's other generations
  k.at_least(c.num_generations, c.algorithm == "reinforce" ? 1 : 2, path + ".num_generations");
  if (c.num_mini_batches > c.num_generations && (c.algorithm == "ppo" || c.algorithm == "grpo"))
    k.fail(path + ".num_mini_batches", "at most num_generations (" + std::to_string(c.num_generations) +
                                           "): minibatches split each prompt's generations");
  validate_training(c, s, k, path);
}

// each step touches every prompt's generations, and in the categorical world each prompt's K candidate logits
OptimizerCost cost(const PolicyGradientConfig& c, const Scenario& s, int threads) {
  return training_cost(c, s, threads, 1.0, static_cast<double>(s.world.prompts) * c.num_generations);
}

using G = PolicyGradientConfig;
Table table() {
  Table t{training_fields<G>()};
  const std::vector<Field> own = {
      field<G>("algorithm", &G::algorithm,
               "advantages: reinforce A = r; rloo r minus the mean of the other generations of the prompt; ppo r "
               "minus the group mean (responses are single actions, so there is no value network), clipped ratio "
               "objective; grpo (r - group mean) / group sd, clipped ratio objective",
               one_of({"reinforce", "rloo", "ppo", "grpo"}))
          .alias("advantage_estimator"),
      field<G>("num_generations", &G::num_generations, "responses per prompt and step", at_least(1))
          .alias("n_samples_per_prompt")
          .alias("rloo_k")
          .allowed(">= 2 for rloo, ppo and grpo; >= 1 for reinforce"),
      field<G>("kl_coef", &G::kl_coef, "KL coefficient (the initial one when adaptive)", non_negative())
          .alias("init_kl_coef"),
      field<G>("adaptive_kl", &G::adaptive_kl,
               "Ziegler et al. 2019: after each step, e = clip(KL/target - 1, -0.2, 0.2), kl_coef *= 1 + e * "
               "(responses this step) / horizon, KL the batch's mean k1 estimate")
          .alias("adap_kl_ctrl"),
      field<G>("adaptive_kl_target", &G::adaptive_kl_target, "the controller's target KL", positive())
          .alias("kl_target")
          .alias("target"),
      field<G>("adaptive_kl_horizon", &G::adaptive_kl_horizon, "the controller's horizon, in sampled responses",
               positive())
          .alias("kl_horizon")
          .alias("horizon"),
      field<G>("kl_estimator", &G::kl_estimator,
               "per-sample estimate of KL from the log-ratio l = log pi - log pi_ref: k1 = l, k2 = l^2/2, k3 = e^-l "
               "- 1 + l",
               one_of({"k1", "k2", "k3"})),
      field<G>("kl_in", &G::kl_in,
               "reward: r - kl_coef * k(l) before advantages; loss: + kl_coef * mean k(l) in the loss (k3 in the "
               "loss, as GRPO, follows the reverse KL's gradient)",
               one_of({"reward", "loss"})),
      field<G>("max_kl", &G::max_kl, "a hard KL budget: stop once the exact KL reaches it (0: none)", non_negative()),
      field<G>("cliprange", &G::cliprange, "ppo, grpo: ratio clip", positive()).alias("eps_clip"),
      field<G>("num_ppo_epochs", &G::num_ppo_epochs, "ppo, grpo: passes over each batch", at_least(1))
          .alias("ppo_epochs"),
      field<G>("num_mini_batches", &G::num_mini_batches,
               "ppo, grpo: minibatches per pass (each prompt's generations split by index)", at_least(1))
          .allowed("[1, num_generations]"),
      field<G>("whiten_rewards", &G::whiten_rewards, "standardize the batch's rewards before advantages"),
      field<G>("reward_clip", &G::reward_clip, "clip proxy rewards to [-c, c] (0: none)", non_negative()),
      field<G>("reward_transform", &G::reward_transform,
               "shaping of the (clipped) proxy reward r against reference_responses pi_ref responses per prompt, "
               "drawn once per run: par (Preference As Reward, Fu et al. 2025): the mean of sigmoid(r - r_ref) over "
               "the references; log_sigmoid_centered (Wang et al. 2024): log sigmoid(r - q), q the "
               "reference_quantile of the prompt's reference rewards. Rows report the untransformed proxy",
               one_of({"none", "par", "log_sigmoid_centered"})),
      field<G>("reference_responses", &G::reference_responses,
               "par, log_sigmoid_centered: reference responses per prompt (PAR's paper: one is enough)", at_least(1)),
      field<G>("reference_quantile", &G::reference_quantile,
               "log_sigmoid_centered: the quantile of the references that centers the reward (0.85 in Wang et al.)",
               within(0.0, 1.0, "a number in [0, 1]")),
  };
  t.fields.insert(t.fields.end(), own.begin(), own.end());
  return t;
}

const OptimizerRegistration<G> registered(
    "policy_gradient",
    "one policy trained for `steps` steps: each step samples `num_generations` responses per prompt from the "
    "current policy, scores them with the proxy and takes Adam steps. Evaluated at step 0, every `eval_every` steps "
    "and at the end (one row each, param_name step, with the exact KL), so one run traces a curve through KL",
    table(), validate, nullptr, run_policy_gradient, cost);

}  // namespace

}  // namespace goodhart
