// leaderboard.cpp — the leaderboard of `goodhart compare`: curves (curves.h) aggregated over seeds into variants,
// ranked by peak gold, with the rank correlation of RM accuracy and gold.
// Contract: see leaderboard.h.
#include "sim/report/leaderboard.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "sim/io/files.h"
#include "sim/report/curves.h"

namespace fs = std::filesystem;

namespace goodhart {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

double mean_of(const std::vector<double>& values) { return aggregate(values).mean; }

// which accuracy a group of data is correlated with: held-out accuracy when every datum has it
std::string accuracy_column(const std::vector<double>& heldout) {
  for (double a : heldout)
    if (std::isnan(a)) return "rm_accuracy_ref";
  return "rm_heldout_accuracy";
}

Correlation correlate(const std::string& folder, const std::string& scope, const std::string& optimizer,
                      const std::vector<double>& heldout, const std::vector<double>& ref,
                      const std::vector<std::vector<double>>& gold_at_kl, const std::vector<double>& peak_sqrt_kl,
                      std::size_t budgets) {
  Correlation c{folder, scope, optimizer, accuracy_column(heldout), 0, {}, nan};
  const std::vector<double>& acc = c.accuracy == "rm_heldout_accuracy" ? heldout : ref;
  for (double a : acc) c.n += std::isnan(a) ? 0 : 1;
  for (std::size_t b = 0; b < budgets; ++b) {
    std::vector<double> g;
    for (const auto& v : gold_at_kl) g.push_back(v[b]);
    c.gold_at_kl.push_back(spearman(acc, g));
  }
  c.peak_sqrt_kl = spearman(acc, peak_sqrt_kl);
  return c;
}

}  // namespace

std::string LeaderboardRow::label(bool with_folder) const {
  std::string s = (with_folder ? folder + "/" : "") + optimizer;
  const std::string v = join_swept(swept);
  return v.empty() ? s : s + " " + v;
}

std::vector<double> parse_kl_budgets(const std::string& text) {
  std::vector<double> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto first = item.find_first_not_of(" \t"), last = item.find_last_not_of(" \t");
    const std::string t = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    const double v = cell_number(t);
    if (!(v > 0) || std::isinf(v))
      throw std::invalid_argument("--kl: a comma-separated list of KL budgets > 0, got '" + text + "'");
    out.push_back(v);
  }
  if (out.empty()) throw std::invalid_argument("--kl: at least one KL budget");
  return out;
}

