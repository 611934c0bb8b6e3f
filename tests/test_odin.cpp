// test_odin.cpp — the disentangled proxy (proxy.disentangle odin, models/odin.h) and runs.csv's
// proxy_bias_correlation (reference_correlation in models/proxy.h), and the claims of scenarios/odin_length.yaml
// at tiny size.
// Contract: the loss's gradient against central finite differences; the heads against the network they came from;
// a linear odin proxy's quality head against the gold direction it should recover; the Monte Carlo correlation
// against the closed form (4 standard errors); located errors. Scenario margins hold for seeds 0-3 (checked when
// the scenario was written: correlation of the plain linear proxy at bias 1 0.65-0.74, of odin's under 0.006).
#include <doctest/doctest.h>

#include <cmath>
#include <map>

#include "models/bradley_terry.h"
#include "models/odin.h"
#include "models/proxy.h"
#include "models/worlds/registry.h"
#include "test_helpers.h"

using namespace goodhart;

namespace {

// length_bias's world at test size: y ~ N(0, I_6), the gold ignores feature 5 and the labellers reward it
Scenario biased(const std::string& proxy, double bias = 1.0) {
  return load_scenario_text("schema_version: 1\nname: t\ndescription: t\nseed: 2\n"
                            "world: {type: gaussian, dim: 6, prompts: 4}\ngold: {type: linear, weights: [1, 1, 1, 1, "
                            "1, 0]}\n"
                            "preferences: {n_pairs: 2000, bias_feature: 5, bias_weight: " + std::to_string(bias) +
                                "}\n"
                            "eval: {standardize_samples: 16384}\n"
                            "proxy: {type: learned, " + proxy + "}\n"
                            "optimizer: {type: best_of_n, n: [1]}\n",
                            "t.yaml");
}

struct Fitted : test::FittedProxy {
  explicit Fitted(Scenario sc) : test::FittedProxy(std::move(sc)) {}
  double bias_correlation() const {
    return reference_correlation(proxy, 5, s.eval, *world, gold, Backend::cpu, s.seed);
  }
};

// a two-head network with every parameter nonzero, and pairs with labels and bias values
struct Problem {
  Mlp two;
  Eigen::MatrixXd xa, xb;
  Eigen::VectorXd label, bias_a, bias_b;
  Problem(int inputs, const std::vector<int>& hidden, int n) {
    CounterRng rng(11, Stream::proxy_init, 0);
    two = add_bias_head(make_random_mlp(inputs, hidden, Activation::tanh, rng), rng);
    for (auto& b : two.biases)
      for (Eigen::Index i = 0; i < b.size(); ++i) b(i) = 0.1 * rng.normal();
    xa.resize(n, inputs);
    xb.resize(n, inputs);
    label.resize(n);
    bias_a.resize(n);
    bias_b.resize(n);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < inputs; ++j) {
        xa(i, j) = rng.normal();
        xb(i, j) = rng.normal();
      }
      bias_a(i) = xa(i, inputs - 1) + 0.3 * rng.normal();
      bias_b(i) = xb(i, inputs - 1) + 0.3 * rng.normal();
      label(i) = rng.uniform() < 0.5 ? 1.0 : 0.0;
    }
  }
};

double cosine(const Eigen::VectorXd& a, const Eigen::VectorXd& b) { return a.dot(b) / (a.norm() * b.norm()); }

}  // namespace

TEST_CASE("odin: the heads are the network's output columns, and the quality head is the network grown from") {
  CounterRng rng(3, Stream::proxy_init, 0);
  const Mlp f = make_random_mlp(4, {5}, Activation::tanh, rng);
  const Mlp two = add_bias_head(f, rng);
  REQUIRE(two.weights.back().cols() == 2);
  CHECK(parameter_count(two) == parameter_count(f) + 6);  // 5 weights and a bias
  const Mlp q = odin_head(two, 0), l = odin_head(two, 1);
  CHECK((pack_parameters(q) - pack_parameters(f)).cwiseAbs().maxCoeff() == 0.0);
  const double x[] = {0.3, -1.2, 0.5, 2.0};
  const auto outs = mlp_forward(two, Eigen::Map<const Eigen::RowVectorXd>(x, 4));
  CHECK(std::abs(outs.back()(0, 0) - mlp_eval(q, x)) < 1e-12);
  CHECK(std::abs(outs.back()(0, 1) - mlp_eval(l, x)) < 1e-12);
  CHECK(std::abs(mlp_eval(l, x) - mlp_eval(q, x)) > 1e-3);  // the new head is its own draw
}

