// main.cpp — the `goodhart` command line: run | validate | plan | list | version (DESIGN.md §6).
// Contract: exit 0 on success, 1 on a runtime failure, 2 on a usage or scenario error (nothing written then);
// progress on stderr only, results only through write_results.
#include <omp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "sim/engine/plan.h"
#include "sim/engine/run.h"
#include "sim/io/progress.h"
#include "sim/io/results.h"
#include "sim/scenario/scenario.h"

namespace fs = std::filesystem;
using namespace goodhart;

namespace {

struct Options {
  std::string scenario;
  std::vector<std::string> overrides;
  std::string out;
  std::string backend = "auto";
  int threads = 0;
  bool quiet = false;
};

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown cpu";
}

int cmd_run(const Options& o) {
  const Backend backend = parse_backend(o.backend);
  const std::vector<RunSpec> points = expand_sweep(o.scenario, o.overrides);
  const Scenario scenario = load_scenario(o.scenario, o.overrides);
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const fs::path dir = !o.out.empty() ? fs::path(o.out)
                       : !scenario.output.dir.empty() ? fs::path(scenario.output.dir)
                                                      : fs::path("results") / scenario.name;
  // every point, then every file: an error before the end writes nothing
  const auto start = std::chrono::steady_clock::now();
  std::vector<PointResult> results;
  Progress progress(points.size(), o.quiet, scenario.name);
  for (const RunSpec& spec : points) {
    results.push_back(run_point(spec, backend));
    progress.advance();
  }
  progress.finish();
  const RunInfo info{o.scenario, backend_name(backend), cpu_model(), omp_get_max_threads(),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
  write_results(dir, scenario, points, results, info);
  if (!o.quiet) std::cerr << "wrote " << (dir / "metrics.csv").string() << ", runs.csv, manifest.json\n";
  return 0;
}

int cmd_validate(const Options& o) {
  const Scenario scenario = load_scenario(o.scenario, o.overrides);
  const std::vector<RunSpec> points = expand_sweep(o.scenario, o.overrides);
  nlohmann::json resolved = to_json(scenario);
  std::cout << resolved.dump(2) << "\n";
  std::cout << "valid: " << points.size() << " point" << (points.size() == 1 ? "" : "s") << "\n";
  return 0;
}

int cmd_plan(const Options& o) {
  const std::vector<RunSpec> points = expand_sweep(o.scenario, o.overrides);
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  print_plan(points, threads, std::cout);
  return 0;
}

int cmd_list() {
  const char* env = std::getenv("GOODHART_SCENARIOS");
  const fs::path dir = env ? fs::path(env) : fs::path(GOODHART_SCENARIO_DIR);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    const Scenario s = load_scenario(f.string());
    std::string first = s.description.substr(0, s.description.find('\n'));
    std::cout << f.filename().string() << "\n    " << first << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"goodhart — a reward-model overoptimization simulator"};
  app.require_subcommand(1);
  Options o;
  auto add_scenario = [&](CLI::App* c) {
    c->add_option("scenario", o.scenario, "scenario file (YAML)")->required();
    c->add_option("overrides", o.overrides, "key.path=value overrides")->expected(0, -1);
  };
  CLI::App* run = app.add_subcommand("run", "run a scenario: results folder with metrics.csv, runs.csv, manifest");
  add_scenario(run);
  run->add_option("--out", o.out, "results folder (default: output.dir, else results/<name>)");
  run->add_option("--backend", o.backend, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  run->add_option("--threads", o.threads, "OpenMP threads (default: all cores)")->check(CLI::PositiveNumber);
  run->add_flag("--quiet", o.quiet, "no progress on stderr");
  CLI::App* validate = app.add_subcommand("validate", "parse and check: the resolved config and the point count");
  add_scenario(validate);
  CLI::App* plan = app.add_subcommand("plan", "points, estimated memory and time");
  add_scenario(plan);
  plan->add_option("--threads", o.threads, "threads to plan for")->check(CLI::PositiveNumber);
  CLI::App* list = app.add_subcommand("list", "the scenario library with one-line descriptions");
  CLI::App* version = app.add_subcommand("version", "tool version and git revision");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (*run) return cmd_run(o);
    if (*validate) return cmd_validate(o);
    if (*plan) return cmd_plan(o);
    if (*list) return cmd_list();
    if (*version) {
      std::cout << "goodhart " << GOODHART_VERSION << " (" << GOODHART_GIT_REVISION << ")\n";
      return 0;
    }
  } catch (const ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
