// compare.cpp — the leaderboard of `goodhart compare`: curves from metrics.csv, fits and accuracies from runs.csv,
// aggregated over seeds, ranked by peak gold, with the rank correlation of RM accuracy and gold.
// Contract: see compare.h.
#include "sim/engine/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "sim/stats/fits.h"
#include "sim/io/csv_read.h"
#include "sim/io/files.h"

namespace fs = std::filesystem;

namespace goodhart {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

double number(const std::string& cell) {
  if (cell.empty()) return nan;
  try {
    std::size_t used = 0;
    const double v = std::stod(cell, &used);
    return used == cell.size() ? v : nan;
  } catch (const std::exception&) {
    return nan;  // "inf", overflow, text: not a number we wrote
  }
}

Estimate aggregate(const std::vector<double>& values) {
  std::vector<double> v;
  for (double x : values)
    if (!std::isnan(x)) v.push_back(x);
  Estimate e;
  if (v.empty()) return e;
  double sum = 0.0;
  for (double x : v) sum += x;
  e.mean = sum / static_cast<double>(v.size());
  if (v.size() >= 2) {
    double ss = 0.0;
    for (double x : v) ss += (x - e.mean) * (x - e.mean);
    e.se = std::sqrt(ss / static_cast<double>(v.size() - 1) / static_cast<double>(v.size()));
  }
  return e;
}

double mean_of(const std::vector<double>& values) { return aggregate(values).mean; }

// one (point, optimizer[, beta]) curve of metrics.csv and what it yields
struct Curve {
  std::string point_id, optimizer, beta;  // beta: set when a dpo run was split off
  std::vector<std::pair<std::string, std::string>> swept;
  std::vector<double> kl, sqrt_kl, gold;
  // derived
  double peak_gold = nan, peak_sqrt_kl = nan, final_gold = nan, drop = nan;
  std::vector<double> gold_at_kl;
  GaoFit bon, rl;
  double rm_heldout_accuracy = nan, rm_accuracy_ref = nan;
};

// the columns between `optimizer` and `last` (exclusive) but seed: the swept keys
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

std::string join_swept(const std::vector<std::pair<std::string, std::string>>& swept) {
  std::string s;
  for (const auto& [k, v] : swept) s += (s.empty() ? "" : " ") + k + "=" + v;
  return s;
}

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

struct Folder {
  std::string name;
  std::vector<Curve> curves;  // file order
};

Folder read_folder(const fs::path& dir, const std::vector<double>& budgets) {
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
  Folder folder;
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
    c.kl.push_back(number(metrics.cell(r, "kl")));
    c.sqrt_kl.push_back(number(metrics.cell(r, "sqrt_kl")));
    c.gold.push_back(number(metrics.cell(r, "gold_mean")));
  }
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
    c.rm_heldout_accuracy = number(runs.cell(r, "rm_heldout_accuracy"));
    c.rm_accuracy_ref = number(runs.cell(r, "rm_accuracy_ref"));
    c.bon.alpha = number(runs.cell(r, "bon_alpha"));
    c.bon.beta = number(runs.cell(r, "bon_beta"));
    c.bon.r2 = number(runs.cell(r, "bon_r2"));
    c.rl.alpha = number(runs.cell(r, "rl_alpha"));
    c.rl.beta = number(runs.cell(r, "rl_beta"));
    c.rl.r2 = number(runs.cell(r, "rl_r2"));
  }
  return folder;
}

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

std::string fixed(double v, int decimals = 3) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string with_se(const Estimate& e) {
  if (std::isnan(e.mean)) return "-";
  return std::isnan(e.se) ? fixed(e.mean) : fixed(e.mean) + "±" + fixed(e.se);
}

std::string budget_name(double b) { return "gold_at_kl_" + format_double(b); }

nlohmann::ordered_json number_json(double v) { return std::isnan(v) ? nlohmann::ordered_json() : nlohmann::ordered_json(v); }

nlohmann::ordered_json estimate_json(const Estimate& e) {
  return {{"mean", number_json(e.mean)}, {"se", number_json(e.se)}};
}

// the display width of UTF-8 text (the ± sign is two bytes, one column)
std::size_t width(const std::string& s) {
  std::size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

}  // namespace

double interpolate_sorted(std::span<const double> x, std::span<const double> y, double at) {
  if (x.size() != y.size()) throw std::invalid_argument("interpolate_sorted: x and y of different lengths");
  if (x.empty() || std::isnan(at) || at < x.front() || at > x.back()) return nan;
  const std::size_t i = static_cast<std::size_t>(std::lower_bound(x.begin(), x.end(), at) - x.begin());
  if (x[i] == at) return y[i];
  const double t = (at - x[i - 1]) / (x[i] - x[i - 1]);
  return y[i - 1] + t * (y[i] - y[i - 1]);
}

