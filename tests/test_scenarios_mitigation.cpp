// test_scenarios_mitigation.cpp — the claims of ensembles_coste, objective_mismatch, length_bias and
// missing_attribute, checked at tiny size, and the two engine keys they need: preferences.bias_feature /
// bias_weight (biased labellers) and world.normalize_features (attributes on a finite budget).
// Contract: fixed seeds; statistical claims use k = 3 standard errors (stated) or margins far outside the
// seed-to-seed noise (checked with three seeds when the scenarios were written); about 5 s in Release.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "models/preferences.h"
#include "models/worlds/categorical.h"
#include "models/worlds/registry.h"
#include "models/proxy.h"
#include "sim/report/leaderboard.h"
#include "sim/stats/fits.h"
#include "sim/optimizers/optimizer.h"
#include "test_helpers.h"

using namespace goodhart;
using test::PointRun;

namespace {

const PointRun& point_where(const std::vector<PointRun>& runs,
                            const std::vector<std::pair<std::string, std::string>>& at) {
  for (const PointRun& r : runs) {
    bool all = true;
    for (const auto& [k, v] : at) all = all && r.swept(k) == v;
    if (all) return r;
  }
  FAIL("no such point");
  return runs.front();
}

// a copy: callers often pass a temporary vector
MetricRow row_at(const std::vector<MetricRow>& rows, double param) {
  for (const MetricRow& m : rows)
    if (m.param == param) return m;
  FAIL("no row with param " << param);
  return rows.front();
}

const std::string head = "schema_version: 1\nname: t\ndescription: t\n";

struct Built {
  Scenario s;
  std::unique_ptr<const World> world;
  Gold gold;
};

Built build(const std::string& body, const std::vector<std::string>& overrides = {}) {
  Built b{load_scenario_text(head + body, "t.yaml", overrides), {}, {}};
  b.world = make_world(b.s.world);
  b.gold = make_gold(b.s.gold, *b.world, b.s.eval.standardize_samples);
  return b;
}

Built build_file(const std::string& relative, const std::vector<std::string>& overrides = {}) {
  Built b{load_scenario(test::source_path(relative), overrides), {}, {}};
  b.world = make_world(b.s.world);
  b.gold = make_gold(b.s.gold, *b.world, b.s.eval.standardize_samples);
  return b;
}

Proxy proxy_of(const Built& b) {
  return make_proxy(b.s.proxy, b.s.preferences, b.s.eval, *b.world, b.gold, b.s.gold.standardize, Backend::cpu,
                    b.s.seed);
}

// E[x_feature] under exact best-of-n by the proxy in a categorical world, averaged over prompts
double bon_feature_mean(const World& w, const Gold& g, const Proxy& p, int n, int feature) {
  Responses r;
  all_candidates(w, g, p.needs(), Backend::cpu, 0, r);
  Eigen::VectorXf f(r.size());
  p.score(Backend::cpu, r, f);
  const int K = w.candidates()->count;
  double total = 0.0;
  for (int q = 0; q < w.prompts(); ++q) {
    std::vector<int> o(K);
    std::iota(o.begin(), o.end(), 0);
    std::sort(o.begin(), o.end(), [&](int a, int b) { return f(q * K + a) < f(q * K + b); });
    double cdf = 0.0, mean = 0.0;
    for (int k : o) {
      const double next = cdf + std::exp(w.candidates()->log_ref(q, k));
      mean += (std::pow(std::min(next, 1.0), n) - std::pow(cdf, n)) * r.x(q * K + k, feature);
      cdf = next;
    }
    total += mean / w.prompts();
  }
  return total;
}

}  // namespace

