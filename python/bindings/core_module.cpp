// core_module.cpp — goodhart._core: the C++ engine as a Python extension (nanobind). The Python package
// (python/goodhart) wraps it; this file only converts arguments, releases the GIL and maps errors.
// Contract: engine errors surface as Python exceptions carrying the engine's message unchanged —
// ScenarioError (a ValueError, with .where, .key, .expected) for scenario and usage errors, RunRefused (a
// ValueError) for a folder or memory refusal, ValueError for other bad arguments, RuntimeError otherwise.
// Array arguments (the fits' vectors, tilt's P x K matrices) are read in place, without a copy; array results are
// numpy arrays that own the C++ buffer.
#include <omp.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <span>
#include <string>
#include <vector>

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "sim/backend/ops.h"
#include "sim/report/leaderboard.h"
#include "sim/report/onset.h"
#include "sim/report/scaling.h"
#include "sim/engine/kl_audit_run.h"
#include "sim/stats/fits.h"
#include "sim/engine/run.h"
#include "sim/engine/sweep_run.h"
#include "sim/io/files.h"
#include "sim/scenario/scenario.h"

namespace nb = nanobind;
using namespace goodhart;

namespace {

using ReadVector = nb::ndarray<const double, nb::ndim<1>, nb::c_contig, nb::device::cpu>;

// goodhart.errors.ScenarioError and RunRefused, looked up at import
PyObject* scenario_error_type = nullptr;  // held for the life of the process
PyObject* run_refused_type = nullptr;

// SIGINT during a run asks the sweep to stop after the point in flight (as the CLI does); the previous handler
// is restored after the run and the caller raises KeyboardInterrupt
std::atomic<int> stop_signal{0};
extern "C" void on_interrupt(int signal) { stop_signal.store(signal); }

// puts back the caller's SIGINT handler and OpenMP thread count when a run ends, however it ends
struct RestoreAfterRun {
  void (*handler)(int);
  int threads;
  ~RestoreAfterRun() {
    std::signal(SIGINT, handler);
    omp_set_num_threads(threads);
  }
};

nb::dict run_scenario(const std::string& path, const std::vector<std::string>& overrides, const std::string& out,
                      const std::string& backend, int threads, bool resume, bool force, bool quiet, int point) {
  if (threads < 0 || threads > 1024)
    throw std::invalid_argument("threads: expected 1 to 1024 (or None for every core), got " + std::to_string(threads));
  if (out.empty()) throw std::invalid_argument("out: an empty path: name a folder, or pass None for a temporary one");
  SweepOptions options;
  options.dir = out;
  options.backend = parse_backend(backend);
  options.resume = resume;
  options.force = force;
  options.quiet = quiet;
  options.only_point = point;
  options.stop = &stop_signal;
  SweepOutcome outcome;
  {
    nb::gil_scoped_release released;
    stop_signal.store(0);
    const RestoreAfterRun restore{std::signal(SIGINT, on_interrupt), omp_get_max_threads()};
    if (threads > 0) omp_set_num_threads(threads);
    outcome = run_sweep(path, overrides, options);
  }
  nb::dict d;
  d["ran"] = outcome.ran;
  d["skipped"] = outcome.skipped;
  d["left"] = outcome.left;
  d["signal"] = outcome.signal;
  d["combined"] = outcome.combined;
  return d;
}

// the resolved config (as JSON text) and every point: (index, point_id, [(key, value)...])
nb::tuple validate_scenario(const std::string& path, const std::string& yaml, const std::string& name,
                            const std::vector<std::string>& overrides) {
  const bool from_text = !yaml.empty();
  const Scenario s = from_text ? load_scenario_text(yaml, name, overrides) : load_scenario(path, overrides);
  const std::vector<RunSpec> points =
      from_text ? expand_sweep_text(yaml, name, overrides) : expand_sweep(path, overrides);
  nb::list listed;
  for (const RunSpec& p : points) listed.append(nb::make_tuple(p.index, p.point_id, p.swept));
  return nb::make_tuple(to_json(s).dump(), listed);
}

nb::dict fit_dict(const GaoFit& f) {
  nb::dict d;
  d["alpha"] = f.alpha;
  d["beta"] = f.beta;
  d["r2"] = f.r2;
  d["peak_sqrt_kl"] = f.peak_sqrt_kl;
  d["peak_gold"] = f.peak_gold;
  return d;
}

std::span<const double> as_span(const ReadVector& a) { return {a.data(), a.shape(0)}; }

// a fresh numpy array that owns `values` (moved, not copied)
nb::ndarray<nb::numpy, double, nb::ndim<2>> owned_matrix(std::vector<double>&& values, std::size_t rows,
                                                         std::size_t cols) {
  auto* heap = new std::vector<double>(std::move(values));
  nb::capsule owner(heap, [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
  return nb::ndarray<nb::numpy, double, nb::ndim<2>>(heap->data(), {rows, cols}, owner);
}

// the exact KL-regularized optimum over given candidates (tilt_sweep): per beta, the mean over prompts of
// kl, entropy, ess and E[values[j]]; log_ref, proxy and each value are P x K float32 arrays
using ReadMatrixF = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

std::string number_text(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

// tilt's numbers as the engine needs them: betas finite and > 0; proxy and values finite; log_ref finite or -inf
// (a candidate pi_ref never draws), with at least one drawable candidate per prompt
void check_tilt_values(const ReadMatrixF& log_ref, const ReadMatrixF& proxy, const std::vector<ReadMatrixF>& values,
                       const ReadVector& betas) {
  if (betas.shape(0) == 0) throw std::invalid_argument("betas: expected at least one beta");
  for (std::size_t i = 0; i < betas.shape(0); ++i)
    if (!(std::isfinite(betas(i)) && betas(i) > 0))
      throw std::invalid_argument("betas: expected finite numbers > 0 (pi_beta ∝ pi_ref exp(proxy / beta)), got " +
                                  number_text(betas(i)) + " at index " + std::to_string(i));
  const std::size_t P = log_ref.shape(0), K = log_ref.shape(1);
  auto cell = [K](std::size_t at) { return "row " + std::to_string(at / K) + ", column " + std::to_string(at % K); };
  auto all_finite = [&](const ReadMatrixF& a, const std::string& what) {
    for (std::size_t i = 0; i < P * K; ++i)
      if (!std::isfinite(a.data()[i]))
        throw std::invalid_argument(what + ": expected finite numbers, got " + number_text(a.data()[i]) + " at " +
                                    cell(i));
  };
  all_finite(proxy, "proxy");
  for (std::size_t v = 0; v < values.size(); ++v) all_finite(values[v], "values[" + std::to_string(v) + "]");
  for (std::size_t p = 0; p < P; ++p) {
    bool drawable = false;
    for (std::size_t k = 0; k < K; ++k) {
      const float x = log_ref.data()[p * K + k];
      if (std::isnan(x) || x == std::numeric_limits<float>::infinity())
        throw std::invalid_argument("log_ref: expected log-probabilities (finite, or -inf for a candidate never "
                                    "drawn), got " + number_text(x) + " at " + cell(p * K + k));
      drawable = drawable || std::isfinite(x);
    }
    if (!drawable)
      throw std::invalid_argument("log_ref: row " + std::to_string(p) + " is -inf everywhere (no candidate to draw)");
  }
}
nb::ndarray<nb::numpy, double, nb::ndim<2>> tilt(const ReadMatrixF& log_ref, const ReadMatrixF& proxy,
                                                  const std::vector<ReadMatrixF>& values, const ReadVector& betas,
                                                  const std::string& backend) {
  const Eigen::Index prompts = log_ref.shape(0), candidates = log_ref.shape(1);
  auto same_shape = [&](const ReadMatrixF& a, const char* what) {
    if (a.shape(0) != log_ref.shape(0) || a.shape(1) != log_ref.shape(1))
      throw std::invalid_argument(std::string(what) + ": expected the shape of log_ref (" +
                                  std::to_string(prompts) + " x " + std::to_string(candidates) + ")");
  };
  if (prompts < 1 || candidates < 1)
    throw std::invalid_argument("log_ref: expected a P x K array with P >= 1 prompts and K >= 1 candidates, got " +
                                std::to_string(prompts) + " x " + std::to_string(candidates));
  same_shape(proxy, "proxy");
  for (const ReadMatrixF& v : values) same_shape(v, "values");
  check_tilt_values(log_ref, proxy, values, betas);
  // the op reads the numpy arrays in place
  auto view = [&](const ReadMatrixF& a) { return FloatMatrixView(a.data(), prompts, candidates); };
  TiltInput in{view(log_ref), view(proxy), {}};
  for (const ReadMatrixF& v : values) in.values.push_back(view(v));
  const Backend b = parse_backend(backend);
  TiltResult r;
  {
    nb::gil_scoped_release released;
    tilt_sweep(b, in, as_span(betas), r);
  }
  // fixed-order mean over prompts
  std::vector<double> mean(static_cast<std::size_t>(r.betas) * r.columns, 0.0);
  for (int p = 0; p < r.prompts; ++p)
    for (int bi = 0; bi < r.betas; ++bi)
      for (int c = 0; c < r.columns; ++c) mean[static_cast<std::size_t>(bi) * r.columns + c] += r.at(p, bi, c);
  for (double& m : mean) m /= r.prompts;
  return owned_matrix(std::move(mean), r.betas, r.columns);
}

// goodhart compare: write out/leaderboard.csv and .json from results folders; returns the printed table
std::string compare(const std::vector<std::string>& dirs, const std::string& out, const std::vector<double>& budgets) {
  const std::vector<std::filesystem::path> folders(dirs.begin(), dirs.end());
  std::ostringstream table;
  compare_results(folders, out, budgets, false, table);
  return table.str();
}

// goodhart scaling: write out/scaling.csv from a results folder; returns the printed table
std::string scaling(const std::string& dir, const std::string& out) {
  std::ostringstream table;
  scaling_report(dir, out, false, table);
  return table.str();
}

// goodhart detect: write out/detect.csv, detect_curves.csv, detect_signals.csv from results folders; returns the
// printed table
std::string detect(const std::vector<std::string>& dirs, double k, const std::string& out) {
  const std::vector<std::filesystem::path> folders(dirs.begin(), dirs.end());
  std::ostringstream table;
  detect_report(folders, k, out, false, table);
  return table.str();
}

// goodhart audit-kl: write out/kl_audit.csv for one point of a scenario file; returns the file's path
std::string audit_kl(const std::string& path, const std::vector<std::string>& overrides, const std::string& out,
                     int point, int off_policy_steps) {
  KlAuditOptions options;
  options.dir = out;
  options.point = point;
  options.off_policy_steps = off_policy_steps;
  nb::gil_scoped_release released;
  return run_kl_audit(path, overrides, options).string();
}

void translate(const std::exception_ptr& p, void*) {
  try {
    std::rethrow_exception(p);
  } catch (const ScenarioError& e) {
    nb::object err = nb::handle(scenario_error_type)(e.what());
    err.attr("where") = e.where;
    err.attr("key") = e.key;
    err.attr("expected") = e.expected;
    PyErr_SetObject(scenario_error_type, err.ptr());
  } catch (const RunRefused& e) {
    PyErr_SetString(run_refused_type, e.what());
  } catch (const FolderUnusable& e) {
    PyErr_SetString(run_refused_type, e.what());
  } catch (const PointFailed& e) {
    PyErr_SetString(e.usage ? PyExc_ValueError : PyExc_RuntimeError, e.what());
  } catch (const std::invalid_argument& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  }
}

}  // namespace

NB_MODULE(_core, m) {
  m.doc() = "goodhart's C++ engine (use the goodhart package, not this module)";
  m.attr("__version__") = GOODHART_VERSION;
  m.attr("git_revision") = GOODHART_GIT_REVISION;

  // the classes of goodhart/errors.py, so `except goodhart.ScenarioError` catches what the engine raises
  nb::module_ errors = nb::module_::import_("goodhart.errors");
  scenario_error_type = nb::object(errors.attr("ScenarioError")).release().ptr();
  run_refused_type = nb::object(errors.attr("RunRefused")).release().ptr();
  nb::register_exception_translator(translate);

  m.def("run", &run_scenario, nb::arg("path"), nb::arg("overrides"), nb::arg("out"), nb::arg("backend"),
        nb::arg("threads"), nb::arg("resume"), nb::arg("force"), nb::arg("quiet"), nb::arg("point") = -1,
        "run a scenario file (every point, or point `point` alone) into a results folder; returns the counts of "
        "points ran, skipped and left");
  m.def(
      "merge",
      [](const std::vector<std::string>& dirs, const std::string& out) {
        const std::vector<std::filesystem::path> paths(dirs.begin(), dirs.end());
        nb::gil_scoped_release released;
        merge_results(paths, out, true);
      },
      nb::arg("dirs"), nb::arg("out"), "combine the stored points of results folders of one sweep into `out`");
  m.def("validate", &validate_scenario, nb::arg("path"), nb::arg("yaml"), nb::arg("name"), nb::arg("overrides"),
        "load and check a scenario (a file, or YAML text named `name`): (resolved config JSON, points)");
  m.def("backend_name", [](const std::string& b) { return backend_name(parse_backend(b)); }, nb::arg("backend"),
        "the backend that 'auto', 'cpu' or 'cuda' selects here; ValueError when it is unavailable");
  m.def("fit_gao_bon", [](const ReadVector& d, const ReadVector& g) { return fit_dict(fit_gao_bon(as_span(d), as_span(g))); },
        nb::arg("sqrt_kl"), nb::arg("gold"), "best-of-n form gold = d (alpha - beta d)");
  m.def("fit_gao_rl", [](const ReadVector& d, const ReadVector& g) { return fit_dict(fit_gao_rl(as_span(d), as_span(g))); },
        nb::arg("sqrt_kl"), nb::arg("gold"), "RL form gold = d (alpha - beta log d)");
  m.def("compare", &compare, nb::arg("dirs"), nb::arg("out"), nb::arg("kl_budgets"),
        "a leaderboard of the optimizer variants of results folders, written to out; returns the table text");
  m.def("scaling", &scaling, nb::arg("dir"), nb::arg("out"),
        "Gao's coefficients regressed on log10 proxy parameters and pairs, written to out/scaling.csv");
  m.def("detect", &detect, nb::arg("dirs"), nb::arg("k"), nb::arg("out"),
        "onset detectors of the training runs of results folders scored against gold, written to out");
  m.def("audit_kl", &audit_kl, nb::arg("path"), nb::arg("overrides"), nb::arg("out"), nb::arg("point") = -1,
        nb::arg("off_policy_steps") = 0,
        "the KL-estimator gradient audit of a point's first policy_gradient optimizer, written to out/kl_audit.csv");
  m.def("tilt", &tilt, nb::arg("log_ref"), nb::arg("proxy"), nb::arg("values"), nb::arg("betas"),
        nb::arg("backend"), "per beta, means over prompts of kl, entropy, ess, E[values...] at the exact optimum");
}
