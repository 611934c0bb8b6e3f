// ops.cpp — the one switch that picks a backend for each op.
// Contract: see ops.h; the CUDA cases fail with a clear error until the CUDA backend is built.
#include "sim/backend/ops.h"

#include <stdexcept>

namespace goodhart {

namespace {
[[noreturn]] void no_cuda() { throw std::runtime_error("the CUDA backend is not built into this binary"); }
}  // namespace

Backend parse_backend(const std::string& name) {
  if (name == "cpu" || name == "auto") return Backend::cpu;
  if (name == "cuda") throw std::invalid_argument("--backend cuda: the CUDA backend is not built into this binary");
  throw std::invalid_argument("unknown backend '" + name + "' (expected auto, cpu or cuda)");
}

std::string backend_name(Backend b) { return b == Backend::cpu ? "cpu" : "cuda"; }

void score_mlp(Backend b, const Mlp& f, const RowMatrixXf& x, Eigen::Ref<Eigen::VectorXf> out) {
  switch (b) {
    case Backend::cpu: return score_mlp_cpu(f, x, out);
    case Backend::cuda: no_cuda();
  }
}

void bon_moments(Backend b, const Eigen::MatrixXd& weights, const Eigen::MatrixXf& values, Eigen::MatrixXd& out) {
  switch (b) {
    case Backend::cpu: return bon_moments_cpu(weights, values, out);
    case Backend::cuda: no_cuda();
  }
}

void tilt_sweep(Backend b, const TiltInput& in, std::span<const double> betas, TiltResult& out) {
  switch (b) {
    case Backend::cpu: return tilt_sweep_cpu(in, betas, out);
    case Backend::cuda: no_cuda();
  }
}

}  // namespace goodhart
