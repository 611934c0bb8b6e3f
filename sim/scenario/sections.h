// sections.h — the scenario layer's own tables: the sections without types (top level, preferences, eval, output),
// the keys common to every type of a typed section, and the gold and proxy types (sections.cpp; each world type
// registers its own table from models/worlds/).
// Contract: section_table("") is the top level; an unknown section gives an empty table.
#pragma once

#include <string>

#include <vector>

#include "sim/scenario/types.h"

namespace goodhart {

// "" (top level) | preferences | eval | output | world | gold | proxy | proxy.noise | optimizer (its common keys)
const Table& section_table(const std::string& section);

// the struct section_table(section) fills inside `s` ("" top level, preferences, eval, output, world, gold, proxy,
// proxy.noise; world, gold and proxy types fill their section's); null for another name (optimizers' structs are
// in s.optimizers)
void* section_object(Scenario& s, const std::string& section);

// the gold and proxy types (the registry adds them when it is first used)
std::vector<ConfigType> section_types();

}  // namespace goodhart
