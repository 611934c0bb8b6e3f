// cuda_support.cuh — what every CUDA op file shares: error checks that throw, a device buffer owned by the
// calling host thread's stream, and warp reductions in a fixed order.
// Contract: CUDA-only (included by sim/backend/cuda/*.cu and the CUDA benchmarks, never by CPU translation
// units). All work of an op runs on cudaStreamPerThread, so OpenMP threads calling ops at once never share a
// stream; buffers come from the stream-ordered allocator, whose pool keeps freed memory for the next op (see
// DeviceBuffer). A failed CUDA call throws
// std::runtime_error naming the op and CUDA's message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <cuda_runtime.h>

namespace goodhart::cuda {

inline void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(status));
}

// the stream of the calling host thread: ops from different OpenMP threads run independently
inline cudaStream_t op_stream() { return cudaStreamPerThread; }

// by default the stream-ordered pool returns freed memory to the driver at every synchronization, so each op would
// map its buffers anew: keep it instead, set once per process (whatever the buffers' element types)
inline void keep_pool_memory_once(const char* what) {
  static const bool kept = [what] {
    int device = 0;
    check(cudaGetDevice(&device), what);
    cudaMemPool_t pool;
    check(cudaDeviceGetDefaultMemPool(&pool, device), what);
    std::uint64_t keep_all = UINT64_MAX;
    check(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_all), what);
    return true;
  }();
  (void)kept;
}

// `count` elements of T in device memory, freed in stream order when the buffer goes out of scope
template <class T>
class DeviceBuffer {
 public:
  DeviceBuffer(std::size_t count, const char* what) : count_(count) {
    keep_pool_memory_once(what);
    if (count_ > 0) check(cudaMallocAsync(reinterpret_cast<void**>(&data_), count_ * sizeof(T), op_stream()), what);
  }
  ~DeviceBuffer() {
    if (data_) cudaFreeAsync(data_, op_stream());
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  T* get() const { return data_; }
  std::size_t size() const { return count_; }

  void upload(const T* host, std::size_t count, std::size_t offset, const char* what) {
    if (count > 0)
      check(cudaMemcpyAsync(data_ + offset, host, count * sizeof(T), cudaMemcpyHostToDevice, op_stream()), what);
  }
  // copies back and waits: the host data is ready when this returns
  void download(T* host, std::size_t count, const char* what) const {
    if (count > 0) check(cudaMemcpyAsync(host, data_, count * sizeof(T), cudaMemcpyDeviceToHost, op_stream()), what);
    check(cudaStreamSynchronize(op_stream()), what);
  }

 private:
  T* data_ = nullptr;
  std::size_t count_ = 0;
};

// the dynamic shared memory `kernel` may be given: the device's opt-in limit less the kernel's static shared
// memory (cudaFuncSetAttribute refuses a larger MaxDynamicSharedMemorySize)
template <class Kernel>
int max_dynamic_shared_bytes(Kernel* kernel, const char* what) {
  int device = 0, optin = 0;
  check(cudaGetDevice(&device), what);
  check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), what);
  cudaFuncAttributes attributes{};
  check(cudaFuncGetAttributes(&attributes, kernel), what);
  return optin - static_cast<int>(attributes.sharedSizeBytes);
}

// the launch just issued, checked (configuration errors surface here, faults at the next synchronization)
inline void check_launch(const char* what) { check(cudaGetLastError(), what); }

constexpr unsigned full_warp = 0xffffffffu;

// butterfly reductions: every lane ends with the same value, summed in the same order on every run
__device__ inline double warp_sum(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(full_warp, v, offset);
  return v;
}
__device__ inline float warp_max(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(full_warp, v, offset));
  return v;
}
__device__ inline double warp_max(double v) {
  for (int offset = 16; offset > 0; offset >>= 1) v = fmax(v, __shfl_xor_sync(full_warp, v, offset));
  return v;
}

// the block's maximum (kMax) or sum in a fixed order: warp butterflies, then warp 0 over the warps' results in
// scratch (blockDim.x / 32 values); every thread of the block must call it, every thread gets the result
template <bool kMax, class T>
__device__ T block_reduce(T v, T* scratch) {
  const auto warp_reduce = [](T x) { return kMax ? warp_max(x) : warp_sum(x); };
  v = warp_reduce(v);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  __syncthreads();
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  v = lane < warps ? scratch[lane] : (kMax ? T(-INFINITY) : T(0));
  return warp_reduce(v);
}

}  // namespace goodhart::cuda
