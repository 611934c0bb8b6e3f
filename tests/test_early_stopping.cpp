// test_early_stopping.cpp — early stopping on a held-out signal (optimizer keys early_stopping, patience):
// a run that overoptimizes stops before the full run ends, at more gold than the full run ends with; the rows
// before the stop are the full run's; early_stopping none leaves every row as a scenario without the keys; the
// validation RM is fitted to the held-out pairs (not the training proxy) and starts at its pi_ref mean 0; the
// checks of validate.cpp; dpo stops each beta on its own; a validation fit that fails reaches the caller.
// Contract: in-process runs from YAML text (expand_sweep_text + run_point); fixed seeds; a few seconds in Release.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/preferences.h"
#include "models/worlds/registry.h"
#include "sim/io/results.h"
#include "sim/optimizers/optimizer.h"
#include "sim/optimizers/policy_eval.h"
#include "test_helpers.h"

using namespace goodhart;

namespace {

std::vector<MetricRow> run_rows(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  std::vector<MetricRow> rows;
  for (const RunSpec& spec : expand_sweep_text(yaml, "es.yaml", overrides))
    for (const MetricRow& r : run_point(spec, Backend::cpu).rows) rows.push_back(r);
  return rows;
}

// a gaussian world whose gold is concave (u.y - 0.25 |y|^2): a quadratic proxy learned from few pairs can
// represent the penalty, but its estimation errors leave directions where it keeps rising; rloo without a KL
// penalty follows them, gold rises then falls
std::string overoptimizing(const std::string& extra) {
  return "schema_version: 1\nname: es\ndescription: t\nseed: 1\n"
         "world: {type: gaussian, dim: 8, prompts: 16}\n"
         "gold: {type: concave, penalty: 0.25}\n"
         "preferences: {n_pairs: 300, heldout_pairs: 300}\n"
         "proxy: {type: learned, model: quadratic, optimizer: lbfgs, epochs: 20}\n"
         "eval: {accuracy_pairs: 256, standardize_samples: 4096}\n"
         "optimizer: {type: policy_gradient, algorithm: rloo, kl_coef: 0, learning_rate: 0.05, steps: 300,\n"
         "            eval_every: 10, num_generations: 8, samples: 512" + extra + "}\n";
}

bool same(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// every field of two rows, bit for bit (NaN equal to NaN)
bool same_row(const MetricRow& a, const MetricRow& b) {
  return a.optimizer == b.optimizer && a.param_name == b.param_name && same(a.param, b.param) &&
         same(a.beta, b.beta) && same(a.kl, b.kl) && same(a.sqrt_kl, b.sqrt_kl) && same(a.kl_bound, b.kl_bound) &&
         same(a.proxy_mean, b.proxy_mean) && same(a.proxy_se, b.proxy_se) && same(a.gold_mean, b.gold_mean) &&
         same(a.gold_se, b.gold_se) && same(a.gold_win_rate, b.gold_win_rate) &&
         same(a.proxy_gold_corr, b.proxy_gold_corr) && same(a.rm_accuracy_ref, b.rm_accuracy_ref) &&
         same(a.rm_accuracy_policy, b.rm_accuracy_policy) && same(a.entropy, b.entropy) && same(a.ess, b.ess) &&
         same(a.step, b.step) && same(a.kl_coef, b.kl_coef) && same(a.implicit_accuracy, b.implicit_accuracy) &&
         same(a.stopped, b.stopped) && same(a.validation_proxy, b.validation_proxy);
}

}  // namespace

TEST_CASE("early stopping: an overoptimizing run stops earlier, at more gold than the full run ends with") {
  const std::vector<MetricRow> full = run_rows(overoptimizing(""));
  const std::vector<MetricRow> stopped =
      run_rows(overoptimizing(", early_stopping: heldout_proxy, patience: 3"));
  REQUIRE(full.size() == 31);
  REQUIRE(stopped.size() >= 2);
  // the full run overoptimizes: its gold peaks inside the run and ends lower
  double peak = -1e300;
  std::size_t at = 0;
  for (std::size_t i = 0; i < full.size(); ++i)
    if (full[i].gold_mean > peak) peak = full[i].gold_mean, at = i;
  const MetricRow& stop = stopped.back();
  MESSAGE("full run: gold peak " << peak << " at step " << full[at].step << " (sqrt KL " << full[at].sqrt_kl
                                 << "), final gold " << full.back().gold_mean << " at step " << full.back().step
                                 << " (sqrt KL " << full.back().sqrt_kl << ", proxy " << full.back().proxy_mean
                                 << ")");
  MESSAGE("early stopped: step " << stop.step << " (sqrt KL " << stop.sqrt_kl << "), gold " << stop.gold_mean
                                 << ", validation RM " << stop.validation_proxy << ", proxy " << stop.proxy_mean
                                 << "; " << stopped.size() << " rows");
  CHECK(at > 0);
  CHECK(at + 1 < full.size());
  CHECK(full.back().gold_mean < peak);
  // it stopped earlier, at its best evaluation, marked; gold there beats the full run's final gold
  CHECK(stop.stopped == 1.0);
  CHECK(stop.step < full.back().step);
  CHECK(stopped.size() < full.size());
  CHECK(stop.gold_mean > full.back().gold_mean);
  for (std::size_t i = 0; i + 1 < stopped.size(); ++i) CHECK(std::isnan(stopped[i].stopped));
  // the stop row is the best validation value of the run
  for (const MetricRow& r : stopped) {
    CHECK(std::isfinite(r.validation_proxy));
    CHECK(r.validation_proxy <= stop.validation_proxy);
  }
  // training is the same: the rows up to the stop are the full run's, plus the validation column
  for (std::size_t i = 0; i < stopped.size(); ++i) {
    MetricRow r = stopped[i];
    r.validation_proxy = full[i].validation_proxy;
    r.stopped = full[i].stopped;
    CHECK(same_row(r, full[i]));
  }
  // at step 0 the policy is pi_ref, where the validation RM is standardized to mean 0 (up to the eval draws)
  CHECK(std::abs(stopped[0].validation_proxy) < 0.1);
}

TEST_CASE("early stopping: a blind spot both proxies share is not caught (linear proxy of a concave gold)") {
  // the validation RM is linear too: it cannot see the over-doing penalty either, so it rises with the training
  // proxy while gold falls, and the run is not stopped (documented in docs/scenario-keys.md)
  const std::vector<MetricRow> rows =
      run_rows(overoptimizing(", early_stopping: heldout_proxy, patience: 3"), {"proxy.model=linear"});
  REQUIRE(rows.size() == 31);
  CHECK(std::isnan(rows.back().stopped));
  CHECK(rows.back().validation_proxy > rows[1].validation_proxy);
  CHECK(rows.back().gold_mean < rows[1].gold_mean);
  MESSAGE("linear proxy: validation RM " << rows[1].validation_proxy << " -> " << rows.back().validation_proxy
                                         << ", gold " << rows[1].gold_mean << " -> " << rows.back().gold_mean);
}

TEST_CASE("early stopping none: every row as a scenario without the keys, new columns empty") {
  const std::string pg = overoptimizing("");
  const std::vector<MetricRow> a = run_rows(pg, {"optimizer.steps=60"});
  const std::vector<MetricRow> b = run_rows(overoptimizing(", early_stopping: none, patience: 3"), {"optimizer.steps=60"});
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(same_row(a[i], b[i]));
    CHECK(std::isnan(a[i].stopped));
    CHECK(std::isnan(a[i].validation_proxy));
  }
  // the same point (the resolved config lists the defaults), so the rendered rows are identical too
  const RunSpec sa = expand_sweep_text(pg, "es.yaml", {"optimizer.steps=60"}).at(0);
  const RunSpec sb = expand_sweep_text(overoptimizing(", early_stopping: none"), "es.yaml", {"optimizer.steps=60"}).at(0);
  CHECK(sa.point_id == sb.point_id);
  // dpo, categorical world
  const std::string dpo = "schema_version: 1\nname: es\ndescription: t\nseed: 2\n"
                          "world: {type: categorical, dim: 6, prompts: 8, candidates: 16, seed: 3}\n"
                          "gold: {type: linear}\npreferences: {n_pairs: 400, heldout_pairs: 200}\n"
                          "proxy: {type: learned, optimizer: lbfgs, epochs: 3}\n"
                          "eval: {accuracy_pairs: 256, standardize_samples: 4096}\n"
                          "optimizer: {type: dpo, beta: [0.1, 0.5], steps: 40, eval_every: 10, batch_size: 32";
  const std::vector<MetricRow> c = run_rows(dpo + "}\n"), d = run_rows(dpo + ", early_stopping: none}\n");
  REQUIRE(c.size() == d.size());
  for (std::size_t i = 0; i < c.size(); ++i) CHECK(same_row(c[i], d[i]));
  // the two columns come just before ensemble_disagreement, the last of metrics.csv
  const std::string header = metrics_header({}), tail = "stopped,validation_proxy,ensemble_disagreement\n";
  CHECK(header.substr(header.size() - tail.size()) == tail);
}

