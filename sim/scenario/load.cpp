// load.cpp — the scenario pipeline: read, apply overrides, parse, resolve defaults, validate, expand the sweep.
// Contract: load_scenario checks every swept value in a real point (grid: each value once, zip: every point);
// expand_sweep validates every point. A command-line override of a swept key removes it from the sweep.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include <yaml-cpp/eventhandler.h>

#include "sim/scenario/internal.h"

namespace goodhart {

ScenarioError::ScenarioError(std::string where_, std::string key_, std::string expected_)
    : std::runtime_error(where_ + ": " + key_ + ": " + expected_),
      where(std::move(where_)),
      key(std::move(key_)),
      expected(std::move(expected_)) {}

const std::string& Locations::where(const std::string& key) const {
  // the key, then each enclosing key ("optimizers[1].n[2]" -> "optimizers[1].n" -> "optimizers[1]" -> ...)
  std::string k = key;
  while (!k.empty()) {
    if (auto it = at.find(k); it != at.end()) return it->second;
    std::size_t cut = k.find_last_of(".[");
    k.resize(cut == std::string::npos ? 0 : cut);
  }
  return file;
}

std::string Locations::optimizer_key(std::size_t i) const {
  return single_optimizer ? "optimizer" : "optimizers[" + std::to_string(i) + "]";
}

namespace {

using namespace scenario_detail;

// the file as a tree with the command-line overrides applied
struct Loaded {
  YAML::Node tree;
  Ctx ctx;
  std::string text;                    // kept to parse a fresh tree per point: YAML::Clone drops marks
  std::vector<std::string> overrides;
};

// a key set on the command line is no longer swept: the command line wins
void drop_swept(YAML::Node& tree, const Ctx& ctx, const std::vector<Override>& overrides) {
  const YAML::Node& root = tree;  // const lookups add no keys
  if (!root.IsMap()) return;
  YAML::Node sweep = root["sweep"];
  if (!sweep.IsDefined() || !sweep.IsMap()) return;
  YAML::Node params = sweep["parameters"];
  if (!params.IsDefined() || !params.IsMap()) return;
  std::vector<std::string> drop;
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    std::string key = normalized_key(it->first.Scalar(), mark_text(ctx.file, it->first.Mark()));
    for (const auto& o : overrides)
      if (normalized_key(o.key, kCommandLine) == key) drop.push_back(it->first.Scalar());
  }
  for (const auto& k : drop) params.remove(k);
}

// where a quoted scalar that starts at pos ends (the byte after its closing quote), or npos when it runs to the
// end of the text: in "..." a backslash escapes the next character, in '...' a doubled '' is a quote
std::size_t quoted_end(const std::string& text, std::size_t pos) {
  const char q = text[pos];
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    if (q == '"' && text[i] == '\\') {
      ++i;
    } else if (text[i] == q) {
      if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
        ++i;
      } else {
        return i + 1;
      }
    }
  }
  return std::string::npos;
}

// yaml-cpp accepts a quoted scalar left open at the end of the file (the rest of the file becomes its value):
// every scalar that starts with a quote must close. Containers are visited once each (by source position), so
// aliases cost nothing and cannot loop
void check_quotes_closed(const YAML::Node& node, const std::string& text, const std::string& name,
                         std::set<std::size_t>& seen) {
  const YAML::Mark m = node.Mark();
  if (node.IsScalar()) {
    if (m.is_null() || m.pos < 0 || static_cast<std::size_t>(m.pos) >= text.size()) return;
    const auto pos = static_cast<std::size_t>(m.pos);
    if ((text[pos] == '"' || text[pos] == '\'') && quoted_end(text, pos) == std::string::npos)
      throw ScenarioError(mark_text(name, m), "<syntax>",
                          std::string("a closing ") + text[pos] + " for the quoted string that starts here (it " +
                              "runs to the end of the file)");
    return;
  }
  if (!m.is_null() && !seen.insert(static_cast<std::size_t>(m.pos)).second) return;
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      check_quotes_closed(it->first, text, name, seen);
      check_quotes_closed(it->second, text, name, seen);
    }
  } else if (node.IsSequence()) {
    for (auto it = node.begin(); it != node.end(); ++it) check_quotes_closed(*it, text, name, seen);
  }
}

