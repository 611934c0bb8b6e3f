// curves.cpp — a results folder's metrics.csv and runs.csv read back as curves, each with its peak, gold at the KL
// budgets, final gold, drop, fits and accuracies.
// Contract: see curves.h.
#include "sim/report/curves.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

#include "sim/scenario/csv_read.h"
#include "sim/stats/rank_stats.h"

namespace fs = std::filesystem;

namespace goodhart {

double cell_number(const std::string& cell) {
  if (cell.empty()) return Curve::nan;
  try {
    std::size_t used = 0;
    const double v = std::stod(cell, &used);
    return used == cell.size() ? v : Curve::nan;
  } catch (const std::exception&) {
    return Curve::nan;  // "inf", overflow, text: not a number we wrote
  }
}

std::string join_swept(const std::vector<std::pair<std::string, std::string>>& swept) {
  std::string s;
  for (const auto& [k, v] : swept) s += (s.empty() ? "" : " ") + k + "=" + v;
  return s;
}

std::vector<std::string> swept_keys(const CsvData& csv, const std::string& last, const fs::path& file) {
  const int first = csv.column("optimizer"), end = csv.column(last);
  if (first < 0 || end < 0 || end < first || csv.column("point_id") < 0)
    throw std::invalid_argument(file.string() + ": not a goodhart results file (needs columns point_id, optimizer, " +
                                last + ")");
  std::vector<std::string> keys;
  for (int c = first + 1; c < end; ++c)
    if (csv.header[static_cast<std::size_t>(c)] != "seed") keys.push_back(csv.header[static_cast<std::size_t>(c)]);
  return keys;
}

namespace {

void derive(Curve& c, const std::vector<double>& budgets) {
  const EmpiricalPeak peak = empirical_peak(c.sqrt_kl, c.gold);
  c.peak_gold = peak.gold;
  c.peak_sqrt_kl = peak.sqrt_kl;
  // sorted by kl (stable: equal kl keep file order)
  std::vector<std::size_t> order(c.kl.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return c.kl[a] < c.kl[b]; });
  std::vector<double> kl, gold;
  for (std::size_t i : order)
    if (!std::isnan(c.kl[i])) {
      kl.push_back(c.kl[i]);
      gold.push_back(c.gold[i]);
    }
  for (double b : budgets) c.gold_at_kl.push_back(interpolate_sorted(kl, gold, b));
  // the gold at the largest kl: the first row holding it, as runs.csv's final_gold
  if (!kl.empty()) {
    std::size_t last = 0;
    for (std::size_t i = 0; i < c.kl.size(); ++i)
      if (!std::isnan(c.kl[i]) && (std::isnan(c.kl[last]) || c.kl[i] > c.kl[last])) last = i;
    c.final_gold = c.gold[last];
  }
  c.drop = c.peak_gold - c.final_gold;
}

}  // namespace

