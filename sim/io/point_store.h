// point_store.h — the finished points of a results folder: one file per point (points/<point_id>.json) holding
// its rendered CSV rows, the headers they were rendered under and a checksum, written atomically when the point
// finishes; read back, and verified, to resume a run or merge shards.
// Contract: a point file exists only complete (write_file_atomic); load_point finds a point missing (no file), or
// damaged (unreadable, not JSON, another point's, edited since it was written — the checksum over its index, id,
// headers and rows differs —, or rendered under other columns than the sweep's), or sound. Callers recompute a
// damaged point (resume) or refuse it (merge), naming it; nothing damaged reaches metrics.csv.
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

// the header lines of metrics.csv and runs.csv that a sweep's points are rendered under
struct TableHeaders {
  std::string metrics, runs;
};

struct PointLookup {
  std::optional<StoredPoint> point;  // a sound point
  std::string damage;                // why the file that exists cannot be used; empty when missing or sound
};

std::filesystem::path point_file(const std::filesystem::path& dir, const std::string& point_id);
void store_point(const std::filesystem::path& dir, const StoredPoint& p, const TableHeaders& headers);
PointLookup load_point(const std::filesystem::path& dir, const std::string& point_id, const TableHeaders& headers);

}  // namespace goodhart
