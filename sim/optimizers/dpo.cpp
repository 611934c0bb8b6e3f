// dpo.cpp — direct alignment on the scenario's preference pairs, no proxy: DPO's sigmoid loss (Rafailov et al.
// 2023), -log sigmoid(beta h), IPO's squared loss (Azar et al. 2023), (h - 1/(2 beta))^2, where
// h = (log pi(w) - log pi_ref(w)) - (log pi(l) - log pi_ref(l)) for the preferred w and dispreferred l, or chiPO's
// (Huang et al. 2024) -log sigmoid(clip_{2 r_max}(beta (phi(z_w) - phi(z_l)))), z = pi / pi_ref, phi(z) = z + log z:
// DPO with the link of the chi-squared + KL regularizer in place of log z.
// Contract: one run per beta, each from theta = 0 (= pi_ref), opt.steps Adam steps (0.9, 0.999, 1e-8) on
// minibatches of batch_size training pairs that walk through one permutation per epoch, drawn from
// CounterRng(seed, dpo_batches, epoch) (a minibatch may straddle two epochs). The training pairs are the proxy's
// (the same make_preference_pairs call); implicit_accuracy is on the held-out pairs (the training pairs when there
// are none). Rows at step 0, every eval_every steps and at the last step. In a world with candidates each step's
// log-probabilities and gradient are the backend ops policy_pass and policy_slots on ctx.backend (float feature
// products on the CPU, as policy_gradient's); sums run in pair order, so rows are identical at any thread count.
// Every row gets policy_eval.h's TrainingSignals (validation_proxy with early_stopping heldout_proxy or monitor,
// ensemble_disagreement with an ensemble proxy). Early stopping (heldout_proxy): each beta's run is stopped on its
// own, as policy_gradient's (once `patience` evaluations have not improved on the best, the run ends at the best
// evaluation, its row stopped = 1). The validation RM is fitted to the held-out pairs, which DPO never trains on.
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "models/preferences.h"
#include "sim/optimizers/dpo.h"
#include "sim/optimizers/registry.h"
#include "sim/optimizers/adam.h"
#include "sim/optimizers/policy_eval.h"
#include "sim/scenario/internal.h"