TEST_CASE("odin: the loss's gradient matches central finite differences") {
  for (const std::vector<int>& hidden : {std::vector<int>{}, std::vector<int>{4}}) {
    const Problem p(3, hidden, 40);
    const OdinWeights w{0.7, 1.3};
    Eigen::VectorXd grad;
    odin_loss(p.two, p.xa, p.xb, p.label, p.bias_a, p.bias_b, 0.01, w, &grad);
    const Eigen::VectorXd theta = pack_parameters(p.two);
    REQUIRE(grad.size() == theta.size());
    for (Eigen::Index k = 0; k < theta.size(); ++k) {
      Mlp plus = p.two, minus = p.two;
      Eigen::VectorXd t = theta;
      t(k) += 1e-6;
      unpack_parameters(t, plus);
      t(k) -= 2e-6;
      unpack_parameters(t, minus);
      const double numeric = (odin_loss(plus, p.xa, p.xb, p.label, p.bias_a, p.bias_b, 0.01, w, nullptr) -
                              odin_loss(minus, p.xa, p.xb, p.label, p.bias_a, p.bias_b, 0.01, w, nullptr)) /
                             2e-6;
      CAPTURE(hidden.size());
      CAPTURE(k);
      CHECK(std::abs(grad(k) - numeric) < 1e-6 * (1.0 + std::abs(numeric)));
    }
  }
}

TEST_CASE("odin: with no penalty the loss is Bradley-Terry on the heads' sum") {
  const Problem p(3, {}, 30);
  const Eigen::MatrixXd& w = p.two.weights.back();
  const Mlp sum = make_linear(w.col(0) + w.col(1), p.two.biases.back().sum());
  const double odin = odin_loss(p.two, p.xa, p.xb, p.label, p.bias_a, p.bias_b, 0.0, {0.0, 0.0}, nullptr);
  CHECK(std::abs(odin - bradley_terry_loss(sum, p.xa, p.xb, p.label, 0.0, nullptr)) < 1e-12);
}

TEST_CASE("odin: a linear quality head recovers the gold direction that the plain proxy bends toward length") {
  const Fitted plain(biased("model: linear, optimizer: lbfgs"));
  const Fitted odin(biased("model: linear, optimizer: lbfgs, disentangle: odin, bias_feature: 5"));
  Eigen::VectorXd a_plain, a_odin;
  double c = 0.0;
  REQUIRE(plain.proxy.linear_in_features(6, a_plain, c));
  REQUIRE(odin.proxy.linear_in_features(6, a_odin, c));
  Eigen::VectorXd gold(6);
  gold << 1, 1, 1, 1, 1, 0;
  // labels from gold/sqrt(5) + length: the plain proxy's direction is (gold/sqrt(5) + e_5) / sqrt(2), cosine
  // 1/sqrt(2) with the gold; the quality head drops the length and keeps the gold direction
  CHECK(std::abs(cosine(a_plain, gold) - std::sqrt(0.5)) < 0.05);
  CHECK(cosine(a_odin, gold) > 0.995);
  CHECK(std::abs(a_odin(5)) < 0.03 * a_odin.norm());
  // the correlation under pi_ref (closed form for a linear proxy): 1/sqrt(2) for the plain proxy, about 0 for odin
  CHECK(std::abs(plain.bias_correlation() - a_plain(5) / a_plain.norm()) < 1e-12);
  CHECK(std::abs(plain.bias_correlation() - std::sqrt(0.5)) < 0.05);
  CHECK(std::abs(odin.bias_correlation()) < 0.03);
  // a larger correlation weight takes the length out of the quality head at least as well; weight 0 leaves the
  // split to the orthogonality term and the data, and the quality head keeps part of the length
  const Fitted none(biased("model: linear, optimizer: lbfgs, disentangle: odin, bias_feature: 5, "
                           "odin_correlation_weight: 0, odin_orthogonality_weight: 0"));
  CHECK(std::abs(none.bias_correlation()) > 0.1);
}