TEST_CASE("mitigation scenario: preferences.bias_feature / bias_weight bias the labels and only when set") {
  const std::string body = "world: {type: gaussian, dim: 4, prompts: 4}\ngold: {type: linear}\n"
                           "preferences: {n_pairs: 2000}\nproxy: {type: learned}\n"
                           "optimizer: {type: best_of_n, n: [1]}\n";
  auto labels = [&](const std::vector<std::string>& overrides) {
    const Built b = build(body, overrides);
    return make_preference_pairs(b.s.preferences, *b.world, b.gold, {}, Backend::cpu, 7, 2000,
                                 Stream::preference_pairs, Stream::preference_labels);
  };
  const PreferencePairs plain = labels({});
  CHECK(build(body).s.preferences.bias_feature == -1);
  CHECK(build(body).s.preferences.bias_weight == 0.0);
  // a bias feature with weight 0 gives exactly the unbiased labels
  CHECK(labels({"preferences.bias_feature=2"}).label == plain.label);
  // an overwhelming bias with hard labels: the longer response always wins
  const PreferencePairs biased = labels({"preferences.bias_feature=2", "preferences.bias_weight=1e6",
                                         "preferences.labels=hard"});
  int follows = 0, differs = 0;
  for (Eigen::Index i = 0; i < biased.size(); ++i) {
    follows += (biased.a.x(i, 2) > biased.b.x(i, 2)) == (biased.label(i) > 0.5);
    differs += biased.label(i) != plain.label(i);
  }
  CHECK(follows == biased.size());
  CHECK(differs > 400);
  // validation and the resolved config
  CHECK_THROWS_AS(build(body, {"preferences.bias_feature=4"}), ScenarioError);
  CHECK_THROWS_AS(build(body, {"preferences.bias_feature=-2"}), ScenarioError);
  CHECK_THROWS_AS(build(body, {"preferences.bias_weight=1"}), ScenarioError);
  const nlohmann::json j = to_json(build(body, {"preferences.bias_feature=3", "preferences.bias_weight=2"}).s);
  CHECK(j["preferences"]["bias_feature"] == 3);
  CHECK(j["preferences"]["bias_weight"] == 2.0);
}

TEST_CASE("mitigation scenario: world.normalize_features puts every candidate on one sphere, same directions") {
  const std::string body = "world: {type: categorical, dim: 5, prompts: 6, candidates: 40, feature_scale: 1.5,"
                           " ref_feature_weights: [0, 0, 0, 0, 1]}\ngold: {type: linear}\nproxy: {type: learned}\n"
                           "optimizer: {type: best_of_n, n: [1]}\n";
  const Built raw = build(body), unit = build(body, {"world.normalize_features=true"});
  CHECK_FALSE(raw.s.world.get<CategoricalWorldConfig>().normalize_features);
  CHECK(to_json(unit.s)["world"]["normalize_features"] == true);
  const double radius = 1.5 * std::sqrt(5.0);
  for (Eigen::Index i = 0; i < unit.world->candidates()->features.rows(); ++i) {
    const Eigen::VectorXd a = raw.world->candidates()->features.row(i).cast<double>(), b = unit.world->candidates()->features.row(i).cast<double>();
    CHECK(b.norm() == doctest::Approx(radius).epsilon(1e-5));
    CHECK(a.dot(b) / (a.norm() * b.norm()) == doctest::Approx(1.0).epsilon(1e-6));
  }
  // pi_ref's logits see the normalized features; both are normalized distributions
  CHECK(unit.world->candidates()->log_ref.row(0).array().exp().sum() == doctest::Approx(1.0));
  CHECK((unit.world->candidates()->log_ref - raw.world->candidates()->log_ref).cwiseAbs().maxCoeff() > 1e-3);
  // the gaussian world has no such key: an error, not silently ignored
  CHECK_THROWS_WITH_AS(build("world: {type: gaussian, dim: 3, normalize_features: true}\ngold: {type: linear}\n"
                             "proxy: {type: learned}\noptimizer: {type: best_of_n, n: [1]}\n"),
                       doctest::Contains("world.normalize_features: not a key of gaussian"), ScenarioError);
}