namespace goodhart {

namespace dpo_detail {

namespace {

// log pi_theta(s) - log pi_ref(s): the implicit reward / beta
double log_ratio(const Policy& policy, const Response& s) { return policy.log_prob(s) - policy.log_ref(s); }

// sigmoid(x) without overflow
double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// log(1 + exp(x)) without overflow
double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

}  // namespace

void pair_samples(const PreferencePairs& pairs, std::vector<Response>& a, std::vector<Response>& b) {
  const auto side = [](const Responses& r, std::vector<Response>& out) {
    out.assign(r.id.size(), Response{});
    for (std::size_t i = 0; i < r.id.size(); ++i) {
      out[i].prompt = r.id[i].prompt;
      out[i].candidate = r.id[i].candidate;
      if (out[i].candidate < 0) out[i].y = r.x.row(static_cast<Eigen::Index>(i)).transpose().cast<double>();
    }
  };
  side(pairs.a, a);
  side(pairs.b, b);
}

// the loss of one pair given the log-ratios lw = log pi(w) - log pi_ref(w) and ll (the loser's), and its
// derivatives in them
double pair_loss(double lw, double ll, const DpoConfig& opt, double beta, double& d_w, double& d_l) {
  if (opt.loss_type == "chi_po") {
    const double u = beta * ((std::exp(lw) + lw) - (std::exp(ll) + ll)), limit = 2.0 * opt.r_max;
    if (opt.r_max > 0.0 && std::abs(u) > limit) {  // clipped: flat
      d_w = d_l = 0.0;
      return softplus(u > 0.0 ? -limit : limit);
    }
    const double du = -sigmoid(-u);
    d_w = du * beta * (std::exp(lw) + 1.0);
    d_l = -du * beta * (std::exp(ll) + 1.0);
    return softplus(-u);
  }
  const double h = lw - ll;
  double dh, loss;
  if (opt.loss_type == "ipo") {
    const double r = h - 0.5 / beta;
    dh = 2.0 * r;
    loss = r * r;
  } else {
    dh = -beta * sigmoid(-beta * h);
    loss = softplus(-beta * h);
  }
  d_w = dh;
  d_l = -dh;
  return loss;
}

double batch_loss(const Policy& policy, const std::vector<Response>& a, const std::vector<Response>& b,
                  const Eigen::VectorXd& label, const std::vector<int>& batch, const DpoConfig& opt, double beta,
                  Eigen::VectorXd* grad, Backend backend) {
  if (grad) grad->setZero(policy.parameters());
  if (batch.empty()) return 0.0;
  const double inv = 1.0 / static_cast<double>(batch.size());
  const int R = static_cast<int>(batch.size());
  // preferred w and dispreferred l of each pair by its label
  const auto preferred = [&](int i) { return label(i) > 0.5 ? std::pair{&a[i], &b[i]} : std::pair{&b[i], &a[i]}; };
  double loss = 0.0;
  if (a[batch.front()].candidate < 0) {  // a world without candidates: the policy's densities
    for (int i : batch) {
      const auto [w, l] = preferred(i);
      double d_w = 0.0, d_l = 0.0;
      loss += pair_loss(log_ratio(policy, *w), log_ratio(policy, *l), opt, beta, d_w, d_l);
      if (!grad) continue;
      policy.add_grad_log_prob(*w, d_w * inv, *grad);
      policy.add_grad_log_prob(*l, d_l * inv, *grad);
    }
    return loss * inv;
  }
  // candidates: one pass row per pair (both sides share its prompt), log pi of its w and l
  std::vector<int> prompts(static_cast<std::size_t>(R));
  PolicyPass pass;
  pass.chosen.resize(R, 2);
  for (int r = 0; r < R; ++r) {
    const auto [w, l] = preferred(batch[static_cast<std::size_t>(r)]);
    prompts[static_cast<std::size_t>(r)] = w->prompt;
    pass.chosen(r, 0) = w->candidate;
    pass.chosen(r, 1) = l->candidate;
  }
  // a loss of h alone has coefficients that sum to zero per pair, so E_pi[feature] drops out of the gradient;
  // chiPO's do not
  const bool with_mean = opt.loss_type == "chi_po";
  PolicyPassRequest request;
  request.prompts = &prompts;
  request.mean_feature = with_mean && grad;
  policy_pass(backend, policy.table(), policy.theta(), request, pass);
  RowMatrixXd coef(R, 2);
  for (int r = 0; r < R; ++r) {
    const auto [w, l] = preferred(batch[static_cast<std::size_t>(r)]);
    double d_w = 0.0, d_l = 0.0;
    loss += pair_loss(pass.log_prob(r, 0) - policy.log_ref(*w), pass.log_prob(r, 1) - policy.log_ref(*l), opt, beta,
                      d_w, d_l);
    coef(r, 0) = d_w * inv;
    coef(r, 1) = d_l * inv;
  }
  if (grad) {
    Eigen::MatrixXd slots;
    policy_slots(backend, policy.table(), pass, coef, 0, 2, with_mean, slots);
    for (int r = 0; r < R; ++r)
      grad->segment(policy.block_first(prompts[static_cast<std::size_t>(r)]), policy.block_size()) += slots.col(r);
  }
  return loss * inv;
}

void train(Policy& policy, const std::vector<Response>& a, const std::vector<Response>& b,
           const Eigen::VectorXd& label, const DpoConfig& opt, double beta, std::uint64_t seed, Backend backend,
           const std::function<void(int)>& on_eval) {
  std::function<bool(int)> go;
  if (on_eval)
    go = [&on_eval](int step) {
      on_eval(step);
      return true;
    };
  train_until(policy, a, b, label, opt, beta, seed, backend, go);
}

void train_until(Policy& policy, const std::vector<Response>& a, const std::vector<Response>& b,
                 const Eigen::VectorXd& label, const DpoConfig& opt, double beta, std::uint64_t seed,
                 Backend backend, const std::function<bool(int)>& on_eval) {
  const int n = static_cast<int>(a.size()), batch_size = opt.batch_size;
  Eigen::VectorXd theta = policy.theta(), grad;
  Adam adam(opt.learning_rate, theta.size());
  std::vector<int> order(static_cast<std::size_t>(n)), batch(static_cast<std::size_t>(batch_size));
  int pos = n;  // position in the current epoch's permutation; n: draw the next one
  std::uint32_t epoch = 0;
  if (on_eval && !on_eval(0)) return;
  for (int step = 1; step <= opt.steps; ++step) {
    // the next batch_size pairs of the walk through per-epoch permutations (Fisher-Yates on counter uniforms)
    for (int j = 0; j < batch_size && n > 0; ++j) {
      if (pos == n) {
        std::iota(order.begin(), order.end(), 0);
        CounterRng rng(seed, Stream::dpo_batches, epoch++);
        for (int i = n - 1; i > 0; --i) std::swap(order[i], order[static_cast<int>(rng.uniform() * (i + 1))]);
        pos = 0;
      }
      batch[j] = order[pos++];
    }
    batch_loss(policy, a, b, label, n > 0 ? batch : std::vector<int>{}, opt, beta, &grad, backend);
    adam.step(grad, theta);
    policy.set_theta(theta);
    if (on_eval && (step % opt.eval_every == 0 || step == opt.steps) && !on_eval(step)) return;
  }
}

double implicit_accuracy(const Policy& policy, const std::vector<Response>& a, const std::vector<Response>& b,
                         const Eigen::VectorXd& label, double beta) {
  if (a.empty()) return not_applicable;
  // candidates: log pi - log pi_ref of a prompt's candidates, computed once per prompt that appears
  std::vector<Eigen::VectorXd> ratio;
  auto implicit = [&](const Response& s) {
    if (s.candidate < 0) return log_ratio(policy, s);
    if (ratio.size() <= static_cast<std::size_t>(s.prompt)) ratio.resize(static_cast<std::size_t>(s.prompt) + 1);
    Eigen::VectorXd& r = ratio[static_cast<std::size_t>(s.prompt)];
    if (r.size() == 0) {
      r = policy.log_probs(s.prompt);
      for (Eigen::Index k = 0; k < r.size(); ++k) {
        Response c;
        c.prompt = s.prompt;
        c.candidate = static_cast<int>(k);
        r(k) -= policy.log_ref(c);
      }
    }
    return r(s.candidate);
  };
  // a tie: log-ratios closer than the rounding of a log-softmax (at pi_ref every pair is a tie, accuracy 1/2)
  const double tie = 1e-10;
  double correct = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double h = implicit(a[i]) - implicit(b[i]);
    correct += std::abs(h) <= tie ? 0.5 : ((beta * h > 0) == (label(static_cast<Eigen::Index>(i)) > 0.5) ? 1.0 : 0.0);
  }
  return correct / static_cast<double>(a.size());
}

}  // namespace dpo_detail

