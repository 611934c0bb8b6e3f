// sweep_run.h — running the points of a sweep into a results folder: per-point files written as each point
// finishes, resume, shards (--shard i/N, --point K), a memory guard, and the combined metrics.csv / runs.csv /
// manifest.json; and merging the points of shards run elsewhere.
// Contract: a folder holds sweep.json (the scenario, its sweep and every point id, written first), points/ (one
// file per finished point), and — once every point of an unsharded run is done, or after merge — metrics.csv,
// runs.csv and manifest.json, byte-identical (the CSVs) however the points were split, resumed or ordered.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "sim/backend/ops.h"
#include "sim/scenario/scenario.h"

namespace goodhart {

// the points this process runs: those whose index % count == index
struct Shard {
  int index = 0, count = 1;
};
Shard parse_shard(const std::string& text);  // "i/N" with 0 <= i < N; throws std::invalid_argument
// from SLURM_ARRAY_TASK_ID, _MIN, _STEP and _COUNT when set ((id - min) / step of count), else 0/1; an array
// that is not one range (a list such as 1,3,7) throws std::invalid_argument
Shard shard_from_environment();

struct SweepOptions {
  std::filesystem::path dir;
  Backend backend = Backend::cpu;
  Shard shard;
  int only_point = -1;        // run just this point index (-1: every point of the shard)
  bool resume = false;        // skip points already stored for the same scenario
  bool force = false;         // run even when the memory estimate exceeds the memory available, and replace a
                              // different scenario's results in the folder
  bool quiet = false;
  const std::atomic<int>* stop = nullptr;  // a signal number once the process was asked to stop
};

struct SweepOutcome {
  std::size_t ran = 0, skipped = 0, left = 0;  // points computed now, found finished, not reached
  int signal = 0;                              // the signal that stopped the run, 0 if none
  bool combined = false;                       // metrics.csv, runs.csv and manifest.json were written
};

// a folder refused for the scenario (another scenario's results, a memory estimate that does not fit):
// reported like a scenario error, exit 2
struct RunRefused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

SweepOutcome run_sweep(const std::string& scenario_path, const std::vector<std::string>& overrides,
                       const SweepOptions& options);

// merge the stored points of results folders of one sweep into `out`; every point must appear exactly once
void merge_results(const std::vector<std::filesystem::path>& dirs, const std::filesystem::path& out, bool quiet);

}  // namespace goodhart