std::vector<double> average_ranks(std::span<const double> v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double r = 0.5 * static_cast<double>(i + j) + 1.0;  // ranks i+1 .. j+1, averaged
    for (std::size_t k = i; k <= j; ++k) rank[order[k]] = r;
    i = j + 1;
  }
  return rank;
}

double spearman(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size()) throw std::invalid_argument("spearman: x and y of different lengths");
  std::vector<double> a, b;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isnan(x[i]) && !std::isnan(y[i])) {
      a.push_back(x[i]);
      b.push_back(y[i]);
    }
  if (a.size() < 3) return nan;
  const std::vector<double> ra = average_ranks(a), rb = average_ranks(b);
  const double n = static_cast<double>(a.size()), mean = (n + 1.0) / 2.0;  // every rank set sums to n (n + 1) / 2
  double sab = 0.0, saa = 0.0, sbb = 0.0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - mean) * (rb[i] - mean);
    saa += (ra[i] - mean) * (ra[i] - mean);
    sbb += (rb[i] - mean) * (rb[i] - mean);
  }
  if (saa <= 0.0 || sbb <= 0.0) return nan;
  return sab / std::sqrt(saa * sbb);
}

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
    const double v = number(t);
    if (!(v > 0) || std::isinf(v))
      throw std::invalid_argument("--kl: a comma-separated list of KL budgets > 0, got '" + text + "'");
    out.push_back(v);
  }
  if (out.empty()) throw std::invalid_argument("--kl: at least one KL budget");
  return out;
}

