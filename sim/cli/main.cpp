// main.cpp — the `goodhart` command line: run | validate | plan | merge | compare | scaling | detect | audit-kl |
// list | plot | keys | export-pools | version
// (DESIGN.md §6).
// Contract: exit 0 on success, 1 on a runtime failure, 2 on a usage or scenario error (nothing written then),
// 128 + signal when SIGINT/SIGTERM stopped a run (finished points are kept); progress on stderr only.
#include <omp.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "sim/cli/library.h"
#include "sim/report/leaderboard.h"
#include "sim/report/onset.h"
#include "sim/report/scaling.h"
#include "sim/engine/kl_audit_run.h"
#include "sim/engine/plan.h"
#include "sim/engine/pools.h"
#include "sim/engine/run.h"
#include "sim/engine/sweep_run.h"
#include "sim/io/files.h"
#include "sim/scenario/key_docs.h"
#include "sim/scenario/scenario.h"

namespace fs = std::filesystem;
using namespace goodhart;

namespace {

struct Options {
  std::string scenario;
  std::vector<std::string> overrides;
  std::string out;
  std::string backend = "auto";
  std::string shard;
  int point = -1;
  int threads = 0;
  bool resume = false;
  bool force = false;
  bool quiet = false;
  bool list_points = false;
  bool features = false;
  std::vector<std::string> merge_dirs;
  std::string kl_budgets = "0.5,1,2,4";
  std::string panel_by;
  int off_policy_steps = 0;
  double onset_k = 2.0;
};

// the first SIGINT or SIGTERM asks the run to stop after the point in flight; a second one ends it at once
std::atomic<int> stop_signal{0};
extern "C" void on_stop_signal(int signal) {
  stop_signal.store(signal);
  std::signal(signal, SIG_DFL);
}

int cmd_run(const Options& o) {
  SweepOptions options;
  options.backend = parse_backend(o.backend);
  options.shard = o.shard.empty() ? shard_from_environment() : parse_shard(o.shard);
  options.only_point = o.point;
  options.resume = o.resume;
  options.force = o.force;
  options.quiet = o.quiet;
  options.stop = &stop_signal;
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const Scenario scenario = load_scenario(o.scenario, o.overrides);
  options.dir = !o.out.empty() ? fs::path(o.out)
                : !scenario.output.dir.empty() ? fs::path(scenario.output.dir)
                                               : fs::path("results") / scenario.name;
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  const SweepOutcome r = run_sweep(o.scenario, o.overrides, options);
  if (r.left > 0) {
    std::cerr << "stopped by signal " << r.signal << " after " << r.ran << " new point" << (r.ran == 1 ? "" : "s")
              << "; " << r.left << " left; every finished point is stored in " << options.dir.string()
              << ": rerun with --resume to finish\n";
    return 128 + r.signal;
  }
  if (!o.quiet) {
    std::cerr << "ran " << r.ran << " point" << (r.ran == 1 ? "" : "s");
    if (r.skipped) std::cerr << ", " << r.skipped << " already finished";
    if (r.combined)
      std::cerr << "; wrote " << (options.dir / "metrics.csv").string() << ", runs.csv, manifest.json\n";
    else
      std::cerr << " into " << (options.dir / "points").string() << "; combine shards with goodhart merge\n";
  }
  return 0;
}

int cmd_merge(const Options& o) {
  std::vector<fs::path> dirs(o.merge_dirs.begin(), o.merge_dirs.end());
  merge_results(dirs, o.out.empty() ? dirs.front() : fs::path(o.out), o.quiet);
  return 0;
}

// Gao's coefficient scaling of one results folder (sim/report/scaling.h)
int cmd_scaling(const Options& o) {
  const fs::path dir = o.merge_dirs.at(0), out = o.out.empty() ? dir : fs::path(o.out);
  scaling_report(dir, out, o.quiet, std::cout);
  if (!o.quiet) std::cerr << "wrote " << (out / "scaling.csv").string() << "\n";
  return 0;
}

// onset detectors of training runs scored against gold (sim/report/onset.h)
int cmd_detect(const Options& o) {
  const std::vector<fs::path> dirs(o.merge_dirs.begin(), o.merge_dirs.end());
  const fs::path out = o.out.empty() ? dirs.front() : fs::path(o.out);
  detect_report(dirs, o.onset_k, out, o.quiet, std::cout);
  if (!o.quiet) std::cerr << "wrote " << (out / "detect_signals.csv").string() << ", detect.csv, detect_curves.csv\n";
  return 0;
}

// the KL-estimator gradient audit of one point (sim/engine/kl_audit_run.h)
int cmd_audit_kl(const Options& o) {
  KlAuditOptions options;
  options.point = o.point;
  options.off_policy_steps = o.off_policy_steps;
  const Scenario scenario = load_scenario(o.scenario, o.overrides);
  options.dir = !o.out.empty() ? fs::path(o.out) : fs::path("results") / (scenario.name + "_kl_audit");
  const fs::path file = run_kl_audit(o.scenario, o.overrides, options);
  if (!o.quiet) std::cerr << "wrote " << file.string() << "\n";
  return 0;
}

// a leaderboard of the optimizer variants of results folders (sim/report/leaderboard.h)
int cmd_compare(const Options& o) {
  const std::vector<fs::path> dirs(o.merge_dirs.begin(), o.merge_dirs.end());
  const std::vector<double> budgets = parse_kl_budgets(o.kl_budgets);
  const fs::path out = o.out.empty() ? dirs.front() : fs::path(o.out);
  compare_results(dirs, out, budgets, o.quiet, std::cout);
  if (!o.quiet) std::cerr << "wrote " << (out / "leaderboard.csv").string() << ", leaderboard.json\n";
  return 0;
}

int cmd_validate(const Options& o) {
  const Scenario scenario = load_scenario(o.scenario, o.overrides);
  const std::vector<RunSpec> points = expand_sweep(o.scenario, o.overrides);
  if (o.list_points) {
    // one line per point, for GNU parallel and job arrays: index, point_id, swept key=value ...
    for (const RunSpec& p : points) {
      std::cout << p.index << "\t" << p.point_id;
      for (const auto& [k, v] : p.swept) std::cout << "\t" << k << "=" << v;
      std::cout << "\n";
    }
    return 0;
  }
  nlohmann::json resolved = to_json(scenario);
  std::cout << resolved.dump(2) << "\n";
  std::cout << "valid: " << points.size() << " point" << (points.size() == 1 ? "" : "s") << "\n";
  return 0;
}

// one point's responses as a score file (sim/engine/pools.h): the point of a one-point scenario, or --point K
int cmd_export_pools(const Options& o) {
  const std::vector<RunSpec> points = expand_sweep(o.scenario, o.overrides);
  if (o.point < 0 && points.size() > 1)
    throw std::invalid_argument("export-pools: the scenario has " + std::to_string(points.size()) +
                                " points; choose one with --point K (goodhart validate --list-points)");
  if (o.point >= static_cast<int>(points.size()))
    throw std::invalid_argument("export-pools: --point " + std::to_string(o.point) + ", but the scenario has " +
                                std::to_string(points.size()) + " point" + (points.size() == 1 ? "" : "s"));
  std::error_code ec;
  if (!o.force && fs::exists(o.out, ec))
    throw std::invalid_argument("export-pools: " + o.out + " exists; remove it or pass --force to replace it");
  if (fs::is_directory(o.out, ec)) throw std::invalid_argument("export-pools: " + o.out + " is a folder");
  const CsvTable table = export_pools(points[static_cast<std::size_t>(std::max(o.point, 0))],
                                      parse_backend(o.backend), o.features);
  write_file_atomic(o.out, table.str());
  if (!o.quiet) std::cerr << "wrote " << o.out << ": " << table.rows.size() << " scored responses\n";
  return 0;
}

int cmd_plan(const Options& o) {
  const std::vector<RunSpec> points = expand_sweep(o.scenario, o.overrides);
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  print_plan(points, threads, std::cout);
  return 0;
}

int cmd_list() {
  const fs::path dir = scenario_library();
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    const Scenario s = load_scenario(f.string());
    // the description's opening, on one line
    std::string text;
    for (char c : s.description) {
      const char ch = c == '\n' ? ' ' : c;
      if (!(ch == ' ' && (text.empty() || text.back() == ' '))) text += ch;
    }
    if (text.size() > 112) text = text.substr(0, text.rfind(' ', 108)) + " ...";
    std::cout << f.filename().string() << "\n    " << text << "\n";
  }
  return 0;
}

