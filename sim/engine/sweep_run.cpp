// sweep_run.cpp — running a sweep's points into a results folder: shards, resume, the memory guard, signals.
// Contract: see sweep_run.h. Points run in sweep order; each is stored the moment it finishes, so a killed run
// loses at most the point in flight.
#include "sim/engine/sweep_run.h"

#include <omp.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>

#include "models/worlds/registry.h"
#include "sim/engine/plan.h"
#include "sim/engine/sweep_files.h"
#include "sim/io/files.h"
#include "sim/io/progress.h"

namespace fs = std::filesystem;

namespace goodhart {

Shard parse_shard(const std::string& text) {
  const auto slash = text.find('/');
  try {
    std::size_t used_i = 0, used_n = 0;
    const int i = std::stoi(text.substr(0, slash), &used_i), n = std::stoi(text.substr(slash + 1), &used_n);
    if (slash != std::string::npos && used_i == slash && used_n == text.size() - slash - 1 && n >= 1 && i >= 0 &&
        i < n)
      return {i, n};
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("--shard " + text + ": expected i/N with 0 <= i < N, e.g. 0/4");
}

Shard shard_from_environment() {
  const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
  const char* count = std::getenv("SLURM_ARRAY_TASK_COUNT");
  if (!id || !count) return {};
  const auto value = [](const char* name, long fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::atol(v) : fallback;
  };
  // a range A-B:S gives tasks A, A+S, ..., B: shard (id - A) / S of count; a list (1,3,7) cannot be told apart
  // from the environment, so it is refused rather than run with points in no task
  const long task = std::atol(id), min = value("SLURM_ARRAY_TASK_MIN", 0), step = value("SLURM_ARRAY_TASK_STEP", 1),
             tasks = std::atol(count), max = value("SLURM_ARRAY_TASK_MAX", min + (tasks - 1) * step);
  if (step < 1 || (task - min) % step != 0 || (max - min) / step + 1 != tasks)
    throw std::invalid_argument("a Slurm job array that is one range (--array=A-B or A-B:S; SLURM_ARRAY_TASK_MIN " +
                                std::to_string(min) + ", MAX " + std::to_string(max) + ", STEP " +
                                std::to_string(step) + ", COUNT " + std::to_string(tasks) +
                                " is not), or --shard i/N given for each task");
  return parse_shard(std::to_string((task - min) / step) + "/" + count);
}

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown cpu";
}

// what ran the hot ops: the CPU model, or the GPU's name and compute capability
std::string device_name(Backend backend) {
  std::string gpu;
  return backend == Backend::cuda && cuda_device_available(&gpu) ? gpu : cpu_model();
}

// refuse points whose estimated memory exceeds what the machine has, naming the keys that size them
void check_memory(const std::vector<const RunSpec*>& selected, int threads) {
  const double available = available_memory();
  if (available <= 0) return;
  for (const RunSpec* p : selected) {
    const PlanEstimate e = estimate_point(p->config, threads);
    if (e.bytes <= available) continue;
    throw RunRefused("point " + std::to_string(p->index) + " needs about " + human_bytes(e.bytes) +
                     " of memory and this machine has " + human_bytes(available) + " available: lower " +
                     e.sized_by + " (see goodhart plan), or pass --force");
  }
}

// prepare the folder: refuse another scenario's results (with --resume or shards always; a fresh whole run only
// replaces them with --force); without --resume an unsharded run starts afresh
void prepare_folder(const fs::path& dir, const nlohmann::ordered_json& sweep, bool resume, bool sharded, bool force) {
  const fs::path sweep_file = dir / "sweep.json";
  if (fs::exists(sweep_file)) {
    const nlohmann::json stored = read_json_file(sweep_file);
    const std::vector<std::string> keys = differing_keys(stored, nlohmann::json(sweep));
    if (!keys.empty() && (resume || sharded || !force)) {
      std::string list;
      for (std::size_t i = 0; i < keys.size() && i < 8; ++i) list += (i ? ", " : "") + keys[i];
      if (keys.size() > 8) list += ", ...";
      throw RunRefused(dir.string() + " holds results of a different scenario (differing keys: " + list +
                       "); use another --out" +
                       (resume || sharded ? "" : ", or pass --force to delete them and start afresh"));
    }
    if (!resume && !sharded) {
      // a fresh run replaces the folder's results
      for (const char* f : {"metrics.csv", "runs.csv", "manifest.json", "sweep.json"}) fs::remove(dir / f);
      fs::remove_all(dir / "points");
    }
  }
  fs::create_directories(dir / "points");
  write_file_atomic(sweep_file, sweep.dump(2) + "\n");
}

}  // namespace

