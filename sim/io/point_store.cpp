// point_store.cpp — writing and reading per-point result files.
// Contract: see point_store.h.
#include "sim/io/point_store.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/io/files.h"

namespace goodhart {

std::filesystem::path point_file(const std::filesystem::path& dir, const std::string& point_id) {
  return dir / "points" / (point_id + ".json");
}

void store_point(const std::filesystem::path& dir, const StoredPoint& p) {
  const nlohmann::ordered_json j = {{"index", p.index},
                                    {"point_id", p.point_id},
                                    {"seconds", p.seconds},
                                    {"metrics_rows", p.rows.metrics_rows},
                                    {"runs_rows", p.rows.runs_rows}};
  write_file_atomic(point_file(dir, p.point_id), j.dump(1) + "\n");
}

std::optional<StoredPoint> load_point(const std::filesystem::path& dir, const std::string& point_id) {
  std::ifstream in(point_file(dir, point_id), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  try {
    const nlohmann::json j = nlohmann::json::parse(text.str());
    StoredPoint p{j.at("index").get<int>(), j.at("point_id").get<std::string>(),
                  {j.at("metrics_rows").get<std::string>(), j.at("runs_rows").get<std::string>()},
                  j.at("seconds").get<double>()};
    if (p.point_id != point_id) return std::nullopt;
    return p;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace goodhart
