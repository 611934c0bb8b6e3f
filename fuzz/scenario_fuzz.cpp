// scenario_fuzz.cpp — libFuzzer target over the scenario layer: the input bytes, read as YAML text, go through
// load_scenario_text (parse, aliases, validate, check points) and expand_sweep_text (every point of the sweep).
// Contract: for any input, both calls either return or throw goodhart::ScenarioError (whose what() must be one line
// starting with the file name). Any other exception escaping, or a sanitizer finding, is a bug: the harness aborts
// and libFuzzer records the input as a crash. Inputs over kMaxInputBytes are ignored (the one documented skip): a
// scenario file is a few KiB, and longer inputs only slow the search down.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>
#include <typeinfo>

#include <cxxabi.h>

#include "sim/scenario/scenario.h"

namespace {

constexpr std::size_t kMaxInputBytes = 64 * 1024;
const std::string kName = "fuzz.yaml";

[[noreturn]] void bug(const char* stage, const char* type, const char* what) {
  std::fprintf(stderr, "scenario_fuzz: %s let a %s escape: %s\n", stage, type, what);
  std::abort();
}

// a ScenarioError must name where it happened: "fuzz.yaml:line:col" (there are no command-line overrides here)
void check_error(const char* stage, const goodhart::ScenarioError& e) {
  const std::string prefix = kName + ":";
  if (e.where.rfind(prefix, 0) != 0 || e.where.find('\n') != std::string::npos)
    bug(stage, "ScenarioError without a file:line:col location", e.what());
}

template <class F>
void run(const char* stage, F&& f) {
  try {
    f();
  } catch (const goodhart::ScenarioError& e) {
    check_error(stage, e);
  } catch (const std::exception& e) {
    int status = 0;
    char* name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
    bug(stage, status == 0 && name ? name : typeid(e).name(), e.what());
  } catch (...) {
    bug(stage, "non-std exception", "");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInputBytes) return -1;  // -1: libFuzzer keeps it out of the corpus
  const std::string text(reinterpret_cast<const char*>(data), size);

  bool loaded = false;
  bool points_checked_partially = false;  // a grid sweep: load checks each value once, not every combination
  run("load_scenario_text", [&] {
    goodhart::Scenario s = goodhart::load_scenario_text(text, kName);
    loaded = true;
    points_checked_partially = s.sweep.parameters.size() > 1 && s.sweep.method == "grid";
    (void)goodhart::to_json(s).dump();  // every field serializable
  });

  bool expanded = false;
  run("expand_sweep_text", [&] {
    std::vector<goodhart::RunSpec> specs = goodhart::expand_sweep_text(text, kName);
    expanded = true;
    for (const auto& r : specs)
      if (r.point_id.size() != 16) bug("expand_sweep_text", "point id", r.point_id.c_str());
  });

  // load checks the swept values in real points (grid: each value once, zip: every point) and expand checks every
  // point, so whatever expands also loads; without a sweep or with zip they check the same points and must agree
  if (expanded && !loaded)
    bug("load/expand", "disagreement", "expand_sweep_text accepted, load_scenario_text rejected");
  if (loaded && !expanded && !points_checked_partially)
    bug("load/expand", "disagreement", "load_scenario_text accepted, expand_sweep_text rejected");
  return 0;
}
