// run.cpp — one sweep point: build the world, gold and proxy, the shared evaluation tables, then run each
// optimizer and label its rows. Contract: see run.h.
#include "sim/engine/run.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <new>
#include <stdexcept>

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

// every value of the resolved config by dotted key ("proxy.l2", "optimizers[0].pool"), as JSON text
void flatten(const nlohmann::json& j, const std::string& key, std::map<std::string, std::string>& out) {
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), key.empty() ? it.key() : key + "." + it.key(), out);
  else if (j.is_array() && !j.empty() && j.front().is_object())
    for (std::size_t i = 0; i < j.size(); ++i) flatten(j[i], key + "[" + std::to_string(i) + "]", out);
  else
    out[key] = j.dump();
}

// "point 3 (seed=1, proxy.l2=0.5)"
std::string point_label(const RunSpec& spec) {
  std::string s = "point " + std::to_string(spec.index);
  std::string values;
  for (const auto& [key, value] : spec.swept) values += (values.empty() ? "" : ", ") + key + "=" + value;
  return values.empty() ? s : s + " (" + values + ")";
}

// the keys the scenario gave under these sections, with their values and where they were given
std::string given_keys(const RunSpec& spec, const std::vector<std::string>& sections) {
  std::map<std::string, std::string> values;
  flatten(to_json(spec.config), "", values);
  std::string list;
  for (const auto& [given_key, where] : spec.given) {
    const std::string& key = given_key;  // a structured binding cannot be captured before C++20 in clang
    if (key.empty() || key.back() == ']') continue;  // a list element: its list is named
    const bool inside = std::any_of(sections.begin(), sections.end(), [&key](const std::string& s) {
      return key.size() > s.size() && key.compare(0, s.size(), s) == 0 && key[s.size()] == '.';
    });
    if (!inside) continue;
    // the file may write `optimizer:` for the list of one
    const std::string canonical = key.rfind("optimizer.", 0) == 0 ? "optimizers[0]" + key.substr(9) : key;
    const auto v = values.find(canonical);
    list += (list.empty() ? "" : ", ") + key + (v != values.end() ? " = " + v->second : "") + " (" + where + ")";
  }
  std::string names;
  for (const std::string& s : sections) names += (names.empty() ? "" : ", ") + s + ".*";
  return list.empty() ? "Every key of " + names + " is at its default"
                      : "The keys given for it: " + list + "; a value outside the range that works is the usual cause";
}

// what to try when a policy expectation overflowed
std::string overflow_hint(const Scenario& cfg) {
  const std::string& d = cfg.proxy.noise.distribution;
  if (cfg.proxy.type == "noisy" && d != "gaussian")
    return "; the proxy's error (proxy.noise.distribution " + d + ") has a heavy tail: raise proxy.noise.shape or "
           "lower proxy.noise.scale";
  return "; lower the scale of the gold or proxy (their weights, the world's scale)";
}

// runs one stage of a point; what fails inside it is reported as PointFailed naming the point, the stage and the
// keys given for it (ScenarioError, already located, passes through)
template <class F>
auto in_stage(const RunSpec& spec, const std::string& stage, const std::vector<std::string>& sections, F&& run)
    -> decltype(run()) {
  const auto failed = [&](const std::string& what, bool usage, const std::string& hint = "") {
    return PointFailed(point_label(spec) + ": " + stage + " failed: " + what + hint + ". " +
                           given_keys(spec, sections),
                       usage);
  };
  try {
    return run();
  } catch (const ScenarioError&) {
    throw;
  } catch (const PointFailed&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw failed("out of memory (goodhart plan shows the memory each point needs)", false);
  } catch (const std::overflow_error& e) {
    throw failed(e.what(), true, overflow_hint(spec.config));
  } catch (const std::invalid_argument& e) {
    throw failed(e.what(), true);
  } catch (const std::domain_error& e) {
    throw failed(e.what(), true);
  } catch (const std::range_error& e) {
    throw failed(e.what(), true);
  } catch (const std::exception& e) {
    throw failed(e.what(), false);
  }
}

}  // namespace

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

