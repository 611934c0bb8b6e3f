// sweep_files.h — the files that describe a sweep in a results folder (sweep.json) and the combined outputs
// built from its stored points; shared by run_sweep and merge_results.
// Contract: sweep.json is a pure function of the scenario and its overrides; combined files list points in
// sweep order whatever folder or process produced them.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/io/point_store.h"
#include "sim/scenario/scenario.h"

namespace goodhart {

// the scenario (resolved, canonical keys), its sweep and every point: what a folder's results belong to
nlohmann::ordered_json sweep_json(const Scenario& scenario, const std::vector<RunSpec>& points);

// dotted keys where two sweep.json documents differ ("scenario.world.dim", "sweep.parameters", ...)
std::vector<std::string> differing_keys(const nlohmann::json& a, const nlohmann::json& b);

nlohmann::json read_json_file(const std::filesystem::path& path);  // throws std::runtime_error naming the file

// the headers of metrics.csv and runs.csv of the sweep in a sweep.json document (its points' swept keys)
TableHeaders sweep_headers(const nlohmann::json& sweep);

// the metrics.csv and runs.csv of every point of `sweep` from stored points (one per point, in sweep order),
// published into dir as one step with `manifest` beside them as manifest.json (publish_files: all or nothing, the
// manifest last); a failure says what was not written and that the points are kept
void write_combined(const std::filesystem::path& dir, const nlohmann::json& sweep,
                    const std::vector<StoredPoint>& stored, const nlohmann::ordered_json& manifest);

// the tool, as manifest.json names it
nlohmann::ordered_json tool_json();

}  // namespace goodhart
