// internal.h — the pieces the scenario layer shares between its files: locations, strict YAML reading, aliases,
// overrides and the sweep. Contract: not for use outside sim/scenario; every failure throws ScenarioError.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario/fields.h"
#include "sim/scenario/scenario.h"

namespace goodhart {
class Check;
}

namespace goodhart::scenario_detail {

inline const std::string kCommandLine = "<command line>";

// where the nodes of one YAML tree came from
struct Ctx {
  std::string file;                               // the name standing for the file in locations
  std::map<std::string, std::string> overridden;  // dotted key set (or created) by an override -> its location
  // the location of `node` read as `key`: the override that set it or an enclosing key, else its mark
  std::string where(const YAML::Node& node, const std::string& key) const;
};

std::string mark_text(const std::string& file, const YAML::Mark& m);  // "file:line:col", 1-based
std::string number_text(double v);                                    // shortest round-trip text
std::string join_key(const std::string& path, std::string_view key);  // "a" + "b" -> "a.b"; "" + "b" -> "b"
std::string index_key(const std::string& path, std::size_t i);        // "a" + 2 -> "a[2]"

// aliases (DESIGN.md §3, the tables' alias lists): the canonical key of `key` in `section` ("proxy", "optimizer",
// "proxy.noise", ...), looked up in the section's common table and every type's
std::string canonical_key(std::string_view section, std::string_view key);
std::vector<std::string> aliases_of(std::string_view section);  // every alias accepted in the section

// a typed section's keys: a key of another type of `section` is answered "not a key of <type> (keys: ...)"
struct KeyScope {
  std::string type;     // empty: an untyped section (every unknown key gets a "did you mean")
  std::string section;  // "world", "optimizer", ...
  std::string listed;   // the type's keys as the message lists them
};

// the pairs of a mapping, in file order, with duplicate keys rejected; a null node reads as an empty mapping
std::vector<std::pair<YAML::Node, YAML::Node>> unique_pairs(const Ctx& ctx, const YAML::Node& map,
                                                            const std::string& path);

// a mapping read against its list of known keys: aliases canonicalized, unknown keys answered with a suggestion,
// two spellings of one key rejected; read() records the location of each key it finds
class Section {
 public:
  Section(const Ctx& ctx, Locations& locs, const YAML::Node& map, std::string path, std::string alias_section,
          std::vector<std::string_view> keys, const KeyScope& scope = {});
  const YAML::Node* find(std::string_view key) const;  // the value, or null when absent
  const YAML::Node* key_node(std::string_view key) const;
  std::string key_path(std::string_view key) const { return join_key(path_, key); }
  void read(std::string_view key, int& out) const;
  void read(std::string_view key, std::uint64_t& out) const;
  void read(std::string_view key, double& out) const;
  void read(std::string_view key, bool& out) const;
  void read(std::string_view key, std::string& out) const;
  void read(std::string_view key, std::vector<int>& out) const;     // a list, or a scalar as a list of one
  void read(std::string_view key, std::vector<double>& out) const;  // a list, or a scalar as a list of one
  void read(std::string_view key, std::vector<std::string>& out) const;  // a list, or a scalar as a list of one

 private:
  struct Entry {
    std::string key;  // canonical
    YAML::Node key_node, value;
  };
  const Entry* entry(std::string_view key) const;
  const YAML::Node* record(std::string_view key) const;
  const Ctx& ctx_;
  Locations& locs_;
  std::string path_;
  std::vector<Entry> entries_;
};

// a table with the object its rows fill (a section's struct, or an optimizer type's own struct)
struct BoundTable {
  const Table* table;
  void* object;
};
std::vector<std::string_view> table_keys(const std::vector<BoundTable>& tables);
// reads a mapping whose keys are the rows of `tables`, each into its object (aliases of `section` canonicalized,
// nested tables read in turn); returns the canonical keys given
std::vector<std::string> read_tables(const Ctx& ctx, Locations& locs, const YAML::Node& map, const std::string& path,
                                     const std::string& section, const std::vector<BoundTable>& tables,
                                     const KeyScope& scope);
// the canonical JSON of the objects, rows in table order
nlohmann::json tables_json(const std::vector<BoundTable>& tables);
// every row's rule, the key named as path.row
void check_tables(const std::vector<BoundTable>& tables, const Check& c, const std::string& path);

// the Scenario a tree describes (sweep parsed, not expanded); no range checks
Scenario parse_tree(const YAML::Node& root, const Ctx& ctx, Locations& locs);
SweepConfig parse_sweep(const YAML::Node& node, const Ctx& ctx, Locations& locs);

// one command-line override "key.path=value" split into its key and its value read as YAML
struct Override {
  std::string key;
  YAML::Node value;
};
Override parse_override(const std::string& text);

// set `key` (dotted, with [i] or .i list indices) to `value` in the tree; `optimizer.x` on a file with the list
// `optimizers` sets x in every entry whose type reads x; records the keys it set or created in ctx.overridden
void apply_override(YAML::Node& root, Ctx& ctx, const std::string& key, const YAML::Node& value,
                    const std::string& where);

// the key as the parser spells it ("optimizers.1.lr" -> "optimizers[1].learning_rate"), for comparing keys;
// a malformed key throws at `where`
std::string normalized_key(const std::string& key, const std::string& where);

// range checks of the sweep block alone (method, value counts); validate() calls it when the sweep is non-empty
void validate_sweep(const SweepConfig& sweep, const Locations& at);

// the order of points: how many, the value index of each parameter at point k (grid: last parameter fastest;
// zip: the k-th of each), and the points load_scenario checks (grid: each value of each parameter once, the others
// at their first value; zip: all)
std::size_t point_count(const SweepConfig& sweep);
std::vector<std::size_t> point_choice(const SweepConfig& sweep, std::size_t k);
std::vector<std::size_t> check_points(const SweepConfig& sweep);

std::vector<double> linspace(double a, double b, int count);
std::vector<double> logspace(double a, double b, int count);  // 10^a .. 10^b

}  // namespace goodhart::scenario_detail
