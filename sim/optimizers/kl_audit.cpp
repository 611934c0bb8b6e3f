// kl_audit.cpp — the KL-estimator gradient audit (kl_audit.h), by enumeration of every prompt's candidates.
// Contract: for prompt p, pi the audited policy, pi_b the behaviour policy (= pi on-policy), q = pi_ref,
// s(k) = grad log pi(k|p), l = log pi - log q, l_b = log pi_b - log q, w = pi / pi_b; every gradient is a sum
// sum_k c(k) s(k) over the candidates, averaged over prompts:
//   grad KL(pi || q) = E_pi[l s]                       grad KL(q || pi) = -E_q[s] = -E_pi[e^-l s]
//   grad (1/2) E_pi[l^2] = E_pi[(l^2/2 + l) s]         grad J = E_pi[r s] - beta grad KL(pi || q)
// A configuration's per-sample KL gradient h(y) s(y), y ~ pi_b:
//   reward / none            h = k(l_b)          (the penalty is part of a reward: score function, no ratio)
//   reward / ratio           h = w k(l_b)        (PPO's surrogate: the ratio multiplies the whole advantage)
//   loss / none              h = k'(l)           (d k(l) / d theta with the samples held fixed)
//   loss / ratio             h = w (k(l) + k'(l))  (d [w k(l)] / d theta: an importance-weighted estimate)
//   loss / ratio_detached    h = w k'(l)         (the weight held constant)
// its expectation sum_k pi_b(k) h(k) s(k), its variance sum_k pi_b h^2 ||s||^2 - ||E||^2 per prompt; the whole
// update's per-sample gradient (rho r - beta h) s with rho = 1 (none) or w, against grad J. kl_estimated is
// E_pi_b[h0], h0 the logged estimate: k(l_b) (reward; times w with ratio) or k(l) (loss; times w with a ratio).
// `descends`: the first of the named targets within 1e-8 of the expected gradient relative to the largest target's
// norm (zero: the expected gradient itself within that), else none; "" when every target is 0 to rounding (their
// largest norm <= 1e-9 ||grad E_pi[r]||: pi = pi_ref, where all coincide).
// Threads: none (the audit's worlds are small; rows are the same everywhere).
#include "sim/optimizers/kl_audit.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "models/policy.h"
#include "sim/optimizers/adam.h"
#include "sim/optimizers/kl_estimators.h"

