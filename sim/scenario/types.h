// types.h — the types a section can have (world: gaussian, categorical; gold: linear, mlp, concave; proxy: learned,
// noisy; optimizer: best_of_n, ...) in one registry, each with the table of the keys it reads.
// Contract: a type registers once (gold and proxy types in sections.cpp; a world or an optimizer in its own file, by
// WorldRegistration or OptimizerRegistration); lookups list types by name. A world or optimizer type owns its config
// struct (ConfigType::make), held by TypedConfig in WorldConfig::params or OptimizerConfig::params; gold and proxy
// types fill their section's struct (config.h) through their tables. Either way a member a type's table does not
// list keeps its default and cannot change that type's results unhashed.
#pragma once

#include <memory>
#include <string>
#include <typeindex>
#include <vector>

#include "sim/scenario/fields.h"

namespace goodhart {

struct Scenario;
struct Locations;
class Check;

struct ConfigType {
  std::string section;  // "world" | "gold" | "proxy" | "optimizer"
  std::string name;     // the value of the section's `type` key
  std::string doc;      // what the type is, for the docs
  Table table;          // the keys it reads besides its section's common keys (common_table)
  // worlds and optimizers: the type's own config struct (made, copied, its type checked on access); null for gold
  // and proxy types, whose tables fill their section's struct
  std::shared_ptr<void> (*make)() = nullptr;
  std::shared_ptr<void> (*copy)(const void*) = nullptr;
  std::type_index config_type = typeid(void);
  // defaults that depend on other fields; `given` holds the keys the file or an override set
  std::function<void(void* config, const std::vector<std::string>& given)> resolve;
  // the cross-field checks of one config (`path`: "optimizer" or "optimizers[i]" for an optimizer, else the section)
  std::function<void(const void* config, const Scenario& s, const Check& c, const std::string& path)> validate;
  // a world read from a file (scored): reads and checks the file once the scenario is parsed, before validate —
  // its path relative to the folder of `scenario_file` — keeps it in the config and sets what the file decides
  // (world.dim, world.prompts); throws ScenarioError located in the data file or at the key
  std::function<void(void* config, Scenario& s, const Locations& at, const std::string& scenario_file)> read_data;
};

// adds a type; a second type of one name in one section throws std::logic_error
void register_config_type(ConfigType type);
// the type, or null when none of that name is registered
const ConfigType* find_config_type(const std::string& section, const std::string& name);
// every type of a section, by name
std::vector<const ConfigType*> config_types(const std::string& section);
// the keys every type of a section reads (world: type, dim, prompts; optimizer: type, name; ...)
const Table& common_table(const std::string& section);
// "gaussian, categorical": the type names of a section, in registry order
std::string type_list(const std::string& section);

// a world or optimizer type's config struct, with value semantics (a copy is deep)
class TypedConfig {
 public:
  TypedConfig() = default;
  explicit TypedConfig(const ConfigType& type) : type_(&type), data_(type.make()) {}
  TypedConfig(const TypedConfig& o) : type_(o.type_), data_(o.data_ ? o.type_->copy(o.data_.get()) : nullptr) {}
  TypedConfig& operator=(const TypedConfig& o) {
    if (this != &o) *this = TypedConfig(o);
    return *this;
  }
  TypedConfig(TypedConfig&&) = default;
  TypedConfig& operator=(TypedConfig&&) = default;

  const ConfigType* type() const { return type_; }
  void* data() { return data_.get(); }
  const void* data() const { return data_.get(); }
  // the struct as T; throws std::logic_error when it holds another type
  template <class T>
  const T& as() const {
    check(typeid(T));
    return *static_cast<const T*>(data_.get());
  }
  template <class T>
  T& as() {
    check(typeid(T));
    return *static_cast<T*>(data_.get());
  }

 private:
  void check(const std::type_index& wanted) const;
  const ConfigType* type_ = nullptr;
  std::shared_ptr<void> data_;
};

// the ConfigType of a world or optimizer type whose struct is Config
template <class Config>
ConfigType typed_config_type(std::string section, std::string name, std::string doc, Table table) {
  ConfigType t;
  t.section = std::move(section);
  t.name = std::move(name);
  t.doc = std::move(doc);
  t.table = std::move(table);
  t.make = [] { return std::shared_ptr<void>(std::make_shared<Config>()); };
  t.copy = [](const void* c) {
    return std::shared_ptr<void>(std::make_shared<Config>(*static_cast<const Config*>(c)));
  };
  t.config_type = typeid(Config);
  return t;
}

template <class Config>
ConfigType optimizer_config_type(std::string name, std::string doc, Table table) {
  return typed_config_type<Config>("optimizer", std::move(name), std::move(doc), std::move(table));
}

}  // namespace goodhart