SweepOutcome run_sweep(const std::string& scenario_path, const std::vector<std::string>& overrides,
                       const SweepOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const Scenario scenario = load_scenario(scenario_path, overrides);
  const std::vector<RunSpec> points = expand_sweep(scenario_path, overrides);
  // the points of this process
  std::vector<const RunSpec*> selected;
  for (const RunSpec& p : points)
    if (o.only_point >= 0 ? p.index == o.only_point : p.index % o.shard.count == o.shard.index) selected.push_back(&p);
  if (o.only_point >= static_cast<int>(points.size()))
    throw std::invalid_argument("--point " + std::to_string(o.only_point) + ": the sweep has " +
                                std::to_string(points.size()) + " points (0 to " + std::to_string(points.size() - 1) +
                                ")");
  if (!o.force) check_memory(selected, omp_get_max_threads());
  const bool partial = o.only_point >= 0 || o.shard.count > 1;
  const nlohmann::ordered_json sweep = sweep_json(scenario, points);
  // one whole run per folder at a time (shards of one sweep may share it); refused before anything is written
  const bool existed = fs::exists(o.dir);
  std::optional<FolderLock> lock;
  try {
    lock.emplace(o.dir, !partial, "goodhart run " + scenario_path + (partial ? " (a shard)" : ""));
  } catch (const FolderLocked& e) {
    throw RunRefused(e.what());
  } catch (const FolderUnusable& e) {
    throw RunRefused(e.what());
  }
  prepare_folder(o.dir, sweep, o.resume, partial, o.force);
  if (!partial) remove_stale_temporaries(o.dir);  // a killed run's; shards share the folder and keep theirs
  const TableHeaders headers = sweep_headers(sweep);

  // every selected point: found finished (resume; a damaged one is computed again) or computed and stored at once
  SweepOutcome outcome;
  Progress progress(selected.size(), o.quiet, scenario.name);
  nlohmann::ordered_json seconds = nlohmann::ordered_json::object();
  for (const RunSpec* p : selected) {
    if (o.resume) {
      const PointLookup stored = load_point(o.dir, p->point_id, headers);
      if (stored.point) {
        ++outcome.skipped;
        seconds[p->point_id] = stored.point->seconds;
        progress.advance();
        continue;
      }
      if (!stored.damage.empty())
        std::cerr << "warning: point " << p->index << " (" << point_file(o.dir, p->point_id).string()
                  << ") is damaged: " << stored.damage << "; computing it again\n";
    }
    if (o.stop && o.stop->load() != 0) break;
    PointResult result;
    try {
      result = run_point(*p, o.backend);
    } catch (...) {
      // a fresh whole run that stored nothing leaves no folder behind
      if (!existed && !partial && outcome.ran == 0 && outcome.skipped == 0) {
        lock.reset();
        std::error_code ec;
        fs::remove_all(o.dir, ec);
      }
      throw;
    }
    store_point(o.dir, {p->index, p->point_id, render_point(*p, result, swept_columns(p->swept)), result.seconds},
                headers);
    seconds[p->point_id] = result.seconds;
    ++outcome.ran;
    progress.advance();
  }
  outcome.left = selected.size() - outcome.ran - outcome.skipped;
  outcome.signal = o.stop ? o.stop->load() : 0;
  if (outcome.left > 0) return outcome;
  progress.finish();

  // the manifest of this run; the combined files when it covered the whole sweep
  nlohmann::ordered_json manifest = {
      {"tool", tool_json()},
      {"scenario_path", scenario_path},
      {"scenario_hash", point_id(scenario)},
      {"backend", backend_name(o.backend)},
      {"device", device_name(o.backend)},
      {"threads", omp_get_max_threads()},
      {"shard", o.only_point >= 0 ? "point " + std::to_string(o.only_point)
                                  : std::to_string(o.shard.index) + "/" + std::to_string(o.shard.count)},
      {"points_run", outcome.ran},
      {"points_resumed", outcome.skipped},
      {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()},
      {"point_seconds", seconds}};
  manifest["scenario"] = sweep["scenario"];
  manifest["sweep"] = sweep["sweep"];
  if (partial) {
    const std::string name = o.only_point >= 0 ? "point-" + std::to_string(o.only_point)
                                               : "shard-" + std::to_string(o.shard.index) + "-of-" +
                                                     std::to_string(o.shard.count);
    write_file_atomic(o.dir / "shards" / (name + ".json"), manifest.dump(2) + "\n");
    return outcome;
  }
  std::vector<StoredPoint> stored;
  for (const RunSpec& p : points) {
    PointLookup found = load_point(o.dir, p.point_id, headers);
    if (!found.point)
      throw std::runtime_error(point_file(o.dir, p.point_id).string() + " (point " + std::to_string(p.index) + ") " +
                               (found.damage.empty() ? "vanished" : "is damaged: " + found.damage) +
                               " while this run wrote the folder: rerun with --resume to compute it again");
    stored.push_back(std::move(*found.point));
  }
  write_combined(o.dir, sweep, stored, manifest);
  outcome.combined = true;
  return outcome;
}

}  // namespace goodhart
