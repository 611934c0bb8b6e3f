// cuda_absent.cpp — the CUDA ops in a build without CUDA (GOODHART_CUDA=OFF, or no nvcc): each says so.
// Contract: compiled instead of sim/backend/cuda/*.cu (cmake/cuda.cmake picks one or the other); the names match
// ops.h, so ops.cpp's switch needs no #ifdef. cuda_device_available is false with the reason.
#include <stdexcept>

#include "sim/backend/ops.h"

namespace goodhart {

namespace {
const char* const not_built = "the CUDA backend is not built into this binary (configure with -DGOODHART_CUDA=ON "
                              "on a machine with nvcc)";
}  // namespace

bool cuda_device_available(std::string* detail) {
  if (detail) *detail = not_built;
  return false;
}

void score_mlp_cuda(const Mlp&, const RowMatrixXf&, Eigen::Ref<Eigen::VectorXf>) { throw std::runtime_error(not_built); }
void bon_moments_cuda(const Eigen::MatrixXd&, const Eigen::MatrixXf&, Eigen::MatrixXd&) {
  throw std::runtime_error(not_built);
}
void policy_pass_cuda(const PolicyTable&, const Eigen::VectorXd&, const PolicyPassRequest&, PolicyPass&) {
  throw std::runtime_error(not_built);
}
void policy_slots_cuda(const PolicyTable&, const PolicyPass&, const RowMatrixXd&, int, int, bool, Eigen::MatrixXd&) {
  throw std::runtime_error(not_built);
}
void tilt_sweep_cuda(const TiltInput&, std::span<const double>, TiltResult&) { throw std::runtime_error(not_built); }
void fdiv_sweep_cuda(Divergence, const TiltInput&, std::span<const double>, TiltResult&) {
  throw std::runtime_error(not_built);
}

}  // namespace goodhart