PointModels build_models(const RunSpec& spec, Backend backend) {
  const Scenario& cfg = spec.config;
  PointModels m;
  m.world = in_stage(spec, "building the world", {"world"}, [&] { return make_world(cfg.world); });
  m.gold = in_stage(spec, "building the gold reward", {"gold", "eval"},
                    [&] { return make_gold(cfg.gold, *m.world, cfg.eval.standardize_samples); });
  m.proxy = in_stage(spec, "fitting the proxy", {"proxy", "preferences"}, [&] {
    return make_proxy(cfg.proxy, cfg.preferences, cfg.eval, *m.world, m.gold, cfg.gold.standardize, backend,
                      cfg.seed);
  });
  return m;
}

PointResult run_point(const RunSpec& spec, Backend backend) {
  const auto start = std::chrono::steady_clock::now();
  const Scenario& cfg = spec.config;
  // the models
  const PointModels models = build_models(spec, backend);
  const World& world = *models.world;
  const Gold& gold = models.gold;
  const Proxy& proxy = models.proxy;
  // early stopping's validation RM, fitted to the held-out pairs when an optimizer first asks for it
  const LazyProxy validation([&] {
    return in_stage(spec, "fitting the validation proxy", {"proxy", "preferences"}, [&] {
      return make_proxy(cfg.proxy, cfg.preferences, cfg.eval, world, gold, cfg.gold.standardize, backend, cfg.seed,
                        ProxyData::heldout);
    });
  });
  // what every optimizer shares
  PointResult result;
  std::vector<float> ref_gold;
  ResponseTable candidates;
  in_stage(spec, "evaluating the proxy under pi_ref", {"eval", "world"}, [&] {
    ref_gold = reference_gold(cfg, world, gold, backend);
    if (world.candidates()) candidates = candidate_table(world, gold, proxy, backend, cfg.seed);
    result.rm_accuracy_ref = accuracy_on_reference(cfg, world, gold, proxy, backend);
  });
  const OptimizerContext ctx{cfg, world, gold, proxy, backend, cfg.seed, ref_gold,
                             world.candidates() ? &candidates : nullptr, &validation};
  result.rm_heldout_accuracy = proxy.heldout_accuracy;
  if (cfg.proxy.type == "learned") result.proxy_parameters = parameter_count(proxy.members.at(0));
  // the labellers' bias feature, else the one an odin proxy was told of
  const int bias_feature = cfg.preferences.bias_feature >= 0 ? cfg.preferences.bias_feature
                           : cfg.proxy.type == "learned"     ? cfg.proxy.bias_feature
                                                             : -1;
  if (bias_feature >= 0)
    result.proxy_bias_correlation = in_stage(spec, "evaluating the proxy under pi_ref", {"eval", "proxy"}, [&] {
      return reference_correlation(proxy, bias_feature, cfg.eval, world, gold, backend, cfg.seed);
    });
  const BoundChecker bounds(world, gold, proxy, world.candidates() ? &candidates : nullptr);
  // the optimizers, in scenario order
  for (std::size_t j = 0; j < cfg.optimizers.size(); ++j) {
    const OptimizerConfig& opt = cfg.optimizers[j];
    const std::string name = opt.name.empty() ? opt.type : opt.name;
    std::vector<MetricRow> rows = in_stage(spec, "running optimizer " + name,
                                           j == 0 ? std::vector<std::string>{"optimizers[0]", "optimizer"}
                                                  : std::vector<std::string>{"optimizers[" + std::to_string(j) + "]"},
                                           [&] { return optimizer_type(opt.type).run(opt, ctx); });
    for (MetricRow& row : rows) {
      row.optimizer = opt.name.empty() ? opt.type : opt.name;
      row.rm_accuracy_ref = result.rm_accuracy_ref;
      result.bounds.push_back(bounds.check(row, opt));
      result.rows.push_back(row);
    }
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace goodhart