std::vector<MetricRow> run_dpo(const DpoConfig& opt, const OptimizerContext& ctx) {
  using namespace dpo_detail;
  const PreferenceConfig& prefs = ctx.config.preferences;
  // the proxy's training pairs (the same call, so the same pairs) and the held-out pairs
  std::vector<Response> train_a, train_b, test_a, test_b;
  const PreferencePairs pairs = make_preference_pairs(prefs, ctx.world, ctx.gold, ctx.proxy.needs(), ctx.backend,
                                                      ctx.seed, prefs.n_pairs, Stream::preference_pairs,
                                                      Stream::preference_labels);
  pair_samples(pairs, train_a, train_b);
  Eigen::VectorXd test_label = pairs.label;
  if (prefs.heldout_pairs > 0) {
    const PreferencePairs heldout = make_preference_pairs(prefs, ctx.world, ctx.gold, ctx.proxy.needs(), ctx.backend,
                                                          ctx.seed, prefs.heldout_pairs, Stream::heldout_pairs,
                                                          Stream::heldout_labels);
    pair_samples(heldout, test_a, test_b);
    test_label = heldout.label;
  } else {
    test_a = train_a;
    test_b = train_b;
  }
  // one run per beta, from pi_ref
  const std::vector<double>& betas = opt.beta;
  std::vector<MetricRow> rows;
  const TrainingSignals signals(ctx, opt.early_stopping);
  for (double beta : betas) {
    Policy policy(ctx.world, opt.policy, opt.learn_scale);
    policy.set_theta(Eigen::VectorXd::Zero(policy.parameters()));
    const std::size_t first = rows.size();
    EarlyStopping early;
    early.patience = opt.patience;
    train_until(policy, train_a, train_b, pairs.label, opt, beta, ctx.seed, ctx.backend, [&](int step) {
      MetricRow row = evaluate_policy(policy, ctx, opt.samples, step);
      row.param_name = "step";
      row.param = step;
      row.step = step;
      row.beta = beta;
      row.kl_coef = not_applicable;
      row.implicit_accuracy = implicit_accuracy(policy, test_a, test_b, test_label, beta);
      signals.fill(row, policy, opt.samples);
      rows.push_back(std::move(row));
      return !(signals.stops_early() && early.observe(rows.back().validation_proxy, rows.size() - 1 - first));
    });
    early.finish(rows, first);
  }
  return rows;
}


