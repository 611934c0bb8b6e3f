// sweep_files.cpp — sweep.json, key-by-key comparison of two of them, and the combined result files.
// Contract: see sweep_files.h.
#include "sim/engine/sweep_files.h"

#include <fstream>
#include <sstream>

#include "sim/io/files.h"

namespace goodhart {

nlohmann::ordered_json tool_json() {
  return {{"name", "goodhart"}, {"version", GOODHART_VERSION}, {"git_revision", GOODHART_GIT_REVISION}};
}

nlohmann::ordered_json sweep_json(const Scenario& scenario, const std::vector<RunSpec>& points) {
  nlohmann::ordered_json parameters = nlohmann::ordered_json::array();
  for (const SweepParameter& p : scenario.sweep.parameters)
    parameters.push_back({{"key", p.key}, {"values", p.values}});
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const RunSpec& p : points) {
    nlohmann::ordered_json swept = nlohmann::ordered_json::array();
    for (const auto& [key, value] : p.swept) swept.push_back({key, value});
    list.push_back({{"index", p.index}, {"point_id", p.point_id}, {"seed", p.config.seed}, {"swept", swept}});
  }
  return {{"scenario", to_json(scenario)},
          {"sweep", {{"method", scenario.sweep.method}, {"parameters", parameters}}},
          {"points", list}};
}

namespace {

void flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix + "." + it.key(), out);
  } else {
    out[prefix] = j.dump();
  }
}

}  // namespace

std::vector<std::string> differing_keys(const nlohmann::json& a, const nlohmann::json& b) {
  std::map<std::string, std::string> fa, fb;
  for (const char* part : {"scenario", "sweep"}) {
    flatten(a.value(part, nlohmann::json()), part, fa);
    flatten(b.value(part, nlohmann::json()), part, fb);
  }
  std::vector<std::string> keys;
  for (const auto& [key, value] : fa)
    if (!fb.count(key) || fb.at(key) != value) keys.push_back(key);
  for (const auto& [key, value] : fb)
    if (!fa.count(key)) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path.string() + ": not valid JSON (" + e.what() + ")");
  }
}

TableHeaders sweep_headers(const nlohmann::json& sweep) {
  std::vector<std::pair<std::string, std::string>> swept;
  const nlohmann::json& first = sweep.at("points").at(0);
  for (const auto& pair : first.at("swept")) swept.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
  const std::vector<std::string> columns = swept_columns(swept);
  return {metrics_header(columns), runs_header(columns)};
}

void write_combined(const std::filesystem::path& dir, const nlohmann::json& sweep,
                    const std::vector<StoredPoint>& stored, const nlohmann::ordered_json& manifest) {
  std::vector<std::pair<std::string, std::string>> swept;
  const TableHeaders headers = sweep_headers(sweep);
  std::string metrics = headers.metrics, runs = headers.runs;
  for (const StoredPoint& p : stored) {
    metrics += p.rows.metrics_rows;
    runs += p.rows.runs_rows;
  }
  try {
    publish_files({{dir / "metrics.csv", metrics}, {dir / "runs.csv", runs}, {dir / "manifest.json", manifest.dump(2) + "\n"}});
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + "; metrics.csv, runs.csv and manifest.json of " + dir.string() +
                             " were not written (every finished point is kept in " + (dir / "points").string() +
                             "): free the space and rerun with --resume, or goodhart merge");
  }
}

}  // namespace goodhart