Leaderboard build_leaderboard(const std::vector<fs::path>& dirs, const std::vector<double>& kl_budgets) {
  if (dirs.empty()) throw std::invalid_argument("compare: at least one results folder");
  Leaderboard board;
  board.kl_budgets = kl_budgets;
  const std::size_t B = kl_budgets.size();
  std::vector<double> all_heldout, all_ref, all_peak;  // every folder's variants, for the scope "all"
  std::vector<std::vector<double>> all_gold;
  for (const fs::path& dir : dirs) {
    const Folder folder = read_folder(dir, kl_budgets);
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

std::string leaderboard_csv(const Leaderboard& board) {
  CsvTable t;
  t.header = {"rank", "folder", "optimizer", "variant", "seeds", "peak_gold", "peak_gold_se", "peak_sqrt_kl",
              "peak_sqrt_kl_se"};
  for (double b : board.kl_budgets) {
    t.header.push_back(budget_name(b));
    t.header.push_back(budget_name(b) + "_se");
  }
  for (const char* c : {"final_gold", "final_gold_se", "drop", "drop_se", "bon_alpha", "bon_beta", "bon_r2",
                        "rl_alpha", "rl_beta", "rl_r2", "rm_heldout_accuracy", "rm_accuracy_ref"})
    t.header.push_back(c);
  for (std::size_t i = 0; i < board.rows.size(); ++i) {
    const LeaderboardRow& r = board.rows[i];
    std::vector<std::string> cells = {std::to_string(i + 1), r.folder, r.optimizer, join_swept(r.swept),
                                      std::to_string(r.seeds)};
    auto est = [&](const Estimate& e) {
      cells.push_back(format_double(e.mean));
      cells.push_back(format_double(e.se));
    };
    est(r.peak_gold);
    est(r.peak_sqrt_kl);
    for (const Estimate& e : r.gold_at_kl) est(e);
    est(r.final_gold);
    est(r.drop);
    for (double v : {r.bon_alpha, r.bon_beta, r.bon_r2, r.rl_alpha, r.rl_beta, r.rl_r2, r.rm_heldout_accuracy,
                     r.rm_accuracy_ref})
      cells.push_back(format_double(v));
    t.rows.push_back(std::move(cells));
  }
  return t.str();
}

nlohmann::ordered_json leaderboard_json(const Leaderboard& board) {
  using json = nlohmann::ordered_json;
  json rows = json::array();
  for (std::size_t i = 0; i < board.rows.size(); ++i) {
    const LeaderboardRow& r = board.rows[i];
    json swept = json::object();
    for (const auto& [k, v] : r.swept) swept[k] = v;
    json at = json::object();
    for (std::size_t b = 0; b < board.kl_budgets.size(); ++b)
      at[format_double(board.kl_budgets[b])] = estimate_json(r.gold_at_kl[b]);
    rows.push_back({{"rank", i + 1},
                    {"folder", r.folder},
                    {"optimizer", r.optimizer},
                    {"swept", swept},
                    {"seeds", r.seeds},
                    {"peak_gold", estimate_json(r.peak_gold)},
                    {"peak_sqrt_kl", estimate_json(r.peak_sqrt_kl)},
                    {"gold_at_kl", at},
                    {"final_gold", estimate_json(r.final_gold)},
                    {"drop", estimate_json(r.drop)},
                    {"bon", {{"alpha", number_json(r.bon_alpha)}, {"beta", number_json(r.bon_beta)},
                             {"r2", number_json(r.bon_r2)}}},
                    {"rl", {{"alpha", number_json(r.rl_alpha)}, {"beta", number_json(r.rl_beta)},
                            {"r2", number_json(r.rl_r2)}}},
                    {"rm_heldout_accuracy", number_json(r.rm_heldout_accuracy)},
                    {"rm_accuracy_ref", number_json(r.rm_accuracy_ref)}});
  }
  json correlations = json::array();
  for (const Correlation& c : board.correlations) {
    json at = json::object();
    for (std::size_t b = 0; b < board.kl_budgets.size(); ++b)
      at[format_double(board.kl_budgets[b])] = number_json(c.gold_at_kl[b]);
    correlations.push_back({{"folder", c.folder},
                            {"scope", c.scope},
                            {"optimizer", c.optimizer},
                            {"accuracy", c.accuracy},
                            {"n", c.n},
                            {"spearman_gold_at_kl", at},
                            {"spearman_peak_sqrt_kl", number_json(c.peak_sqrt_kl)}});
  }
  return {{"folders", board.folders},
          {"kl_budgets", board.kl_budgets},
          {"sort", "peak_gold descending"},
          {"variants", rows},
          {"spearman", correlations}};
}

void print_leaderboard(const Leaderboard& board, std::ostream& out) {
  const bool with_folder = board.folders.size() > 1;
  std::vector<std::string> head = {"#", "variant", "seeds", "peak gold", "sqrt(KL)@peak"};
  for (double b : board.kl_budgets) head.push_back("gold@KL=" + format_double(b));
  for (const char* h : {"final gold", "drop", "bon a/b", "rm acc"}) head.push_back(h);
  std::vector<std::vector<std::string>> cells;
  for (std::size_t i = 0; i < board.rows.size(); ++i) {
    const LeaderboardRow& r = board.rows[i];
    std::vector<std::string> c = {std::to_string(i + 1), r.label(with_folder), std::to_string(r.seeds),
                                  with_se(r.peak_gold), with_se(r.peak_sqrt_kl)};
    for (const Estimate& e : r.gold_at_kl) c.push_back(with_se(e));
    c.push_back(with_se(r.final_gold));
    c.push_back(with_se(r.drop));
    c.push_back(fixed(r.bon_alpha, 2) + "/" + fixed(r.bon_beta, 2));
    c.push_back(fixed(std::isnan(r.rm_heldout_accuracy) ? r.rm_accuracy_ref : r.rm_heldout_accuracy));
    cells.push_back(std::move(c));
  }
  std::vector<std::size_t> w(head.size());
  for (std::size_t j = 0; j < head.size(); ++j) {
    w[j] = width(head[j]);
    for (const auto& c : cells) w[j] = std::max(w[j], width(c[j]));
  }
  auto line = [&](const std::vector<std::string>& c) {
    std::string s;
    for (std::size_t j = 0; j < c.size(); ++j) {
      const std::string pad(w[j] - width(c[j]), ' ');
      // text columns left-aligned, numbers right-aligned
      s += (j == 1 ? c[j] + pad : pad + c[j]) + (j + 1 < c.size() ? "  " : "");
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  };
  line(head);
  for (const auto& c : cells) line(c);
  out << "rm acc: rm_heldout_accuracy (rm_accuracy_ref where empty); ± one standard error across seeds\n";
  // the rank correlations with enough data
  bool title = false;
  for (const Correlation& c : board.correlations) {
    if (c.n < 3) continue;
    if (!title) out << "\nSpearman rank correlation of RM accuracy with gold (objective mismatch):\n";
    title = true;
    std::string s = "  " + (with_folder ? c.folder + ", " : "") +
                    (c.scope == "variants" ? "across " + std::to_string(c.n) + " variants"
                                           : c.optimizer + " across " + std::to_string(c.n) + " points") +
                    " (" + c.accuracy + "):";
    for (std::size_t b = 0; b < board.kl_budgets.size(); ++b)
      s += " gold@KL=" + format_double(board.kl_budgets[b]) + " " + fixed(c.gold_at_kl[b], 2);
    s += ", peak sqrt(KL) " + fixed(c.peak_sqrt_kl, 2);
    out << s << "\n";
  }
}

Leaderboard compare_results(const std::vector<fs::path>& dirs, const fs::path& out,
                            const std::vector<double>& kl_budgets, bool quiet, std::ostream& table) {
  const Leaderboard board = build_leaderboard(dirs, kl_budgets);
  const fs::path folder = out.empty() ? dirs.front() : out;
  write_file_atomic(folder / "leaderboard.csv", leaderboard_csv(board));
  write_file_atomic(folder / "leaderboard.json", leaderboard_json(board).dump(2) + "\n");
  if (!quiet) print_leaderboard(board, table);
  return board;
}

}  // namespace goodhart
