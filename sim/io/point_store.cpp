// point_store.cpp — writing, reading and verifying per-point result files.
// Contract: see point_store.h.
#include "sim/io/point_store.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/io/files.h"
#include "sim/numeric/fnv1a.h"

namespace goodhart {

namespace {

// what the checksum covers, each part length-prefixed so that no two different points run together the same way
std::string checksum(const StoredPoint& p, const TableHeaders& h) {
  std::string text;
  for (const std::string& part : {std::to_string(p.index), p.point_id, h.metrics, h.runs, p.rows.metrics_rows,
                                  p.rows.runs_rows})
    text += std::to_string(part.size()) + ":" + part;
  return fnv1a_hex(text);
}

}  // namespace

std::filesystem::path point_file(const std::filesystem::path& dir, const std::string& point_id) {
  return dir / "points" / (point_id + ".json");
}

void store_point(const std::filesystem::path& dir, const StoredPoint& p, const TableHeaders& headers) {
  const nlohmann::ordered_json j = {{"index", p.index},
                                    {"point_id", p.point_id},
                                    {"seconds", p.seconds},
                                    {"metrics_header", headers.metrics},
                                    {"runs_header", headers.runs},
                                    {"metrics_rows", p.rows.metrics_rows},
                                    {"runs_rows", p.rows.runs_rows},
                                    {"checksum", checksum(p, headers)}};
  write_file_atomic(point_file(dir, p.point_id), j.dump(1) + "\n");
}

PointLookup load_point(const std::filesystem::path& dir, const std::string& point_id, const TableHeaders& headers) {
  const std::filesystem::path file = point_file(dir, point_id);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return {};
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in) return {std::nullopt, "unreadable"};
  try {
    const nlohmann::json j = nlohmann::json::parse(text.str());
    StoredPoint p{j.at("index").get<int>(), j.at("point_id").get<std::string>(),
                  {j.at("metrics_rows").get<std::string>(), j.at("runs_rows").get<std::string>()},
                  j.at("seconds").get<double>()};
    if (p.point_id != point_id) return {std::nullopt, "it holds point " + p.point_id};
    if (!j.contains("checksum")) return {std::nullopt, "it has no checksum (written by an older goodhart)"};
    const TableHeaders stored{j.at("metrics_header").get<std::string>(), j.at("runs_header").get<std::string>()};
    if (j.at("checksum").get<std::string>() != checksum(p, stored))
      return {std::nullopt, "its checksum does not match its contents (edited or damaged since it was written)"};
    if (stored.metrics != headers.metrics || stored.runs != headers.runs)
      return {std::nullopt, "its rows have other columns than this sweep's"};
    return {std::move(p), ""};
  } catch (const nlohmann::json::exception& e) {
    return {std::nullopt, std::string("not a point file (") + e.what() + ")"};
  }
}

}  // namespace goodhart
