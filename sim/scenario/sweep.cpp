// sweep.cpp — the sweep block: each parameter's spec (values, range, linspace, logspace) expanded to YAML texts, and
// the order of points. Contract: parameters keep file order; grid varies the last parameter fastest; zip pairs the
// i-th values; generated numbers are written in shortest round-trip form.
#include <cmath>

#include "sim/scenario/internal.h"

namespace goodhart::scenario_detail {

std::vector<double> linspace(double a, double b, int count) {
  std::vector<double> v(count);
  for (int i = 0; i < count; ++i) v[i] = count == 1 ? a : a + (b - a) * i / (count - 1);
  if (count > 1) v.back() = b;
  return v;
}

std::vector<double> logspace(double a, double b, int count) {
  std::vector<double> v = linspace(a, b, count);
  for (double& x : v) x = std::pow(10.0, x);
  return v;
}

namespace {

std::string yaml_text(const YAML::Node& n) {
  YAML::Emitter e;
  e.SetSeqFormat(YAML::Flow);
  e.SetMapFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

// one parameter's spec, e.g. {logspace: [-2, 1, 16]}, as the YAML text of each value
std::vector<std::string> spec_values(const Ctx& ctx, Locations& locs, const YAML::Node& spec, const std::string& path) {
  const char* kinds = "a mapping with one of values, range, linspace, logspace";
  if (!spec.IsMap()) throw ScenarioError(ctx.where(spec, path), path, kinds);
  Section s(ctx, locs, spec, path, "sweep.parameter", {"values", "range", "linspace", "logspace"});
  int given = 0;
  for (std::string_view k : {"values", "range", "linspace", "logspace"}) given += s.find(k) != nullptr;
  if (given != 1) throw ScenarioError(ctx.where(spec, path), path, "exactly one of values, range, linspace, logspace");

  std::vector<std::string> out;
  if (const YAML::Node* values = s.find("values")) {
    std::string key = s.key_path("values");
    if (!values->IsSequence() || values->size() == 0)
      throw ScenarioError(ctx.where(*values, key), key, "a non-empty list of values");
    for (const auto& v : *values) out.push_back(yaml_text(v));
  } else if (s.find("range")) {
    // python's range: stop exclusive, step 1 unless given, negative steps count down
    std::string key = s.key_path("range");
    std::vector<int> r;
    s.read("range", r);
    if (r.size() != 2 && r.size() != 3)
      throw ScenarioError(locs.where(key), key, "[start, stop] or [start, stop, step]");
    long long step = r.size() == 3 ? r[2] : 1;
    if (step == 0) throw ScenarioError(locs.where(key), key, "a step other than 0");
    // at most 1e6 values, like linspace and logspace (counted first: range: [0, 2147483647] is 2^31 strings)
    long long span = step > 0 ? (long long)r[1] - r[0] : (long long)r[0] - r[1];
    long long count = span <= 0 ? 0 : (span + (step > 0 ? step : -step) - 1) / (step > 0 ? step : -step);
    if (count < 1 || count > 1000000)
      throw ScenarioError(locs.where(key), key, "a range with between 1 and 1e6 values, got " + std::to_string(count));
    for (long long x = r[0]; step > 0 ? x < r[1] : x > r[1]; x += step) out.push_back(std::to_string(x));
  } else {
    bool log = s.find("logspace") != nullptr;
    std::string key = s.key_path(log ? "logspace" : "linspace");
    std::vector<double> r;
    s.read(log ? "logspace" : "linspace", r);
    if (r.size() != 3 || r[2] < 1 || r[2] != std::floor(r[2]) || r[2] > 1e6)
      throw ScenarioError(locs.where(key), key, "[start, stop, count] with an integer count in [1, 1e6]");
    for (double x : log ? logspace(r[0], r[1], int(r[2])) : linspace(r[0], r[1], int(r[2])))
      out.push_back(number_text(x));
  }
  return out;
}

}  // namespace

SweepConfig parse_sweep(const YAML::Node& node, const Ctx& ctx, Locations& locs) {
  SweepConfig sweep;
  Section s(ctx, locs, node, "sweep", "sweep", {"method", "parameters"});
  s.read("method", sweep.method);
  const YAML::Node* params = s.find("parameters");
  if (!params) throw ScenarioError(locs.where("sweep"), "sweep.parameters", "missing required key");
  locs.at["sweep.parameters"] = ctx.where(*s.key_node("parameters"), "sweep.parameters");
  for (const auto& [k, v] : unique_pairs(ctx, *params, "sweep.parameters")) {
    std::string path = "sweep.parameters." + k.Scalar();
    std::string where = ctx.where(k, path);
    std::string key = normalized_key(k.Scalar(), where);
    if (key.starts_with("sweep") || key == "schema_version")
      throw ScenarioError(where, path, "a scenario key outside sweep and schema_version");
    locs.at[path] = where;
    sweep.parameters.push_back({k.Scalar(), spec_values(ctx, locs, v, path), where});
  }
  return sweep;
}

std::size_t point_count(const SweepConfig& sweep) {
  if (sweep.parameters.empty()) return 1;
  if (sweep.method == "zip") return sweep.parameters.front().values.size();
  std::size_t n = 1;
  for (const auto& p : sweep.parameters) n *= p.values.size();
  return n;
}

std::vector<std::size_t> point_choice(const SweepConfig& sweep, std::size_t k) {
  std::vector<std::size_t> choice(sweep.parameters.size());
  for (std::size_t i = choice.size(); i-- > 0;) {
    std::size_t len = sweep.parameters[i].values.size();
    if (sweep.method == "zip") {
      choice[i] = k;
    } else {
      choice[i] = k % len;
      k /= len;
    }
  }
  return choice;
}

std::vector<std::size_t> check_points(const SweepConfig& sweep) {
  if (sweep.method == "zip") {
    std::vector<std::size_t> all(point_count(sweep));
    for (std::size_t k = 0; k < all.size(); ++k) all[k] = k;
    return all;
  }
  // grid: each value of each parameter with the other parameters at their first value
  std::vector<std::size_t> points;
  std::size_t stride = 1;
  for (std::size_t i = sweep.parameters.size(); i-- > 0;) {
    for (std::size_t j = 0; j < sweep.parameters[i].values.size(); ++j)
      if (j > 0 || points.empty()) points.push_back(j * stride);
    stride *= sweep.parameters[i].values.size();
  }
  return points;
}

}  // namespace goodhart::scenario_detail
