// registry.cpp — the table of world types behind registry.h.
// Contract: see registry.h; the config half goes to the scenario layer's registry (types.h).
#include "models/worlds/registry.h"

#include <map>
#include <stdexcept>

namespace goodhart {

namespace {

std::map<std::string, WorldType>& worlds() {
  static std::map<std::string, WorldType> table;
  return table;
}

}  // namespace

WorldRegistration::WorldRegistration(ConfigType config, WorldType type) {
  config.section = "world";
  config.name = type.name;
  register_config_type(std::move(config));
  const std::string name = type.name;
  worlds().emplace(name, std::move(type));
}

const WorldType& world_type(const std::string& name) {
  auto it = worlds().find(name);
  if (it == worlds().end()) throw std::invalid_argument("no world type named '" + name + "'");
  return it->second;
}

std::unique_ptr<const World> make_world(const WorldConfig& cfg) { return world_type(cfg.type).make(cfg); }

WorldAbilities world_abilities(const WorldConfig& cfg) { return world_type(cfg.type).abilities(cfg); }

}  // namespace goodhart
