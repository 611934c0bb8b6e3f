// registry.h — the worlds by name: each registers itself from its own file (gaussian.cpp, categorical.cpp) with
// its config type (the keys its table reads, its cross-field checks), how to build it, and what it can compute
// exactly, known from the config alone (for validate and `goodhart plan`, before any world is built).
// Contract: registration happens during static initialization (the core library is linked whole); lookups after
// that. An unregistered name throws std::invalid_argument.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "models/worlds/world.h"
#include "sim/scenario/config.h"
#include "sim/scenario/types.h"

namespace goodhart {

// what a world of a config will be able to do (World::candidates() and gaussian() of the world it makes)
struct WorldAbilities {
  int candidates = 0;     // enumerable candidates per prompt; 0: none
  bool gaussian = false;  // a gaussian pi_ref
  bool sampled = false;   // the candidates are a sample of pi_ref (Candidates::sampled)
};

struct WorldType {
  std::string name;
  std::function<std::unique_ptr<const World>(const WorldConfig&)> make;
  std::function<WorldAbilities(const WorldConfig&)> abilities;
};

// registers world `name`: its config type (section "world") and how to make it; one static object per world file
struct WorldRegistration {
  WorldRegistration(ConfigType config, WorldType type);
};

const WorldType& world_type(const std::string& name);

// the world of a config
std::unique_ptr<const World> make_world(const WorldConfig& cfg);

// what the world of a config can compute exactly
WorldAbilities world_abilities(const WorldConfig& cfg);

}  // namespace goodhart
