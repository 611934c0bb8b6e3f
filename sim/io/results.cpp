// results.cpp — rendering metrics.csv and runs.csv rows of a point, and their headers.
// Contract: see results.h.
#include "sim/io/results.h"

#include <algorithm>
#include <cmath>

#include "sim/stats/fits.h"
#include "sim/io/files.h"

namespace goodhart {

namespace {

const char* const metric_columns[] = {"param_name", "param", "beta", "kl", "sqrt_kl", "kl_bound", "proxy_mean",
                                      "proxy_se", "gold_mean", "gold_se", "gold_win_rate", "proxy_gold_corr",
                                      "rm_accuracy_ref", "rm_accuracy_policy", "entropy", "ess",
                                      "step", "kl_coef", "implicit_accuracy", "stopped", "validation_proxy",
                                      "ensemble_disagreement"};
const char* const run_columns[] = {"rm_heldout_accuracy", "rm_accuracy_ref", "peak_gold", "peak_sqrt_kl",
                                   "final_gold", "bon_alpha", "bon_beta", "bon_r2", "bon_peak_sqrt_kl",
                                   "bon_peak_gold", "rl_alpha", "rl_beta", "rl_r2", "rl_peak_sqrt_kl",
                                   "rl_peak_gold", "beta", "proxy_parameters",
                                   "proxy_bias_correlation", "bounds_checked", "bounds_violated"};

std::vector<std::string> header(const std::vector<std::string>& columns, std::span<const char* const> tail) {
  std::vector<std::string> h = {"point_id", "curve_id", "seed", "optimizer"};
  h.insert(h.end(), columns.begin(), columns.end());
  h.insert(h.end(), tail.begin(), tail.end());
  return h;
}

// the rows of a table without its header line
std::string body(const std::vector<std::string>& head, std::vector<std::vector<std::string>> rows) {
  const std::string text = CsvTable{head, std::move(rows)}.str();
  return text.substr(text.find('\n') + 1);
}

std::vector<std::string> point_cells(const RunSpec& spec, const std::string& curve, const std::string& optimizer,
                                     const std::vector<std::string>& columns) {
  std::vector<std::string> cells{spec.point_id, curve, std::to_string(spec.config.seed), optimizer};
  for (const std::string& column : columns)
    for (const auto& [key, value] : spec.swept)
      if (key == column) cells.push_back(value);
  return cells;
}

}  // namespace

std::vector<std::string> swept_columns(const std::vector<std::pair<std::string, std::string>>& swept) {
  std::vector<std::string> columns;
  for (const auto& [key, value] : swept)
    if (key != "seed") columns.push_back(key);
  return columns;
}

std::string metrics_header(const std::vector<std::string>& columns) {
  return CsvTable{header(columns, metric_columns), {}}.str();
}

std::string runs_header(const std::vector<std::string>& columns) {
  return CsvTable{header(columns, run_columns), {}}.str();
}

RenderedPoint render_point(const RunSpec& spec, const PointResult& result, const std::vector<std::string>& columns) {
  // the curves: an optimizer, or one beta of a dpo optimizer (its rows are steps of separate training runs), in
  // scenario order; curve_id names each across a sweep
  struct Curve {
    std::string id, optimizer;
    double beta = not_applicable;  // a dpo run's beta
    std::vector<const MetricRow*> rows;
  };
  std::vector<Curve> curves;
  for (const MetricRow& row : result.rows) {
    const double beta = row.param_name == "step" ? row.beta : not_applicable;
    const bool same = !curves.empty() && curves.back().optimizer == row.optimizer &&
                      (curves.back().beta == beta || (std::isnan(curves.back().beta) && std::isnan(beta)));
    if (!same) curves.push_back({curve_id(spec.point_id, curves.size()), row.optimizer, beta, {}});
    curves.back().rows.push_back(&row);
  }
  // metrics: one row per optimizer and grid value
  std::vector<std::vector<std::string>> metrics;
  for (const Curve& curve : curves)
    for (const MetricRow* m : curve.rows) {
      std::vector<std::string> cells = point_cells(spec, curve.id, m->optimizer, columns);
      cells.push_back(m->param_name);
      for (double v : {m->param, m->beta, m->kl, m->sqrt_kl, m->kl_bound, m->proxy_mean, m->proxy_se, m->gold_mean,
                       m->gold_se, m->gold_win_rate, m->proxy_gold_corr, m->rm_accuracy_ref, m->rm_accuracy_policy,
                       m->entropy, m->ess, m->step, m->kl_coef, m->implicit_accuracy, m->stopped,
                       m->validation_proxy, m->ensemble_disagreement})
        cells.push_back(format_double(v));
      metrics.push_back(std::move(cells));
    }
  // runs: one row per curve, with its peak and both Gao fits
  std::vector<std::vector<std::string>> runs;
  for (const Curve& curve : curves) {
    std::vector<double> d, gold;
    for (const MetricRow* row : curve.rows) {
      d.push_back(row->sqrt_kl);
      gold.push_back(row->gold_mean);
    }
    const EmpiricalPeak peak = empirical_peak(d, gold);
    const GaoFit bon = fit_gao_bon(d, gold), rl = fit_gao_rl(d, gold);
    // the gold at the largest KL reached (the grid may run either way, e.g. beta ascending)
    const auto last = std::max_element(d.begin(), d.end()) - d.begin();
    std::vector<std::string> cells = point_cells(spec, curve.id, curve.optimizer, columns);
    for (double v : {result.rm_heldout_accuracy, result.rm_accuracy_ref, peak.gold, peak.sqrt_kl, gold[last],
                     bon.alpha, bon.beta, bon.r2, bon.peak_sqrt_kl, bon.peak_gold, rl.alpha, rl.beta, rl.r2,
                     rl.peak_sqrt_kl, rl.peak_gold, curve.beta, result.proxy_parameters,
                     result.proxy_bias_correlation})
      cells.push_back(format_double(v));
    // the proven bounds over the curve's rows (sim/engine/bounds.h)
    BoundCheck bounds;
    for (const MetricRow* row : curve.rows) {
      const auto i = static_cast<std::size_t>(row - result.rows.data());
      if (i < result.bounds.size()) {
        bounds.checked |= result.bounds[i].checked;
        bounds.violated |= result.bounds[i].violated;
      }
    }
    cells.push_back(bound_names(bounds.checked));
    cells.push_back(bound_names(bounds.violated));
    runs.push_back(std::move(cells));
  }
  return {body(header(columns, metric_columns), std::move(metrics)),
          body(header(columns, run_columns), std::move(runs))};
}

std::string curve_id(const std::string& point_id, std::size_t index) {
  return point_id + "-" + std::to_string(index);
}

}  // namespace goodhart
