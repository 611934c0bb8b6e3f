// policy.cpp — the policies trained by policy_gradient and dpo: log-probabilities, their gradients, exact KL and
// draws.
// Contract (see policy.h):
//   tabular     theta has P*K entries; log pi(k|p) = log_softmax_k(log_ref[p,k] + theta[p*K + k]);
//               d log pi(k|p) / d theta[p*K + l] = [l == k] - pi(l|p), zero outside prompt p's block.
//   log_linear  theta has d entries; log pi(k|p) = log_softmax_k(log_ref[p,k] + theta . phi[p,k]) with phi the
//               world's feature row p*K + k; d log pi(k|p) / d theta = phi[p,k] - E_pi[phi[p,.]].
//   mean_shift  theta = delta (d) [+ rho (d) when learn_scale]; pi = N(mu + delta, diag(s'^2)), s' = s e^rho;
//               log_prob / log_ref are log densities; with m = mu + delta,
//               d/d delta_j = (y_j - m_j) / s'_j^2, d/d rho_j = (y_j - m_j)^2 / s'_j^2 - 1.
// Exact KL(pi || pi_ref): categorical sum_k pi_k (log pi_k - log pi_ref_k) (clamped at 0 against rounding);
// gaussian closed form sum_j [log(s_j / s'_j) + (s'_j^2 + delta_j^2) / (2 s_j^2) - 1/2], the same for every
// prompt. Everything in double (float features converted as they are read, no double copy); log-sum-exp keeps
// log_probs normalized for any theta; a zero offset returns log pi_ref itself, so theta = 0 gives KL 0 exactly.
#include "models/policy.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>
#include <vector>

#include "sim/numeric/cdf_walk.h"
#include "sim/numeric/gaussian_density.h"

namespace goodhart {

namespace {

// log_softmax of a logit vector, by log-sum-exp
Eigen::VectorXd log_softmax(Eigen::VectorXd logits) {
  const double m = logits.maxCoeff();
  const double lse = m + std::log((logits.array() - m).exp().sum());
  logits.array() -= lse;
  return logits;
}

// out(k) += phi.row(k) . theta in double, each feature converted as it is read (raw pointers: the loops vectorize)
void add_offsets(const Eigen::Map<const RowMatrixXf>& phi, const Eigen::VectorXd& theta, Eigen::VectorXd& out) {
  const int d = static_cast<int>(phi.cols());
  const double* t = theta.data();
  for (Eigen::Index k = 0; k < phi.rows(); ++k) {
    const float* row = phi.data() + k * d;
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int j = 0; j < d; ++j) s += static_cast<double>(row[j]) * t[j];
    out(k) += s;
  }
}

}  // namespace

Policy::Policy(const World& world, const std::string& kind, bool learn_scale)
    : world_(&world), candidates_(world.candidates()), ref_(world.gaussian()) {
  const std::string k = kind == "auto" ? (candidates_ ? "log_linear" : "mean_shift") : kind;
  if (k == "tabular") {
    kind_ = Kind::tabular;
  } else if (k == "log_linear") {
    kind_ = Kind::log_linear;
  } else if (k == "mean_shift") {
    kind_ = Kind::mean_shift;
  } else {
    throw std::invalid_argument("unknown policy '" + kind + "'");
  }
  if (kind_ == Kind::mean_shift ? !ref_ : !candidates_)
    throw std::invalid_argument("policy '" + k + "' needs a world with " +
                                (kind_ == Kind::mean_shift ? "a gaussian pi_ref" : "enumerable candidates"));
  learn_scale_ = kind_ == Kind::mean_shift && learn_scale;
  if (candidates_) {
    table_.features = &candidates_->features;
    table_.log_ref = &candidates_->log_ref;
    table_.tabular = kind_ == Kind::tabular;
  }
  const int n = kind_ == Kind::tabular      ? world.prompts() * candidates_->count
                : kind_ == Kind::log_linear ? world.dim()
                                            : (learn_scale_ ? 2 : 1) * world.dim();
  set_theta(Eigen::VectorXd::Zero(n));
}

void Policy::set_theta(const Eigen::VectorXd& theta) { theta_ = theta; }

// over candidates

