// test_ensemble_errors.cpp — ensemble members that share part of their error (proxy.shared_pairs,
// proxy.ensemble_init) and WARM's weight averaging (proxy.aggregate weights), and the claims of
// scenarios/ensemble_errors.yaml at tiny size.
// Contract: each member's pairs against fits of the same rows done here (exact: the fits are deterministic);
// shared initialization against identical members under full-batch L-BFGS; the weight average against the mean of
// the members' parameters. Scenario margins hold for seeds 0-2 (checked when the scenario was written).
#include <doctest/doctest.h>

#include <map>

#include "models/bradley_terry.h"
#include "models/preferences.h"
#include "models/proxy.h"
#include "models/worlds/registry.h"
#include "test_helpers.h"

using namespace goodhart;

namespace {

Scenario scenario(const std::string& proxy) {
  return load_scenario_text("schema_version: 1\nname: t\ndescription: t\nseed: 3\n"
                            "world: {type: gaussian, dim: 4, prompts: 4}\ngold: {type: concave}\n"
                            "preferences: {n_pairs: 300, heldout_pairs: 200, label_noise: 0.2}\n"
                            "eval: {standardize_samples: 4096}\n"
                            "proxy: {type: learned, standardize: false, " + proxy + "}\n"
                            "optimizer: {type: best_of_n, n: [1]}\n",
                            "t.yaml");
}

struct Fitted : test::FittedProxy {
  explicit Fitted(const std::string& p) : test::FittedProxy(scenario(p)) {}
};

double max_difference(const Mlp& a, const Mlp& b) {
  return (pack_parameters(a) - pack_parameters(b)).cwiseAbs().maxCoeff();
}

}  // namespace

TEST_CASE("ensemble errors: a member fits the shared pairs and then its own") {
  CHECK(member_pair_rows(3, 2, 0) == std::vector<Eigen::Index>{0, 1, 2, 3, 4});
  CHECK(member_pair_rows(3, 2, 1) == std::vector<Eigen::Index>{0, 1, 2, 5, 6});
  CHECK(member_pair_rows(0, 4, 2) == std::vector<Eigen::Index>{8, 9, 10, 11});
  CHECK(member_pair_rows(5, 0, 3) == std::vector<Eigen::Index>{0, 1, 2, 3, 4});

  // three linear members on 60% shared pairs (180) and 120 of their own each: refit each member's rows here
  const Fitted f("model: linear, optimizer: lbfgs, ensemble_members: 3, ensemble_method: seeds, shared_pairs: 0.6");
  REQUIRE(f.proxy.members.size() == 3);
  const PreferencePairs all = make_preference_pairs(f.s.preferences, *f.world, f.gold, f.proxy.needs(), Backend::cpu,
                                                    f.s.seed, 180 + 3 * 120, Stream::preference_pairs,
                                                    Stream::preference_labels);
  const Eigen::MatrixXd xa = proxy_inputs(f.proxy, all.a).cast<double>(), xb = proxy_inputs(f.proxy, all.b).cast<double>();
  for (int m = 0; m < 3; ++m) {
    const std::vector<Eigen::Index> rows = member_pair_rows(180, 120, m);
    CounterRng init(f.s.seed, Stream::proxy_init, m);
    Mlp expected = make_random_mlp(4, {}, Activation::tanh, init);
    fit_bradley_terry(f.s.proxy, xa(rows, Eigen::all), xb(rows, Eigen::all), all.label(rows),
                      f.s.seed ^ (static_cast<std::uint64_t>(m) << 48), expected);
    CAPTURE(m);
    CHECK(max_difference(f.proxy.members[m], expected) < 1e-12);
  }
  // a convex fit on different data gives different members; on the same data the same one
  CHECK(max_difference(f.proxy.members[0], f.proxy.members[1]) > 1e-3);
  const Fitted same("model: linear, optimizer: lbfgs, ensemble_members: 2, ensemble_method: seeds");
  CHECK(max_difference(same.proxy.members[0], same.proxy.members[1]) < 1e-4);  // L-BFGS stops near the optimum
}

