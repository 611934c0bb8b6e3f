// test_compare.cpp — `goodhart compare` (sim/report/: curves, leaderboard, rendering; sim/stats/rank_stats.h) and
// the CSV reader (sim/scenario/csv_read.h): interpolation at fixed KL, Spearman with ties on known data, the CSV reader
// on CsvTable's quoting, a leaderboard from a real tiny run (one row per optimizer variant, aggregated over seeds,
// consistent with runs.csv), no RM accuracy on a dpo row, the CLI writing both files, and a folder without
// metrics.csv refused with exit 2.
// Contract: runs the built `goodhart` binary in test_scratch/ under the working folder; about 5 s in Release.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/report/leaderboard.h"
#include "sim/scenario/csv_read.h"
#include "sim/io/files.h"

namespace fs = std::filesystem;
using namespace goodhart;

namespace {

std::string slurp_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Cli {
  int exit_code;
  std::string out, err;
};

Cli run_cli(const std::string& args) {
  const fs::path dir = fs::current_path() / "test_scratch";
  fs::create_directories(dir);
  const fs::path out = dir / "compare_stdout.txt", err = dir / "compare_stderr.txt";
  const std::string cmd = std::string("cd ") + GOODHART_SOURCE_DIR + " && " + GOODHART_BINARY + " " + args + " >" +
                          out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  return {WEXITSTATUS(status), slurp_file(out), slurp_file(err)};
}

// runs the scenario `yaml` from a fresh test_scratch/<folder>; returns its results folder
fs::path run_scratch_scenario(const std::string& folder, const std::string& yaml) {
  const fs::path root = fs::current_path() / "test_scratch" / folder;
  fs::remove_all(root);
  fs::create_directories(root);
  std::ofstream(root / "scenario.yaml") << yaml;
  const fs::path out = root / "results";
  const Cli r = run_cli("run " + (root / "scenario.yaml").string() + " --quiet --out " + out.string());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return out;
}

// a tiny sweep: 2 optimizers x 2 data sizes x 2 seeds, run once and shared by the cases below
const fs::path& tiny_results() {
  static const fs::path dir = [] {
    return run_scratch_scenario("compare", "schema_version: 1\nname: compare_tiny\ndescription: t\nseed: 0\n"
                                         "world: {type: gaussian, dim: 4, prompts: 8}\n"
                                         "gold: {type: concave, penalty: 0.25}\n"
                                         "preferences: {n_pairs: 200, heldout_pairs: 500}\n"
                                         "proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5}\n"
                                         "eval: {accuracy_pairs: 256, standardize_samples: 4096}\n"
                                         "optimizers:\n"
                                         "  - {type: best_of_n, pool: 1024, n: [1, 2, 4, 8, 16, 64, 256, 1024]}\n"
                                         "  - {type: kl_optimum, kl_budget: [0.25, 0.5, 1, 2, 4, 8], samples: 512}\n"
                                         "sweep:\n  method: grid\n  parameters:\n"
                                         "    preferences.n_pairs: {values: [100, 3000]}\n"
                                         "    seed: {range: [0, 2]}\n");
  }();
  return dir;
}

}  // namespace

TEST_CASE("compare: linear interpolation of gold at a fixed KL") {
  const std::vector<double> kl = {0.0, 0.5, 1.0, 3.0}, gold = {0.0, 0.4, 0.6, 0.2};
  CHECK(interpolate_sorted(kl, gold, 0.25) == doctest::Approx(0.2));
  CHECK(interpolate_sorted(kl, gold, 0.5) == 0.4);  // a grid point exactly
  CHECK(interpolate_sorted(kl, gold, 2.0) == doctest::Approx(0.4));
  CHECK(interpolate_sorted(kl, gold, 3.0) == 0.2);  // the end of the curve
  CHECK(std::isnan(interpolate_sorted(kl, gold, 3.5)));  // beyond the curve: empty
  CHECK(std::isnan(interpolate_sorted(std::vector<double>{0.1, 1.0}, std::vector<double>{1, 2}, 0.05)));
  CHECK(std::isnan(interpolate_sorted(std::vector<double>{}, std::vector<double>{}, 1.0)));
}