namespace goodhart {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

enum class Correction { none, ratio, ratio_detached };
const char* correction_name(Correction c) {
  return c == Correction::none ? "none" : c == Correction::ratio ? "ratio" : "ratio_detached";
}

struct Config {
  KlEstimator estimator;
  bool in_reward;
  Correction correction;
};

// the configurations audited at one state, in row order
std::vector<Config> configs(bool on_policy) {
  std::vector<Config> out;
  for (KlEstimator e : {KlEstimator::k1, KlEstimator::k2, KlEstimator::k3}) {
    out.push_back({e, true, Correction::none});
    if (!on_policy) out.push_back({e, true, Correction::ratio});
    out.push_back({e, false, Correction::none});
    out.push_back({e, false, Correction::ratio});
    if (!on_policy) out.push_back({e, false, Correction::ratio_detached});
  }
  return out;
}

// the exact gradient of J = mean_p E_pi[r] - beta mean_p KL(pi || pi_ref) at the policy's theta
Eigen::VectorXd objective_gradient(const Policy& policy, const World& world, const ResponseTable& table, double beta) {
  const int P = world.prompts();
  Eigen::VectorXd grad = Eigen::VectorXd::Zero(policy.parameters());
  for (int p = 0; p < P; ++p) {
    const Eigen::VectorXd lp = policy.log_probs(p);
    const Eigen::VectorXd lq = world.candidates()->log_ref.row(p).transpose();
    const Eigen::VectorXd r = table.values[v_proxy].row(p).transpose().cast<double>();
    const Eigen::VectorXd coef = lp.array().exp() * (r - beta * (lp - lq)).array() / P;
    policy.add_grad_candidates(p, lp, coef, grad.segment(policy.block_first(p), policy.block_size()));
  }
  return grad;
}

// one prompt's scores s(k) as the columns of a block_size x K matrix
Eigen::MatrixXd scores(const Policy& policy, int p, const Eigen::VectorXd& lp) {
  const int K = static_cast<int>(lp.size());
  Eigen::MatrixXd s = Eigen::MatrixXd::Zero(policy.block_size(), K);
  Eigen::VectorXd one_hot = Eigen::VectorXd::Zero(K);
  for (int k = 0; k < K; ++k) {
    one_hot(k) = 1.0;
    policy.add_grad_candidates(p, lp, one_hot, s.col(k));
    one_hot(k) = 0.0;
  }
  return s;
}

double cosine(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const double n = a.norm() * b.norm();
  return n > 0.0 ? a.dot(b) / n : nan;
}

double relative_error(const Eigen::VectorXd& estimate, const Eigen::VectorXd& exact) {
  const double n = exact.norm();
  return n > 0.0 ? (estimate - exact).norm() / n : nan;
}

// sums over prompts for one (behaviour, audited) pair of states
struct StateAudit {
  Eigen::VectorXd grad_kl, grad_reverse, grad_half_sq, grad_proxy;
  std::vector<Eigen::VectorXd> expected, expected_objective;  // per configuration
  std::vector<double> variance, estimated;
  double kl = 0.0, kl_reverse = 0.0;
};

StateAudit audit_state(const Policy& behaviour, const Policy& audited, const World& world, const ResponseTable& table,
                       double beta, const std::vector<Config>& cs) {
  const int P = world.prompts(), n = audited.parameters(), C = static_cast<int>(cs.size());
  StateAudit a;
  a.grad_kl = a.grad_reverse = a.grad_half_sq = a.grad_proxy = Eigen::VectorXd::Zero(n);
  a.expected.assign(C, Eigen::VectorXd::Zero(n));
  a.expected_objective.assign(C, Eigen::VectorXd::Zero(n));
  a.variance.assign(C, 0.0);
  a.estimated.assign(C, 0.0);
  for (int p = 0; p < P; ++p) {
    const Eigen::VectorXd lp = audited.log_probs(p), lb = behaviour.log_probs(p);
    const Eigen::VectorXd lq = world.candidates()->log_ref.row(p).transpose();
    const Eigen::VectorXd r = table.values[v_proxy].row(p).transpose().cast<double>();
    const Eigen::ArrayXd pi = lp.array().exp(), pb = lb.array().exp(), q = lq.array().exp();
    const Eigen::ArrayXd l = (lp - lq).array(), l_b = (lb - lq).array(), w = (lp - lb).array().exp();
    const Eigen::MatrixXd s = scores(audited, p, lp);
    const Eigen::ArrayXd s_sq = s.colwise().squaredNorm().transpose().array();
    const int first = audited.block_first(p), size = audited.block_size();
    auto add = [&](Eigen::VectorXd& into, const Eigen::ArrayXd& coef) {
      into.segment(first, size) += s * coef.matrix() / P;
    };
    add(a.grad_kl, pi * l);
    add(a.grad_reverse, -q);
    add(a.grad_half_sq, pi * (0.5 * l.square() + l));
    add(a.grad_proxy, pi * r.array());
    a.kl += (pi * l).sum() / P;
    a.kl_reverse += (q * -l).sum() / P;
    for (int c = 0; c < C; ++c) {
      const Config& cfg = cs[c];
      const Eigen::ArrayXd k_b = l_b.unaryExpr([&](double x) { return kl_estimate(cfg.estimator, x); });
      const Eigen::ArrayXd k = l.unaryExpr([&](double x) { return kl_estimate(cfg.estimator, x); });
      const Eigen::ArrayXd dk = l.unaryExpr([&](double x) { return kl_estimate_derivative(cfg.estimator, x); });
      const bool weighted = cfg.correction != Correction::none;
      const Eigen::ArrayXd rho = weighted ? w : Eigen::ArrayXd::Ones(w.size());
      Eigen::ArrayXd h, logged;
      if (cfg.in_reward) {
        h = rho * k_b;
        logged = h;
      } else {
        if (cfg.correction == Correction::none)
          h = dk;
        else if (cfg.correction == Correction::ratio)
          h = w * (k + dk);
        else
          h = w * dk;
        logged = rho * k;
      }
      Eigen::VectorXd e = s * (pb * h).matrix();
      a.variance[c] += ((pb * h.square() * s_sq).sum() - e.squaredNorm()) / P;
      a.estimated[c] += (pb * logged).sum() / P;
      a.expected[c].segment(first, size) += e / P;
      a.expected_objective[c].segment(first, size) += s * (pb * (rho * r.array() - beta * h)).matrix() / P;
    }
  }
  return a;
}

// the target an expected gradient equals (kl_audit.h's `descends`)
std::string descended(const Eigen::VectorXd& e, const StateAudit& a) {
  const std::vector<std::pair<const char*, Eigen::VectorXd>> targets = {
      {"kl", a.grad_kl},
      {"reverse_kl", a.grad_reverse},
      {"half_squared_log_ratio", a.grad_half_sq},
      {"kl_minus_reverse_kl", a.grad_kl - a.grad_reverse},
      {"half_squared_log_ratio_minus_kl", a.grad_half_sq - a.grad_kl}};
  double scale = 0.0;
  for (const auto& t : targets) scale = std::max(scale, t.second.norm());
  if (!(scale > 1e-9 * a.grad_proxy.norm())) return "";  // pi = pi_ref up to rounding
  const double tolerance = 1e-8 * scale;
  if (e.norm() <= tolerance) return "zero";
  for (const auto& [name, g] : targets)
    if ((e - g).norm() <= tolerance) return name;
  return "none";
}

}  // namespace

