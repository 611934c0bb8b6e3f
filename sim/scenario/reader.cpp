// reader.cpp — strict reading of YAML nodes: locations, scalars of one type, sections with known keys.
// Contract: a value of the wrong type, an unknown key (with a "did you mean"), a duplicate key or two spellings of
// one key throw ScenarioError at the offending node's file:line:col (or the override that set it).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "sim/scenario/internal.h"
#include "sim/scenario/types.h"

namespace goodhart::scenario_detail {

std::string mark_text(const std::string& file, const YAML::Mark& m) {
  if (m.is_null()) return file + ":1:1";
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

std::string number_text(double v) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string join_key(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string index_key(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string Ctx::where(const YAML::Node& node, const std::string& key) const {
  // the longest overridden key that is `key` or encloses it
  const std::string* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& [k, w] : overridden) {
    bool covers =
        key.compare(0, k.size(), k) == 0 && (key.size() == k.size() || key[k.size()] == '.' || key[k.size()] == '[');
    if (covers && k.size() >= best_len) best = &w, best_len = k.size();
  }
  if (best) return *best;
  return mark_text(file, node.Mark());
}

namespace {

// optimal string alignment distance: edits, with a swap of neighbours counting as one
int edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<int>> d(a.size() + 1, std::vector<int>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = int(i);
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = int(j);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string unknown_key_message(std::string_view key, const std::vector<std::string_view>& keys,
                                const std::vector<std::string>& aliases) {
  // suggest the closest known spelling when it is a plausible typo
  std::string best;
  int best_d = std::numeric_limits<int>::max();
  auto consider = [&](std::string_view k) {
    int d = edit_distance(key, k);
    if (d < best_d) best_d = d, best = std::string(k);
  };
  for (auto k : keys) consider(k);
  for (const auto& k : aliases) consider(k);
  int limit = std::min(2, int(key.size()) / 2);
  if (best_d <= std::max(limit, 1) && best_d < int(key.size())) return "unknown key, did you mean '" + best + "'?";
  std::string list;
  for (auto k : keys) list += (list.empty() ? "" : ", ") + std::string(k);
  return "unknown key, expected one of: " + list;
}

// a quoted scalar ("8", '8') is a string in YAML, whatever it spells: never read as a number or a boolean
bool quoted(const YAML::Node& n) { return n.IsScalar() && n.Tag() == "!"; }

// what was expected, and that a quoted value is text
std::string expected_not_quoted(const YAML::Node& n, const std::string& expected) {
  return quoted(n) ? expected + ", got the quoted string \"" + n.Scalar() + "\" (write it without quotes)" : expected;
}

bool read_int(const YAML::Node& n, long long& out) {
  if (!n.IsScalar() || quoted(n)) return false;
  const std::string& s = n.Scalar();
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool read_double(const YAML::Node& n, double& out) {
  if (!n.IsScalar() || quoted(n)) return false;
  std::string_view s = n.Scalar();
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(out);
}

int to_int(const Ctx& ctx, const YAML::Node& n, const std::string& key, const char* expected) {
  long long v = 0;
  if (!read_int(n, v) || v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    throw ScenarioError(ctx.where(n, key), key, expected_not_quoted(n, expected));
  return int(v);
}

// well-formed UTF-8 (Unicode table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF); strings go
// into manifest.json and the hashed config, and nlohmann::json refuses to dump anything else
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0);
    std::size_t len = c < 0x80                 ? 1
                      : c >= 0xC2 && c <= 0xDF ? 2
                      : c >= 0xE0 && c <= 0xEF ? 3
                      : c >= 0xF0 && c <= 0xF4 ? 4
                                               : 0;
    if (len == 0 || i + len > s.size()) return false;
    if (len >= 2) {
      // the second byte's range depends on the first; every later byte is 0x80..0xBF
      unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
      unsigned char hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
      if (b(1) < lo || b(1) > hi) return false;
      for (std::size_t k = 2; k < len; ++k)
        if (b(k) < 0x80 || b(k) > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

double to_double(const Ctx& ctx, const YAML::Node& n, const std::string& key, const char* expected) {
  double v = 0;
  if (!read_double(n, v)) throw ScenarioError(ctx.where(n, key), key, expected_not_quoted(n, expected));
  return v;
}

}  // namespace

std::vector<std::pair<YAML::Node, YAML::Node>> unique_pairs(const Ctx& ctx, const YAML::Node& map,
                                                            const std::string& path) {
  std::vector<std::pair<YAML::Node, YAML::Node>> pairs;
  if (map.IsNull()) return pairs;
  if (!map.IsMap()) throw ScenarioError(ctx.where(map, path), path, "a mapping of keys");
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) throw ScenarioError(ctx.where(it->first, path), path, "plain keys");
    for (const auto& [k, v] : pairs) {
      if (k.Scalar() == it->first.Scalar()) {
        std::string key = join_key(path, it->first.Scalar());
        throw ScenarioError(ctx.where(it->first, key), key, "duplicate key (first given at " + ctx.where(k, key) + ")");
      }
    }
    pairs.emplace_back(it->first, it->second);
  }
  return pairs;
}

// whether `key` is a key of some type of the section (then a type that does not read it answers so)
static bool key_of_section(const std::string& section, const std::string& key) {
  for (const ConfigType* t : config_types(section))
    if (t->table.find(key)) return true;
  return false;
}

Section::Section(const Ctx& ctx, Locations& locs, const YAML::Node& map, std::string path, std::string alias_section,
                 std::vector<std::string_view> keys, const KeyScope& scope)
    : ctx_(ctx), locs_(locs), path_(std::move(path)) {
  for (const auto& [k, v] : unique_pairs(ctx, map, path_)) {
    const std::string& spelled = k.Scalar();
    std::string canon = canonical_key(alias_section, spelled);
    // unknown keys, then two spellings of one key
    if (std::find(keys.begin(), keys.end(), canon) == keys.end()) {
      std::string key = join_key(path_, spelled);
      if (!scope.type.empty() && key_of_section(scope.section, canon))
        throw ScenarioError(ctx.where(k, key), key, "not a key of " + scope.type + " (keys: " + scope.listed + ")");
      throw ScenarioError(ctx.where(k, key), key, unknown_key_message(spelled, keys, aliases_of(alias_section)));
    }
    for (const auto& e : entries_) {
      if (e.key == canon) {
        std::string key = join_key(path_, canon);
        throw ScenarioError(ctx.where(k, join_key(path_, spelled)), key,
                            "one spelling, but '" + e.key_node.Scalar() + "' and '" + spelled + "' both set it");
      }
    }
    entries_.push_back({canon, k, v});
  }
}

const Section::Entry* Section::entry(std::string_view key) const {
  for (const auto& e : entries_)
    if (e.key == key) return &e;
  return nullptr;
}

const YAML::Node* Section::find(std::string_view key) const {
  const Entry* e = entry(key);
  return e ? &e->value : nullptr;
}

const YAML::Node* Section::key_node(std::string_view key) const {
  const Entry* e = entry(key);
  return e ? &e->key_node : nullptr;
}

// the value of `key` with its location recorded (a missing value is located at its key)
const YAML::Node* Section::record(std::string_view key) const {
  const Entry* e = entry(key);
  if (!e) return nullptr;
  std::string path = key_path(key);
  locs_.at[path] = ctx_.where(e->value.IsNull() ? e->key_node : e->value, path);
  return &e->value;
}

void Section::read(std::string_view key, int& out) const {
  if (const YAML::Node* n = record(key)) out = to_int(ctx_, *n, key_path(key), "an integer");
}

void Section::read(std::string_view key, std::uint64_t& out) const {
  const YAML::Node* n = record(key);
  if (!n) return;
  const std::string& s = n->IsScalar() ? n->Scalar() : std::string();
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || quoted(*n) || r.ec != std::errc() || r.ptr != s.data() + s.size())
    throw ScenarioError(ctx_.where(*n, key_path(key)), key_path(key),
                        expected_not_quoted(*n, "a non-negative integer below 2^64"));
}

void Section::read(std::string_view key, double& out) const {
  if (const YAML::Node* n = record(key)) out = to_double(ctx_, *n, key_path(key), "a number");
}

void Section::read(std::string_view key, bool& out) const {
  const YAML::Node* n = record(key);
  if (!n) return;
  const std::string& s = n->IsScalar() && !quoted(*n) ? n->Scalar() : "";
  if (s == "true" || s == "True" || s == "TRUE")
    out = true;
  else if (s == "false" || s == "False" || s == "FALSE")
    out = false;
  else
    throw ScenarioError(ctx_.where(*n, key_path(key)), key_path(key), expected_not_quoted(*n, "true or false"));
}

namespace {

// a scalar as a string (a list element's key is the list's)
std::string to_string_value(const Ctx& ctx, const YAML::Node& n, const std::string& key, const char*) {
  if (!n.IsScalar() || !valid_utf8(n.Scalar()))
    throw ScenarioError(ctx.where(n, key), key, n.IsScalar() ? "a UTF-8 string" : "a string");
  return n.Scalar();
}

}  // namespace

void Section::read(std::string_view key, std::string& out) const {
  if (const YAML::Node* n = record(key)) out = to_string_value(ctx_, *n, key_path(key), nullptr);
}

namespace {

// a list of scalars (or one scalar as a list of one), each element's location recorded as key[i]
template <class T, class Convert>
void read_list(const Ctx& ctx, Locations& locs, const YAML::Node& n, const std::string& key, const char* expected,
               std::vector<T>& out, Convert convert) {
  out.clear();
  if (n.IsScalar()) {
    out.push_back(convert(ctx, n, key, expected));
    return;
  }
  if (!n.IsSequence()) throw ScenarioError(ctx.where(n, key), key, expected);
  for (std::size_t i = 0; i < n.size(); ++i) {
    locs.at[index_key(key, i)] = ctx.where(n[i], index_key(key, i));
    out.push_back(convert(ctx, n[i], key, expected));
  }
}

}  // namespace

void Section::read(std::string_view key, std::vector<int>& out) const {
  if (const YAML::Node* n = record(key)) read_list(ctx_, locs_, *n, key_path(key), "a list of integers", out, to_int);
}

void Section::read(std::string_view key, std::vector<double>& out) const {
  if (const YAML::Node* n = record(key)) read_list(ctx_, locs_, *n, key_path(key), "a list of numbers", out, to_double);
}

void Section::read(std::string_view key, std::vector<std::string>& out) const {
  if (const YAML::Node* n = record(key))
    read_list(ctx_, locs_, *n, key_path(key), "a list of strings", out, to_string_value);
}

}  // namespace goodhart::scenario_detail
