// test_onset.cpp — onset detectors (`goodhart detect`, sim/report/onset.h) and the training signals they read
// (ensemble_disagreement, early_stopping monitor): the onset rule and the signals on a hand-written table, the
// ROC and AUC of random tables against a brute-force count, the disagreement against member scores summed by hand,
// the located errors, and the claim of scenarios/onset_detectors.yaml at tiny size.
// Contract: every table is written to a scratch folder; the random tables use a fixed seed; the claim's margins
// were measured when the scenario was written (ensemble_disagreement's AUC 0.66, kl's 0.32).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "cli_helpers.h"
#include "models/policy.h"
#include "models/worlds/registry.h"
#include "sim/io/files.h"
#include "sim/numeric/mlp.h"
#include "sim/optimizers/policy_eval.h"
#include "sim/report/onset.h"
#include "sim/scenario/csv_read.h"
#include "test_helpers.h"

using namespace goodhart;
namespace fs = std::filesystem;

namespace {

// one curve's evaluations as metrics.csv rows: step, kl, gold, gold_se, proxy, entropy, accuracy, validation,
// disagreement (NaN: an empty cell)
struct Row {
  double step, kl, gold, gold_se, proxy, entropy, accuracy, validation, disagreement;
};

std::string cell(double v) { return format_double(v); }

fs::path write_folder(const std::string& name, const std::vector<std::vector<Row>>& curves,
                      const std::string& param_name = "step") {
  const fs::path dir = test::scratch(name);
  fs::create_directories(dir);
  std::ofstream f(dir / "metrics.csv");
  f << "point_id,curve_id,seed,optimizer,optimizer.kl_coef,param_name,param,kl,gold_mean,gold_se,proxy_mean,"
       "entropy,rm_accuracy_policy,step,validation_proxy,ensemble_disagreement\n";
  for (std::size_t c = 0; c < curves.size(); ++c)
    for (const Row& r : curves[c])
      f << "p" << c << ",p" << c << "-0,0,policy_gradient,0.1," << param_name << "," << cell(r.step) << ","
        << cell(r.kl) << "," << cell(r.gold) << "," << cell(r.gold_se) << "," << cell(r.proxy) << ","
        << cell(r.entropy) << "," << cell(r.accuracy) << "," << cell(r.step) << "," << cell(r.validation) << ","
        << cell(r.disagreement) << "\n";
  return dir;
}

constexpr double na = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST_CASE("detect: the onset rule and every signal on a hand-written curve") {
  // gold rises to 1.0 at t = 2, then 0.85 (within 2 se of 0.1) and 0.7 (beyond): the onset is t = 4
  const std::vector<Row> turning = {
      {0, 0.0, 0.0, 0.1, 0.0, 2.0, 0.8, 0.0, 0.5},  {10, 0.2, 0.5, 0.1, 0.4, 1.8, 0.78, 0.3, 0.5},
      {20, 0.6, 1.0, 0.1, 0.9, 1.5, 0.75, 0.5, 0.55}, {30, 1.2, 0.85, 0.1, 1.5, 1.2, 0.7, 0.45, 0.6},
      {40, 2.0, 0.7, 0.1, 2.2, 1.0, 0.65, 0.4, 0.7}, {50, 3.0, 0.5, 0.1, 3.0, 0.8, 0.6, 0.3, 0.8}};
  // no se (one prompt): any fall below the running maximum is an onset; this one never falls
  const std::vector<Row> rising = {{0, 0.0, 0.0, na, 0.0, 2.0, 0.8, 0.0, 0.4},
                                   {5, 0.1, 0.2, na, 0.2, 1.9, 0.8, 0.1, 0.4},
                                   {10, 0.3, 0.3, na, 0.3, 1.9, na, 0.2, 0.41}};
  const fs::path dir = write_folder("onset_hand", {turning, rising});
  const OnsetReport r = detect_onsets({dir}, 2.0);
  REQUIRE(r.curves.size() == 2);
  const OnsetCurve& a = r.curves[0];
  const OnsetCurve& b = r.curves[1];
  CHECK(a.onset == 4);
  CHECK(b.onset == -1);
  CHECK(a.swept == "optimizer.kl_coef=0.1");
  CHECK(std::isnan(a.signal[0][0]));
  // t = 3 of the turning curve, from the contract's formulas
  const auto near = [](double x, double y) { return std::abs(x - y) < 1e-12; };
  CHECK(near(a.signal[0][3], 1.2));                                // kl
  CHECK(near(a.signal[1][3], (1.2 - 0.6) / 10));                   // kl_growth
  CHECK(near(a.signal[2][3], ((1.2 - 0.6) / 10 - 0.04) / 10));     // kl_acceleration
  CHECK(near(a.signal[3][3], (2.0 - 1.2) / 2.0));                  // entropy_drop
  CHECK(near(a.signal[4][3], 0.6 / 0.5 - 1.0));                    // ensemble_disagreement
  CHECK(near(a.signal[5][3], 0.5 - 0.45));                         // validation_drop
  CHECK(near(a.signal[6][3], 1.5 - 0.45));                         // proxy_validation_gap
  CHECK(near(a.signal[7][3], 0.8 - 0.7));                          // accuracy_drop
  CHECK(std::isnan(a.signal[2][1]));                               // acceleration needs two differences
  // scores: the maximum over 1..onset for the turning curve, over the whole run for the other (NaN passed over)
  CHECK(near(a.score[0], 2.0));
  CHECK(near(b.score[0], 0.3));
  CHECK(near(b.score[7], 0.0));
  // kl separates them perfectly: auc 1, and at the best threshold the alarm comes at t = 4 (lead 0)
  CHECK(near(r.signals[0].auc, 1.0));
  CHECK(near(r.signals[0].best.threshold, 2.0));
  CHECK(r.signals[0].best.detected == 1);
  CHECK(r.signals[0].best.false_alarms == 0);
  CHECK(near(r.signals[0].best.lead_median, 0.0));
  // a smaller k: 0.85 < 1.0 - 1 * 0.1 makes t = 3 the onset
  CHECK(detect_onsets({dir}, 1.0).curves[0].onset == 3);
  // several folders (here one twice, as two copies of a folder would be): each folder's curves on their own
  CHECK(detect_onsets({dir, dir}, 2.0).curves.size() == 4);
}

TEST_CASE("detect: ROC counts and AUC of random curves against a brute-force count") {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> z;
  std::vector<std::vector<Row>> curves;
  for (int c = 0; c < 40; ++c) {
    std::vector<Row> rows;
    double gold = 0.0, kl = 0.0;
    const double drift = z(rng) * 0.05;
    for (int t = 0; t < 15; ++t) {
      if (t > 0) {
        gold += 0.05 + drift * t + 0.05 * z(rng);
        kl += std::abs(z(rng)) * 0.2;
      }
      // signals rounded to a grid so that ties between curves occur
      const double v = std::round(z(rng) * 4) / 4;
      rows.push_back({10.0 * t, kl, gold, 0.02, gold + kl, 3.0, 0.7 + 0.01 * v, v, 0.5 + 0.1 * std::abs(v)});
    }
    curves.push_back(rows);
  }
  const OnsetReport r = detect_onsets({write_folder("onset_random", curves)}, 2.0);
  int turning = 0;
  for (const OnsetCurve& c : r.curves) turning += c.onset >= 0;
  REQUIRE(turning >= 5);
  REQUIRE(turning <= 35);
  for (int s = 0; s < onset_signal_count; ++s) {
    CAPTURE(onset_signals[s]);
    // the brute force: an alarm at threshold tau is any evaluation t >= 1 with signal >= tau
    const auto alarms_by = [&](const OnsetCurve& c, double tau, std::size_t last) {
      for (std::size_t t = 1; t <= last; ++t)
        if (c.signal[s][t] >= tau) return true;
      return false;
    };
    int roc_rows = 0;
    for (const RocPoint& p : r.roc) {
      if (p.signal != onset_signals[s]) continue;
      ++roc_rows;
      int detected = 0, false_alarms = 0, positives = 0, negatives = 0;
      for (const OnsetCurve& c : r.curves) {
        if (std::isnan(c.score[s])) continue;
        const std::size_t end = c.step.size() - 1;
        if (c.onset >= 0) {
          ++positives;
          detected += alarms_by(c, p.threshold, static_cast<std::size_t>(c.onset));
        } else {
          ++negatives;
          false_alarms += alarms_by(c, p.threshold, end);
        }
      }
      CHECK(p.detected == detected);
      CHECK(p.false_alarms == false_alarms);
      CHECK(p.detected + p.late + p.missed == positives);
      CHECK(std::abs(p.tpr - static_cast<double>(detected) / positives) < 1e-15);
      CHECK(std::abs(p.fpr - static_cast<double>(false_alarms) / negatives) < 1e-15);
    }
    CHECK(roc_rows > 0);
    // AUC: the area under the ROC's steps, (0,0) to (1,1), equals the Mann-Whitney statistic
    std::vector<std::pair<double, double>> pts = {{0.0, 0.0}};
    for (auto it = r.roc.rbegin(); it != r.roc.rend(); ++it)
      if (it->signal == onset_signals[s]) pts.emplace_back(it->fpr, it->tpr);
    double area = 0.0;
    for (std::size_t i = 1; i < pts.size(); ++i)
      area += (pts[i].first - pts[i - 1].first) * (pts[i].second + pts[i - 1].second) / 2;
    const SignalSummary& summary = r.signals[static_cast<std::size_t>(s)];
    CHECK(std::abs(pts.back().first - 1.0) < 1e-12);
    CHECK(std::abs(pts.back().second - 1.0) < 1e-12);
    CHECK(std::abs(area - summary.auc) < 1e-12);
  }
}

TEST_CASE("ensemble_disagreement at pi_ref is the pi_ref mean of the members' sd, and monitor never stops") {
  const std::string yaml = "schema_version: 1\nname: od\ndescription: t\nseed: 3\n"
                           "world: {type: categorical, dim: 6, prompts: 8, candidates: 32, seed: 5}\n"
                           "gold: {type: concave, penalty: 0.5}\n"
                           "preferences: {n_pairs: 200, label_noise: 0.2, heldout_pairs: 200}\n"
                           "proxy: {type: learned, model: mlp, hidden: [8], epochs: 5, ensemble_members: 3,"
                           " ensemble_method: bootstrap}\n"
                           "eval: {accuracy_pairs: 256, standardize_samples: 4096}\n"
                           "optimizer: {type: policy_gradient, policy: tabular, kl_coef: 0, learning_rate: 0.2,"
                           " steps: 60, eval_every: 10, early_stopping: monitor, patience: 1}\n";
  const Scenario s = expand_sweep_text(yaml, "od.yaml").at(0).config;
  const test::FittedProxy f(s);
  REQUIRE(f.proxy.members.size() == 3);
  // by hand: every candidate's members, their population sd, weighted by pi_ref
  Responses r;
  all_candidates(*f.world, f.gold, f.proxy.needs(), Backend::cpu, s.seed, r);
  const int P = f.world->prompts(), K = f.world->candidates()->count;
  double want = 0.0;
  for (int p = 0; p < P; ++p)
    for (int k = 0; k < K; ++k) {
      const Eigen::Index i = static_cast<Eigen::Index>(p) * K + k;
      std::vector<double> in;
      for (int c : f.proxy.columns) in.push_back(r.x(i, c));
      double mean = 0.0, sq = 0.0;
      for (const Mlp& m : f.proxy.members) mean += mlp_eval(m, in.data()) / 3.0;
      for (const Mlp& m : f.proxy.members) sq += std::pow(mlp_eval(m, in.data()) - mean, 2) / 3.0;
      want += std::exp(static_cast<double>(f.world->candidates()->log_ref(p, k))) * std::sqrt(sq) / P;
    }
  // the engine's: step 0 of the run; monitor gives every evaluation (no stop at patience 1) a validation value
  std::vector<MetricRow> rows;
  for (const RunSpec& spec : expand_sweep_text(yaml, "od.yaml"))
    for (const MetricRow& m : run_point(spec, Backend::cpu).rows) rows.push_back(m);
  REQUIRE(rows.size() == 7);
  CHECK(std::abs(rows[0].ensemble_disagreement - want) < 1e-5 * std::max(1.0, want));
  for (const MetricRow& m : rows) {
    CHECK(std::isfinite(m.validation_proxy));
    CHECK(std::isfinite(m.ensemble_disagreement));
    CHECK(std::isnan(m.stopped));
  }
  // a single proxy has no disagreement
  const auto single = expand_sweep_text(yaml, "od.yaml", {"proxy.ensemble_members=1"});
  for (const MetricRow& m : run_point(single.at(0), Backend::cpu).rows) CHECK(std::isnan(m.ensemble_disagreement));
}

TEST_CASE("detect: the CLI writes its three tables, and bad input is a located error with nothing written") {
  const std::vector<Row> curve = {{0, 0, 0, 0.1, 0, 1, 0.8, 0, 0.5}, {10, 0.5, 0.5, 0.1, 0.5, 0.9, 0.7, 0.2, 0.6}};
  const fs::path dir = write_folder("onset_cli", {curve});
  const fs::path out = test::scratch("onset_cli_out");
  const test::CliResult ok = test::cli("detect " + dir.string() + " --out " + out.string());
  REQUIRE_MESSAGE(ok.exit_code == 0, ok.err);
  CHECK(ok.out.find("1 training curves, 0 turn over") != std::string::npos);
  for (const char* f : {"detect.csv", "detect_curves.csv", "detect_signals.csv"}) CHECK(fs::exists(out / f));
  CHECK(read_csv(out / "detect_signals.csv").rows.size() == static_cast<std::size_t>(onset_signal_count));
  // errors: exit 2, a message naming the problem, nothing written
  const fs::path none = test::scratch("onset_cli_none");
  const auto refused = [&](const std::string& args, const std::string& says) {
    CAPTURE(args);
    const test::CliResult r = test::cli("detect " + args + " --out " + none.string());
    CHECK(r.exit_code == 2);
    CHECK_MESSAGE(r.err.find(says) != std::string::npos, r.err);
    CHECK(!fs::exists(none / "detect.csv"));
  };
  refused(dir.string() + " --k -1", "--k: expected a finite number >= 0");
  refused((dir / "missing").string(), "no such results folder");
  refused(write_folder("onset_grid", {curve}, "n").string(), "no training curve");
  const std::vector<Row> backwards = {{0, 0, 0, 0.1, 0, 1, 0.8, 0, 0.5}, {0, 0.5, 0.5, 0.1, 0.5, 0.9, 0.7, 0.2, 0.6}};
  refused(write_folder("onset_back", {backwards}).string(), "metrics.csv:3:");
  const fs::path broken = test::scratch("onset_broken");
  fs::create_directories(broken);
  std::ofstream(broken / "metrics.csv") << "point_id,optimizer,param_name\n\"unclosed\n";
  refused(broken.string(), "metrics.csv");
}

TEST_CASE("scenario onset_detectors (tiny): ensemble disagreement anticipates the turn-over; KL does not") {
  const fs::path d = test::scratch("onset_tiny");
  REQUIRE(test::cli("run scenarios/tiny/onset_detectors.yaml --quiet --out " + d.string()).exit_code == 0);
  const test::CliResult r = test::cli("detect " + d.string() + " --quiet");
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const CsvData t = read_csv(d / "detect_signals.csv");
  const auto auc = [&](const std::string& signal) {
    for (std::size_t i = 0; i < t.rows.size(); ++i)
      if (t.cell(i, "signal") == signal) return std::stod(t.cell(i, "auc"));
    FAIL("no signal " << signal);
    return 0.0;
  };
  REQUIRE(std::stoi(t.cell(0, "turning")) >= 3);
  REQUIRE(std::stoi(t.cell(0, "others")) >= 3);
  // the mlp members disagree more where the policy exploits their estimation errors
  CHECK(auc("ensemble_disagreement") > 0.6);
  for (const char* s : onset_signals)
    if (std::string(s) != "ensemble_disagreement") CHECK(auc(s) < auc("ensemble_disagreement"));
  // stable runs (a large KL coefficient) reach a KL that turning runs reach only after their onset
  CHECK(auc("kl") < 0.5);
}
