// registry.cpp — the table of optimizer types behind registry.h.
// Contract: see registry.h; the config half goes to the scenario layer's registry (types.h).
#include "sim/optimizers/registry.h"

#include <map>
#include <memory>
#include <stdexcept>

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

const OptimizerType& optimizer_type(const std::string& name) {
  auto it = optimizers().find(name);
  if (it == optimizers().end()) throw std::invalid_argument("no optimizer type named '" + name + "'");
  return it->second;
}

}  // namespace goodhart