TEST_CASE("odin: an mlp quality head is uncorrelated with length, and a Monte Carlo correlation meets the closed form") {
  const Fitted plain(biased("model: mlp, hidden: [8], optimizer: lbfgs, epochs: 20"));
  const Fitted odin(biased("model: mlp, hidden: [8], optimizer: lbfgs, epochs: 20, disentangle: odin, "
                           "bias_feature: 5"));
  // the penalty holds on the fitted responses; under pi_ref an mlp's quality head keeps a few hundredths (0.066)
  CHECK(plain.bias_correlation() > 0.4);
  CHECK(std::abs(odin.bias_correlation()) < 0.1);
  // an ensemble of two linear members scores by Monte Carlo; its aggregate is linear in the mean of the members'
  // standardized weights, whose closed-form correlation is a_5 / |a| (unit-scale features)
  const Fitted pair(biased("model: linear, optimizer: lbfgs, ensemble_members: 2, ensemble_method: bootstrap"));
  Eigen::VectorXd a = Eigen::VectorXd::Zero(6);
  for (const Mlp& m : pair.proxy.members) a += m.weights[0].col(0) / 2.0;
  const double exact = a(5) / a.norm(), se = (1.0 - exact * exact) / std::sqrt(16384.0);
  CAPTURE(exact);
  CHECK(std::abs(pair.bias_correlation() - exact) < 4.0 * se);
}

TEST_CASE("odin: bad values are located errors") {
  const std::pair<std::string, std::string> cases[] = {
      {"disentangle: odin", "disentangle odin fits a head to that feature"},
      {"disentangle: odin, bias_feature: 6", "world.dim"},
      {"bias_feature: -2", "-1 (none)"},
      {"disentangle: heads", "disentangle"},
      {"disentangle: odin, bias_feature: 5, odin_correlation_weight: -1", "odin_correlation_weight"},
  };
  for (const auto& [bad, expected] : cases) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(biased(bad), doctest::Contains("t.yaml:9:"), ScenarioError);
    CHECK_THROWS_WITH_AS(biased(bad), doctest::Contains(expected.c_str()), ScenarioError);
  }
}

TEST_CASE("scenario odin_length (tiny): the quality head loses the length, and best-of-n and RLOO the hacking") {
  const auto runs = test::run_scenario("scenarios/tiny/odin_length.yaml");
  REQUIRE(runs.size() == 8);
  const char* names[] = {"half", "half_odin", "one", "one_odin", "mlp", "mlp_odin", "valued", "valued_odin"};
  std::map<std::string, const PointResult*> by;
  for (std::size_t i = 0; i < runs.size(); ++i) by[names[i]] = &runs[i].result;
  const auto corr = [&](const char* n) { return by[n]->proxy_bias_correlation; };
  const auto heldout = [&](const char* n) { return by[n]->rm_heldout_accuracy; };
  const auto gold_order = [&](const char* n) { return by[n]->rm_accuracy_ref; };
  const auto bon = [&](const char* n) { return test::rows_of(*by[n], "best_of_n").back().gold_mean; };
  const auto rloo = [&](const char* n) { return test::rows_of(*by[n], "policy_gradient").back().gold_mean; };
  // the paper's check: the plain proxy leans on length (about 0.45 at bias 0.5), the quality head does not
  CHECK(corr("half") > 0.3);
  CHECK(corr("half") < 0.6);
  CHECK(corr("one") > 0.6);
  CHECK(corr("mlp") > 0.4);
  for (const char* n : {"half_odin", "one_odin", "valued_odin"}) {
    CAPTURE(n);
    CHECK(std::abs(corr(n)) < 0.03);
  }
  CHECK(std::abs(corr("mlp_odin")) < 0.05);
  // the cost is agreement with the biased labels: small at bias 0.5, larger at 1; against the gold order it gains
  CHECK(heldout("half") - heldout("half_odin") > 0.0);
  CHECK(heldout("half") - heldout("half_odin") < 0.05);
  CHECK(heldout("one") - heldout("one_odin") > 0.05);
  CHECK(gold_order("one_odin") > gold_order("one") + 0.15);
  CHECK(gold_order("mlp_odin") > gold_order("mlp") + 0.03);
  // and the optimizers stop hacking length
  CHECK(bon("one_odin") > bon("one") + 0.5);
  CHECK(rloo("one_odin") > rloo("one") + 0.15);
  CHECK(bon("mlp_odin") > bon("mlp") + 0.2);
  // its limit: where the gold values length, odin removes that value too, and loses without a bias
  CHECK(corr("valued") > 0.2);
  CHECK(bon("valued_odin") < bon("valued") - 0.08);
  CHECK(gold_order("valued_odin") < gold_order("valued") - 0.05);
}
