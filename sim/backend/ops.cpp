// ops.cpp — the one switch that picks a backend for each op.
// Contract: see ops.h; in a build without CUDA the cuda cases reach backend/cuda/cuda_absent.cpp, which throws;
// the ref cases run the plain double references.
#include "sim/backend/ops.h"

#include <stdexcept>

namespace goodhart {

Backend parse_backend(const std::string& name) {
  if (name == "cpu") return Backend::cpu;
  if (name == "auto") return cuda_device_available() ? Backend::cuda : Backend::cpu;
  if (name == "cuda") {
    std::string why;
    if (!cuda_device_available(&why)) throw std::invalid_argument("--backend cuda: " + why);
    return Backend::cuda;
  }
  throw std::invalid_argument("unknown backend '" + name + "' (expected auto, cpu or cuda)");
}

std::string backend_name(Backend b) {
  switch (b) {
    case Backend::cpu: return "cpu";
    case Backend::cuda: return "cuda";
    case Backend::ref: return "ref";
  }
  return "cpu";
}

void score_mlp(Backend b, const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out) {
  switch (b) {
    case Backend::cpu: return score_mlp_cpu(f, x, out);
    case Backend::cuda: return score_mlp_cuda(f, x, out);
    case Backend::ref: return score_mlp_ref(f, x, out);
  }
}

void bon_moments(Backend b, const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out) {
  switch (b) {
    case Backend::cpu: return bon_moments_cpu(weights, values, out);
    case Backend::cuda: return bon_moments_cuda(weights, values, out);
    case Backend::ref: return bon_moments_ref(weights, values, out);
  }
}

void policy_pass(Backend b, const PolicyTable& t, const Eigen::VectorXd& theta, const PolicyPassRequest& r,
                 PolicyPass& out) {
  switch (b) {
    case Backend::cpu: return policy_pass_cpu(t, theta, r, out);
    case Backend::cuda: return policy_pass_cuda(t, theta, r, out);
    case Backend::ref: return policy_pass_ref(t, theta, r, out);
  }
}

void policy_slots(Backend b, const PolicyTable& t, const PolicyPass& pass, const RowMatrixXd& coef, int first, int last,
                  bool with_mean, Eigen::MatrixXd& slots) {
  switch (b) {
    case Backend::cpu: return policy_slots_cpu(t, pass, coef, first, last, with_mean, slots);
    case Backend::cuda: return policy_slots_cuda(t, pass, coef, first, last, with_mean, slots);
    case Backend::ref: return policy_slots_ref(t, pass, coef, first, last, with_mean, slots);
  }
}

void tilt_sweep(Backend b, const TiltInput& in, std::span<const double> betas, TiltResult& out) {
  switch (b) {
    case Backend::cpu: return tilt_sweep_cpu(in, betas, out);
    case Backend::cuda: return tilt_sweep_cuda(in, betas, out);
    case Backend::ref: return tilt_sweep_ref(in, betas, out);
  }
}

void fdiv_sweep(Backend b, Divergence d, const TiltInput& in, std::span<const double> betas, TiltResult& out) {
  if (d == Divergence::kl && b != Backend::ref) return tilt_sweep(b, in, betas, out);
  switch (b) {
    case Backend::cpu: return fdiv_sweep_cpu(d, in, betas, out);
    case Backend::cuda: return fdiv_sweep_cuda(d, in, betas, out);
    case Backend::ref: return fdiv_sweep_ref(d, in, betas, out);
  }
}

}  // namespace goodhart