TEST_CASE("compare: Spearman rank correlation on known data, ties as average ranks") {
  CHECK(average_ranks(std::vector<double>{10, 20, 20, 30}) == std::vector<double>{1, 2.5, 2.5, 4});
  CHECK(average_ranks(std::vector<double>{3, 1, 3, 3}) == std::vector<double>{3, 1, 3, 3});
  // monotone relations are +-1 whatever the scale
  CHECK(spearman(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{1, 8, 27, 64, 125}) == doctest::Approx(1.0));
  CHECK(spearman(std::vector<double>{1, 2, 3, 4}, std::vector<double>{9, 5, 2, -1}) == doctest::Approx(-1.0));
  // ties: ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): 4.5 / sqrt(4.5 * 5)
  CHECK(spearman(std::vector<double>{1, 2, 2, 3}, std::vector<double>{1, 2, 3, 4}) ==
        doctest::Approx(4.5 / std::sqrt(22.5)));
  // no ties: 1 - 6 sum d^2 / (n (n^2 - 1)) with sum d^2 = 4 -> 1 - 24 / 120 = 0.8
  CHECK(spearman(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{1, 3, 2, 5, 4}) == doctest::Approx(0.8));
  CHECK(spearman(std::vector<double>{1, 2, 3, 4, 5}, std::vector<double>{2, 1, 4, 3, 5}) == doctest::Approx(0.8));
  // NaN pairs dropped; fewer than 3 pairs or a constant side: NaN
  const double nan = std::nan("");
  CHECK(spearman(std::vector<double>{1, nan, 2, 3}, std::vector<double>{1, 5, 2, 3}) == doctest::Approx(1.0));
  CHECK(std::isnan(spearman(std::vector<double>{1, 2}, std::vector<double>{1, 2})));
  CHECK(std::isnan(spearman(std::vector<double>{1, 1, 1}, std::vector<double>{1, 2, 3})));
}

TEST_CASE("compare: read_csv reads back CsvTable's quoting") {
  const CsvTable t{{"a", "b,c", "d"}, {{"1", "x \"quoted\", y", ""}, {"line\nbreak", "", "3"}}};
  const CsvData d = parse_csv(t.str(), "t.csv");
  REQUIRE(d.header == t.header);
  REQUIRE(d.rows == t.rows);
  CHECK(d.column("b,c") == 1);
  CHECK(d.column("zz") == -1);
  CHECK(d.cell(1, "d") == "3");
  CHECK(parse_csv("a,b\r\n1,2", "crlf").rows == std::vector<std::vector<std::string>>{{"1", "2"}});
  CHECK_THROWS_AS(parse_csv("a,b\n1\n", "short"), std::runtime_error);
  CHECK_THROWS_AS(parse_csv("a\n\"open\n", "open"), std::runtime_error);
}

TEST_CASE("compare: a leaderboard from a real tiny run has one row per optimizer variant") {
  const fs::path dir = tiny_results();
  const Leaderboard board = build_leaderboard({dir}, {0.5, 1, 2, 4});
  // 2 optimizers x 2 values of preferences.n_pairs, each over 2 seeds
  REQUIRE(board.rows.size() == 4);
  std::map<std::string, int> seen;
  for (const LeaderboardRow& r : board.rows) {
    INFO(r.label(false));
    CHECK(r.seeds == 2);
    REQUIRE(r.swept.size() == 1);
    CHECK(r.swept[0].first == "preferences.n_pairs");
    ++seen[r.label(false)];
    CHECK(std::isfinite(r.peak_gold.mean));
    CHECK(std::isfinite(r.peak_gold.se));
    CHECK(r.drop.mean >= -1e-12);                           // the peak is at least the final gold
    CHECK(std::isfinite(r.gold_at_kl[0].mean));             // both grids reach KL 0.5 ...
    CHECK(r.rm_heldout_accuracy > 0.5);
  }
  CHECK(seen.size() == 4);
  for (std::size_t i = 1; i < board.rows.size(); ++i) CHECK(board.rows[i - 1].peak_gold.mean >= board.rows[i].peak_gold.mean);
  // the peak agrees with runs.csv's peak_gold averaged over the variant's seeds
  const CsvData runs = read_csv(dir / "runs.csv");
  for (const LeaderboardRow& r : board.rows) {
    double sum = 0.0;
    int n = 0;
    for (std::size_t i = 0; i < runs.rows.size(); ++i)
      if (runs.cell(i, "optimizer") == r.optimizer && runs.cell(i, "preferences.n_pairs") == r.swept[0].second) {
        sum += std::stod(runs.cell(i, "peak_gold"));
        ++n;
      }
    CHECK(n == 2);
    CHECK(r.peak_gold.mean == doctest::Approx(sum / n).epsilon(1e-12));
  }
  // best_of_n's grid ends at KL log(1024) - 1023/1024 ~ 5.93: 4 is reached; kl_optimum's budgets end at 8
  for (const LeaderboardRow& r : board.rows) CHECK(std::isfinite(r.gold_at_kl[3].mean));
  const Leaderboard far = build_leaderboard({dir}, {100});
  for (const LeaderboardRow& r : far.rows) CHECK(std::isnan(r.gold_at_kl[0].mean));  // beyond every curve
  // the rank correlations: across the folder's 4 variants, across each optimizer's 4 points, across all variants
  REQUIRE(board.correlations.size() == 4);
  CHECK(board.correlations[3].scope == "all");
  CHECK(board.correlations[3].n == 4);
  for (std::size_t b = 0; b < board.kl_budgets.size(); ++b) {  // one folder: all is its variants
    const double all = board.correlations[3].gold_at_kl[b], folder = board.correlations[0].gold_at_kl[b];
    CHECK((all == folder || (std::isnan(all) && std::isnan(folder))));
  }
  CHECK(board.correlations[0].scope == "variants");
  CHECK(board.correlations[0].n == 4);
  CHECK(board.correlations[0].accuracy == "rm_heldout_accuracy");
  CHECK(board.correlations[1].scope == "points");
  CHECK(board.correlations[1].n == 4);
  for (const Correlation& c : board.correlations)
    for (double rho : c.gold_at_kl)
      if (!std::isnan(rho)) CHECK(std::abs(rho) <= 1.0 + 1e-12);
  // two folders: variants are per folder
  const fs::path copy = dir.parent_path() / "results_copy";
  fs::remove_all(copy);
  fs::copy(dir, copy, fs::copy_options::recursive);
  const Leaderboard two = build_leaderboard({dir, copy}, {1});
  CHECK(two.rows.size() == 8);
  CHECK(two.folders.size() == 2);
  CHECK(two.correlations.back().scope == "all");
  CHECK(two.correlations.back().n == 8);  // every variant of both folders
}

