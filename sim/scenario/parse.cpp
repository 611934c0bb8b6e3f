// parse.cpp — a YAML tree to the Scenario structs of config.h and the world and optimizer types' own structs, every key read
// through its table row (fields.h); each type's defaults that depend on other fields (ConfigType::resolve).
// Contract: value types, known keys (of the chosen type) and required sections are checked here; ranges only in
// validate.cpp.
#include <optional>

#include "sim/scenario/internal.h"
#include "sim/scenario/sections.h"
#include "sim/scenario/types.h"

namespace goodhart::scenario_detail {

namespace {

// the type a typed section names (its `type` key, else `fallback`), looked up in the registry
const ConfigType& section_type(const Ctx& ctx, const YAML::Node& node, const std::string& path,
                               const std::string& section, const std::string& fallback) {
  std::string name = fallback;
  std::optional<YAML::Node> type_node;
  for (const auto& [k, v] : unique_pairs(ctx, node, path))
    if (k.Scalar() == "type") type_node = v;
  const std::string key = join_key(path, "type");
  if (type_node) {
    if (!type_node->IsScalar()) throw ScenarioError(ctx.where(*type_node, key), key, "a string");
    name = type_node->Scalar();
  }
  const ConfigType* type = find_config_type(section, name);
  if (!type)
    throw ScenarioError(ctx.where(type_node ? *type_node : node, key), key,
                        "one of " + type_list(section) + ", got '" + name + "'");
  return *type;
}

// "pool, n, ref_logprob_weight, name": the type's own keys, then the section's common keys but `type`
std::string listed_keys(const ConfigType& type, const Table& common) {
  std::string list;
  for (const Table* t : {&type.table, &common})
    for (const Field& f : t->fields)
      if (f.name != "type") list += (list.empty() ? "" : ", ") + f.name;
  return list;
}

// the struct a type's table fills: a world type's own (made for that type), else the section's
void* type_object(WorldConfig& w, const ConfigType& type) {
  w.type = type.name;
  w.retype();
  return w.params.data();
}
template <class Config>
void* type_object(Config& c, const ConfigType&) {
  return &c;
}

// a typed section (world, gold, proxy) read through the common table into its struct and its type's table into
// the type's struct
template <class Config>
void parse_typed(const Ctx& ctx, Locations& locs, const YAML::Node& node, const std::string& section, Config& c) {
  const ConfigType& type = section_type(ctx, node, section, section, c.type);
  const Table& common = common_table(section);
  void* own = type_object(c, type);
  const std::vector<std::string> given = read_tables(ctx, locs, node, section, section,
                                                     {{&common, &c}, {&type.table, own}},
                                                     {type.name, section, listed_keys(type, common)});
  if (type.resolve) type.resolve(own, given);
}

// a section without types
template <class Config>
void parse_plain(const Ctx& ctx, Locations& locs, const YAML::Node& node, const std::string& section, Config& c) {
  read_tables(ctx, locs, node, section, section, {{&section_table(section), &c}}, {});
}

// one optimizer: its common keys into OptimizerConfig, its type's into the type's own struct
void parse_optimizer(const Ctx& ctx, Locations& locs, const YAML::Node& node, const std::string& path,
                     OptimizerConfig& o) {
  const ConfigType& type = section_type(ctx, node, path, "optimizer", o.type);
  const Table& common = common_table("optimizer");
  o.params = TypedConfig(type);
  const std::vector<std::string> given =
      read_tables(ctx, locs, node, path, "optimizer", {{&common, &o}, {&type.table, o.params.data()}},
                  {type.name, "optimizer", listed_keys(type, common)});
  if (type.resolve) type.resolve(o.params.data(), given);
}

// a top-level section's node (null when absent), its key's location recorded
YAML::Node section(const Ctx& ctx, const Section& top, Locations& locs, std::string_view key, bool required) {
  const YAML::Node* n = top.find(key);
  if (!n) {
    if (required) throw ScenarioError(locs.file, std::string(key), "missing required section");
    return YAML::Node();
  }
  locs.at[std::string(key)] = ctx.where(*top.key_node(key), std::string(key));
  return *n;
}

}  // namespace

Scenario parse_tree(const YAML::Node& root, const Ctx& ctx, Locations& locs) {
  locs.file = ctx.file + ":1:1";
  if (!root.IsMap() && !root.IsNull()) throw ScenarioError(ctx.where(root, ""), "scenario", "a mapping of sections");
  std::vector<std::string_view> top_keys = table_keys({{&section_table(""), nullptr}});
  for (std::string_view k : {"world", "gold", "preferences", "proxy", "optimizer", "optimizers", "eval", "output",
                             "sweep"})
    top_keys.push_back(k);
  Section top(ctx, locs, root, "", "", top_keys);
  Scenario s;

  // the schema version first: it decides what the rest may say
  for (std::string_view key : {"schema_version", "name", "description"})
    if (!top.find(key)) throw ScenarioError(locs.file, std::string(key), "missing required key");
  top.read("schema_version", s.schema_version);
  if (s.schema_version != 1) throw ScenarioError(locs.where("schema_version"), "schema_version", "1");
  top.read("name", s.name);
  top.read("description", s.description);
  top.read("seed", s.seed);

  // sections
  parse_typed(ctx, locs, section(ctx, top, locs, "world", true), "world", s.world);
  parse_typed(ctx, locs, section(ctx, top, locs, "gold", true), "gold", s.gold);
  parse_plain(ctx, locs, section(ctx, top, locs, "preferences", false), "preferences", s.preferences);
  parse_typed(ctx, locs, section(ctx, top, locs, "proxy", true), "proxy", s.proxy);
  parse_plain(ctx, locs, section(ctx, top, locs, "eval", false), "eval", s.eval);
  parse_plain(ctx, locs, section(ctx, top, locs, "output", false), "output", s.output);

  // one optimizer or a list of them
  const YAML::Node* one = top.find("optimizer");
  const YAML::Node* list = top.find("optimizers");
  if (one && list) {
    std::string later =
        top.key_node("optimizer")->Mark().pos > top.key_node("optimizers")->Mark().pos ? "optimizer" : "optimizers";
    throw ScenarioError(ctx.where(*top.key_node(later), later), later, "either optimizer or optimizers, not both");
  }
  if (!one && !list) throw ScenarioError(locs.file, "optimizer", "missing required section (optimizer or optimizers)");
  locs.single_optimizer = one != nullptr;
  if (one) {
    s.optimizers.resize(1);
    parse_optimizer(ctx, locs, section(ctx, top, locs, "optimizer", true), "optimizer", s.optimizers[0]);
  } else {
    YAML::Node items = section(ctx, top, locs, "optimizers", true);
    if (!items.IsSequence() || items.size() == 0)
      throw ScenarioError(ctx.where(items, "optimizers"), "optimizers", "a non-empty list of optimizer mappings");
    s.optimizers.resize(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
      std::string path = index_key("optimizers", i);
      locs.at[path] = ctx.where(items[i], path);
      parse_optimizer(ctx, locs, items[i], path, s.optimizers[i]);
    }
  }

  if (const YAML::Node* sweep = top.find("sweep")) {
    locs.at["sweep"] = ctx.where(*top.key_node("sweep"), "sweep");
    s.sweep = parse_sweep(*sweep, ctx, locs);
  }
  return s;
}

}  // namespace goodhart::scenario_detail

namespace goodhart {

void resolve_defaults(Scenario& s) {
  for (auto& o : s.optimizers)
    if (o.name.empty()) o.name = o.type;
}

}  // namespace goodhart