TEST_CASE("mitigation scenario: ensembles_coste - WCO keeps best-of-n gold up; WCO and UWO stop PPO's collapse") {
  const auto runs = test::run_scenario("scenarios/tiny/ensembles_coste.yaml");
  REQUIRE(runs.size() == 12);
  auto at = [&](const char* members, const char* aggregate, const char* seed) -> const PointResult& {
    return point_where(runs, {{"proxy.ensemble_members", members}, {"proxy.aggregate", aggregate}, {"seed", seed}})
        .result;
  };
  // best-of-n at n = 1024, averaged over the three seeds: WCO above the single proxy by > 3 standard errors
  double single = 0.0, wco = 0.0, var = 0.0;
  for (const char* seed : {"0", "1", "2"}) {
    const MetricRow s = row_at(test::rows_of(at("1", "mean", seed), "best_of_n"), 1024);
    const MetricRow w = row_at(test::rows_of(at("5", "min", seed), "best_of_n"), 1024);
    single += s.gold_mean / 3;
    wco += w.gold_mean / 3;
    var += (s.gold_se * s.gold_se + w.gold_se * w.gold_se) / 9;
  }
  INFO("single " << single << " wco " << wco);
  CHECK(wco > single + 3.0 * std::sqrt(var));
  // PPO: the single proxy's policy ends far lower than WCO's and UWO's, on the mean over the seeds (at tiny size
  // one seed in several has a single proxy that does not collapse within 90 steps — seed 2 here, gold +0.34 at KL
  // 2.9 — so the gold claims are on the seed mean: margins about 2.5); in every seed it drifts further (KL)
  double single_gold = 0.0, wco_gold = 0.0, uwo_gold = 0.0;
  for (const char* seed : {"0", "1", "2"}) {
    INFO("seed " << std::string(seed));
    const MetricRow s = test::rows_of(at("1", "mean", seed), "ppo").back();
    const MetricRow wco = test::rows_of(at("5", "min", seed), "ppo").back();
    const MetricRow uwo = test::rows_of(at("5", "uwo", seed), "ppo").back();
    CHECK(wco.kl < s.kl);
    CHECK(uwo.kl < s.kl);
    single_gold += s.gold_mean / 3;
    wco_gold += wco.gold_mean / 3;
    uwo_gold += uwo.gold_mean / 3;
  }
  INFO("ppo gold: single " << single_gold << " wco " << wco_gold << " uwo " << uwo_gold);
  CHECK(wco_gold > single_gold + 0.5);
  CHECK(uwo_gold > single_gold + 0.5);
  CHECK(single_gold < -0.5);  // the single proxy's policy collapses below pi_ref
}

TEST_CASE("mitigation scenario: objective_mismatch - accuracy ranks gold at small KL, not at large KL") {
  const auto runs = test::run_scenario("scenarios/tiny/objective_mismatch.yaml");
  REQUIRE(runs.size() == 17);
  auto rho_at = [&](double n) {
    std::vector<double> acc, gold;
    for (const PointRun& r : runs) {
      acc.push_back(r.result.rm_accuracy_ref);
      gold.push_back(row_at(test::rows_of(r.result, "best_of_n"), n).gold_mean);
    }
    return spearman(acc, gold);
  };
  INFO("rho(n=2) " << rho_at(2) << " rho(n=4) " << rho_at(4) << " rho(n=1024) " << rho_at(1024) << " rho(n=4096) "
                   << rho_at(4096));
  CHECK(rho_at(2) > 0.85);
  CHECK(rho_at(4) > 0.85);
  CHECK(rho_at(1024) < 0.4);
  CHECK(rho_at(4096) < 0.4);
  // a heavy-tailed proxy with much higher accuracy reaches much lower gold at a shared KL (k = 3 se)
  const PointResult& pareto = point_where(runs, {{"proxy.noise.distribution", "pareto"}}).result;
  const PointResult& gaussian =
      point_where(runs,
                  {{"proxy.type", "noisy"}, {"proxy.noise.distribution", "gaussian"}, {"proxy.noise.scale", "1.0"}})
          .result;
  CHECK(pareto.rm_accuracy_ref > gaussian.rm_accuracy_ref + 0.15);
  for (double n : {1024.0, 4096.0}) {
    const MetricRow p = row_at(test::rows_of(pareto, "best_of_n"), n);
    const MetricRow g = row_at(test::rows_of(gaussian, "best_of_n"), n);
    CHECK(p.gold_mean < g.gold_mean - 3.0 * (p.gold_se + g.gold_se));
  }
}

