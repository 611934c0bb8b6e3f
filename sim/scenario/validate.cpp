// validate.cpp — the checks of a parsed scenario: every table row's rule, then each type's cross-field checks
// (ConfigType::validate), and what ties sections together (preferences and the proxy, optimizer names).
// Contract: the first failure throws ScenarioError naming the dotted key, its location (Locations::where) and the
// expected range; a scenario that passes is safe for the engine to run as is.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <stdexcept>

#include "sim/scenario/check.h"
#include "sim/scenario/internal.h"
#include "sim/scenario/sections.h"
#include "sim/scenario/types.h"

namespace goodhart {

using scenario_detail::number_text;

// the checks

void Check::fail(const std::string& key, const std::string& expected, const std::string& loc) const {
  throw ScenarioError(at_.where(loc.empty() ? key : loc), key, expected);
}

std::string Check::element(const std::string& key, std::size_t i) { return scenario_detail::index_key(key, i); }

void Check::at_least(long long v, long long lo, const std::string& key, const std::string& loc) const {
  if (v < lo) fail(key, "an integer >= " + std::to_string(lo) + ", got " + std::to_string(v), loc);
}

void Check::positive(double v, const std::string& key, const std::string& loc) const {
  if (!(v > 0)) fail(key, "a number > 0, got " + number_text(v), loc);
}

void Check::non_negative(double v, const std::string& key, const std::string& loc) const {
  if (!(v >= 0)) fail(key, "a number >= 0, got " + number_text(v), loc);
}

void Check::one_of(const std::string& v, const std::string& key, const std::vector<std::string>& allowed) const {
  std::string list;
  for (const std::string& a : allowed) {
    if (v == a) return;
    list += (list.empty() ? "" : ", ") + a;
  }
  fail(key, "one of " + list + ", got '" + v + "'");
}

void Check::dims(std::size_t n, int dim, const std::string& key, bool may_be_empty, bool may_be_one) const {
  if ((may_be_empty && n == 0) || (may_be_one && n == 1) || n == std::size_t(dim)) return;
  std::string ok = std::string(may_be_empty ? "no values or " : "") + (may_be_one ? "1 value or " : "");
  fail(key, ok + std::to_string(dim) + " values (world.dim), got " + std::to_string(n));
}

void Check::rule(const Rule& r, double v, bool integer, const std::string& key, const std::string& loc) const {
  switch (r.kind) {
    case Rule::at_least: return at_least(static_cast<long long>(v), static_cast<long long>(r.lo), key, loc);
    case Rule::positive: return positive(v, key, loc);
    case Rule::non_negative: return non_negative(v, key, loc);
    case Rule::within:
      if (!(v >= r.lo && (r.hi_open ? v < r.hi : v <= r.hi)))
        fail(key, r.expected + ", got " + (integer ? std::to_string(static_cast<long long>(v)) : number_text(v)), loc);
      return;
    case Rule::any:
    case Rule::one_of: return;
  }
}

namespace {

constexpr std::size_t kMaxPoints = 100000;  // every point is expanded and validated up front (~0.3 ms each)

using scenario_detail::BoundTable;
using scenario_detail::check_tables;

// the struct a type's table fills (see parse.cpp)
const void* type_object(const WorldConfig& w) { return w.params.data(); }
template <class Config>
const void* type_object(const Config& c) {
  return &c;
}

// a typed section: its common rows, its type's rows, then its type's cross-field checks
template <class Config>
void validate_typed(const Check& c, const Scenario& s, const std::string& section, const Config& config) {
  void* object = const_cast<Config*>(&config);  // the checks only read
  const ConfigType* type = find_config_type(section, config.type);
  if (!type) c.fail(section + ".type", "one of " + type_list(section) + ", got '" + config.type + "'");
  void* own = const_cast<void*>(type_object(config));
  if (!own) throw std::logic_error(section + ": no config struct for type '" + config.type + "'");
  check_tables({{&common_table(section), object}, {&type->table, own}}, c, section);
  if (type->validate) type->validate(own, s, c, section);
}

// what ties the preferences to the proxy and the world
void validate_preferences(const Check& c, const PreferenceConfig& p, bool learned, int dim) {
  c.at_least(p.n_pairs, learned ? 1 : 0, "preferences.n_pairs");
  if (p.bias_feature < -1 || p.bias_feature >= dim)
    c.fail("preferences.bias_feature", "-1 (none) or an index in [0, " + std::to_string(dim) + ") (world.dim), got " +
                                           std::to_string(p.bias_feature));
  if (p.bias_weight != 0.0 && p.bias_feature < 0)
    c.fail("preferences.bias_weight", "0 without preferences.bias_feature, got " + number_text(p.bias_weight));
}

// what a file may say about where results go: `name` becomes results/<name>, so it is one safe folder name; an
// output.dir stays inside the folder goodhart runs in (relative, no `..`). A scenario file is shared like code,
// so it must never write outside the folder the user chose (`--out` on the command line is the user's own)
void validate_paths(const Check& c, const Scenario& s) {
  const auto safe = [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '-' || ch == '.';
  };
  const auto shown = [](const std::string& v) {
    std::string out;
    for (unsigned char ch : v) {
      if (ch < 0x20 || ch == 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", ch);
        out += buf;
      } else {
        out += static_cast<char>(ch);
      }
    }
    return "'" + out + "'";
  };
  const std::string& n = s.name;
  if (n.empty() || n.size() > 128 || !std::isalnum(static_cast<unsigned char>(n.front())) ||
      !std::all_of(n.begin(), n.end(), safe))
    c.fail("name",
           "a folder name of letters, digits, '_', '-' and '.', starting with a letter or digit, at most 128 "
           "characters (results go to results/<name>), got " + shown(n));
  const std::string& dir = s.output.dir;
  if (dir.empty()) return;
  const std::filesystem::path p(dir);
  bool escapes = p.is_absolute() || dir.front() == '~';
  for (const auto& part : p) escapes = escapes || part == "..";
  const bool printable = std::all_of(dir.begin(), dir.end(), [&](char ch) { return safe(ch) || ch == '/'; });
  if (escapes || !printable)
    c.fail("output.dir",
           "a relative folder inside the working folder (letters, digits, '_', '-', '.', '/'; no '..', not "
           "absolute); to write elsewhere, pass --out on the command line, got " + shown(dir));
}

}  // namespace

void validate(const Scenario& s, const Locations& at) {
  Check c{at};
  if (s.schema_version != 1) c.fail("schema_version", "1, got " + std::to_string(s.schema_version));
  validate_paths(c, s);
  validate_typed(c, s, "world", s.world);
  validate_typed(c, s, "gold", s.gold);
  check_tables({{&section_table("preferences"), const_cast<PreferenceConfig*>(&s.preferences)}}, c, "preferences");
  validate_preferences(c, s.preferences, s.proxy.type == "learned", s.world.dim);
  validate_typed(c, s, "proxy", s.proxy);

  // optimizers: at least one, each by its type's rows and checks, names distinct (a missing name reads as the type)
  if (s.optimizers.empty()) c.fail("optimizers", "at least one optimizer");
  for (std::size_t i = 0; i < s.optimizers.size(); ++i) {
    const auto& o = s.optimizers[i];
    const std::string path = at.optimizer_key(i);
    const ConfigType* type = o.params.type();
    if (!type) c.fail(path + ".type", "one of " + type_list("optimizer") + ", got '" + o.type + "'");
    check_tables({{&common_table("optimizer"), const_cast<OptimizerConfig*>(&o)},
                  {&type->table, const_cast<void*>(o.params.data())}},
                 c, path);
    if (type->validate) type->validate(o.params.data(), s, c, path);
    const std::string& name = o.name.empty() ? o.type : o.name;
    for (std::size_t j = 0; j < i; ++j) {
      const auto& p = s.optimizers[j];
      if ((p.name.empty() ? p.type : p.name) == name)
        c.fail(path + ".name",
               "a name unique among optimizers, but '" + name + "' is also " + at.optimizer_key(j) + "'s");
    }
  }

  check_tables({{&section_table("eval"), const_cast<EvalConfig*>(&s.eval)}}, c, "eval");
  if (!s.sweep.parameters.empty()) scenario_detail::validate_sweep(s.sweep, at);
}

void scenario_detail::validate_sweep(const SweepConfig& sweep, const Locations& at) {
  Check c{at};
  c.one_of(sweep.method, "sweep.method", {"grid", "zip"});
  const SweepParameter* first = sweep.parameters.empty() ? nullptr : &sweep.parameters.front();
  std::size_t points = 1;
  for (const auto& p : sweep.parameters) {
    std::string key = "sweep.parameters." + p.key;
    if (sweep.method == "zip" && p.values.size() != first->values.size())
      c.fail(key, "as many values as " + first->key + " (" + std::to_string(first->values.size()) + ") to zip, got " +
                      std::to_string(p.values.size()));
    points = sweep.method == "zip" ? p.values.size() : std::min(points * p.values.size(), kMaxPoints + 1);
  }
  if (points > kMaxPoints)
    c.fail("sweep.parameters", "at most 100000 points (split larger studies into several scenarios)");
}

}  // namespace goodhart
