// plan.h — rough estimates of memory and time for each point of a sweep, before running it.
// Contract: estimates only (counts of responses and bytes held at once, times a per-response cost); they never
// change what a run does. The memory figure covers every stage of a point (standardizing gold, drawing and fitting
// preference pairs, RM accuracy, each optimizer), with per-element costs measured and rounded up, so that a point
// it calls "fits" does not run out of memory.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"

namespace goodhart {

struct PlanEstimate {
  double bytes = 0.0;      // peak memory held at once: an upper bound on each stage's large allocations
  double responses = 0.0;  // responses drawn and scored
  double seconds = 0.0;    // at the given thread count
  std::string sized_by;    // the keys that size the largest stage, e.g. "preferences.n_pairs, proxy.hidden"
};

PlanEstimate estimate_point(const Scenario& s, int threads);

// "1.5 GiB"
std::string human_bytes(double bytes);
// "under 1 s", "about 40 s", "about 12 min", "about 3.5 h"
std::string human_seconds(double seconds);

// MemAvailable of /proc/meminfo in bytes (0 when unknown)
double available_memory();

// prints one line per point and a total; returns the total (peak memory is the largest point's)
PlanEstimate print_plan(const std::vector<RunSpec>& points, int threads, std::ostream& out);

}  // namespace goodhart
