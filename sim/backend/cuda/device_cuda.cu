// device_cuda.cu — whether the CUDA backend can run on this machine, and which device it runs on.
// Contract: cuda_device_available (ops.h) in builds with CUDA: true when a driver and device 0 are present and the
// device runs this build's kernels; the answer and its detail (the device's name, or why not) are computed once.
#include <string>

#include "sim/backend/cuda/cuda_support.cuh"
#include "sim/backend/ops.h"

namespace goodhart {

namespace {

__global__ void probe_kernel() {}

struct Probe {
  bool usable = false;
  std::string detail;
};

Probe probe_device() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaErrorNoDevice || (status == cudaSuccess && count == 0))
    return {false, "no CUDA device found (the binary has the CUDA backend, the machine has no GPU)"};
  if (status == cudaErrorInsufficientDriver)
    return {false, "no usable NVIDIA driver (missing, or older than the CUDA runtime this binary was built with)"};
  if (status != cudaSuccess) return {false, std::string("CUDA is unavailable: ") + cudaGetErrorString(status)};
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return {false, "CUDA device 0 cannot be queried"};
  const std::string name = std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) +
                           ", " + std::to_string(prop.totalGlobalMem >> 30) + " GiB)";
  // a device older than the architectures this binary was compiled for has no kernel image to run
  cudaFuncAttributes attributes{};
  if (cudaFuncGetAttributes(&attributes, probe_kernel) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error of the failed query
    return {false, name + " cannot run this build's kernels: reconfigure with -DCMAKE_CUDA_ARCHITECTURES=" +
                       std::to_string(prop.major) + std::to_string(prop.minor)};
  }
  return {true, name};
}

}  // namespace

bool cuda_device_available(std::string* detail) {
  static const Probe probe = probe_device();
  if (detail) *detail = probe.detail;
  return probe.usable;
}

}  // namespace goodhart