ResultsFolder read_curves(const fs::path& dir, const std::vector<double>& budgets) {
  if (!fs::is_directory(dir)) throw std::invalid_argument(dir.string() + ": no such results folder");
  for (const char* f : {"metrics.csv", "runs.csv"})
    if (!fs::exists(dir / f))
      throw std::invalid_argument(dir.string() + ": no " + f +
                                  " (not a finished goodhart results folder: run it to the end, or goodhart merge "
                                  "its shards first)");
  const CsvData metrics = read_csv(dir / "metrics.csv"), runs = read_csv(dir / "runs.csv");
  const std::vector<std::string> keys = swept_keys(metrics, "param_name", dir / "metrics.csv");
  swept_keys(runs, "rm_heldout_accuracy", dir / "runs.csv");
  for (const char* c : {"kl", "sqrt_kl", "gold_mean", "beta"})
    if (metrics.column(c) < 0) throw std::invalid_argument((dir / "metrics.csv").string() + ": no column " + c);

  for (const CsvData* t : {&metrics, &runs})
    if (t->column("curve_id") < 0)
      throw std::invalid_argument(dir.string() + ": no column curve_id (results of an older goodhart: run again)");

  // the curves by curve_id; a dpo optimizer's betas in one point are curves of their own, labelled by beta
  std::map<std::pair<std::string, std::string>, std::set<std::string>> curves_of;  // (point, optimizer) -> ids
  for (std::size_t r = 0; r < metrics.rows.size(); ++r)
    curves_of[{metrics.cell(r, "point_id"), metrics.cell(r, "optimizer")}].insert(metrics.cell(r, "curve_id"));
  ResultsFolder folder;
  folder.name = fs::absolute(dir).lexically_normal().filename().string();
  if (folder.name.empty()) folder.name = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  std::map<std::string, std::size_t> index;
  for (std::size_t r = 0; r < metrics.rows.size(); ++r) {
    auto [it, fresh] = index.try_emplace(metrics.cell(r, "curve_id"), folder.curves.size());
    if (fresh) {
      Curve c;
      c.point_id = metrics.cell(r, "point_id");
      c.optimizer = metrics.cell(r, "optimizer");
      if (metrics.cell(r, "param_name") == "step" && curves_of[{c.point_id, c.optimizer}].size() > 1)
        c.beta = metrics.cell(r, "beta");
      for (const std::string& k : keys) c.swept.emplace_back(k, metrics.cell(r, k));
      if (!c.beta.empty()) c.swept.emplace_back("beta", c.beta);
      folder.curves.push_back(std::move(c));
    }
    Curve& c = folder.curves[it->second];
    c.kl.push_back(cell_number(metrics.cell(r, "kl")));
    c.sqrt_kl.push_back(cell_number(metrics.cell(r, "sqrt_kl")));
    c.gold.push_back(cell_number(metrics.cell(r, "gold_mean")));
  }
  std::set<std::string> dpo_curves;
  if (metrics.column("implicit_accuracy") >= 0)
    for (std::size_t r = 0; r < metrics.rows.size(); ++r)
      if (!metrics.cell(r, "implicit_accuracy").empty()) dpo_curves.insert(metrics.cell(r, "curve_id"));
  // runs.csv: each curve's fits and accuracies, by curve_id
  std::map<std::string, std::size_t> run_row;
  for (std::size_t r = 0; r < runs.rows.size(); ++r) run_row.try_emplace(runs.cell(r, "curve_id"), r);
  for (const auto& [id, i] : index) {
    Curve& c = folder.curves[i];
    derive(c, budgets);
    const auto it = run_row.find(id);
    if (it == run_row.end())
      throw std::invalid_argument((dir / "runs.csv").string() + ": no row for curve " + id + " of metrics.csv");
    const std::size_t r = it->second;
    // a dpo curve (it has an implicit_accuracy) trained on the pairs, never on the proxy: the proxy's accuracy
    // says nothing about it, and it stays out of the accuracy columns and their rank correlations
    if (!dpo_curves.contains(id)) {
      c.rm_heldout_accuracy = cell_number(runs.cell(r, "rm_heldout_accuracy"));
      c.rm_accuracy_ref = cell_number(runs.cell(r, "rm_accuracy_ref"));
    }
    c.bon.alpha = cell_number(runs.cell(r, "bon_alpha"));
    c.bon.beta = cell_number(runs.cell(r, "bon_beta"));
    c.bon.r2 = cell_number(runs.cell(r, "bon_r2"));
    c.rl.alpha = cell_number(runs.cell(r, "rl_alpha"));
    c.rl.beta = cell_number(runs.cell(r, "rl_beta"));
    c.rl.r2 = cell_number(runs.cell(r, "rl_r2"));
    if (runs.column("proxy_parameters") >= 0) c.proxy_parameters = cell_number(runs.cell(r, "proxy_parameters"));
    if (runs.column("proxy_bias_correlation") >= 0)
      c.proxy_bias_correlation = cell_number(runs.cell(r, "proxy_bias_correlation"));
  }
  return folder;
}

}  // namespace goodhart
