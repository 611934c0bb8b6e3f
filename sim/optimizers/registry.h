// registry.h — the optimizers by name: each registers itself from its own file with its config type (name, struct
// and field table), its run function and its cost estimate for `goodhart plan`; run.cpp and plan.cpp look them up
// and hold no per-type code.
// Contract: registration happens during static initialization (the core library is linked whole, so every
// optimizer's file is in every binary); lookups after that. An unregistered name throws std::invalid_argument.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/optimizers/optimizer.h"
#include "sim/scenario/check.h"

namespace goodhart {

// an optimizer's share of a point's cost (plan.h adds the world's and the proxy's)
struct OptimizerCost {
  double bytes = 0.0;                 // peak memory it holds at once
  double seconds = 0.0;               // its own work, at the given thread count
  double parallel_responses = 0.0;    // responses it draws and scores across threads (plan adds their scoring)
  std::string sized_by;               // the keys that size `bytes`, for a refusal's "lower ..."
};

struct OptimizerType {
  std::string name;
  std::function<std::vector<MetricRow>(const OptimizerConfig&, const OptimizerContext&)> run;
  std::function<OptimizerCost(const OptimizerConfig&, const Scenario&, int threads)> cost;
};

void register_optimizer_type(ConfigType config, OptimizerType type);
const OptimizerType& optimizer_type(const std::string& name);

// the n grid of a sampling optimizer (key `path`.n): at least one value, strictly increasing, each at most `pool`
// when pool > 0 and, in a world read from a score file, at most its responses per prompt
void check_n_grid(const std::vector<int>& n, int pool, const Scenario& s, const Check& k, const std::string& path);

// registers optimizer `name` with struct Config: one static object in the optimizer's file
//   const OptimizerRegistration<BestOfNConfig> registered("best_of_n", doc, table, validate, run, cost);
template <class Config>
struct OptimizerRegistration {
  using Run = std::vector<MetricRow> (*)(const Config&, const OptimizerContext&);
  using Cost = OptimizerCost (*)(const Config&, const Scenario&, int threads);
  using Validate = void (*)(const Config&, const Scenario&, const Check&, const std::string& path);
  using Resolve = void (*)(Config&, const std::vector<std::string>& given);

  OptimizerRegistration(std::string name, std::string doc, Table table, Validate validate, Resolve resolve, Run run,
                        Cost cost) {
    ConfigType config = optimizer_config_type<Config>(name, std::move(doc), std::move(table));
    if (validate)
      config.validate = [validate](const void* c, const Scenario& s, const Check& k, const std::string& path) {
        validate(*static_cast<const Config*>(c), s, k, path);
      };
    if (resolve)
      config.resolve = [resolve](void* c, const std::vector<std::string>& given) {
        resolve(*static_cast<Config*>(c), given);
      };
    OptimizerType type{name,
                       [run](const OptimizerConfig& o, const OptimizerContext& ctx) {
                         return run(o.get<Config>(), ctx);
                       },
                       [cost](const OptimizerConfig& o, const Scenario& s, int threads) {
                         return cost(o.get<Config>(), s, threads);
                       }};
    register_optimizer_type(std::move(config), std::move(type));
  }
};

}  // namespace goodhart