// where a second YAML document of the text starts (its first node, else its start), if it has one. The parser's
// events, stopped at the second document: yaml-cpp 0.7's LoadAll never returns on some inputs (it makes empty
// documents without end; the fuzzer found ", one seed).\nsprefer\n...")
struct SecondDocument : YAML::EventHandler {
  int documents = 0;
  bool found = false;
  YAML::Mark at;
  void OnDocumentStart(const YAML::Mark& m) override {
    if (++documents == 2) at = m;
  }
  void OnDocumentEnd() override { found = found || documents >= 2; }
  void node(const YAML::Mark& m) {
    if (documents == 2 && !found) {
      at = m;
      found = true;
    }
  }
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { node(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { node(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t, const std::string&) override { node(m); }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    node(m);
  }
  void OnMapEnd() override {}
};

bool second_document(const std::string& yaml, YAML::Mark& at) {
  std::istringstream in(yaml);
  YAML::Parser parser(in);
  SecondDocument events;
  while (events.documents < 2 && parser.HandleNextDocument(events)) {
  }
  at = events.at;
  return events.documents >= 2;
}

Loaded prepare(const std::string& yaml, const std::string& name, const std::vector<std::string>& overrides) {
  Loaded l;
  l.ctx.file = name;
  l.text = yaml;
  l.overrides = overrides;
  try {
    // one document: a second one (after `---`) would otherwise be ignored without a word
    YAML::Mark second;
    if (second_document(yaml, second))
      throw ScenarioError(second.is_null() ? name + ":1:1" : mark_text(name, second), "<document>",
                          "one YAML document per scenario file, but a second one starts here");
    l.tree = YAML::Load(yaml);
    std::set<std::size_t> seen;
    check_quotes_closed(l.tree, yaml, name, seen);
  } catch (const YAML::ParserException& e) {
    throw ScenarioError(mark_text(name, e.mark), "<syntax>", e.msg);
  }
  std::vector<Override> parsed;
  for (const auto& text : overrides) parsed.push_back(parse_override(text));
  drop_swept(l.tree, l.ctx, parsed);
  for (const auto& o : parsed) apply_override(l.tree, l.ctx, o.key, o.value, kCommandLine);
  return l;
}

// a world read from a file reads it now, so that validate sees what it holds
void read_world_data(Scenario& s, const Locations& locs, const std::string& scenario_file) {
  const ConfigType* t = s.world.params.type();
  if (t && t->read_data) t->read_data(s.world.params.data(), s, locs, scenario_file);
}

// point k of the sweep: its values applied like overrides at their parameter's location, then parsed and checked
RunSpec make_point(const Loaded& l, const SweepConfig& sweep, std::size_t k) {
  Loaded fresh = prepare(l.text, l.ctx.file, l.overrides);  // a new parse keeps every node's file:line:col
  YAML::Node tree = fresh.tree;
  tree.remove("sweep");
  Ctx ctx = fresh.ctx;
  RunSpec r;
  r.index = int(k);
  std::vector<std::size_t> choice = point_choice(sweep, k);
  for (std::size_t i = 0; i < choice.size(); ++i) {
    const SweepParameter& p = sweep.parameters[i];
    const YAML::Node value = YAML::Load(p.values[choice[i]]);
    apply_override(tree, ctx, p.key, value, p.where);
    r.swept.emplace_back(p.key, value.IsNull() ? "" : p.values[choice[i]]);  // unset: an empty cell
  }
  Locations locs;
  r.config = parse_tree(tree, ctx, locs);
  resolve_defaults(r.config);
  read_world_data(r.config, locs, ctx.file);
  validate(r.config, locs);
  r.point_id = point_id(r.config);
  r.given = locs.at;
  return r;
}

// two points with one point_id are one scenario run twice: its point file would be written twice and metrics.csv
// would label rows with a value never run (a repeated value, two spellings of one number, ...)
void refuse_duplicate_points(const std::vector<RunSpec>& points, const SweepConfig& sweep) {
  std::map<std::string, const RunSpec*> seen;
  for (const RunSpec& p : points) {
    const auto [it, fresh] = seen.emplace(p.point_id, &p);
    if (fresh) continue;
    const auto values = [](const RunSpec& r) {
      std::string v;
      for (const auto& [k, x] : r.swept) v += (v.empty() ? "" : ", ") + k + "=" + x;
      return v;
    };
    const SweepParameter& first = sweep.parameters.front();
    throw ScenarioError(first.where, "sweep.parameters." + first.key,
                        "points that differ, but point " + std::to_string(it->second->index) + " (" +
                            values(*it->second) + ") and point " + std::to_string(p.index) + " (" + values(p) +
                            ") are the same scenario (a repeated value, or two spellings of one value)");
  }
}

// the scenario file's text; a missing file, a folder or an unreadable file is named as such
std::string read_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status))
    throw ScenarioError(path + ":1:1", "<file>", "a scenario file, but there is no file " + path);
  if (std::filesystem::is_directory(status))
    throw ScenarioError(path + ":1:1", "<file>", "a scenario file, but " + path + " is a folder");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in) throw ScenarioError(path + ":1:1", "<file>", std::string("a readable scenario file (") + std::strerror(errno) + ")");
  return text.str();
}

}  // namespace

Scenario load_scenario_text(const std::string& yaml, const std::string& name,
                            const std::vector<std::string>& overrides) {
  Loaded l = prepare(yaml, name, overrides);
  Locations locs;
  Scenario s = parse_tree(l.tree, l.ctx, locs);
  resolve_defaults(s);
  if (s.sweep.parameters.empty()) {
    read_world_data(s, locs, l.ctx.file);
    validate(s, locs);
    return s;
  }
  // with a sweep, the swept keys' file values may never run: check real points instead
  validate_sweep(s.sweep, locs);
  std::vector<RunSpec> checked;
  for (std::size_t k : check_points(s.sweep)) checked.push_back(make_point(l, s.sweep, k));
  // two of them alike are two alike points of the sweep (with a zip, `checked` is every point: as expand_sweep)
  refuse_duplicate_points(checked, s.sweep);
  return s;
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  return load_scenario_text(read_file(path), path, overrides);
}

std::vector<RunSpec> expand_sweep_text(const std::string& yaml, const std::string& name,
                                       const std::vector<std::string>& overrides) {
  Loaded l = prepare(yaml, name, overrides);
  Locations locs;
  Scenario base = parse_tree(l.tree, l.ctx, locs);
  if (!base.sweep.parameters.empty()) validate_sweep(base.sweep, locs);
  std::vector<RunSpec> points;
  std::size_t count = point_count(base.sweep);
  points.reserve(count);
  for (std::size_t k = 0; k < count; ++k) points.push_back(make_point(l, base.sweep, k));
  refuse_duplicate_points(points, base.sweep);
  return points;
}

std::vector<RunSpec> expand_sweep(const std::string& path, const std::vector<std::string>& overrides) {
  return expand_sweep_text(read_file(path), path, overrides);
}

}  // namespace goodhart
