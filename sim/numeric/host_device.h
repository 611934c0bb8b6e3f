// host_device.h — GOODHART_HD marks a function compiled for the host and, under nvcc, for the device too: the
// shared numeric headers (philox_hd.h, fdiv_hd.h, normal_draws.h) are one implementation on the CPU and in CUDA.
#pragma once

#if defined(__CUDACC__)
#define GOODHART_HD __host__ __device__
#else
#define GOODHART_HD
#endif
