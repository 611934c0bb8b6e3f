// curves.h — a finished results folder read back as curves: each (point, optimizer[, dpo beta]) row group of
// metrics.csv, by curve_id, with what a leaderboard derives from it and the fits and accuracies of runs.csv.
// Contract (the per-curve part of leaderboard.h's):
//   per curve   peak gold and sqrt(KL) there (empirical_peak, first on ties), gold at each KL budget (linear
//               interpolation of gold against kl with the rows sorted by kl; NaN beyond either end of the
//               curve), final gold (at the largest kl) and drop = peak - final; bon_* and rl_* and the RM
//               accuracies from the matching runs.csv row (fitted on the curve when a dpo beta was split off).
//   swept       the columns between optimizer and param_name but seed, in file order (and "beta" for a split dpo
//               run).
//   errors      a folder without metrics.csv, runs.csv or curve_id, or a curve without its runs.csv row:
//               std::invalid_argument naming the file.
#pragma once

#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario/csv_read.h"
#include "sim/stats/fits.h"

namespace goodhart {

struct Curve {
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  std::string point_id, optimizer, beta;  // beta: set when a dpo run was split off
  std::vector<std::pair<std::string, std::string>> swept;
  std::vector<double> kl, sqrt_kl, gold;
  // derived
  double peak_gold = nan, peak_sqrt_kl = nan, final_gold = nan, drop = nan;
  std::vector<double> gold_at_kl;
  GaoFit bon, rl;
  double rm_heldout_accuracy = nan, rm_accuracy_ref = nan;  // NaN for dpo: it fits no proxy of its own to use
  double proxy_parameters = nan;  // a learned proxy's trainable parameters (runs.csv; NaN in older folders)
  double proxy_bias_correlation = nan;  // corr under pi_ref of the proxy with the bias feature (runs.csv)
};

struct ResultsFolder {
  std::string name;           // the folder's own name
  std::vector<Curve> curves;  // in order of first appearance in metrics.csv
};

ResultsFolder read_curves(const std::filesystem::path& dir, const std::vector<double>& kl_budgets);

// the columns of a results file between `optimizer` and `last` (exclusive) but seed: the swept keys; a file without
// point_id, optimizer or last: std::invalid_argument naming `file`
std::vector<std::string> swept_keys(const CsvData& csv, const std::string& last, const std::filesystem::path& file);

// "key=value key=value" of a variant's swept values
std::string join_swept(const std::vector<std::pair<std::string, std::string>>& swept);

// a results cell as a number: NaN for an empty cell, text, "inf" or overflow (not a number goodhart writes)
double cell_number(const std::string& cell);

}  // namespace goodhart
