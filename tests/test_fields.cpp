// test_fields.cpp — the field tables as the single source of a config: every key of every section and type is in
// the point id and makes --resume refuse a folder of the old value's results; no key of another type is in either;
// every table has its block in docs/scenario-keys.md and the committed tables equal the generated ones.
// Contract: enumerates the tables (nothing hand-listed), so a new key or type is covered the day it is added.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sim/engine/sweep_files.h"
#include "sim/scenario/key_docs.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/sections.h"

using namespace goodhart;

namespace {

const std::string kHead = "schema_version: 1\nname: t\ndescription: d\n";

// a valid scenario whose `section` has type `type` (the others at their defaults)
Scenario with_type(const std::string& section, const std::string& type) {
  std::string world = "world: {type: gaussian}\n", gold = "gold: {type: linear}\n", proxy = "proxy: {type: learned}\n",
              optimizer = "optimizer: {type: best_of_n}\n";
  const std::string line = section + ": {type: " + type + "}\n";
  if (type == "scored") {
    // gold and proxy types scored are columns of a scored world's file, which needs them
    world = "world: {type: scored, path: " GOODHART_SOURCE_DIR "/tests/data/scores_small.csv}\n";
    gold = "gold: {type: scored}\n";
    proxy = "proxy: {type: scored}\n";
    optimizer = "optimizer: {type: best_of_n, n: [1, 2, 4]}\n";
  }
  if (type == "inference_time_pessimism") world = "world: {type: categorical}\n";  // needs pi_ref's support
  if (section == "world" && type != "scored") world = line;
  if (section == "gold") gold = line;
  if (section == "proxy") proxy = line;
  if (section == "optimizer") optimizer = line;
  return load_scenario_text(kHead + world + gold + proxy + optimizer, "t.yaml");
}

// the object a section's rows fill in `s`
void* object_of(Scenario& s, const std::string& section) {
  void* o = section_object(s, section);
  if (!o) throw std::logic_error("no object for section " + section);
  return o;
}

// a different value of the member
void change(const FieldRef& ref) {
  struct Visitor {
    void operator()(int* v) const { *v += 1; }
    void operator()(std::uint64_t* v) const { *v += 1; }
    void operator()(double* v) const { *v = *v == 0.0 ? 1.0 : *v * 2.0; }
    void operator()(bool* v) const { *v = !*v; }
    void operator()(std::string* v) const { *v += "_changed"; }
    void operator()(std::vector<int>* v) const { v->push_back(7); }
    void operator()(std::vector<double>* v) const { v->push_back(0.5); }
    void operator()(std::vector<std::string>* v) const { v->push_back("changed"); }
  };
  std::visit(Visitor{}, ref);
}

// whether `--resume` into a folder of `stored`'s results refuses `changed`: run_sweep refuses when the sweep.json
// documents differ in any key (prepare_folder in sweep_run.cpp)
bool resume_refuses(const Scenario& stored, const Scenario& changed) {
  const auto doc = [](const Scenario& s) {
    return nlohmann::json(sweep_json(s, {RunSpec{s, 0, point_id(s), {}, {}}}));
  };
  return !differing_keys(doc(stored), doc(changed)).empty();
}

// every row of `table` (nested tables too), each changed alone in a copy of `base`: the id must change
void check_rows_hashed(const Scenario& base, const Table& table, const std::string& section,
                       void* (*object)(Scenario&, const std::string&, const Field* parent), const Field* parent,
                       const std::string& label) {
  const std::string id = point_id(base);
  for (const Field& f : table.fields) {
    if (f.nested) {
      check_rows_hashed(base, *f.nested, section, object, &f, label + "." + f.name);
      continue;
    }
    Scenario s = base;
    change(f.ref(object(s, section, parent)));
    INFO(label << "." << f.name);
    CHECK(point_id(s) != id);
    CHECK(resume_refuses(base, s));
  }
}

void* section_object(Scenario& s, const std::string& section, const Field* parent) {
  void* o = section == "optimizer" ? s.optimizers.at(0).params.data() : object_of(s, section);
  return parent ? parent->nested_ref(o) : o;
}

// the struct a type's rows fill: a world's or optimizer's own, else the section's
void* type_object(Scenario& s, const std::string& section, const Field* parent) {
  void* o = section == "world" ? s.world.params.data() : section_object(s, section, nullptr);
  return parent ? parent->nested_ref(o) : o;
}

void* optimizer_common(Scenario& s, const std::string&, const Field*) { return &s.optimizers.at(0); }

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("every key of every section and type changes the point id; keys of other types are not in it") {
  int types = 0, rows = 0;
  for (const std::string section : {"world", "gold", "proxy", "optimizer"}) {
    const std::vector<const ConfigType*> all = config_types(section);
    REQUIRE(all.size() >= 2);
    for (const ConfigType* type : all) {
      ++types;
      const Scenario base = with_type(section, type->name);
      const std::string label = section + "." + type->name;
      if (section == "optimizer")
        check_rows_hashed(base, common_table(section), section, optimizer_common, nullptr, label);
      else
        check_rows_hashed(base, common_table(section), section, section_object, nullptr, label);
      check_rows_hashed(base, type->table, section, type_object, nullptr, label);
      rows += static_cast<int>(common_table(section).fields.size() + type->table.fields.size());
      // the rows of the section's other types: members this type never reads, outside its resolved config
      if (section == "optimizer" || section == "world") continue;  // another type's rows fill another struct
      const nlohmann::json resolved = to_json(base)[section];
      for (const ConfigType* other : all) {
        if (other == type) continue;
        for (const Field& f : other->table.fields) {
          if (type->table.find(f.name) || common_table(section).find(f.name)) continue;
          INFO(label << " reading " << other->name << "'s " << f.name);
          CHECK_FALSE(resolved.contains(f.name));
          if (f.nested) continue;
          Scenario s = base;
          change(f.ref(object_of(s, section)));
          CHECK(point_id(s) == point_id(base));
          CHECK_FALSE(resume_refuses(base, s));
        }
      }
    }
  }
  for (const std::string section : {"", "preferences", "eval", "output"}) {
    const Scenario base = with_type("world", "gaussian");
    const std::string label = section.empty() ? "top" : section;
    check_rows_hashed(base, section_table(section), section, section_object, nullptr, label);
    rows += static_cast<int>(section_table(section).fields.size());
  }
  MESSAGE(types << " types, " << rows << " rows checked");
  CHECK(types >= 10);
}

TEST_CASE("the resolved config of each type holds exactly its rows: the common table's, then its type's") {
  for (const std::string section : {"world", "gold", "proxy", "optimizer"})
    for (const ConfigType* type : config_types(section)) {
      const nlohmann::json j = to_json(with_type(section, type->name));
      const nlohmann::json& got = section == "optimizer" ? j["optimizers"][0] : j[section];
      std::vector<std::string> want, keys;
      for (const Table* t : {&common_table(section), &type->table})
        for (const Field& f : t->fields) want.push_back(f.name);
      for (auto it = got.begin(); it != got.end(); ++it) keys.push_back(it.key());
      std::sort(want.begin(), want.end());  // nlohmann::json orders object keys by name
      INFO(section << "." << type->name);
      CHECK(keys == want);
    }
}

TEST_CASE("docs/scenario-keys.md holds every key table, as generated from the code") {
  const std::filesystem::path doc = std::filesystem::path(GOODHART_SOURCE_DIR) / "docs" / "scenario-keys.md";
  const std::string text = slurp(doc);
  REQUIRE(!text.empty());
  for (const std::string& name : key_table_names()) {
    INFO(name);
    CHECK(text.find("<!-- keys " + name + " -->\n") != std::string::npos);
  }
  INFO("regenerate with: goodhart keys --update docs/scenario-keys.md");
  CHECK(update_key_docs(text) == text);
}

TEST_CASE("the key tables: rows from the code, errors for unknown tables and open blocks") {
  const std::string pg = key_table("optimizer.policy_gradient");
  CHECK(pg.find("| `kl_coef` | number | 0.05 | >= 0 | KL coefficient") != std::string::npos);
  CHECK(key_table("world").find("| `type` | string | `gaussian` | `categorical`, `gaussian`, `scored` |") != std::string::npos);
  CHECK(key_table("aliases").find("| `proxy` | `learned` | `lr` | `learning_rate` |") != std::string::npos);
  CHECK_THROWS_WITH_AS(key_table("optimizer.best_of_m"), doctest::Contains("no key table 'optimizer.best_of_m'"),
                       std::invalid_argument);
  CHECK_THROWS_WITH_AS(update_key_docs("a\n<!-- keys nope -->\n<!-- end keys -->\n"),
                       doctest::Contains("line 2: no key table 'nope'"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(update_key_docs("<!-- keys eval -->\nold\n"), doctest::Contains("line 1:"),
                       std::invalid_argument);
  // the text outside the blocks is kept; inside, replaced
  const std::string updated = update_key_docs("before\n<!-- keys output -->\nstale\n<!-- end keys -->\nafter\n");
  CHECK(updated == "before\n<!-- keys output -->\n" + key_table("output") + "<!-- end keys -->\nafter\n");
}