// the key tables: one by name, or every one with a heading; --update rewrites a markdown file's generated blocks
int cmd_keys(const Options& o) {
  if (!o.out.empty()) {
    std::ifstream in(o.out, std::ios::binary);
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const std::string updated = update_key_docs(text);
    if (updated != text) write_file_atomic(o.out, updated);
    if (!o.quiet) std::cerr << o.out << (updated == text ? ": up to date\n" : ": updated\n");
    return 0;
  }
  if (!o.scenario.empty()) {
    std::cout << key_table(o.scenario);
    return 0;
  }
  for (const std::string& name : key_table_names()) std::cout << "## " << name << "\n\n" << key_table(name) << "\n";
  return 0;
}

// the plots are Python (matplotlib): hand over to `python3 -m goodhart plot` — GOODHART_PYTHON, else the python3
// beside this tool (the environment pip installed it into), else python3 on PATH — with this source tree's python/
// first on PYTHONPATH when it is there; its exit code is ours
int cmd_plot(const Options& o) {
  const char* env = std::getenv("GOODHART_PYTHON");
  const fs::path tool = tool_folder();
  const fs::path beside = tool.empty() ? fs::path() : tool / "python3";
  std::error_code ec;
  const std::string python = env && *env               ? std::string(env)
                             : fs::exists(beside, ec) ? beside.string()
                                                      : "python3";
  const fs::path package_dir = GOODHART_PYTHON_DIR;
  if (fs::exists(package_dir / "goodhart" / "plot.py")) {
    const char* before = std::getenv("PYTHONPATH");
    const std::string path = package_dir.string() + (before && *before ? ":" + std::string(before) : "");
    setenv("PYTHONPATH", path.c_str(), 1);
  }
  std::vector<std::string> args = {python, "-m", "goodhart", "plot", o.scenario};
  if (!o.out.empty()) args.insert(args.end(), {"--out", o.out});
  if (!o.panel_by.empty()) args.insert(args.end(), {"--panel-by", o.panel_by});
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  execvp(argv[0], argv.data());
  std::cerr << "error: goodhart plot needs Python 3 with pandas and matplotlib; could not start " << python << ": "
            << std::strerror(errno) << "\n";
  return 1;
}

}  // namespace