TEST_CASE("early stopping: the validation RM is fitted to the held-out pairs") {
  const Scenario s = expand_sweep_text(overoptimizing(""), "es.yaml").at(0).config;
  const auto made_w = make_world(s.world);
  const World& w = *made_w;
  const Gold g = make_gold(s.gold, w, s.eval.standardize_samples);
  const Proxy train = make_proxy(s.proxy, s.preferences, s.eval, w, g, true, Backend::cpu, s.seed);
  const Proxy again =
      make_proxy(s.proxy, s.preferences, s.eval, w, g, true, Backend::cpu, s.seed, ProxyData::training);
  const Proxy valid =
      make_proxy(s.proxy, s.preferences, s.eval, w, g, true, Backend::cpu, s.seed, ProxyData::heldout);
  // the default is the training proxy, unchanged
  REQUIRE(train.members.size() == 1);
  CHECK(train.members[0].weights[0] == again.members[0].weights[0]);
  CHECK(same(train.heldout_accuracy, again.heldout_accuracy));
  // another fit: different weights, but both rank responses much like gold (accuracy on the other's pairs)
  CHECK(train.members[0].weights[0] != valid.members[0].weights[0]);
  CHECK(valid.heldout_accuracy > 0.6);
  CHECK(train.heldout_accuracy > 0.6);
  // categorical world: at pi_ref (step 0) the exact validation mean is the standardized 0
  const std::string cat = "schema_version: 1\nname: es\ndescription: t\nseed: 4\n"
                          "world: {type: categorical, dim: 6, prompts: 8, candidates: 32, seed: 5}\n"
                          "gold: {type: mlp, hidden: [16]}\npreferences: {n_pairs: 200, heldout_pairs: 200}\n"
                          "proxy: {type: learned, optimizer: lbfgs, epochs: 5}\n"
                          "eval: {accuracy_pairs: 256, standardize_samples: 4096}\n"
                          "optimizer: {type: policy_gradient, kl_coef: 0, learning_rate: 0.2, steps: 100, "
                          "eval_every: 5, early_stopping: heldout_proxy, patience: 2}\n";
  const std::vector<MetricRow> rows = run_rows(cat);
  REQUIRE(!rows.empty());
  CHECK(std::abs(rows[0].validation_proxy) < 1e-5);
  MESSAGE("categorical policy_gradient with early stopping: " << rows.size() << " rows, last step "
                                                              << rows.back().step << ", stopped "
                                                              << rows.back().stopped);
  for (const MetricRow& r : rows) CHECK(std::isfinite(r.validation_proxy));
}

