// run.cpp — one sweep point: build the world, gold and proxy, the shared evaluation tables, then run each
// optimizer and label its rows. Contract: see run.h.
#include "sim/engine/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "models/preferences.h"
#include "models/worlds/registry.h"
#include "sim/optimizers/registry.h"

namespace goodhart {

namespace {

// sorted gold of pi_ref draws: win rates against pi_ref where the world has no candidates to sum over
std::vector<float> reference_gold(const Scenario& cfg, const World& world, const Gold& gold, Backend backend) {
  if (world.candidates()) return {};
  Responses r;
  draw_reference_responses(world, gold, {}, backend, cfg.seed, World::any_prompt, stream_id(Stream::standardize), 1,
                           0, cfg.eval.standardize_samples, r);
  std::vector<float> sorted(r.gold.data(), r.gold.data() + r.gold.size());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

// a world with candidates: every candidate's values; win = P_ref(gold < g) + P_ref(gold = g) / 2 within its prompt
ResponseTable candidate_table(const World& world, const Gold& gold, const Proxy& proxy, Backend backend,
                              std::uint64_t seed) {
  const RowMatrixXd& log_ref = world.candidates()->log_ref;
  const int P = world.prompts(), K = static_cast<int>(log_ref.cols());
  Responses r;
  all_candidates(world, gold, proxy.needs(), backend, seed, r);
  Eigen::VectorXf f(r.size());
  proxy.score(backend, r, f);
  ResponseTable t;
  t.log_ref = log_ref.cast<float>();
  for (auto& v : t.values) v.resize(P, K);
  for (int p = 0; p < P; ++p) {
    const Eigen::VectorXf fp = f.segment(static_cast<Eigen::Index>(p) * K, K);
    const Eigen::VectorXf gp = r.gold.segment(static_cast<Eigen::Index>(p) * K, K);
    Eigen::VectorXf win(K);
    for (int k = 0; k < K; ++k) {
      double below = 0.0;
      for (int l = 0; l < K; ++l) {
        const double w = std::exp(log_ref(p, l));
        below += gp(l) < gp(k) ? w : (gp(l) == gp(k) ? 0.5 * w : 0.0);
      }
      win(k) = static_cast<float>(below);
    }
    fill_value_row(fp, gp, win, t, p);
  }
  return t;
}

// fraction of fresh pi_ref pairs of distinct responses that the proxy orders as the gold does
double accuracy_on_reference(const Scenario& cfg, const World& world, const Gold& gold, const Proxy& proxy,
                             Backend backend) {
  const PreferencePairs pairs = make_preference_pairs(cfg.preferences, world, gold, proxy.needs(), backend, cfg.seed,
                                                      cfg.eval.accuracy_pairs, Stream::reference_pairs,
                                                      Stream::reference_labels);
  Eigen::VectorXf fa(pairs.size()), fb(pairs.size());
  proxy.score(backend, pairs.a, fa);
  proxy.score(backend, pairs.b, fb);
  double agree = 0.0, distinct = 0.0;
  for (Eigen::Index i = 0; i < pairs.size(); ++i) {
    const double dg = static_cast<double>(pairs.a.gold(i)) - pairs.b.gold(i);
    const double dp = static_cast<double>(fa(i)) - fb(i);
    if (dg == 0.0 && dp == 0.0) continue;  // the same response twice
    distinct += 1.0;
    agree += (dp == 0.0 || dg == 0.0) ? 0.5 : ((dp > 0) == (dg > 0) ? 1.0 : 0.0);
  }
  return distinct > 0 ? agree / distinct : not_applicable;
}

}  // namespace

PointResult run_point(const RunSpec& spec, Backend backend) {
  const auto start = std::chrono::steady_clock::now();
  const Scenario& cfg = spec.config;
  // the models
  const std::unique_ptr<const World> made = make_world(cfg.world);
  const World& world = *made;
  const Gold gold = make_gold(cfg.gold, world, cfg.eval.standardize_samples);
  const Proxy proxy =
      make_proxy(cfg.proxy, cfg.preferences, cfg.eval, world, gold, cfg.gold.standardize, backend, cfg.seed);
  // early stopping's validation RM, fitted to the held-out pairs when an optimizer first asks for it
  const LazyProxy validation([&] {
    return make_proxy(cfg.proxy, cfg.preferences, cfg.eval, world, gold, cfg.gold.standardize, backend, cfg.seed,
                      ProxyData::heldout);
  });
  // what every optimizer shares
  const std::vector<float> ref_gold = reference_gold(cfg, world, gold, backend);
  ResponseTable candidates;
  if (world.candidates()) candidates = candidate_table(world, gold, proxy, backend, cfg.seed);
  const OptimizerContext ctx{cfg, world, gold, proxy, backend, cfg.seed, ref_gold,
                             world.candidates() ? &candidates : nullptr, &validation};
  PointResult result;
  result.rm_heldout_accuracy = proxy.heldout_accuracy;
  result.rm_accuracy_ref = accuracy_on_reference(cfg, world, gold, proxy, backend);
  // the optimizers, in scenario order
  for (const OptimizerConfig& opt : cfg.optimizers) {
    std::vector<MetricRow> rows = optimizer_type(opt.type).run(opt, ctx);
    for (MetricRow& row : rows) {
      row.optimizer = opt.name.empty() ? opt.type : opt.name;
      row.rm_accuracy_ref = result.rm_accuracy_ref;
      result.rows.push_back(row);
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace goodhart