int default_off_policy_steps(const PolicyGradientConfig& opt) {
  return std::max(1, opt.num_ppo_epochs * opt.num_mini_batches - 1);
}

std::vector<KlAuditRow> audit_kl_at(const PolicyGradientConfig& opt, const World& world, const ResponseTable& table,
                                    const Eigen::VectorXd& behaviour_theta, const Eigen::VectorXd& audited_theta,
                                    bool on_policy) {
  Policy behaviour(world, opt.policy, opt.learn_scale), audited(world, opt.policy, opt.learn_scale);
  behaviour.set_theta(behaviour_theta);
  audited.set_theta(audited_theta);
  const std::vector<Config> cs = configs(on_policy);
  const StateAudit a = audit_state(behaviour, audited, world, table, opt.kl_coef, cs);
  const Eigen::VectorXd grad_objective = a.grad_proxy - opt.kl_coef * a.grad_kl;
  std::vector<KlAuditRow> rows;
  for (std::size_t c = 0; c < cs.size(); ++c) {
    KlAuditRow row;
    row.estimator = kl_estimator_name(cs[c].estimator);
    row.kl_in = cs[c].in_reward ? "reward" : "loss";
    row.correction = correction_name(cs[c].correction);
    row.kl = a.kl;
    row.kl_reverse = a.kl_reverse;
    row.kl_estimated = a.estimated[c];
    row.grad_kl_norm = a.grad_kl.norm();
    row.expected_grad_norm = a.expected[c].norm();
    row.cos_kl = cosine(a.expected[c], a.grad_kl);
    row.rel_err_kl = relative_error(a.expected[c], a.grad_kl);
    row.cos_objective = cosine(a.expected_objective[c], grad_objective);
    row.rel_err_objective = relative_error(a.expected_objective[c], grad_objective);
    row.variance_per_sample = a.variance[c];
    row.descends = descended(a.expected[c], a);
    if (row.descends.empty()) row.cos_kl = row.rel_err_kl = nan;  // against a gradient that is rounding
    if (row.descends == "zero") row.cos_kl = nan;  // the direction of a zero gradient's rounding: no direction
    rows.push_back(row);
  }
  return rows;
}

std::vector<KlAuditRow> audit_kl(const PolicyGradientConfig& opt, const World& world, const ResponseTable& table,
                                 int off_policy_steps) {
  if (!world.candidates())
    throw std::invalid_argument("audit-kl enumerates every response: it needs a world with candidates "
                                "(world.type categorical or scored), not a gaussian world");
  if (off_policy_steps < 1) throw std::invalid_argument("audit-kl: off_policy_steps must be at least 1");
  Policy policy(world, opt.policy, opt.learn_scale);

  // the states audited and those they are audited against
  std::vector<int> evaluated;
  for (int t = 0; t < opt.steps; t += opt.eval_every) evaluated.push_back(t);
  evaluated.push_back(opt.steps);
  std::map<int, Eigen::VectorXd> states;
  for (int t : evaluated) {
    states[t];
    states[t + off_policy_steps];
  }
  const int last = states.rbegin()->first;

  // the exact-gradient trainer's trajectory
  Adam adam(opt.learning_rate, policy.parameters());
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(policy.parameters());
  for (int t = 0;; ++t) {
    if (states.count(t)) states[t] = theta;
    if (t == last) break;
    policy.set_theta(theta);
    const Eigen::VectorXd grad = objective_gradient(policy, world, table, opt.kl_coef);
    if (!grad.allFinite())
      throw std::domain_error("audit-kl: the exact gradient became non-finite at step " + std::to_string(t) +
                              "; lower optimizer.learning_rate");
    adam.step(-grad, theta);
  }

  std::vector<KlAuditRow> rows;
  for (int t : evaluated)
    for (int m : {0, off_policy_steps})
      for (KlAuditRow& row : audit_kl_at(opt, world, table, states.at(t), states.at(t + m), m == 0)) {
        row.step = t;
        row.off_policy_steps = m;
        rows.push_back(std::move(row));
      }
  return rows;
}

}  // namespace goodhart
