// workloads_main.cpp — `goodhart_workloads w1|w2|w3 [--scale S] [--backend cpu|cuda|auto] [--repeats R]
// [--warmup W] [--seed N] [--threads T] [--json FILE] [--profile] [--dump-inputs DIR] [--dump-responses]`: one of
// BENCHMARKS.md's workloads end to end, timed over repeats, with its results, throughput and % of a limit.
// Contract: exit 0 on success, 2 on a usage error (bad workload, backend not built), 1 on a runtime failure.
// bench/run_workloads.py runs it beside the peers and checks their results agree.
#include <omp.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "bench/workloads.h"

using namespace goodhart;
using namespace goodhart::bench;

int main(int argc, char** argv) {
  CLI::App app{"goodhart_workloads: BENCHMARKS.md's workloads W1-W3 end to end"};
  WorkloadOptions opts;
  std::string backend = "cpu";
  int threads = 0;
  app.add_option("workload", opts.workload,
                 "w1 (bon-sweep) | w2 (tilt-sweep) | w3 (pg-train, the engine's optimizer)")
      ->required()
      ->check(CLI::IsMember({"w1", "w2", "w3"}));
  app.add_option("--scale", opts.scale, "multiplies the number of prompts (1 = BENCHMARKS.md's sizes)")
      ->check(CLI::PositiveNumber);
  app.add_option("--backend", backend, "auto | cpu | cuda");
  app.add_option("--repeats", opts.repeats, "timed runs")->check(CLI::PositiveNumber);
  app.add_option("--warmup", opts.warmup, "untimed runs first")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", opts.seed, "seed of every input");
  app.add_option("--threads", threads, "OpenMP threads (0: all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--json", opts.json, "write the report here");
  app.add_option("--dump-inputs", opts.dump_inputs, "write the inputs (.npy, config.json) for the peers here");
  app.add_flag("--profile", opts.profile, "also time the pieces of the workload (CPU backend; an untimed extra run)");
  app.add_flag("--dump-responses", opts.dump_responses, "w1: also dump the responses (small scales only)");
  CLI11_PARSE(app, argc, argv);
  try {
    opts.backend = parse_backend(backend);
  } catch (const std::exception& e) {
    std::cerr << "goodhart_workloads: " << e.what() << "\n";
    return 2;
  }
  if (threads > 0) omp_set_num_threads(threads);
  omp_set_max_active_levels(1);  // a runner's inner loops run in parallel only where its outer loop does not
  try {
    const WorkloadReport report = opts.workload == "w1"   ? run_w1(opts)
                                  : opts.workload == "w2" ? run_w2(opts)
                                                          : run_w3(opts);
    publish(opts, report);
  } catch (const std::exception& e) {
    std::cerr << "goodhart_workloads: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
