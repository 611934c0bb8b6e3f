// scenario.h — load a scenario file, apply command-line overrides, validate, and expand its sweep into points.
// Contract: every failure throws ScenarioError whose what() is one line
//   "file:line:col: key.path: what was expected"
// (overrides from the command line use "<command line>" as the location). Nothing here touches the disk except
// reading the scenario file.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/scenario/config.h"

namespace goodhart {

struct ScenarioError : std::runtime_error {
  ScenarioError(std::string where, std::string key, std::string expected);
  std::string where;     // "file:line:col" or "<command line>"
  std::string key;       // dotted key path, e.g. "optimizer.n"
  std::string expected;  // what was expected, e.g. "an integer <= pool (4096)"
};

// where each key of a loaded scenario came from: "file:line:col", "<command line>", or a sweep parameter's place
struct Locations {
  std::string file;                        // "file:1:1": for keys given nowhere
  std::map<std::string, std::string> at;   // dotted key ("optimizers[1].n[3]") -> location, filled by the parser
  bool single_optimizer = false;           // the file used `optimizer`, not the list `optimizers`
  // the key's location, else that of its nearest enclosing key, else `file`
  const std::string& where(const std::string& key) const;
  // "optimizer" or "optimizers[i]", as the file spelled it
  std::string optimizer_key(std::size_t i) const;
};

// defaults that depend on other fields: optimizer names (= type), the kl_optimum beta grid logspace(-2, 1, 16)
void resolve_defaults(Scenario& s);

// every range, length and consistency check of a scenario, naming the key, its location and the expected range
void validate(const Scenario& s, const Locations& at);

// one point of a sweep: a fully resolved scenario (its sweep emptied)
struct RunSpec {
  Scenario config;                                          // resolved, validated
  int index = 0;                                            // position in the deterministic sweep order
  std::string point_id;                                     // stable: hash of the resolved config (16 hex chars)
  std::vector<std::pair<std::string, std::string>> swept;  // (dotted key, value as text) of each swept key
  std::map<std::string, std::string> given;                 // dotted key -> where the file, an override or the
                                                            // sweep gave it (for errors found while running)
};

// parse + aliases + overrides ("key.path=value", value read as YAML) + validate; the sweep is kept, unexpanded
Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides = {});

// the same from YAML text; `name` stands for the file in error locations
Scenario load_scenario_text(const std::string& yaml, const std::string& name,
                            const std::vector<std::string>& overrides = {});

// every point in sweep order (grid: cartesian product with the last parameter fastest; zip: element-wise);
// each point's values are applied like overrides and validated; a scenario without sweep gives one point
std::vector<RunSpec> expand_sweep(const std::string& path, const std::vector<std::string>& overrides = {});
std::vector<RunSpec> expand_sweep_text(const std::string& yaml, const std::string& name,
                                       const std::vector<std::string>& overrides = {});

// the resolved config with canonical key names, for manifest.json and hashing
nlohmann::json to_json(const Scenario& s);

// 16 hex chars: a hash of to_json(s).dump()
std::string point_id(const Scenario& s);

}  // namespace goodhart
