// overrides.cpp — "key.path=value" settings from the command line or a sweep, applied to the tree before parsing.
// Contract: the value is read as YAML and then parsed and validated like a file value; the keys set are recorded in
// Ctx::overridden with the override's location; a null value (`~`) removes the key instead. `optimizer.x` on a file
// that lists `optimizers` sets x in every entry whose type reads x; `optimizers[i].x` (or `optimizers.i.x`) sets one
// entry and needs the list in the file.
#include <algorithm>
#include <charconv>

#include "sim/scenario/internal.h"
#include "sim/scenario/types.h"

namespace goodhart::scenario_detail {

namespace {

const std::string kOverrideForm = "an override of the form key.path=value";
const std::string kKeyForm = "a dotted key like proxy.noise.scale or optimizers[1].beta";

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "optimizers[1].beta" and "optimizers.1.beta" -> {"optimizers", "1", "beta"}
std::vector<std::string> split_key(const std::string& key, const std::string& where) {
  std::vector<std::string> toks;
  std::string cur;
  auto flush = [&](bool must_have) {
    if (cur.empty() && must_have) throw ScenarioError(where, key, kKeyForm);
    if (!cur.empty()) toks.push_back(cur);
    cur.clear();
  };
  for (std::size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == '.') {
      flush(i == 0 || key[i - 1] != ']');
    } else if (c == '[') {
      flush(true);
      std::size_t close = key.find(']', i);
      if (close == std::string::npos || !all_digits(key.substr(i + 1, close - i - 1)))
        throw ScenarioError(where, key, kKeyForm);
      toks.push_back(key.substr(i + 1, close - i - 1));
      i = close;
    } else {
      cur += c;
    }
  }
  flush(key.empty() || key.back() != ']');
  return toks;
}

// the alias section of a path: list indices dropped, entries of `optimizers` read as "optimizer"
std::string alias_section(const std::string& path) {
  std::string s;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '[')
      i = path.find(']', i);
    else
      s += path[i];
  }
  return s == "optimizers" ? "optimizer" : s;
}

YAML::Node find_key(const YAML::Node& map, const std::string& key) {
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  return YAML::Node(YAML::NodeType::Undefined);
}

struct Applier {
  Ctx& ctx;
  const std::vector<std::string>& toks;
  const std::string& key;
  const YAML::Node& value;
  const std::string& where;

  void at(YAML::Node node, std::size_t t, const std::string& path) {
    const std::string& tok = toks[t];
    bool last = t + 1 == toks.size();

    // `optimizer.x` reaches every entry of a list `optimizers`
    // whose type reads x (all of them when none does, so that the parser names the key's error)
    if (path.empty() && tok == "optimizer" && !last && !find_key(node, "optimizer").IsDefined()) {
      YAML::Node list = find_key(node, "optimizers");
      if (list.IsSequence()) {
        std::vector<std::size_t> readers;
        for (std::size_t i = 0; i < list.size(); ++i)
          if (entry_reads(list[i], toks[t + 1])) readers.push_back(i);
        if (readers.empty())
          for (std::size_t i = 0; i < list.size(); ++i) readers.push_back(i);
        for (std::size_t i : readers) at(list[i], t + 1, index_key("optimizers", i));
        return;
      }
    }

    // a list entry by index
    if (node.IsSequence()) {
      std::size_t i = 0;
      auto r = std::from_chars(tok.data(), tok.data() + tok.size(), i);
      if (!all_digits(tok) || r.ec != std::errc() || i >= node.size())
        throw ScenarioError(where, key, "an index below " + std::to_string(node.size()) + " for the list " + path);
      std::string child = index_key(path, i);
      if (last) return set(node, i, child);
      return at(node[i], t + 1, child);
    }
    if (!node.IsMap()) throw ScenarioError(where, key, "a key inside a section, but " + path + " holds a value");

    // a key of a mapping, canonical when it is the one set
    if (last) {
      std::string k = canonical_key(alias_section(path), tok);
      drop_spellings(node, alias_section(path), k);
      return set(node, k, join_key(path, k));
    }
    std::string child = join_key(path, tok);
    YAML::Node c = find_key(node, tok);
    if (!c.IsDefined() || c.IsNull()) {
      if (value.IsNull()) return;  // unsetting a key of a mapping that is not there: nothing to do
      if (all_digits(toks[t + 1])) throw ScenarioError(where, key, "an existing list at " + child);
      node[tok] = YAML::Node(YAML::NodeType::Map);
      ctx.overridden[child] = where;
      c = find_key(node, tok);
    }
    at(c, t + 1, child);
  }

  // whether an entry of `optimizers` reads `key`: its type's table or the common one lists it (an entry whose type
  // is missing or unknown reads everything: the parser reports it)
  static bool entry_reads(const YAML::Node& entry, const std::string& key) {
    if (!entry.IsMap()) return true;
    const YAML::Node type = find_key(entry, "type");
    const ConfigType* t = find_config_type("optimizer", type.IsScalar() ? type.Scalar() : OptimizerConfig{}.type);
    if (!t) return true;
    const std::string k = canonical_key("optimizer", key);
    return t->table.find(k) || common_table("optimizer").find(k);
  }

  // a null value (`~`) unsets a mapping's key: the point or run reads its default (for a key only some of the
  // swept types read)
  template <class Key>
  void set(YAML::Node& node, const Key& k, const std::string& path) {
    if (value.IsNull() && node.IsMap())
      node.remove(k);
    else
      node[k] = YAML::Clone(value);
    ctx.overridden[path] = where;
  }

  // remove every spelling of the key about to be set (canonical or alias), so that the override replaces it
  static void drop_spellings(YAML::Node& map, const std::string& section, const std::string& canonical) {
    for (bool found = true; found;) {
      found = false;
      for (auto it = map.begin(); it != map.end(); ++it) {
        if (it->first.IsScalar() && canonical_key(section, it->first.Scalar()) == canonical) {
          map.remove(it->first.Scalar());
          found = true;
          break;
        }
      }
    }
  }
};

}  // namespace

Override parse_override(const std::string& text) {
  std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) throw ScenarioError(kCommandLine, text, kOverrideForm);
  Override o{text.substr(0, eq), {}};
  split_key(o.key, kCommandLine);
  try {
    o.value = YAML::Load(text.substr(eq + 1));
  } catch (const YAML::ParserException& e) {
    throw ScenarioError(kCommandLine, o.key, "a YAML value (" + e.msg + ")");
  }
  return o;
}

void apply_override(YAML::Node& root, Ctx& ctx, const std::string& key, const YAML::Node& value,
                    const std::string& where) {
  std::vector<std::string> toks = split_key(key, where);
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  Applier{ctx, toks, key, value, where}.at(root, 0, "");
}

std::string normalized_key(const std::string& key, const std::string& where) {
  std::vector<std::string> toks = split_key(key, where);
  std::string path;
  for (std::size_t t = 0; t < toks.size(); ++t) {
    if (all_digits(toks[t]))
      path += "[" + toks[t] + "]";
    else
      path = join_key(path, t + 1 == toks.size() ? canonical_key(alias_section(path), toks[t]) : toks[t]);
  }
  return path;
}

}  // namespace goodhart::scenario_detail