Leaderboard build_leaderboard(const std::vector<fs::path>& dirs, const std::vector<double>& kl_budgets) {
  if (dirs.empty()) throw std::invalid_argument("compare: at least one results folder");
  for (std::size_t i = 0; i < dirs.size(); ++i)
    for (std::size_t j = 0; j < i; ++j) {
      std::error_code ec;
      if (dirs[i] == dirs[j] || fs::equivalent(dirs[i], dirs[j], ec))
        throw std::invalid_argument("compare: " + dirs[i].string() + " is given twice (as " + dirs[j].string() +
                                    " too): name each results folder once");
    }
  Leaderboard board;
  board.kl_budgets = kl_budgets;
  const std::size_t B = kl_budgets.size();
  std::vector<double> all_heldout, all_ref, all_peak;  // every folder's variants, for the scope "all"
  std::vector<std::vector<double>> all_gold;
  for (const fs::path& dir : dirs) {
    const ResultsFolder folder = read_curves(dir, kl_budgets);
    board.folders.push_back(folder.name);
    // variants in order of first appearance
    std::vector<std::pair<std::string, std::vector<const Curve*>>> variants;
    for (const Curve& c : folder.curves) {
      const std::string key = c.optimizer + "\x1f" + join_swept(c.swept);
      auto it = std::find_if(variants.begin(), variants.end(), [&](const auto& v) { return v.first == key; });
      if (it == variants.end()) {
        variants.push_back({key, {}});
        it = std::prev(variants.end());
      }
      it->second.push_back(&c);
    }
    std::vector<double> v_heldout, v_ref, v_peak;
    std::vector<std::vector<double>> v_gold;
    for (const auto& variant : variants) {
      const std::vector<const Curve*>& curves = variant.second;
      LeaderboardRow row;
      row.folder = folder.name;
      row.optimizer = curves.front()->optimizer;
      row.swept = curves.front()->swept;
      row.seeds = static_cast<int>(curves.size());
      auto collect = [&](auto field) {
        std::vector<double> v;
        for (const Curve* c : curves) v.push_back(field(*c));
        return v;
      };
      row.peak_gold = aggregate(collect([](const Curve& c) { return c.peak_gold; }));
      row.peak_sqrt_kl = aggregate(collect([](const Curve& c) { return c.peak_sqrt_kl; }));
      row.final_gold = aggregate(collect([](const Curve& c) { return c.final_gold; }));
      row.drop = aggregate(collect([](const Curve& c) { return c.drop; }));
      for (std::size_t b = 0; b < B; ++b) {
        const std::vector<double> g = collect([b](const Curve& c) { return c.gold_at_kl[b]; });
        const bool all = std::none_of(g.begin(), g.end(), [](double x) { return std::isnan(x); });
        row.gold_at_kl.push_back(all ? aggregate(g) : Estimate{});
      }
      row.bon_alpha = mean_of(collect([](const Curve& c) { return c.bon.alpha; }));
      row.bon_beta = mean_of(collect([](const Curve& c) { return c.bon.beta; }));
      row.bon_r2 = mean_of(collect([](const Curve& c) { return c.bon.r2; }));
      row.rl_alpha = mean_of(collect([](const Curve& c) { return c.rl.alpha; }));
      row.rl_beta = mean_of(collect([](const Curve& c) { return c.rl.beta; }));
      row.rl_r2 = mean_of(collect([](const Curve& c) { return c.rl.r2; }));
      row.rm_heldout_accuracy = mean_of(collect([](const Curve& c) { return c.rm_heldout_accuracy; }));
      row.rm_accuracy_ref = mean_of(collect([](const Curve& c) { return c.rm_accuracy_ref; }));
      row.proxy_bias_correlation = mean_of(collect([](const Curve& c) { return c.proxy_bias_correlation; }));
      v_heldout.push_back(row.rm_heldout_accuracy);
      v_ref.push_back(row.rm_accuracy_ref);
      v_peak.push_back(row.peak_sqrt_kl.mean);
      std::vector<double> g;
      for (const Estimate& e : row.gold_at_kl) g.push_back(e.mean);
      v_gold.push_back(g);
      board.rows.push_back(std::move(row));
    }
    board.correlations.push_back(correlate(folder.name, "variants", "", v_heldout, v_ref, v_gold, v_peak, B));
    all_heldout.insert(all_heldout.end(), v_heldout.begin(), v_heldout.end());
    all_ref.insert(all_ref.end(), v_ref.begin(), v_ref.end());
    all_peak.insert(all_peak.end(), v_peak.begin(), v_peak.end());
    all_gold.insert(all_gold.end(), v_gold.begin(), v_gold.end());
    // across the curves of each optimizer: seeds, data sizes, proxy classes
    std::vector<std::string> optimizers;
    for (const Curve& c : folder.curves)
      if (std::find(optimizers.begin(), optimizers.end(), c.optimizer) == optimizers.end())
        optimizers.push_back(c.optimizer);
    for (const std::string& opt : optimizers) {
      std::vector<double> heldout, ref, peak;
      std::vector<std::vector<double>> gold;
      for (const Curve& c : folder.curves)
        if (c.optimizer == opt) {
          heldout.push_back(c.rm_heldout_accuracy);
          ref.push_back(c.rm_accuracy_ref);
          peak.push_back(c.peak_sqrt_kl);
          gold.push_back(c.gold_at_kl);
        }
      board.correlations.push_back(correlate(folder.name, "points", opt, heldout, ref, gold, peak, B));
    }
  }
  // across every variant of every folder (the leaderboard plot's)
  board.correlations.push_back(correlate("", "all", "", all_heldout, all_ref, all_gold, all_peak, B));
  // by peak gold, descending; NaN last; stable
  std::stable_sort(board.rows.begin(), board.rows.end(), [](const LeaderboardRow& a, const LeaderboardRow& b) {
    const double x = a.peak_gold.mean, y = b.peak_gold.mean;
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
    return x > y;
  });
  return board;
}

Leaderboard compare_results(const std::vector<fs::path>& dirs, const fs::path& out,
                            const std::vector<double>& kl_budgets, bool quiet, std::ostream& table) {
  const Leaderboard board = build_leaderboard(dirs, kl_budgets);
  const fs::path folder = out.empty() ? dirs.front() : out;
  make_output_folder(folder);
  write_file_atomic(folder / "leaderboard.csv", leaderboard_csv(board));
  write_file_atomic(folder / "leaderboard.json", leaderboard_json(board).dump(2) + "\n");
  if (!quiet) print_leaderboard(board, table);
  return board;
}

}  // namespace goodhart
