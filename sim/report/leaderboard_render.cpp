// leaderboard_render.cpp — a leaderboard written out: leaderboard.csv, leaderboard.json and the fixed-width table
// `goodhart compare` prints.
// Contract: see leaderboard.h; numbers as format_double writes them (NaN empty in CSV, null in JSON, "-" in the
// table); the table's columns padded by display width (the ± sign is one column).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

#include "sim/scenario/csv_read.h"
#include "sim/io/files.h"
#include "sim/report/curves.h"
#include "sim/report/leaderboard.h"

namespace goodhart {

namespace {

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

std::string leaderboard_csv(const Leaderboard& board) {
  CsvTable t;
  t.header = {"rank", "folder", "optimizer", "variant", "seeds", "peak_gold", "peak_gold_se", "peak_sqrt_kl",
              "peak_sqrt_kl_se"};
  for (double b : board.kl_budgets) {
    t.header.push_back(budget_name(b));
    t.header.push_back(budget_name(b) + "_se");
  }
  for (const char* c : {"final_gold", "final_gold_se", "drop", "drop_se", "bon_alpha", "bon_beta", "bon_r2",
                        "rl_alpha", "rl_beta", "rl_r2", "rm_heldout_accuracy", "rm_accuracy_ref",
                        "proxy_bias_correlation"})
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
                     r.rm_accuracy_ref, r.proxy_bias_correlation})
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
                    {"rm_accuracy_ref", number_json(r.rm_accuracy_ref)},
                    {"proxy_bias_correlation", number_json(r.proxy_bias_correlation)}});
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
  // the proxy's correlation with the bias feature, where some variant has one (a length-biased world)
  const bool bias = std::any_of(board.rows.begin(), board.rows.end(),
                                [](const LeaderboardRow& r) { return std::isfinite(r.proxy_bias_correlation); });
  if (bias) head.push_back("bias corr");
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
    if (bias) c.push_back(fixed(r.proxy_bias_correlation));
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
  if (bias) out << "bias corr: the proxy's correlation with the bias feature under pi_ref (proxy_bias_correlation)\n";
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

}  // namespace goodhart
