// eigen_blocking.cpp — pins the cache sizes Eigen blocks its matrix products for, so that a build gives the same
// numbers on every machine. Eigen sizes the blocks of a large matrix product from the CPU's caches, queried at run
// time, and the blocks fix the order of the sums inside the product: one Release build gave results that differed
// in the last bits between an AMD EPYC (L1d 48 KiB, an L3 reported as 384 MiB) and the machine tests/golden was
// recorded on (measured: up to 1.4e-13 relative, and a small MLP proxy's training amplified that to 0.3 in one
// proxy-gold correlation of objective_mismatch). With these sizes fixed before any product runs (a static
// initializer of the core library, which every binary links whole), the products block alike everywhere; they are
// those of a common x86-64 server core, and the recorded outputs are reproduced with them on both machines.
#include <Eigen/Core>

namespace goodhart {
namespace {

constexpr std::ptrdiff_t kL1Bytes = 32 * 1024, kL2Bytes = 1024 * 1024, kL3Bytes = 32 * 1024 * 1024;

struct PinEigenBlocking {
  PinEigenBlocking() { Eigen::setCpuCacheSizes(kL1Bytes, kL2Bytes, kL3Bytes); }
};
const PinEigenBlocking pinned;

}  // namespace
}  // namespace goodhart
