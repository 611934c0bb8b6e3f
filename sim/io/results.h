// results.h — rendering the results of a sweep: metrics.csv (tidy, one row per observation) and runs.csv (one row
// per curve: peaks and Gao fits), point by point, so finished points can be stored and merged.
// Contract: column order is fixed (swept keys other than seed between `optimizer` and the metrics); numbers are
// shortest round-trip; a file is its header followed by the rendered rows of its points in sweep order, so a run
// resumed, sharded and merged renders byte-identical files.
#pragma once

#include <string>
#include <vector>

#include "sim/engine/run.h"

namespace goodhart {

// CSV lines of one point, without headers
struct RenderedPoint {
  std::string metrics_rows;
  std::string runs_rows;
};

// the swept keys that get their own column (every swept key but `seed`, which always has one), in sweep order
std::vector<std::string> swept_columns(const std::vector<std::pair<std::string, std::string>>& swept);

std::string metrics_header(const std::vector<std::string>& columns);  // one line, with its '\n'
std::string runs_header(const std::vector<std::string>& columns);
RenderedPoint render_point(const RunSpec& spec, const PointResult& result, const std::vector<std::string>& columns);

// the id of a point's index-th curve (an optimizer, or one beta of a dpo optimizer, in scenario order):
// "<point_id>-<index>", unique across sweeps; metrics.csv and runs.csv carry it beside point_id, and compare, plot
// and the Python package group rows into curves by it
std::string curve_id(const std::string& point_id, std::size_t index);

}  // namespace goodhart
