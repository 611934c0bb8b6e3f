// key_docs.cpp — markdown key tables from the field tables: each row's type from its member, its default from a
// default-constructed config (or the row's shown default), its allowed values from its rule (or the row's own
// text), its meaning from its doc; the aliases of every table; and the rewriting of the docs' generated blocks.
#include "sim/scenario/key_docs.h"

#include <sstream>
#include <stdexcept>

#include "sim/scenario/internal.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/sections.h"

namespace goodhart {

namespace {

using scenario_detail::number_text;

const std::vector<std::string> kTypedSections = {"world", "gold", "proxy", "optimizer"};

std::string code(const std::string& s) { return "`" + s + "`"; }

// a doc line as a paragraph: capitalized, with a full stop
std::string sentence(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  if (!s.empty() && s.back() != '.') s += '.';
  return s;
}

// a table cell: pipes escaped
std::string cell(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

template <class T>
std::string list_text(const std::vector<T>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    if constexpr (std::is_same_v<T, double>)
      s += number_text(v[i]);
    else if constexpr (std::is_same_v<T, std::string>)
      s += v[i];
    else
      s += std::to_string(v[i]);
  }
  return s + "]";
}

struct Shown {
  std::string type, value;
};

Shown shown(const FieldRef& ref) {
  struct Visitor {
    Shown operator()(const int* v) const { return {"int", std::to_string(*v)}; }
    Shown operator()(const std::uint64_t* v) const { return {"uint64", std::to_string(*v)}; }
    Shown operator()(const double* v) const { return {"number", number_text(*v)}; }
    Shown operator()(const bool* v) const { return {"bool", *v ? "true" : "false"}; }
    Shown operator()(const std::string* v) const { return {"string", code(v->empty() ? "\"\"" : *v)}; }
    Shown operator()(const std::vector<int>* v) const { return {"list of int", code(list_text(*v))}; }
    Shown operator()(const std::vector<double>* v) const { return {"list of number", code(list_text(*v))}; }
    Shown operator()(const std::vector<std::string>* v) const { return {"list of string", code(list_text(*v))}; }
  };
  return std::visit(Visitor{}, ref);
}

bool is_list(const FieldRef& ref) {
  return std::holds_alternative<std::vector<int>*>(ref) || std::holds_alternative<std::vector<double>*>(ref) ||
         std::holds_alternative<std::vector<std::string>*>(ref);
}

std::string rule_text(const Rule& r, bool list) {
  const std::string each = list ? "each " : "";
  switch (r.kind) {
    case Rule::any: return "";
    case Rule::at_least: return each + ">= " + number_text(r.lo);
    case Rule::positive: return each + "> 0";
    case Rule::non_negative: return each + ">= 0";
    case Rule::within:
      return each + "[" + number_text(r.lo) + ", " + number_text(r.hi) + (r.hi_open ? ")" : "]");
    case Rule::one_of: {
      std::string s;
      for (const std::string& a : r.allowed) s += (s.empty() ? "" : ", ") + code(a);
      return s;
    }
  }
  return "";
}

// the names of `section`'s types as an allowed cell
std::string types_cell(const std::string& section) {
  std::string s;
  for (const ConfigType* t : config_types(section)) s += (s.empty() ? "" : ", ") + code(t->name);
  return s;
}

std::string table_markdown(const Table& table, void* object, const std::string& section) {
  std::ostringstream out;
  out << "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
  for (const Field& f : table.fields) {
    Shown s;
    std::string allowed = f.allowed_doc;
    if (f.nested) {
      s = {"mapping", "see " + code(section + "." + f.name)};
    } else {
      const FieldRef ref = f.ref(object);
      s = shown(ref);
      if (allowed.empty()) allowed = rule_text(f.rule, is_list(ref));
    }
    if (f.name == "type" && allowed.empty()) allowed = types_cell(section);
    const std::string value = f.default_doc.empty() ? s.value : f.default_doc;
    out << "| " << code(f.name) << " | " << s.type << " | " << cell(value) << " | " << cell(allowed) << " | "
        << cell(f.doc) << " |\n";
  }
  return out.str();
}

// a default object of every section, for the default column
struct Defaults {
  Scenario scenario;
  OptimizerConfig optimizer;

  void* section(const std::string& name) {
    if (name == "optimizer") return &optimizer;
    return name == "top" ? &scenario : section_object(scenario, name);
  }
};

std::string aliases_markdown() {
  std::ostringstream out;
  out << "| section | type | alias | canonical |\n|---|---|---|---|\n";
  const auto rows = [&](const Table& t, const std::string& section, const std::string& type) {
    for (const Field& f : t.fields) {
      if (f.aliases.empty()) continue;
      std::string spelled;
      for (const std::string& a : f.aliases) spelled += (spelled.empty() ? "" : ", ") + code(a);
      out << "| " << code(section) << " | " << type << " | " << spelled << " | " << code(f.name) << " |\n";
    }
  };
  for (const std::string s : {"top", "preferences", "eval", "output"})
    rows(section_table(s == "top" ? "" : s), s, "all");
  for (const std::string& s : kTypedSections) {
    rows(common_table(s), s, "all");
    for (const ConfigType* t : config_types(s)) rows(t->table, s, code(t->name));
  }
  return out.str();
}

const ConfigType* type_of_name(const std::string& name) {
  const auto dot = name.find('.');
  if (dot == std::string::npos || name == "proxy.noise") return nullptr;
  return find_config_type(name.substr(0, dot), name.substr(dot + 1));
}

}  // namespace

std::vector<std::string> key_table_names() {
  std::vector<std::string> names = {"top"};
  for (const std::string& s : kTypedSections) {
    names.push_back(s);
    for (const ConfigType* t : config_types(s)) names.push_back(s + "." + t->name);
    if (s == "proxy") names.push_back("proxy.noise");
    if (s == "gold") names.push_back("preferences");
  }
  names.insert(names.end(), {"eval", "output", "aliases"});
  return names;
}

std::string key_table(const std::string& name) {
  if (name == "aliases") return aliases_markdown();
  Defaults defaults;
  if (const ConfigType* type = type_of_name(name)) {
    // the type's doc, then its table
    const std::string& section = type->section;
    TypedConfig object;  // a world's or optimizer's own struct, at its defaults
    if (type->make) object = TypedConfig(*type);
    void* config = type->make ? object.data() : defaults.section(section);
    return sentence(type->doc) + "\n\n" + table_markdown(type->table, config, section);
  }
  void* object = defaults.section(name);
  if (!object) {
    std::string known;
    for (const std::string& n : key_table_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("no key table '" + name + "' (tables: " + known + ")");
  }
  return table_markdown(name == "top" ? section_table("") : section_table(name), object, name);
}

std::string update_key_docs(const std::string& markdown) {
  static const std::string begin = "<!-- keys ", end = "<!-- end keys -->";
  std::istringstream in(markdown);
  std::ostringstream out;
  std::string line, open;
  int number = 0, opened_at = 0;
  while (std::getline(in, line)) {
    ++number;
    if (open.empty()) {
      out << line << "\n";
      if (line.starts_with(begin) && line.ends_with(" -->")) {
        open = line.substr(begin.size(), line.size() - begin.size() - 4);
        opened_at = number;
        try {
          out << key_table(open);
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument("line " + std::to_string(number) + ": " + e.what());
        }
      }
    } else if (line == end) {
      out << line << "\n";
      open.clear();
    }
  }
  if (!open.empty())
    throw std::invalid_argument("line " + std::to_string(opened_at) + ": the block of '" + open + "' has no " + end);
  return out.str();
}

}  // namespace goodhart
