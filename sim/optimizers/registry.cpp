// registry.cpp — the table of optimizer types behind registry.h.
// Contract: see registry.h; the config half goes to the scenario layer's registry (types.h).
#include "sim/optimizers/registry.h"

#include <map>
#include <memory>
#include <stdexcept>

#include "models/worlds/registry.h"

namespace goodhart {

namespace {

std::map<std::string, OptimizerType>& optimizers() {
  static std::map<std::string, OptimizerType> table;
  return table;
}

}  // namespace

void register_optimizer_type(ConfigType config, OptimizerType type) {
  register_config_type(std::move(config));
  const std::string name = type.name;
  optimizers().emplace(name, std::move(type));
}

void check_n_grid(const std::vector<int>& n, int pool, const Scenario& s, const Check& k, const std::string& path) {
  const std::string key = path + ".n";
  if (n.empty()) k.fail(key, "at least one n");
  const WorldAbilities world = world_abilities(s.world);
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string loc = Check::element(key, i);
    if (world.sampled && n[i] > world.candidates)
      k.fail(key, "each n <= the responses per prompt of the score file (" + std::to_string(world.candidates) +
                      "), got " + std::to_string(n[i]), loc);
    if (pool > 0 && n[i] > pool)
      k.fail(key, "each n <= pool (" + std::to_string(pool) + "), got " + std::to_string(n[i]) +
                      ", larger than the pool", loc);
    if (i > 0 && n[i] <= n[i - 1])
      k.fail(key, "strictly increasing values, got " + std::to_string(n[i]) + " after " + std::to_string(n[i - 1]),
             loc);
  }
}

const OptimizerType& optimizer_type(const std::string& name) {
  auto it = optimizers().find(name);
  if (it == optimizers().end()) throw std::invalid_argument("no optimizer type named '" + name + "'");
  return it->second;
}

}  // namespace goodhart
