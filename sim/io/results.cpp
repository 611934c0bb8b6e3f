// results.cpp — rendering and writing metrics.csv, runs.csv and manifest.json.
// Contract: see results.h.
#include "sim/io/results.h"

#include <algorithm>
#include <map>

#include "sim/engine/fits.h"
#include "sim/io/files.h"

namespace goodhart {

namespace {

// the swept keys of a sweep other than `seed` (already a column), in parameter order
std::vector<std::string> swept_keys(const std::vector<RunSpec>& points) {
  std::vector<std::string> keys;
  if (!points.empty())
    for (const auto& [key, value] : points.front().swept)
      if (key != "seed") keys.push_back(key);
  return keys;
}

std::vector<std::string> point_cells(const RunSpec& spec, const std::string& optimizer,
                                     const std::vector<std::string>& keys) {
  std::vector<std::string> cells{spec.point_id, std::to_string(spec.config.seed), optimizer};
  for (const std::string& key : keys)
    for (const auto& [k, value] : spec.swept)
      if (k == key) cells.push_back(value);
  return cells;
}

// the rows of one optimizer within a point, in grid order
std::map<std::string, std::vector<const MetricRow*>> by_optimizer(const PointResult& r) {
  std::map<std::string, std::vector<const MetricRow*>> groups;
  for (const MetricRow& row : r.rows) groups[row.optimizer].push_back(&row);
  return groups;
}

}  // namespace

std::string metrics_csv(const std::vector<RunSpec>& points, const std::vector<PointResult>& results) {
  const std::vector<std::string> keys = swept_keys(points);
  CsvTable t;
  t.header = {"point_id", "seed", "optimizer"};
  t.header.insert(t.header.end(), keys.begin(), keys.end());
  for (const char* c : {"param_name", "param", "beta", "kl", "sqrt_kl", "kl_bound", "proxy_mean", "proxy_se",
                        "gold_mean", "gold_se", "gold_win_rate", "proxy_gold_corr", "rm_accuracy_ref",
                        "rm_accuracy_policy", "entropy", "ess"})
    t.header.push_back(c);
  for (std::size_t i = 0; i < points.size(); ++i)
    for (const MetricRow& m : results[i].rows) {
      std::vector<std::string> cells = point_cells(points[i], m.optimizer, keys);
      cells.push_back(m.param_name);
      for (double v : {m.param, m.beta, m.kl, m.sqrt_kl, m.kl_bound, m.proxy_mean, m.proxy_se, m.gold_mean,
                       m.gold_se, m.gold_win_rate, m.proxy_gold_corr, m.rm_accuracy_ref, m.rm_accuracy_policy,
                       m.entropy, m.ess})
        cells.push_back(format_double(v));
      t.rows.push_back(std::move(cells));
    }
  return t.str();
}

std::string runs_csv(const std::vector<RunSpec>& points, const std::vector<PointResult>& results) {
  const std::vector<std::string> keys = swept_keys(points);
  CsvTable t;
  t.header = {"point_id", "seed", "optimizer"};
  t.header.insert(t.header.end(), keys.begin(), keys.end());
  for (const char* c : {"rm_heldout_accuracy", "rm_accuracy_ref", "peak_gold", "peak_sqrt_kl", "final_gold",
                        "bon_alpha", "bon_beta", "bon_r2", "bon_peak_sqrt_kl", "bon_peak_gold", "rl_alpha",
                        "rl_beta", "rl_r2", "rl_peak_sqrt_kl", "rl_peak_gold"})
    t.header.push_back(c);
  for (std::size_t i = 0; i < points.size(); ++i) {
    // one row per optimizer, in scenario order
    const auto groups = by_optimizer(results[i]);
    std::vector<std::string> order;
    for (const MetricRow& row : results[i].rows)
      if (order.empty() || order.back() != row.optimizer) order.push_back(row.optimizer);
    for (const std::string& name : order) {
      std::vector<double> d, gold;
      for (const MetricRow* row : groups.at(name)) {
        d.push_back(row->sqrt_kl);
        gold.push_back(row->gold_mean);
      }
      const EmpiricalPeak peak = empirical_peak(d, gold);
      // the gold at the largest KL reached (the grid may run either way, e.g. beta ascending)
      const auto last = std::max_element(d.begin(), d.end()) - d.begin();
      const GaoFit bon = fit_gao_bon(d, gold), rl = fit_gao_rl(d, gold);
      std::vector<std::string> cells = point_cells(points[i], name, keys);
      for (double v : {results[i].rm_heldout_accuracy, results[i].rm_accuracy_ref, peak.gold, peak.sqrt_kl,
                       gold.empty() ? not_applicable : gold[last], bon.alpha, bon.beta, bon.r2, bon.peak_sqrt_kl,
                       bon.peak_gold, rl.alpha, rl.beta, rl.r2, rl.peak_sqrt_kl, rl.peak_gold})
        cells.push_back(format_double(v));
      t.rows.push_back(std::move(cells));
    }
  }
  return t.str();
}

std::string manifest_json(const Scenario& scenario, const std::vector<RunSpec>& points,
                          const std::vector<PointResult>& results, const RunInfo& info) {
  nlohmann::ordered_json m;
  m["tool"] = {{"name", "goodhart"}, {"version", GOODHART_VERSION}, {"git_revision", GOODHART_GIT_REVISION}};
  m["scenario_path"] = info.scenario_path;
  m["scenario"] = to_json(scenario);
  m["scenario_hash"] = point_id(scenario);
  m["backend"] = info.backend;
  m["device"] = info.device;
  m["threads"] = info.threads;
  m["shard"] = "1/1";
  m["seconds"] = info.seconds;
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < points.size(); ++i) {
    nlohmann::ordered_json swept = nlohmann::ordered_json::object();
    for (const auto& [key, value] : points[i].swept) swept[key] = value;
    list.push_back({{"index", points[i].index}, {"point_id", points[i].point_id}, {"seed", points[i].config.seed},
                    {"swept", swept}, {"seconds", results[i].seconds}});
  }
  m["points"] = list;
  return m.dump(2) + "\n";
}

void write_results(const std::filesystem::path& dir, const Scenario& scenario, const std::vector<RunSpec>& points,
                   const std::vector<PointResult>& results, const RunInfo& info) {
  std::filesystem::create_directories(dir);
  write_file_atomic(dir / "metrics.csv", metrics_csv(points, results));
  write_file_atomic(dir / "runs.csv", runs_csv(points, results));
  write_file_atomic(dir / "manifest.json", manifest_json(scenario, points, results, info));
}

}  // namespace goodhart
