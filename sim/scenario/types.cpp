// types.cpp — the registry of section types, and aliases looked up in the tables.
// Contract: see types.h; the registry is built on first use (world, gold and proxy types first), so static
// registrations from any translation unit find it ready.
#include "sim/scenario/types.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include "sim/scenario/internal.h"
#include "sim/scenario/sections.h"

namespace goodhart {

namespace {

struct Registry {
  std::map<std::string, std::vector<std::unique_ptr<ConfigType>>> sections;
  void add(ConfigType t) {
    auto& list = sections[t.section];
    for (const auto& e : list)
      if (e->name == t.name) throw std::logic_error("two " + t.section + " types named " + t.name);
    list.push_back(std::make_unique<ConfigType>(std::move(t)));
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
  }
};

Registry& registry() {
  static Registry r = [] {
    Registry made;
    for (ConfigType& t : section_types()) made.add(std::move(t));
    return made;
  }();
  return r;
}

}  // namespace

void register_config_type(ConfigType type) {
  if (type.section == "optimizer" && !type.make)
    throw std::logic_error("optimizer type " + type.name + " without a config struct");
  registry().add(std::move(type));
}

const ConfigType* find_config_type(const std::string& section, const std::string& name) {
  auto& sections = registry().sections;
  auto it = sections.find(section);
  if (it == sections.end()) return nullptr;
  for (const auto& t : it->second)
    if (t->name == name) return t.get();
  return nullptr;
}

std::vector<const ConfigType*> config_types(const std::string& section) {
  std::vector<const ConfigType*> out;
  auto& sections = registry().sections;
  if (auto it = sections.find(section); it != sections.end())
    for (const auto& t : it->second) out.push_back(t.get());
  return out;
}

const Table& common_table(const std::string& section) { return section_table(section); }

std::string type_list(const std::string& section) {
  std::string list;
  for (const ConfigType* t : config_types(section)) list += (list.empty() ? "" : ", ") + t->name;
  return list;
}

void TypedConfig::check(const std::type_index& wanted) const {
  if (!data_ || type_->config_type != wanted)
    throw std::logic_error("config of type " + std::string(type_ ? type_->name : "none") + " read as another type");
}

namespace scenario_detail {

namespace {

// every table a section's keys come from: its common table and each type's
std::vector<const Table*> tables_of(std::string_view section) {
  std::vector<const Table*> tables{&section_table(std::string(section))};
  for (const ConfigType* t : config_types(std::string(section))) tables.push_back(&t->table);
  return tables;
}

}  // namespace

std::string canonical_key(std::string_view section, std::string_view key) {
  for (const Table* t : tables_of(section))
    for (const Field& f : t->fields)
      for (const auto& a : f.aliases)
        if (a == key) return f.name;
  return std::string(key);
}

std::vector<std::string> aliases_of(std::string_view section) {
  std::vector<std::string> out;
  for (const Table* t : tables_of(section))
    for (const Field& f : t->fields)
      for (const auto& a : f.aliases)
        if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  return out;
}

}  // namespace scenario_detail

}  // namespace goodhart