TEST_CASE("compare: a dpo row shows no RM accuracy (its policy never sees the proxy)") {
  const fs::path out = run_scratch_scenario("compare_dpo", "schema_version: 1\nname: compare_dpo\ndescription: t\nseed: 0\n"
                                      "world: {type: gaussian, dim: 3, prompts: 4}\n"
                                      "gold: {type: linear}\npreferences: {n_pairs: 100, heldout_pairs: 100}\n"
                                      "proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5}\n"
                                      "eval: {accuracy_pairs: 64, standardize_samples: 1024}\n"
                                      "optimizers:\n"
                                      "  - {type: best_of_n, pool: 64, n: [1, 4, 16]}\n"
                                      "  - {type: dpo, beta: [0.5], steps: 8, eval_every: 4, samples: 64}\n");
  const Leaderboard board = build_leaderboard({out}, {0.5});
  REQUIRE(board.rows.size() == 2);
  for (const LeaderboardRow& r : board.rows) {
    INFO(r.optimizer);
    const bool dpo = r.optimizer == "dpo";
    CHECK(std::isnan(r.rm_heldout_accuracy) == dpo);
    CHECK(std::isnan(r.rm_accuracy_ref) == dpo);
  }
}

TEST_CASE("compare: the CLI prints the table and writes leaderboard.csv and leaderboard.json") {
  const fs::path dir = tiny_results();
  const fs::path out = dir.parent_path() / "board";
  fs::remove_all(out);
  const Cli r = run_cli("compare " + dir.string() + " --out " + out.string() + " --kl 0.5,2");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("peak gold") != std::string::npos);
  CHECK(r.out.find("gold@KL=2") != std::string::npos);
  CHECK(r.out.find("Spearman") != std::string::npos);
  const CsvData csv = read_csv(out / "leaderboard.csv");
  CHECK(csv.rows.size() == 4);
  CHECK(csv.column("gold_at_kl_0.5") >= 0);
  CHECK(csv.column("gold_at_kl_2_se") >= 0);
  CHECK(csv.column("gold_at_kl_1") == -1);
  CHECK(csv.cell(0, "rank") == "1");
  CHECK(csv.cell(0, "seeds") == "2");
  const nlohmann::json j = nlohmann::json::parse(slurp_file(out / "leaderboard.json"));
  CHECK(j["variants"].size() == 4);
  CHECK(j["kl_budgets"].size() == 2);
  CHECK(j["spearman"].size() == 4);
  CHECK(j["variants"][0]["peak_gold"]["mean"].is_number());
  // the default folder is the first results folder; --quiet prints nothing
  const Cli q = run_cli("compare " + dir.string() + " --quiet");
  CHECK(q.exit_code == 0);
  CHECK(q.out.empty());
  CHECK(fs::exists(dir / "leaderboard.csv"));
  CHECK(fs::exists(dir / "leaderboard.json"));
}

TEST_CASE("compare: a folder without metrics.csv is refused with exit 2") {
  const fs::path empty = fs::current_path() / "test_scratch" / "compare_empty";
  fs::remove_all(empty);
  fs::create_directories(empty);
  const Cli r = run_cli("compare " + empty.string() + " --quiet");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no metrics.csv") != std::string::npos);
  CHECK_FALSE(fs::exists(empty / "leaderboard.csv"));
  CHECK(run_cli("compare " + (empty / "missing").string()).exit_code == 2);
  CHECK(run_cli("compare " + tiny_results().string() + " --kl 1,-2 --quiet").exit_code == 2);
}