// the most OpenMP threads a run may ask for: far above any machine's cores, low enough that the runtime's per-thread
// stacks and pools stay small
constexpr int max_threads = 1024;

// a path option given as '' is a mistake, not "the default"
const CLI::Validator not_empty(
    [](std::string& value) { return value.empty() ? std::string("an empty path: name a folder or leave the option out") : std::string(); },
    "PATH");

// OpenMP threads that wait for work spin briefly, then sleep, unless the user chose (GOMP_SPINCOUNT,
// OMP_WAIT_POLICY): libgomp's own default spins 300000 times at every barrier, and on a busy machine the spinning
// thread holds the core its descheduled partner needs, so the default thread count ran slower than --threads 1;
// 30000 spins keep a quiet machine's speed (measured: bench/RESULTS.md, bench/threads_under_load.py). libgomp reads
// its environment when it loads, before main, so the tool sets it and executes itself again, once (about a
// millisecond); if that exec fails it runs on as it is.
static void bound_openmp_spinning(char** argv) {
  if (std::getenv("GOMP_SPINCOUNT") || std::getenv("OMP_WAIT_POLICY")) return;
  setenv("GOMP_SPINCOUNT", "30000", 1);
  execv("/proc/self/exe", argv);
}

int main(int argc, char** argv) {
  bound_openmp_spinning(argv);
  CLI::App app{"goodhart — a reward-model overoptimization simulator"};
  app.require_subcommand(1);
  Options o;
  auto add_scenario = [&](CLI::App* c) {
    c->add_option("scenario", o.scenario, "scenario file (YAML), or a library scenario's name (goodhart list)")
        ->required();
    c->add_option("overrides", o.overrides, "key.path=value overrides")->expected(0, -1);
  };
  CLI::App* run = app.add_subcommand("run", "run a scenario: results folder with metrics.csv, runs.csv, manifest");
  add_scenario(run);
  run->add_option("--out", o.out, "results folder (default: output.dir, else results/<name>)")->check(not_empty);
  run->add_option("--backend", o.backend, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  run->add_option("--threads", o.threads, "OpenMP threads, 1 to 1024 (default: all cores)")
      ->check(CLI::Range(1, max_threads));
  run->add_option("--shard", o.shard, "run every N-th point: i/N with 0 <= i < N (default from SLURM_ARRAY_TASK_*)");
  run->add_option("--point", o.point, "run only point K (see validate --list-points)")->check(CLI::NonNegativeNumber);
  run->add_flag("--resume", o.resume, "skip points already finished in the results folder");
  run->add_flag("--force", o.force,
                "run even when the memory estimate exceeds the memory available, and replace a different "
                "scenario's results in the folder");
  run->add_flag("--quiet", o.quiet, "no progress on stderr");
  CLI::App* validate = app.add_subcommand("validate", "parse and check: the resolved config and the point count");
  add_scenario(validate);
  validate->add_flag("--list-points", o.list_points, "print one line per point: index, point_id, swept values");
  CLI::App* plan = app.add_subcommand("plan", "points, estimated memory and time");
  add_scenario(plan);
  plan->add_option("--threads", o.threads, "threads to plan for, 1 to 1024")->check(CLI::Range(1, max_threads));
  CLI::App* merge = app.add_subcommand("merge", "combine the points of shards of one sweep into one results folder");
  merge->add_option("dirs", o.merge_dirs, "results folders of the shards")->required()->check(CLI::ExistingDirectory);
  merge->add_option("--out", o.out, "merged folder (default: the first folder)")->check(not_empty);
  merge->add_flag("--quiet", o.quiet, "no summary on stderr");
  CLI::App* compare = app.add_subcommand("compare", "a leaderboard of the optimizer variants of results folders");
  compare->add_option("dirs", o.merge_dirs, "results folders (each with metrics.csv and runs.csv)")->required();
  compare->add_option("--out", o.out, "folder for leaderboard.csv and leaderboard.json (default: the first folder)")
      ->check(not_empty);
  compare->add_option("--kl", o.kl_budgets, "KL budgets for gold at a fixed KL, comma-separated (default 0.5,1,2,4)");
  compare->add_flag("--quiet", o.quiet, "no table on stdout");
  CLI::App* scaling = app.add_subcommand(
      "scaling", "Gao's coefficients (alpha_bon, beta_bon, peaks) regressed on log10 proxy parameters and pairs");
  scaling->add_option("dirs", o.merge_dirs, "a results folder (metrics.csv, runs.csv)")->required()->expected(1);
  scaling->add_option("--out", o.out, "folder for scaling.csv (default: the results folder)")->check(not_empty);
  scaling->add_flag("--quiet", o.quiet, "no table on stdout");
  CLI::App* detect = app.add_subcommand(
      "detect", "onset detectors of training runs (KL, entropy, ensemble disagreement, a validation RM, accuracy on "
                "policy pairs) scored against gold's turn-over: lead times, false alarms, ROC");
  detect->add_option("dirs", o.merge_dirs, "results folders (metrics.csv with policy_gradient or dpo runs)")
      ->required();
  detect->add_option("--k", o.onset_k, "the onset: gold this many standard errors below its running maximum "
                                       "(default 2)");
  detect->add_option("--out", o.out, "folder for detect.csv, detect_curves.csv, detect_signals.csv (default: the "
                                     "first folder)")
      ->check(not_empty);
  detect->add_flag("--quiet", o.quiet, "no table on stdout");
  CLI::App* audit = app.add_subcommand(
      "audit-kl", "the KL estimators' expected gradients (k1/k2/k3, in the reward or the loss, with or without the "
                  "importance ratio) against the exact gradients, along a policy_gradient trajectory: kl_audit.csv");
  add_scenario(audit);
  audit->add_option("--out", o.out, "folder for kl_audit.csv (default: results/<name>_kl_audit)")->check(not_empty);
  audit->add_option("--point", o.point, "the point to audit (default: the only one)")->check(CLI::NonNegativeNumber);
  audit->add_option("--off-policy-steps", o.off_policy_steps,
                    "updates the audited policy is ahead of its samples (default: num_ppo_epochs * "
                    "num_mini_batches - 1, at least 1)")
      ->check(CLI::Range(1, 100000));
  audit->add_flag("--quiet", o.quiet, "nothing on stderr");
  CLI::App* list = app.add_subcommand("list", "the scenario library with one-line descriptions");
  CLI::App* plot = app.add_subcommand("plot", "Goodhart curves (PNG and SVG) of a results folder");
  plot->add_option("results", o.scenario, "results folder (metrics.csv, runs.csv)")->required();
  plot->add_option("--out", o.out, "PNG path (an SVG is written beside it); default RESULTS/goodhart.png")
      ->check(not_empty);
  plot->add_option("--panel-by", o.panel_by, "'optimizer', a swept key, 'seed', 'none' (one panel) or 'auto' (default)");
  CLI::App* keys = app.add_subcommand("keys", "the scenario keys of a section or type, from the field tables");
  keys->add_option("table", o.scenario, "top, a section (world, proxy.noise, ...) or a type (optimizer.dpo); "
                                        "default: every table");
  keys->add_option("--update", o.out, "rewrite the generated key tables of a markdown file (docs/scenario-keys.md)")
      ->check(CLI::ExistingFile);
  keys->add_flag("--quiet", o.quiet, "no message on stderr");
  CLI::App* pools = app.add_subcommand(
      "export-pools", "a point's scored responses as a score file that world type scored replays");
  add_scenario(pools);
  pools->add_option("--out", o.out, "the CSV file to write")->required()->check(not_empty);
  pools->add_option("--point", o.point, "the point to export (default: the only one)")->check(CLI::NonNegativeNumber);
  pools->add_option("--backend", o.backend, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  pools->add_flag("--features", o.features, "add the world's features as columns x0, x1, ...");
  pools->add_flag("--force", o.force, "replace the file when it exists");
  pools->add_flag("--quiet", o.quiet, "no message on stderr");
  CLI::App* version = app.add_subcommand("version", "tool version and git revision");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (*run || *validate || *plan || *pools || *audit) o.scenario = resolve_scenario_argument(o.scenario);
  try {
    if (*run) return cmd_run(o);
    if (*validate) return cmd_validate(o);
    if (*plan) return cmd_plan(o);
    if (*pools) return cmd_export_pools(o);
    if (*merge) return cmd_merge(o);
    if (*compare) return cmd_compare(o);
    if (*scaling) return cmd_scaling(o);
    if (*audit) return cmd_audit_kl(o);
    if (*detect) return cmd_detect(o);
    if (*list) return cmd_list();
    if (*plot) return cmd_plot(o);
    if (*keys) return cmd_keys(o);
    if (*version) {
      std::cout << "goodhart " << GOODHART_VERSION << " (" << GOODHART_GIT_REVISION << ")\n";
      return 0;
    }
  } catch (const ScenarioError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const RunRefused& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const FolderUnusable& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const PointFailed& e) {
    std::cerr << "error: " << e.what() << "\n";
    return e.usage ? 2 : 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory (goodhart plan shows the memory each point needs; lower the sizes it names)\n";
    return 1;
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