Eigen::VectorXd Policy::log_probs(int prompt) const {
  if (kind_ == Kind::mean_shift) throw std::logic_error("log_probs: a gaussian policy has no candidates");
  Eigen::VectorXd logits = candidates_->log_ref.row(prompt).transpose();
  // a zero offset is pi_ref exactly (renormalizing would add rounding, and KL 1e-16 at step 0)
  const auto offset = theta_.segment(block_first(prompt), block_size());
  if ((offset.array() == 0.0).all()) return logits;
  if (kind_ == Kind::tabular) {
    logits += offset;
  } else {
    add_offsets(candidates_->prompt_features(prompt), theta_, logits);
  }
  return log_softmax(std::move(logits));
}

int Policy::block_first(int prompt) const {
  return kind_ == Kind::tabular ? prompt * candidates_->count : 0;
}

int Policy::block_size() const { return kind_ == Kind::tabular ? candidates_->count : parameters(); }

void Policy::add_grad_candidates(int prompt, const Eigen::VectorXd& log_probs, const Eigen::VectorXd& coef,
                                 Eigen::Ref<Eigen::VectorXd> block) const {
  // sum_k coef_k (e_k - pi) = coef - (sum coef) pi, then mapped through the features for log_linear
  const Eigen::VectorXd w = coef - coef.sum() * log_probs.array().exp().matrix();
  if (kind_ == Kind::tabular) {
    block += w;
    return;
  }
  // block(j) += sum_k phi(k, j) w(k), row by row (vectorized over j)
  const auto phi = candidates_->prompt_features(prompt);
  const int d = static_cast<int>(phi.cols());
  double* out = block.data();
  for (Eigen::Index k = 0; k < phi.rows(); ++k) {
    const float* row = phi.data() + k * d;
    const double wk = w(k);
    for (int j = 0; j < d; ++j) out[j] += static_cast<double>(row[j]) * wk;
  }
}

// gaussian pi_ref

Eigen::VectorXd Policy::mean() const { return ref_->mean + theta_.head(world_->dim()); }

Eigen::VectorXd Policy::scale() const {
  if (!learn_scale_) return ref_->scale;
  return (ref_->scale.array() * theta_.tail(world_->dim()).array().exp()).matrix();
}

// every kind

double Policy::log_prob(const Response& s) const {
  if (kind_ != Kind::mean_shift) return log_probs(s.prompt)(s.candidate);
  return diagonal_gaussian_log_density(s.y, mean(), scale());
}

double Policy::log_ref(const Response& s) const { return world_->log_ref(s); }

void Policy::add_grad_log_prob(const Response& s, double weight, Eigen::Ref<Eigen::VectorXd> grad) const {
  if (kind_ != Kind::mean_shift) {
    Eigen::VectorXd coef = Eigen::VectorXd::Zero(candidates_->count);
    coef(s.candidate) = weight;
    add_grad_candidates(s.prompt, log_probs(s.prompt), coef, grad.segment(block_first(s.prompt), block_size()));
    return;
  }
  const int d = world_->dim();
  const Eigen::VectorXd sd = scale();
  const Eigen::ArrayXd z = (s.y - mean()).array() / sd.array();
  grad.head(d).array() += weight * z / sd.array();
  if (learn_scale_) grad.tail(d).array() += weight * (z.square() - 1.0);
}

double Policy::kl(int prompt) const {
  if (kind_ != Kind::mean_shift) {
    const Eigen::VectorXd lp = log_probs(prompt);
    const Eigen::VectorXd ref = candidates_->log_ref.row(prompt).transpose();
    return std::max(0.0, (lp.array().exp() * (lp - ref).array()).sum());
  }
  const Eigen::ArrayXd s = ref_->scale.array(), s2 = scale().array(), delta = theta_.head(world_->dim()).array();
  return std::max(0.0, ((s / s2).log() + (s2.square() + delta.square()) / (2.0 * s.square()) - 0.5).sum());
}

double Policy::mean_kl() const {
  if (kind_ == Kind::mean_shift) return kl(0);
  double total = 0.0;
  for (int p = 0; p < world_->prompts(); ++p) total += kl(p);
  return total / world_->prompts();
}

Response Policy::sample(int prompt, CounterRng& rng) const {
  Response s;
  s.prompt = prompt;
  if (kind_ != Kind::mean_shift) {
    draw_candidates(log_probs(prompt).array().exp(), rng, {&s.candidate, 1});
    return s;
  }
  const Eigen::VectorXd m = mean(), sd = scale();
  s.y.resize(world_->dim());
  for (int j = 0; j < world_->dim(); ++j) s.y(j) = m(j) + sd(j) * rng.normal();
  return s;
}

}  // namespace goodhart
