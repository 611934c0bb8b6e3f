// json.cpp — the resolved scenario as JSON, written from the field tables: canonical keys, every key the chosen
// type of each section reads (and no other), optimizers as a list, no sweep; and its hash.
// Contract: to_json(s).dump() is a pure function of the config; point_id is its 64-bit FNV-1a as 16 lowercase hex.
#include <cstdio>
#include <stdexcept>

#include "sim/numeric/fnv1a.h"
#include "sim/scenario/internal.h"
#include "sim/scenario/sections.h"
#include "sim/scenario/types.h"

namespace goodhart {

namespace {

using scenario_detail::BoundTable;
using scenario_detail::tables_json;

// the struct a type's table fills (see parse.cpp); a world whose params are not of its type is a caller's error
const void* type_object(const WorldConfig& w, const ConfigType& type) {
  if (w.params.type() != &type) throw std::logic_error("world.params do not hold the config of '" + w.type + "'");
  return w.params.data();
}
template <class Config>
const void* type_object(const Config& c, const ConfigType&) {
  return &c;
}

// a typed section's keys: its common table and its type's
template <class Config>
nlohmann::json typed_json(const std::string& section, const Config& c) {
  void* object = const_cast<Config*>(&c);  // tables_json only reads
  const ConfigType* type = find_config_type(section, c.type);
  std::vector<BoundTable> tables{{&common_table(section), object}};
  if (type) tables.push_back({&type->table, const_cast<void*>(type_object(c, *type))});
  return tables_json(tables);
}

template <class Config>
nlohmann::json plain_json(const std::string& section, const Config& c) {
  return tables_json({{&section_table(section), const_cast<Config*>(&c)}});
}

}  // namespace

nlohmann::json to_json(const Scenario& s) {
  nlohmann::json optimizers = nlohmann::json::array();
  for (const OptimizerConfig& o : s.optimizers) {
    std::vector<BoundTable> tables{{&common_table("optimizer"), const_cast<OptimizerConfig*>(&o)}};
    if (const ConfigType* type = o.params.type()) tables.push_back({&type->table, const_cast<void*>(o.params.data())});
    optimizers.push_back(tables_json(tables));
  }
  nlohmann::json j = plain_json("", s);
  j["world"] = typed_json("world", s.world);
  j["gold"] = typed_json("gold", s.gold);
  j["preferences"] = plain_json("preferences", s.preferences);
  j["proxy"] = typed_json("proxy", s.proxy);
  j["optimizers"] = optimizers;
  j["eval"] = plain_json("eval", s.eval);
  j["output"] = plain_json("output", s.output);
  return j;
}

std::string point_id(const Scenario& s) { return fnv1a_hex(to_json(s).dump()); }

}  // namespace goodhart
