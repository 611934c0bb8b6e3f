// test_kl_audit.cpp — the KL-estimator gradient audit (sim/optimizers/kl_audit.h) against its closed forms: on-policy
// k1 in the loss has zero expected gradient, k2 in the loss is grad KL(pi || pi_ref), k3 in the loss is grad
// KL(pi_ref || pi), k1 in the reward is unbiased; off-policy the importance-corrected k3 is unbiased and the
// importance-weighted k2 is not. Every identity is exact in the enumerated world, so the tolerances are rounding's.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "cli_helpers.h"
#include "models/policy.h"
#include "sim/optimizers/kl_audit.h"
#include "sim/scenario/csv_read.h"
#include "test_helpers.h"

using namespace goodhart;
namespace fs = std::filesystem;

namespace {

struct Audited {
  test::FittedProxy fitted;
  ResponseTable table;
  std::vector<KlAuditRow> rows;
  Audited(const std::string& policy, int m)
      : fitted(load_scenario(test::source_path("scenarios/tiny/categorical_exact.yaml"))),
        table(candidate_table(*fitted.world, fitted.gold, fitted.proxy, Backend::cpu, fitted.s.seed)) {
    PolicyGradientConfig opt;
    opt.policy = policy;
    opt.learning_rate = 0.1;
    opt.kl_coef = 0.05;
    opt.steps = 40;
    opt.eval_every = 10;
    rows = audit_kl(opt, *fitted.world, table, m);
  }
};

const KlAuditRow* find(const std::vector<KlAuditRow>& rows, int step, int m, const char* e, const char* in,
                       const char* correction) {
  for (const KlAuditRow& r : rows)
    if (r.step == step && r.off_policy_steps == m && r.estimator == e && r.kl_in == in && r.correction == correction)
      return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("kl audit, on-policy: k1-loss is zero, k2-loss grad KL, k3-loss grad reverse KL, k1-reward unbiased") {
  for (const char* policy : {"tabular", "log_linear"}) {
    CAPTURE(policy);
    const Audited a(policy, 3);
    CHECK(a.rows.size() == 5 * (9 + 15));
    for (int step : {10, 20, 30, 40}) {
      CAPTURE(step);
      const auto expect = [&](const char* e, const char* in, const char* c, const char* target) {
        const KlAuditRow* r = find(a.rows, step, 0, e, in, c);
        REQUIRE(r != nullptr);
        CHECK(r->kl > 0.0);
        CHECK(r->descends == target);
      };
      expect("k1", "loss", "none", "zero");
      expect("k2", "loss", "none", "kl");
      expect("k3", "loss", "none", "reverse_kl");
      expect("k1", "reward", "none", "kl");
      expect("k1", "loss", "ratio", "kl");
      expect("k3", "loss", "ratio", "kl");
      expect("k2", "loss", "ratio", "half_squared_log_ratio");
      expect("k2", "reward", "none", "half_squared_log_ratio_minus_kl");
      expect("k3", "reward", "none", "kl_minus_reverse_kl");
      const KlAuditRow* k2 = find(a.rows, step, 0, "k2", "loss", "none");
      CHECK(k2->rel_err_kl < 1e-9);
      CHECK(k2->cos_kl == doctest::Approx(1.0).epsilon(1e-12));
      // every estimator's expectation under pi is KL for k1 and k3 (k3 >= 0 per sample); k2's is E[l^2] / 2
      CHECK(find(a.rows, step, 0, "k1", "reward", "none")->kl_estimated == doctest::Approx(k2->kl).epsilon(1e-9));
      CHECK(find(a.rows, step, 0, "k3", "reward", "none")->kl_estimated == doctest::Approx(k2->kl).epsilon(1e-9));
    }
  }
}

TEST_CASE("kl audit, off-policy: importance-corrected k3 is unbiased, importance-weighted k2 is not") {
  const Audited a("log_linear", 3);
  for (int step : {0, 10, 20, 30, 40}) {
    CAPTURE(step);
    const KlAuditRow* k3 = find(a.rows, step, 3, "k3", "loss", "ratio");
    const KlAuditRow* k2 = find(a.rows, step, 3, "k2", "loss", "ratio");
    const KlAuditRow* k2_detached = find(a.rows, step, 3, "k2", "loss", "ratio_detached");
    const KlAuditRow* k3_plain = find(a.rows, step, 3, "k3", "loss", "none");
    REQUIRE((k3 && k2 && k2_detached && k3_plain));
    CHECK(k3->descends == "kl");
    CHECK(k3->rel_err_kl < 1e-9);
    CHECK(k2->descends == "half_squared_log_ratio");
    CHECK(k2->rel_err_kl > 1e-3);
    CHECK(k2_detached->descends == "kl");
    CHECK(k3_plain->descends == "none");  // samples from pi_old, no ratio: neither KL's gradient
  }
}

// mean over prompts of a functional f(log pi, log pi_ref) of one prompt's distribution
template <class F>
double mean_over_prompts(const Policy& policy, const World& world, F f) {
  double sum = 0.0;
  for (int p = 0; p < world.prompts(); ++p)
    sum += f(policy.log_probs(p).array(), world.candidates()->log_ref.row(p).transpose().array());
  return sum / world.prompts();
}

// the central finite-difference gradient of mean_over_prompts(f) at theta
template <class F>
Eigen::VectorXd finite_difference(Policy& policy, const World& world, const Eigen::VectorXd& theta, F f) {
  const double h = 1e-6;
  Eigen::VectorXd grad(theta.size()), t = theta;
  for (int i = 0; i < theta.size(); ++i) {
    t(i) = theta(i) + h;
    policy.set_theta(t);
    const double up = mean_over_prompts(policy, world, f);
    t(i) = theta(i) - h;
    policy.set_theta(t);
    grad(i) = (up - mean_over_prompts(policy, world, f)) / (2 * h);
    t(i) = theta(i);
  }
  policy.set_theta(theta);
  return grad;
}

TEST_CASE("kl audit: the divergences descended are the finite-difference gradients of their definitions") {
  // an arbitrary state, not on any trajectory: the identities hold at every theta, off-policy at every pair
  for (const char* kind : {"tabular", "log_linear"}) {
    CAPTURE(kind);
    const Audited a(kind, 1);
    PolicyGradientConfig opt;
    opt.policy = kind;
    opt.kl_coef = 0.05;
    Policy policy(*a.fitted.world, kind, false);
    Eigen::VectorXd theta(policy.parameters()), behaviour(policy.parameters());
    for (int i = 0; i < theta.size(); ++i) {
      theta(i) = 0.8 * std::sin(1.7 * i + 0.4);
      behaviour(i) = theta(i) + 0.2 * std::cos(0.9 * i);
    }
    const auto kl = [](const Eigen::ArrayXd& lp, const Eigen::ArrayXd& lq) { return (lp.exp() * (lp - lq)).sum(); };
    const auto reverse = [](const Eigen::ArrayXd& lp, const Eigen::ArrayXd& lq) {
      return (lq.exp() * (lq - lp)).sum();
    };
    const auto half_sq = [](const Eigen::ArrayXd& lp, const Eigen::ArrayXd& lq) {
      return 0.5 * (lp.exp() * (lp - lq).square()).sum();
    };
    const Eigen::VectorXd g_kl = finite_difference(policy, *a.fitted.world, theta, kl);
    const Eigen::VectorXd g_reverse = finite_difference(policy, *a.fitted.world, theta, reverse);
    const Eigen::VectorXd g_half_sq = finite_difference(policy, *a.fitted.world, theta, half_sq);
    for (bool on_policy : {true, false}) {
      CAPTURE(on_policy);
      const auto rows = audit_kl_at(opt, *a.fitted.world, a.table, on_policy ? theta : behaviour, theta, on_policy);
      const auto norm_of = [&](const char* target) {
        for (const KlAuditRow& r : rows)
          if (r.descends == target) return r.expected_grad_norm;
        FAIL("no configuration descends " << target);
        return 0.0;
      };
      CHECK(rows.front().kl == doctest::Approx(mean_over_prompts(policy, *a.fitted.world, kl)).epsilon(1e-12));
      CHECK(rows.front().kl_reverse ==
            doctest::Approx(mean_over_prompts(policy, *a.fitted.world, reverse)).epsilon(1e-12));
      CHECK(rows.front().grad_kl_norm == doctest::Approx(g_kl.norm()).epsilon(1e-6));
      CHECK(norm_of("kl") == doctest::Approx(g_kl.norm()).epsilon(1e-6));
      CHECK(norm_of("half_squared_log_ratio") == doctest::Approx(g_half_sq.norm()).epsilon(1e-6));
      if (on_policy) {
        CHECK(norm_of("reverse_kl") == doctest::Approx(g_reverse.norm()).epsilon(1e-6));
        CHECK(norm_of("kl_minus_reverse_kl") == doctest::Approx((g_kl - g_reverse).norm()).epsilon(1e-6));
        CHECK(norm_of("half_squared_log_ratio_minus_kl") == doctest::Approx((g_half_sq - g_kl).norm()).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("kl audit: a gaussian world or a mean_shift policy is refused") {
  Scenario s = load_scenario(test::source_path("scenarios/tiny/regressional_gaussian.yaml"));
  const test::FittedProxy f(s);
  PolicyGradientConfig opt;
  CHECK_THROWS_AS(audit_kl(opt, *f.world, ResponseTable{}, 1), std::invalid_argument);
}

namespace {

// the audit's rows as the CLI wrote them
struct AuditCsv {
  CsvData csv;
  const std::vector<std::string>* find(const std::string& step, const std::string& m, const std::string& e,
                                       const std::string& in, const std::string& c) const {
    for (std::size_t r = 0; r < csv.rows.size(); ++r)
      if (csv.cell(r, "step") == step && csv.cell(r, "off_policy_steps") == m && csv.cell(r, "estimator") == e &&
          csv.cell(r, "kl_in") == in && csv.cell(r, "correction") == c)
        return &csv.rows[r];
    return nullptr;
  }
  const std::string& text(const std::vector<std::string>& row, const char* column) const {
    return row[static_cast<std::size_t>(csv.column(column))];
  }
  double number(const std::vector<std::string>& row, const char* column) const { return std::stod(text(row, column)); }
};

}  // namespace

TEST_CASE("scenario kl_estimator_audit (tiny) through the CLI: k3 in the loss drifts to the reverse KL as KL grows") {
  const fs::path out = test::scratch("kl_audit_tiny");
  const test::CliResult r = test::cli("audit-kl scenarios/tiny/kl_estimator_audit.yaml --quiet --out " + out.string());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const AuditCsv a{read_csv(out / "kl_audit.csv")};
  CHECK(a.csv.rows.size() == 5 * (9 + 15));  // steps 0, 10, .., 40; m = 4 epochs x 1 minibatch - 1 = 3
  double previous_error = 0.0, previous_variance = 0.0;
  for (const char* step : {"10", "20", "30", "40"}) {
    CAPTURE(step);
    const auto* k3 = a.find(step, "0", "k3", "loss", "none");
    const auto* k3_ratio = a.find(step, "0", "k3", "loss", "ratio");
    const auto* k1_reward = a.find(step, "0", "k1", "reward", "none");
    const auto* off_k3 = a.find(step, "3", "k3", "loss", "ratio");
    const auto* off_k2 = a.find(step, "3", "k2", "loss", "ratio");
    REQUIRE((k3 && k3_ratio && k1_reward && off_k3 && off_k2));
    CHECK(a.text(*k3, "descends") == "reverse_kl");
    CHECK(a.text(*k3_ratio, "descends") == "kl");
    CHECK(a.text(*off_k3, "descends") == "kl");
    CHECK(a.text(*off_k2, "descends") == "half_squared_log_ratio");
    // the scenario's claim: plain k3's error against grad KL, and its variance, grow with the KL the run has spent,
    // while the unbiased k1-in-reward's variance stays within 3x of its first value
    const double error = a.number(*k3, "rel_err_kl"), variance = a.number(*k3, "variance_per_sample");
    CHECK(error > previous_error);
    CHECK(variance > previous_variance);
    previous_error = error;
    previous_variance = variance;
    CHECK(a.number(*k1_reward, "variance_per_sample") <
          3 * a.number(*a.find("10", "0", "k1", "reward", "none"), "variance_per_sample"));
  }
  CHECK(previous_error > 2.0);
  CHECK(previous_variance > 1e4 * a.number(*a.find("40", "0", "k1", "reward", "none"), "variance_per_sample"));
}

TEST_CASE("audit-kl: bad input is a located error, exit 2, nothing written") {
  const fs::path out = test::scratch("kl_audit_errors");
  for (const std::string& args :
       {std::string("scenarios/tiny/gao_rl_pg.yaml --point 0"), std::string("scenarios/tiny/gao_rl_pg.yaml"),
        std::string("scenarios/tiny/regressional_gaussian.yaml"),
        std::string("scenarios/tiny/kl_estimator_audit.yaml --point 1"),
        std::string("scenarios/tiny/kl_estimator_audit.yaml --off-policy-steps 0"),
        std::string("scenarios/tiny/kl_estimator_audit.yaml optimizer.kl_estimator=k4")}) {
    CAPTURE(args);
    const test::CliResult r = test::cli("audit-kl " + args + " --out " + out.string());
    CHECK(r.exit_code == 2);
    CHECK_FALSE(r.err.empty());
    CHECK_FALSE(fs::exists(out));
  }
  const test::CliResult gaussian = test::cli("audit-kl scenarios/tiny/gao_rl_pg.yaml --point 0 --out " + out.string());
  CHECK(gaussian.err.find("gao_rl_pg.yaml:5:15: world.type") != std::string::npos);
  const test::CliResult bon = test::cli("audit-kl scenarios/tiny/regressional_gaussian.yaml --out " + out.string());
  CHECK(bon.err.find("optimizer.type") != std::string::npos);
}