TEST_CASE("early stopping: dpo stops each beta on its own") {
  const std::string dpo = "schema_version: 1\nname: es\ndescription: t\nseed: 2\n"
                          "world: {type: categorical, dim: 6, prompts: 8, candidates: 16, seed: 3}\n"
                          "gold: {type: mlp, hidden: [16]}\npreferences: {n_pairs: 150, heldout_pairs: 300}\n"
                          "proxy: {type: learned, optimizer: lbfgs, epochs: 3}\n"
                          "eval: {accuracy_pairs: 256, standardize_samples: 4096}\n"
                          "optimizer: {type: dpo, policy: tabular, beta: [0.05, 0.5], learning_rate: 0.2, steps: 200,"
                          " eval_every: 5, batch_size: 32, early_stopping: heldout_proxy, patience: 2}\n";
  const std::vector<MetricRow> rows = run_rows(dpo);
  // split by beta: each run starts at step 0, and only a run's last row may be marked
  std::vector<std::vector<MetricRow>> runs;
  for (const MetricRow& r : rows) {
    if (r.step == 0) runs.emplace_back();
    REQUIRE(!runs.empty());
    runs.back().push_back(r);
  }
  REQUIRE(runs.size() == 2);
  for (const auto& run : runs) {
    for (std::size_t i = 0; i + 1 < run.size(); ++i) CHECK(std::isnan(run[i].stopped));
    for (const MetricRow& r : run) CHECK(std::isfinite(r.validation_proxy));
    if (run.back().stopped == 1.0) {
      for (const MetricRow& r : run) CHECK(r.validation_proxy <= run.back().validation_proxy);
    } else {
      CHECK(run.back().step == 200);
    }
    MESSAGE("dpo beta " << run[0].beta << ": " << run.size() << " rows, last step " << run.back().step
                        << std::string(run.back().stopped == 1.0 ? " (stopped)" : ""));
  }
}

