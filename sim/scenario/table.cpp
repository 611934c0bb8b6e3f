// table.cpp — what the scenario layer does with field tables: read a mapping into the objects the tables describe,
// check each value against its rule, and write the canonical JSON that point ids hash.
// Contract: every key is read, checked and written by the same row; JSON keys follow table order.
#include <algorithm>

#include "sim/scenario/check.h"
#include "sim/scenario/internal.h"

namespace goodhart::scenario_detail {

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace

std::vector<std::string_view> table_keys(const std::vector<BoundTable>& tables) {
  std::vector<std::string_view> keys;
  for (const BoundTable& b : tables)
    for (const Field& f : b.table->fields) keys.push_back(f.name);
  return keys;
}

std::vector<std::string> read_tables(const Ctx& ctx, Locations& locs, const YAML::Node& map, const std::string& path,
                                     const std::string& section, const std::vector<BoundTable>& tables,
                                     const KeyScope& scope) {
  Section s(ctx, locs, map, path, section, table_keys(tables), scope);
  std::vector<std::string> given;
  for (const BoundTable& b : tables)
    for (const Field& f : b.table->fields) {
      if (!s.find(f.name)) continue;
      given.push_back(f.name);
      if (f.nested) {
        const std::string key = s.key_path(f.name);
        locs.at[key] = ctx.where(*s.key_node(f.name), key);
        read_tables(ctx, locs, *s.find(f.name), key, section + "." + f.name, {{f.nested, f.nested_ref(b.object)}},
                    {});
        continue;
      }
      std::visit([&](auto* member) { s.read(f.name, *member); }, f.ref(b.object));
    }
  return given;
}

nlohmann::json tables_json(const std::vector<BoundTable>& tables) {
  nlohmann::json j = nlohmann::json::object();
  for (const BoundTable& b : tables)
    for (const Field& f : b.table->fields) {
      if (f.nested) {
        j[f.name] = tables_json({{f.nested, f.nested_ref(b.object)}});
        continue;
      }
      std::visit([&](auto* member) { j[f.name] = *member; }, f.ref(b.object));
    }
  return j;
}

void check_tables(const std::vector<BoundTable>& tables, const Check& c, const std::string& path) {
  for (const BoundTable& b : tables)
    for (const Field& f : b.table->fields) {
      const std::string key = join_key(path, f.name);
      if (f.nested) {
        check_tables({{f.nested, f.nested_ref(b.object)}}, c, key);
        continue;
      }
      if (f.rule.kind == Rule::any) continue;
      std::visit(Overloaded{
                     [&](std::string* v) { c.one_of(*v, key, f.rule.allowed); },
                     [&](bool*) {},
                     [&](std::vector<int>* v) {
                       for (std::size_t i = 0; i < v->size(); ++i)
                         c.rule(f.rule, (*v)[i], true, key, Check::element(key, i));
                     },
                     [&](std::vector<double>* v) {
                       for (std::size_t i = 0; i < v->size(); ++i)
                         c.rule(f.rule, (*v)[i], false, key, Check::element(key, i));
                     },
                     [&](std::vector<std::string>* v) {
                       for (const std::string& s : *v) c.one_of(s, key, f.rule.allowed);
                     },
                     [&](double* v) { c.rule(f.rule, *v, false, key); },
                     [&](auto* v) { c.rule(f.rule, static_cast<double>(*v), true, key); },
                 },
                 f.ref(b.object));
    }
}

}  // namespace goodhart::scenario_detail
