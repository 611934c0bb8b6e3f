// point_store.h — the finished points of a results folder: one file per point (points/<point_id>.json) holding
// its rendered CSV rows, written atomically when the point finishes; read back to resume a run or merge shards.
// Contract: a point file exists only complete (write_file_atomic); load_point returns nothing for a missing or
// unreadable file, or one whose point_id differs — so such a point is simply computed again.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "sim/io/results.h"

namespace goodhart {

struct StoredPoint {
  int index = 0;
  std::string point_id;
  RenderedPoint rows;
  double seconds = 0.0;
};

std::filesystem::path point_file(const std::filesystem::path& dir, const std::string& point_id);
void store_point(const std::filesystem::path& dir, const StoredPoint& p);
std::optional<StoredPoint> load_point(const std::filesystem::path& dir, const std::string& point_id);

}  // namespace goodhart