namespace {

void resolve(DpoConfig& c, const std::vector<std::string>&) {
  if (c.beta.empty()) c.beta = {0.1};
}

void validate(const DpoConfig& c, const Scenario& s, const Check& k, const std::string& path) {
  if (s.proxy.type != "learned")
    k.fail(path + ".type", "dpo trains on the preference pairs: proxy.type learned (its preferences section)");
  if (c.r_max != 0.0 && c.loss_type != "chi_po")
    k.fail(path + ".r_max", "0 unless loss_type is chi_po (r_max clips chiPO's margin), got " +
                                scenario_detail::number_text(c.r_max));
  validate_training(c, s, k, path);
}

// each step a minibatch of pairs, and in the categorical world each prompt's K candidate logits; each evaluation
// sums over the candidates or draws
OptimizerCost cost(const DpoConfig& c, const Scenario& s, int threads) {
  return training_cost(c, s, threads, std::max<double>(1.0, c.beta.size()), 2.0 * c.batch_size);
}

using D = DpoConfig;
Table table() {
  Table t{training_fields<D>()};
  t.fields.push_back(field<D>("beta", &D::beta, "DPO's beta; one training run per value", positive()));
  t.fields.push_back(field<D>("loss_type", &D::loss_type,
                              "sigmoid: DPO's -log sigmoid(beta h); ipo: IPO's (h - 1/(2 beta))^2, h the difference "
                              "of the pair's log-ratios log(pi / pi_ref); chi_po: chiPO's (Huang et al. 2024) "
                              "-log sigmoid(clip(beta (phi(z_w) - phi(z_l)))), z = pi / pi_ref and phi(z) = z + log z "
                              "(the link of the chi-squared + KL regularizer, kl_optimum's divergence chi2_kl, in "
                              "place of DPO's log z), clipped to [-2 r_max, 2 r_max]",
                              one_of({"sigmoid", "ipo", "chi_po"})));
  t.fields.push_back(field<D>("r_max", &D::r_max,
                              "chi_po: R_max of Huang et al.'s clip_{2 R_max} (the reward range their analysis "
                              "assumes); the loss is flat, no gradient, once |beta (phi(z_w) - phi(z_l))| > 2 r_max. "
                              "0: no clip",
                              non_negative())
                         .allowed(">= 0; nonzero needs loss_type chi_po"));
  t.fields.push_back(field<D>("batch_size", &D::batch_size, "pairs per step (a fresh permutation per epoch)",
                              at_least(1)));
  return t;
}

const OptimizerRegistration<D> registered(
    "dpo",
    "DPO (Rafailov et al. 2023, loss_type sigmoid), IPO (Azar et al. 2023, ipo) or chiPO (Huang et al. 2024, "
    "chi_po) on the scenario's training "
    "preference pairs, one run per beta; rows as for policy_gradient, plus implicit_accuracy on the held-out pairs. "
    "Needs a learned proxy's preferences; the proxy itself is not used",
    table(), validate, resolve, run_dpo, cost);

}  // namespace

}  // namespace goodhart
