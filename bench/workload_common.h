// workload_common.h — what the end-to-end runners of BENCHMARKS.md's workloads W1-W3 share: their options, the
// timing of repeats, the report they print and write as JSON, .npy dumps of their inputs, and the calibration
// loops that measure this machine's limits (peak float FLOP/s, vectorized float exp/s).
// Contract: a runner generates its inputs from opts.seed alone (Philox, sim/numeric/philox_hd.h), so the same command
// gives the same inputs and results on any machine and thread count; --dump-inputs writes those inputs for the
// peers (bench/peers/) to load. Timed regions hold only the workload, never input generation or dumps.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/backend/ops.h"

namespace goodhart::bench {

struct WorkloadOptions {
  std::string workload;          // w1 | w2 | w3
  double scale = 1.0;            // multiplies the number of prompts P (BENCHMARKS.md's sizes at scale 1)
  Backend backend = Backend::cpu;
  int repeats = 3;               // timed runs; the results reported are the last run's
  int warmup = 0;                // untimed runs before them
  std::uint64_t seed = 1;        // seed of every input
  std::string json;              // write the report here; empty: print only
  std::string dump_inputs;       // write the inputs as .npy (+ config.json) into this folder; empty: none
  bool profile = false;          // also time the workload's pieces (an untimed extra run; CPU backend)
  bool dump_responses = false;   // w1: also dump the P x N x d responses (small scales only: 128 MiB per P=1024)
};

// P = round(base * scale), at least 1
int scaled_prompts(int base, double scale);

// a limit the throughput is quoted against: `per_second` items/s at best, and how that figure was derived;
// flop_per_item > 0 where the limit is arithmetic (peak FLOP/s / flop_per_item). On a backend other than the CPU
// the runner measures nothing (per_second NaN): run_workloads.py derives the GPU's limit from flop_per_item.
struct Limit {
  std::string what;
  double per_second = 0.0;
  double flop_per_item = 0.0;
};

struct WorkloadReport {
  std::string unit;              // e.g. samples/s
  double items = 0.0;            // items per run (samples, entry-betas, sampled responses)
  std::vector<double> seconds;   // one per timed repeat
  Limit limit;
  nlohmann::json sizes;          // P, N, K, ... as run
  nlohmann::json results;        // the numbers the peers must reproduce
  nlohmann::json profile;        // optional timing split of one run (seconds per phase)
};

// time `run` opts.warmup + opts.repeats times; returns the timed seconds
std::vector<double> time_repeats(const WorkloadOptions& opts, const std::function<void()>& run);

// seconds since `start`
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// print the report (and write it as JSON when opts.json is set)
void publish(const WorkloadOptions& opts, const WorkloadReport& report);

// .npy (format 1.0, little-endian, C order) writers for the dumps
void write_npy(const std::filesystem::path& file, const float* data, const std::vector<std::int64_t>& shape);
void write_npy(const std::filesystem::path& file, const double* data, const std::vector<std::int64_t>& shape);
// create the dump folder and write config.json (sizes and hyperparameters the peers read) into it
std::filesystem::path open_dump(const WorkloadOptions& opts, const nlohmann::json& config);

// this machine's limits, measured on all OpenMP threads for ~0.2 s each:
// fused multiply-adds on independent float vectors (2 FLOP each), and Eigen's vectorized float exp (the one
// tilt_cpu uses) over an L1-resident array
double measured_peak_flops();
double measured_exp_rate();

// a limit measured by `rate` (items/s of the loop, the best of 3 tries: the machine may be loaded) on the CPU
// backend; NaN on others
Limit cpu_limit(const WorkloadOptions& opts, std::string what, double (*rate)(), double flop_per_item = 0.0);

}  // namespace goodhart::bench