TEST_CASE("mitigation scenario: length_bias - the proxy learns length, gold gains 1/sqrt(1+b^2), PG's gold stalls") {
  const auto runs = test::run_scenario("scenarios/tiny/length_bias.yaml");
  REQUIRE(runs.size() == 3);
  const PointResult& none = point_where(runs, {{"preferences.bias_weight", "0.0"}}).result;
  const PointResult& strong = point_where(runs, {{"preferences.bias_weight", "3.0"}}).result;
  // the learned proxy's unit weight vector: length gets about b / sqrt(1 + b^2)
  for (const auto& [b, low, high] : {std::tuple{"0.0", -0.1, 0.1}, {"1.0", 0.6, 0.8}, {"3.0", 0.9, 1.0}}) {
    const Built built = build_file("scenarios/tiny/length_bias.yaml", {std::string("preferences.bias_weight=") + b});
    Eigen::VectorXd a;
    double c = 0.0;
    REQUIRE(proxy_of(built).linear_in_features(8, a, c));
    INFO("b = " << b << " length weight " << a(7) / a.norm());
    CHECK(a(7) / a.norm() > low);
    CHECK(a(7) / a.norm() < high);
    if (std::string(b) == "3.0") {
      // best-of-n on a linear proxy under N(0, I): E[length] = (a_7 / |a|) E[standardized proxy], exactly
      const MetricRow m = row_at(test::rows_of(strong, "best_of_n"), 1024);
      CHECK(a(7) / a.norm() * m.proxy_mean > 2.0 * m.gold_mean);
    }
  }
  // at every shared KL (n >= 4) the biased proxy's gold is below the unbiased one's (k = 3 se), at about a third
  const auto b0 = test::rows_of(none, "best_of_n"), b3 = test::rows_of(strong, "best_of_n");
  for (std::size_t i = 1; i < b0.size(); ++i) {
    INFO("n = " << b0[i].param);
    CHECK(b3[i].gold_mean < b0[i].gold_mean - 3.0 * (b0[i].gold_se + b3[i].gold_se));
  }
  const double ratio = row_at(b3, 1024).gold_mean / row_at(b0, 1024).gold_mean;
  CHECK(ratio > 0.2);
  CHECK(ratio < 0.5);
  // policy gradient: with the bias, gold stalls over the last 80 steps while KL keeps growing; without, it climbs
  const auto pg0 = test::rows_of(none, "policy_gradient"), pg3 = test::rows_of(strong, "policy_gradient");
  const MetricRow mid3 = row_at(pg3, 120);
  CHECK(std::abs(pg3.back().gold_mean - mid3.gold_mean) < 0.6);
  CHECK(pg3.back().kl > mid3.kl + 15.0);
  CHECK(pg3.back().proxy_mean > mid3.proxy_mean + 1.0);
  CHECK(pg0.back().gold_mean > row_at(pg0, 120).gold_mean + 3.0);
}

TEST_CASE("mitigation scenario: missing_attribute - the hidden attribute is spent, gold turns below pi_ref") {
  const auto runs = test::run_scenario("scenarios/tiny/missing_attribute.yaml");
  REQUIRE(runs.size() == 2);
  const PointResult& partial = point_where(runs, {{"proxy.features", "[0, 1, 2]"}}).result;
  const PointResult& full = point_where(runs, {{"proxy.features", "[]"}}).result;
  for (const char* optimizer : {"best_of_n", "kl_optimum"}) {
    INFO(optimizer);
    std::vector<MetricRow> rows = test::rows_of(partial, optimizer);
    if (std::string(optimizer) == "kl_optimum") std::reverse(rows.begin(), rows.end());  // by increasing KL
    std::vector<double> d, gold;
    for (const MetricRow& m : rows) {
      d.push_back(m.sqrt_kl);
      gold.push_back(m.gold_mean);
    }
    const EmpiricalPeak peak = empirical_peak(d, gold);
    CHECK(peak.index > 0);
    CHECK(peak.index + 1 < rows.size());
    CHECK(rows.back().gold_mean < peak.gold - 3.0 * (rows.back().gold_se + rows[peak.index].gold_se));
  }
  // best-of-n: gold ends below pi_ref's (0) by > 3 se; the proxy that sees everything keeps rising
  const MetricRow last = test::rows_of(partial, "best_of_n").back();
  CHECK(last.gold_mean < -3.0 * last.gold_se);
  const auto f = test::rows_of(full, "best_of_n");
  CHECK(f.back().gold_mean > 1.0);
  for (std::size_t i = 1; i < f.size(); ++i) CHECK(f[i].gold_mean > f[i - 1].gold_mean - 3.0 * f[i].gold_se);
  // the hidden attribute under best-of-n by the partial proxy: from about 1.3 under pi_ref to near 0
  const Built b = build_file("scenarios/tiny/missing_attribute.yaml", {"proxy.features=[0, 1, 2]"});
  const Proxy p = proxy_of(b);
  const double ref = bon_feature_mean(*b.world, b.gold, p, 1, 3), spent = bon_feature_mean(*b.world, b.gold, p, 4096, 3);
  INFO("hidden attribute: pi_ref " << ref << ", best-of-4096 " << spent);
  CHECK(ref > 1.0);
  CHECK(spent < 0.3);
  CHECK(bon_feature_mean(*b.world, b.gold, p, 16, 3) < ref - 0.4);
}
