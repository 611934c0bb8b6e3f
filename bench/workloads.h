// workloads.h — the end-to-end runners of BENCHMARKS.md's workloads, one per file: W1 bon-sweep (w1_bon.cpp),
// W2 tilt-sweep (w2_tilt.cpp), W3 pg-train (w3_pg.cpp, through the engine's optimizer).
// Contract: each builds its inputs from opts (seed, scale), dumps them when asked, times opts.repeats runs of the
// workload through the engine (ops.h's dispatch on opts.backend, or the engine's optimizer) and returns the report.
#pragma once

#include "bench/workload_common.h"

namespace goodhart::bench {

WorkloadReport run_w1(const WorkloadOptions& opts);
WorkloadReport run_w2(const WorkloadOptions& opts);
WorkloadReport run_w3(const WorkloadOptions& opts);

}  // namespace goodhart::bench
