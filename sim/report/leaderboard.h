// leaderboard.h — `goodhart compare`: a leaderboard of optimizer variants from one or more results folders
// (curves.h reads the folders; leaderboard_render.cpp writes the table, CSV and JSON).
// Contract:
//   variant     (the folder's name when several folders are compared, the optimizer's name, every swept value
//               but seed); a dpo optimizer with several betas in one point is one variant per beta. Its curves
//               are its (point, optimizer[, beta]) row groups of metrics.csv, one per seed.
//   per curve   see curves.h.
//   aggregate   mean over the curves (NaN skipped) and, with >= 2 values, the standard error sd / sqrt(n) (sd with
//               n - 1); gold at a budget is NaN unless every curve reaches the budget.
//   spearman    rank correlation (ties: average ranks; NaN pairs dropped; NaN below 3 pairs or with a constant
//               side) between RM accuracy (rm_heldout_accuracy, or rm_accuracy_ref when a group lacks it) and
//               gold at each budget and peak_sqrt_kl: per folder across its variants, and per folder and
//               optimizer across its curves (points: seeds, data sizes, proxy classes).
//   output      rows sorted by peak gold descending (NaN last, stable); leaderboard.csv and leaderboard.json
//               written atomically into the output folder; a fixed-width table on the given stream.
//   errors      a folder without metrics.csv or runs.csv: std::invalid_argument (exit 2).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/stats/rank_stats.h"

namespace goodhart {

struct LeaderboardRow {
  std::string folder;  // the folder's name (always set; shown only when several folders are compared)
  std::string optimizer;
  std::vector<std::pair<std::string, std::string>> swept;  // swept key, value (and "beta" for a split dpo run)
  int seeds = 0;                                           // curves aggregated
  Estimate peak_gold, peak_sqrt_kl, final_gold, drop;
  std::vector<Estimate> gold_at_kl;  // one per KL budget
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  double bon_alpha = nan, bon_beta = nan, bon_r2 = nan, rl_alpha = nan, rl_beta = nan, rl_r2 = nan;
  double rm_heldout_accuracy = nan, rm_accuracy_ref = nan;
  double proxy_bias_correlation = nan;  // mean over the curves: how much of the proxy is the bias feature
  std::string label(bool with_folder) const;  // "folder/optimizer key=value ..."
};

struct Correlation {
  std::string folder;     // "" for the scope all
  std::string scope;      // variants (one folder's) | points (one optimizer's curves) | all (every folder's variants)
  std::string optimizer;  // points: the optimizer whose curves are correlated; variants: ""
  std::string accuracy;   // the accuracy column used
  int n = 0;              // data used (pairs with an accuracy)
  std::vector<double> gold_at_kl;  // rho per KL budget
  double peak_sqrt_kl = std::numeric_limits<double>::quiet_NaN();
};

struct Leaderboard {
  std::vector<std::string> folders;
  std::vector<double> kl_budgets;
  std::vector<LeaderboardRow> rows;  // sorted by peak gold, descending
  std::vector<Correlation> correlations;
};

Leaderboard build_leaderboard(const std::vector<std::filesystem::path>& dirs, const std::vector<double>& kl_budgets);

std::string leaderboard_csv(const Leaderboard& board);
nlohmann::ordered_json leaderboard_json(const Leaderboard& board);
void print_leaderboard(const Leaderboard& board, std::ostream& out);

// "0.5,1,2,4" -> budgets (each > 0, finite); throws std::invalid_argument
std::vector<double> parse_kl_budgets(const std::string& text);

// the whole command: build, print (unless quiet), write out/leaderboard.csv and out/leaderboard.json
Leaderboard compare_results(const std::vector<std::filesystem::path>& dirs, const std::filesystem::path& out,
                            const std::vector<double>& kl_budgets, bool quiet, std::ostream& table);

}  // namespace goodhart