TEST_CASE("early stopping: the checks of validate") {
  const std::string base = overoptimizing("");
  CHECK_NOTHROW(expand_sweep_text(base, "es.yaml", {"optimizer.early_stopping=heldout_proxy"}));
  CHECK_THROWS_AS(expand_sweep_text(base, "es.yaml", {"optimizer.early_stopping=yes"}), ScenarioError);
  CHECK_THROWS_AS(expand_sweep_text(base, "es.yaml", {"optimizer.patience=0"}), ScenarioError);
  CHECK_THROWS_WITH_AS(
      expand_sweep_text(base, "es.yaml", {"optimizer.early_stopping=heldout_proxy", "preferences.heldout_pairs=50"}),
      doctest::Contains("preferences.heldout_pairs >= 100"), ScenarioError);
  // only the training optimizers have the key
  CHECK_THROWS_WITH_AS(
      expand_sweep_text(base, "es.yaml", {"optimizer={type: best_of_n, early_stopping: heldout_proxy}"}),
      doctest::Contains("optimizer.early_stopping: not a key of best_of_n"), ScenarioError);
  CHECK_THROWS_WITH_AS(expand_sweep_text(base, "es.yaml",
                                         {"optimizer.early_stopping=heldout_proxy", "proxy={type: noisy}"}),
                       doctest::Contains("proxy.type learned"), ScenarioError);
}

TEST_CASE("early stopping: a validation RM that cannot be fitted is an error the caller catches") {
  // the fit runs in ValidationSignal's constructor, on the calling thread: before, a gaussian world fitted it
  // on first use inside mean()'s parallel loop, where a throw ended the process
  const Scenario s = expand_sweep_text(overoptimizing(""), "es.yaml").at(0).config;
  const auto made_w = make_world(s.world);
  const Gold g = make_gold(s.gold, *made_w, s.eval.standardize_samples);
  const Proxy train = make_proxy(s.proxy, s.preferences, s.eval, *made_w, g, true, Backend::cpu, s.seed);
  int attempts = 0;
  const LazyProxy failing([&]() -> Proxy {
    ++attempts;
    throw std::runtime_error("the validation fit failed");
  });
  const std::vector<float> ref_gold;
  const OptimizerContext ctx{s, *made_w, g, train, Backend::cpu, s.seed, ref_gold, nullptr, &failing};
  CHECK_THROWS_WITH_AS((TrainingSignals{ctx, "heldout_proxy"}), "the validation fit failed", std::runtime_error);
  // a failed make leaves it unmade: the next get() tries again and reports the same error
  CHECK_THROWS_AS(failing.get(), std::runtime_error);
  CHECK(attempts == 2);
}
