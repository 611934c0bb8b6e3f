// fields.h — the field table of a config struct: for each key its name, the member it fills, a one-line doc, the
// rule its value must meet and the aliases users know it by. One table is the single source of a config: the
// parser, the range and enum checks, the canonical JSON that point ids hash, the resolved config and the generated
// docs/scenario-keys.md all read it (sim/scenario/table_*.cpp), so a key cannot be parsed without being hashed.
// Contract: data only (no YAML here); field(name, &Config::member, doc, rule) builds a row; the default shown in
// the docs is the member's value in a default-constructed Config unless default_doc says otherwise.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace goodhart {

// what a value (each element of a list) must satisfy
struct Rule {
  enum Kind { any, at_least, positive, non_negative, within, one_of } kind = any;
  double lo = 0.0, hi = 0.0;           // at_least: lo; within: [lo, hi], or [lo, hi) when hi_open
  bool hi_open = false;
  std::vector<std::string> allowed;    // one_of
  std::string expected;                // within: the expected text of errors, e.g. "a probability in [0, 0.5]"
};

inline Rule at_least(long long lo) { return {Rule::at_least, double(lo), 0.0, false, {}, {}}; }
inline Rule positive() { return {Rule::positive, 0.0, 0.0, false, {}, {}}; }
inline Rule non_negative() { return {Rule::non_negative, 0.0, 0.0, false, {}, {}}; }
inline Rule within(double lo, double hi, std::string expected, bool hi_open = false) {
  return {Rule::within, lo, hi, hi_open, {}, std::move(expected)};
}
inline Rule one_of(std::vector<std::string> allowed) { return {Rule::one_of, 0.0, 0.0, false, std::move(allowed), {}}; }

// a field's member inside one config object, by value type
using FieldRef = std::variant<int*, std::uint64_t*, double*, bool*, std::string*, std::vector<int>*,
                              std::vector<double>*, std::vector<std::string>*>;

struct Table;

struct Field {
  std::string name;                     // the canonical key
  std::string doc;                      // one line (a paragraph in the docs' table cell)
  Rule rule;
  std::vector<std::string> aliases;     // other spellings (DESIGN.md §3)
  std::string default_doc;              // the docs' default cell when the plain value says too little; else empty
  std::string allowed_doc;              // the docs' allowed cell for checks made by the type's validate(); else empty
  std::function<FieldRef(void*)> ref;   // the member of a config object (not set for a nested table)
  // a nested mapping (proxy.noise): its table and the member holding it
  const Table* nested = nullptr;
  std::function<void*(void*)> nested_ref;

  Field&& alias(std::string a) && { aliases.push_back(std::move(a)); return std::move(*this); }
  Field&& shown_default(std::string d) && { default_doc = std::move(d); return std::move(*this); }
  Field&& allowed(std::string a) && { allowed_doc = std::move(a); return std::move(*this); }
};

struct Table {
  std::vector<Field> fields;
  const Field* find(const std::string& key) const;  // by canonical name
};

// a row of Config's table for the member `m` (a member of Config or of one of its bases)
template <class Config, class Base, class T>
  requires std::derived_from<Config, Base>
Field field(std::string name, T Base::*m, std::string doc, Rule rule = {}) {
  Field f{std::move(name), std::move(doc), std::move(rule), {}, {}, {}, {}, nullptr, {}};
  f.ref = [m](void* c) -> FieldRef { return &(static_cast<Config*>(c)->*m); };
  return f;
}

// a row for a nested mapping of Config held in member `m`, read with `table`
template <class Config, class Base, class T>
  requires std::derived_from<Config, Base>
Field section_field(std::string name, T Base::*m, const Table& table, std::string doc) {
  Field f{std::move(name), std::move(doc), {}, {}, {}, {}, {}, &table, {}};
  f.nested_ref = [m](void* c) -> void* { return &(static_cast<Config*>(c)->*m); };
  return f;
}

inline const Field* Table::find(const std::string& key) const {
  for (const Field& f : fields)
    if (f.name == key) return &f;
  return nullptr;
}

}  // namespace goodhart
