// results.h — the results folder of a sweep: metrics.csv (tidy, one row per observation), runs.csv (one row per
// point and optimizer: peaks and Gao fits) and manifest.json (tool, config, hash, backend, threads, timings).
// Contract: column order is fixed (swept keys between `optimizer` and `param_name`); numbers are shortest
// round-trip; every file is written atomically; metrics.csv and runs.csv are byte-identical for the same scenario
// and seed whatever the thread count (manifest.json differs only in threads and timings).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sim/engine/run.h"

namespace goodhart {

struct RunInfo {
  std::string scenario_path;
  std::string backend;
  std::string device;
  int threads = 1;
  double seconds = 0.0;
};

std::string metrics_csv(const std::vector<RunSpec>& points, const std::vector<PointResult>& results);
std::string runs_csv(const std::vector<RunSpec>& points, const std::vector<PointResult>& results);
std::string manifest_json(const Scenario& scenario, const std::vector<RunSpec>& points,
                          const std::vector<PointResult>& results, const RunInfo& info);

// writes the three files into dir (created if needed)
void write_results(const std::filesystem::path& dir, const Scenario& scenario, const std::vector<RunSpec>& points,
                   const std::vector<PointResult>& results, const RunInfo& info);

}  // namespace goodhart