TEST_CASE("ensemble errors: a shared initialization gives identical full-batch members, own ones do not") {
  const std::string mlp = "model: mlp, hidden: [6], optimizer: lbfgs, epochs: 5, ensemble_members: 3, "
                          "ensemble_method: seeds, ";
  const Fitted shared(mlp + "ensemble_init: shared"), own(mlp + "ensemble_init: own");
  CHECK(max_difference(shared.proxy.members[0], shared.proxy.members[2]) == 0.0);
  CHECK(max_difference(own.proxy.members[0], own.proxy.members[2]) > 1e-2);
  // the shared draw is member 0's own draw
  CHECK(max_difference(shared.proxy.members[0], own.proxy.members[0]) == 0.0);
}

TEST_CASE("ensemble errors: WARM is one network, the mean of its members' parameters") {
  const std::string body = "model: mlp, hidden: [5], epochs: 4, ensemble_members: 4, ensemble_init: shared, ";
  const Fitted members(body + "aggregate: mean"), warm(body + "aggregate: weights");
  REQUIRE(members.proxy.members.size() == 4);
  REQUIRE(warm.proxy.members.size() == 1);
  CHECK(max_difference(warm.proxy.members[0], average_weights(members.proxy.members)) < 1e-15);
  // for linear members the weight average is the prediction average
  const Fitted linear("model: linear, ensemble_members: 3, aggregate: mean");
  const Mlp avg = average_weights(linear.proxy.members);
  const double x[4] = {0.3, -1.2, 0.8, 2.0};
  double mean = 0.0;
  for (const Mlp& m : linear.proxy.members) mean += mlp_eval(m, x) / 3.0;
  CHECK(std::abs(mlp_eval(avg, x) - mean) < 1e-12);
}

TEST_CASE("ensemble errors: bad values are located errors") {
  for (const std::string& bad : {std::string("shared_pairs: 1.5"), std::string("ensemble_init: pretrained")}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(scenario(bad), doctest::Contains("t.yaml:9:"), ScenarioError);
  }
}

TEST_CASE("scenario ensemble_errors (tiny): shared errors survive ensembling; weights average from a shared start") {
  const auto runs = test::run_scenario("scenarios/tiny/ensemble_errors.yaml");
  REQUIRE(runs.size() == 7);
  std::map<std::string, std::vector<MetricRow>> by;
  const char* names[] = {"single", "finetune", "pretrain", "independent", "bootstrap_shared", "warm", "warm_own_init"};
  for (std::size_t i = 0; i < runs.size(); ++i) by[names[i]] = test::rows_of(runs[i].result, "best_of_n");
  const auto final_gold = [&](const char* n) { return by[n].back().gold_mean; };
  const auto corr = [&](const char* n) { return by[n].front().proxy_gold_corr; };
  // members that differ only in batch order share their error: no gain over one proxy
  CHECK(std::abs(final_gold("finetune") - final_gold("single")) < 0.12);
  // own initializations, then own data, remove more of it: proxy-gold correlation and final gold rise in turn
  CHECK(corr("single") < corr("pretrain") - 0.03);
  CHECK(corr("pretrain") < corr("independent") - 0.03);
  CHECK(final_gold("pretrain") > final_gold("single") + 0.15);
  CHECK(final_gold("independent") > final_gold("pretrain") + 0.15);
  // averaging weights works from a shared start (accuracy near the prediction average of the same kind of
  // members), and from own starts it does not (the hidden units are not aligned)
  CHECK(by["warm"].front().rm_accuracy_ref > by["bootstrap_shared"].front().rm_accuracy_ref - 0.04);
  CHECK(final_gold("warm_own_init") < final_gold("warm") - 0.3);
}
