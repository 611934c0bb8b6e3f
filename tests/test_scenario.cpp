// test_scenario.cpp — the scenario layer: parsing, defaults, aliases, overrides, every error's location, the sweep.
// Contract: YAML text only (load_scenario_text / expand_sweep_text); errors are checked to the exact file:line:col.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "models/worlds/gaussian.h"
#include "sim/optimizers/best_of_n.h"
#include "sim/optimizers/kl_optimum.h"
#include "sim/scenario/scenario.h"

using namespace goodhart;

namespace {

// a valid scenario in 7 lines; tests append to it, so their own lines start at 8
const std::string kHead = R"(schema_version: 1
name: t
description: d
world: {dim: 2}
gold: {type: linear}
proxy: {type: learned}
)";
const std::string kOptimizer = "optimizer: {pool: 64}\n";

// what() of the ScenarioError that loading throws, or "" when it loads
std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  try {
    load_scenario_text(yaml, "t.yaml", overrides);
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> values_of(const std::vector<RunSpec>& points, std::size_t param) {
  std::vector<std::string> v;
  for (const auto& p : points) v.push_back(p.swept.at(param).second);
  return v;
}

}  // namespace

TEST_CASE("a valid scenario loads with its values, aliases canonicalized and defaults filled") {
  Scenario s = load_scenario_text(R"(schema_version: 1
name: tiny
description: a tiny scenario
seed: 3
world:
  dim: 4
  mean: 0.5
  scale: [1, 2, 1, 1]
gold: {type: concave, penalty: 0.25}
preferences: {num_pairs: 500, label_noise: 0.1}
proxy:
  lr: 0.05
  features: [0, 2]
optimizers:
  - {pool: 256, n: [1, 4, 16]}
  - {type: kl_optimum, target_kl: [0.5, 1]}
  - {type: kl_optimum, name: grid}
)",
                                  "tiny.yaml");
  CHECK(s.name == "tiny");
  CHECK(s.seed == 3);
  CHECK(s.world.type == "gaussian");
  CHECK(s.world.dim == 4);
  CHECK(s.world.get<GaussianWorldConfig>().mean == std::vector<double>{0.5});
  CHECK(s.world.get<GaussianWorldConfig>().scale == std::vector<double>{1, 2, 1, 1});
  CHECK(s.world.prompts == 64);
  CHECK(s.gold.type == "concave");
  CHECK(s.gold.penalty == 0.25);
  CHECK(s.preferences.n_pairs == 500);
  CHECK(s.preferences.label_noise == 0.1);
  CHECK(s.preferences.labels == "bradley_terry");
  CHECK(s.proxy.learning_rate == 0.05);
  CHECK(s.proxy.features == std::vector<int>{0, 2});
  CHECK(s.proxy.epochs == 30);
  REQUIRE(s.optimizers.size() == 3);
  CHECK(s.optimizers[0].name == "best_of_n");
  CHECK(s.optimizers[0].get<BestOfNConfig>().n == std::vector<int>{1, 4, 16});
  CHECK(s.optimizers[1].get<KlOptimumConfig>().kl_budget == std::vector<double>{0.5, 1});
  CHECK(s.optimizers[1].get<KlOptimumConfig>().beta.empty());
  // kl_optimum without beta or kl_budget: logspace(-2, 1, 16)
  REQUIRE(s.optimizers[2].get<KlOptimumConfig>().beta.size() == 16);
  CHECK(s.optimizers[2].get<KlOptimumConfig>().beta.front() == doctest::Approx(0.01));
  CHECK(s.optimizers[2].get<KlOptimumConfig>().beta.back() == doctest::Approx(10.0));
  CHECK(s.optimizers[2].get<KlOptimumConfig>().beta[5] == doctest::Approx(0.1));
  CHECK(s.eval.accuracy_pairs == 4096);
  CHECK(s.output.dir.empty());
  CHECK(s.sweep.parameters.empty());
}

TEST_CASE("the default n grid stops at a smaller pool") {
  Scenario s = load_scenario_text(kHead + "optimizer: {pool: 20}\n", "t.yaml");
  CHECK(s.optimizers[0].get<BestOfNConfig>().n == std::vector<int>{1, 2, 4, 8, 16});
}

TEST_CASE("to_json has canonical keys, the chosen types' keys only, optimizers as a list and no sweep") {
  Scenario s = load_scenario_text(kHead + kOptimizer, "t.yaml");
  nlohmann::json j = to_json(s);
  CHECK(j["optimizers"].is_array());
  CHECK(j["optimizers"][0]["pool"] == 64);
  CHECK(j["proxy"]["learning_rate"] == 1e-2);
  // only the chosen types' keys: a learned proxy has no noise, a gaussian world no categorical keys
  CHECK(!j["proxy"].contains("noise"));
  CHECK(!j["world"].contains("ref_feature_weights"));
  CHECK(j["world"]["scale"].is_array());
  const nlohmann::json noisy = to_json(load_scenario_text(kHead + kOptimizer, "t.yaml", {"proxy={type: noisy}"}));
  CHECK(noisy["proxy"]["noise"]["shape"] == 3.0);
  CHECK(!noisy["proxy"].contains("learning_rate"));
  CHECK(!j.contains("sweep"));
  CHECK(!j.contains("optimizer"));
  CHECK(point_id(s).size() == 16);
}

TEST_CASE("an unknown key is located and gets a suggestion") {
  CHECK(error_of(kHead + kOptimizer + "eval:\n  acuracy_pairs: 10\n") ==
        "t.yaml:9:3: eval.acuracy_pairs: unknown key, did you mean 'accuracy_pairs'?");
  CHECK(error_of(kHead + "optimiser: {}\n") == "t.yaml:7:1: optimiser: unknown key, did you mean 'optimizer'?");
  CHECK(error_of(kHead + kOptimizer + "zzz: 1\n").starts_with("t.yaml:8:1: zzz: unknown key, expected one of: "));
}

TEST_CASE("a duplicate key is an error at its second occurrence") {
  CHECK(error_of(kHead + kOptimizer + "eval:\n  accuracy_pairs: 10\n  accuracy_pairs: 20\n") ==
        "t.yaml:10:3: eval.accuracy_pairs: duplicate key (first given at t.yaml:9:3)");
}

TEST_CASE("a value of the wrong type names the type expected") {
  CHECK(error_of(kHead + kOptimizer + "eval:\n  accuracy_pairs: many\n") ==
        "t.yaml:9:19: eval.accuracy_pairs: an integer");
  CHECK(error_of(kHead + kOptimizer + "output:\n  dir: [a]\n") == "t.yaml:9:8: output.dir: a string");
  CHECK(error_of(kHead + "optimizer: {n: [1, x]}\n") == "t.yaml:7:20: optimizer.n: a list of integers");
}

TEST_CASE("label_noise above 0.5 is out of range") {
  CHECK(error_of(kHead + kOptimizer + "preferences:\n  label_noise: 0.7\n") ==
        "t.yaml:9:16: preferences.label_noise: a probability in [0, 0.5], got 0.7");
}

TEST_CASE("a negative count is an error") {
  CHECK(error_of(kHead + kOptimizer + "preferences: {n_pairs: -5}\n") ==
        "t.yaml:8:24: preferences.n_pairs: an integer >= 1, got -5");
}

TEST_CASE("n larger than the pool is an error naming the pool") {
  CHECK(error_of(kHead + "optimizer: {pool: 64, n: [1, 128]}\n") ==
        "t.yaml:7:30: optimizer.n: each n <= pool (64), got 128, larger than the pool");
  CHECK(error_of(kHead + "optimizers:\n  - {type: best_of_n}\n  - {pool: 8, n: [1, 16]}\n") ==
        "t.yaml:9:22: optimizers[1].n: each n <= pool (8), got 16, larger than the pool");
}

TEST_CASE("a missing required section is located at the file") {
  CHECK(error_of("schema_version: 1\nname: t\ndescription: d\ngold: {}\nproxy: {}\noptimizer: {}\n") ==
        "t.yaml:1:1: world: missing required section");
  CHECK(error_of(kHead) == "t.yaml:1:1: optimizer: missing required section (optimizer or optimizers)");
}

TEST_CASE("optimizer and optimizers together are an error") {
  CHECK(error_of(kHead + kOptimizer + "optimizers: [{type: kl_optimum}]\n") ==
        "t.yaml:8:1: optimizers: either optimizer or optimizers, not both");
}

TEST_CASE("a YAML syntax error is located") {
  std::string e = error_of(kHead + "optimizer: {pool: [1, 2}\n");
  CHECK(e.starts_with("t.yaml:7:"));
  CHECK(e.find(": <syntax>: ") != std::string::npos);
}

TEST_CASE("a quoted string left open at the end of the file is an error at its quote; closed ones load") {
  // yaml-cpp takes the rest of the file as the string's value
  CHECK(error_of(kHead + kOptimizer + "tags: \"open, \\\" escaped\n") ==
        "t.yaml:8:7: <syntax>: a closing \" for the quoted string that starts here (it runs to the end of the file)");
  CHECK(error_of(kHead + kOptimizer + "tags: 'it''s open\n").starts_with("t.yaml:8:7: <syntax>: a closing '"));
  // escapes inside closed strings, quotes inside a comment, an anchored quoted string
  const std::string closed = "schema_version: 1\nname: &q \"quoted\"\ndescription: \"say \\\"hi\\\" to *q\"\n"
                             "world: {type: 'gaussian', dim: 2}\ngold: {type: linear}\n"
                             "proxy: {type: learned, features: [0]}  # it's 'fine\n" + kOptimizer;
  CHECK(error_of(closed) == "");
  const Scenario loaded = load_scenario_text(closed, "t.yaml");
  CHECK(loaded.name == "quoted");
  CHECK(loaded.description == "say \"hi\" to *q");
}

TEST_CASE("an unknown enum value lists the allowed ones") {
  CHECK(error_of(kHead + "optimizer:\n  type: best_of_m\n") ==
        "t.yaml:8:9: optimizer.type: one of best_of_n, dpo, inference_time_pessimism, kl_optimum, policy_gradient, soft_best_of_n, got 'best_of_m'");
}

TEST_CASE("an alias and its canonical key together are an error naming both") {
  CHECK(error_of(kHead + kOptimizer + "preferences:\n  n_pairs: 10\n  num_pairs: 20\n") ==
        "t.yaml:10:3: preferences.n_pairs: one spelling, but 'n_pairs' and 'num_pairs' both set it");
}

TEST_CASE("a malformed override is an error") {
  CHECK(error_of(kHead + kOptimizer, {"proxy.lr"}) ==
        "<command line>: proxy.lr: an override of the form key.path=value");
  CHECK(error_of(kHead + kOptimizer, {"proxy..lr=1"}) ==
        "<command line>: proxy..lr: a dotted key like proxy.noise.scale or optimizers[1].beta");
  CHECK(error_of(kHead + kOptimizer, {"world.dimm=3"}) ==
        "<command line>: world.dimm: unknown key, did you mean 'dim'?");
  CHECK(error_of(kHead + kOptimizer, {"world.dim=[1"}).starts_with("<command line>: world.dim: a YAML value ("));
}

TEST_CASE("overrides are applied and validated like file keys") {
  Scenario s = load_scenario_text(kHead + kOptimizer, "t.yaml",
                                  {"preferences.label_noise=0.25", "proxy.lr=0.3", "optimizer.n=[1, 8]"});
  CHECK(s.preferences.label_noise == 0.25);
  CHECK(s.proxy.learning_rate == 0.3);
  CHECK(s.optimizers[0].get<BestOfNConfig>().n == std::vector<int>{1, 8});
  CHECK(error_of(kHead + kOptimizer, {"preferences.label_noise=0.9"}) ==
        "<command line>: preferences.label_noise: a probability in [0, 0.5], got 0.9");
  CHECK(error_of(kHead + kOptimizer, {"optimizer.n=[1, 128]"}) ==
        "<command line>: optimizer.n: each n <= pool (64), got 128, larger than the pool");
}

TEST_CASE("an override replaces an alias spelled in the file") {
  Scenario s =
      load_scenario_text(kHead + kOptimizer + "preferences: {num_pairs: 7}\n", "t.yaml", {"preferences.n_pairs=9"});
  CHECK(s.preferences.n_pairs == 9);
}

TEST_CASE("overrides address entries of optimizers, or all of them that read the key through optimizer.") {
  std::string yaml = kHead + "optimizers:\n  - {type: best_of_n}\n  - {type: kl_optimum}\n";
  Scenario s = load_scenario_text(yaml, "t.yaml", {"optimizer.pool=128", "optimizers[1].beta=[0.5]"});
  CHECK(s.optimizers[0].get<BestOfNConfig>().pool == 128);  // kl_optimum has no pool: untouched, no error
  CHECK(s.optimizers[1].get<KlOptimumConfig>().beta == std::vector<double>{0.5});
  s = load_scenario_text(yaml, "t.yaml", {"optimizers.1.samples=10"});
  CHECK(s.optimizers[1].get<KlOptimumConfig>().samples == 10);
  CHECK(error_of(yaml, {"optimizer.name=x"}) ==  // a common key reaches every entry
        "<command line>: optimizers[1].name: a name unique among optimizers, but 'x' is also optimizers[0]'s");
  CHECK(error_of(yaml, {"optimizers[2].beta=1"}) ==
        "<command line>: optimizers[2].beta: an index below 2 for the list optimizers");
  CHECK(error_of(yaml, {"optimizers[1].samples=1"}) == "<command line>: optimizers[1].samples: an integer >= 2, got 1");
  CHECK(error_of(yaml, {"optimizers[0].samples=10"}).starts_with(
      "<command line>: optimizers[0].samples: not a key of best_of_n (keys: "));
  CHECK(error_of(yaml, {"optimizer.steps=10"}).starts_with(
      "<command line>: optimizers[0].steps: not a key of best_of_n (keys: "));
}

TEST_CASE("a file that cannot be read is an error") {
  try {
    load_scenario("/nonexistent/goodhart.yaml");
    FAIL("expected a ScenarioError");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()) == "/nonexistent/goodhart.yaml:1:1: <file>: a scenario file, but there is no file "
                                   "/nonexistent/goodhart.yaml");
  }
}

TEST_CASE("a grid sweep varies the last parameter fastest") {
  auto points = expand_sweep_text(kHead + kOptimizer + R"(sweep:
  parameters:
    preferences.n_pairs: {values: [10, 20]}
    seed: {range: [0, 3]}
)",
                                  "t.yaml");
  REQUIRE(points.size() == 6);
  CHECK(values_of(points, 0) == std::vector<std::string>{"10", "10", "10", "20", "20", "20"});
  CHECK(values_of(points, 1) == std::vector<std::string>{"0", "1", "2", "0", "1", "2"});
  for (std::size_t k = 0; k < points.size(); ++k) {
    CHECK(points[k].index == int(k));
    CHECK(points[k].config.sweep.parameters.empty());
    CHECK(points[k].swept[0].first == "preferences.n_pairs");
  }
  CHECK(points[4].config.preferences.n_pairs == 20);
  CHECK(points[4].config.seed == 1);
}

TEST_CASE("a zip sweep pairs values element-wise") {
  auto points = expand_sweep_text(kHead + kOptimizer + R"(sweep:
  method: zip
  parameters:
    optimizer.pool: {values: [16, 32]}
    optimizer.n: {values: [[1, 16], [2, 32]]}
)",
                                  "t.yaml");
  REQUIRE(points.size() == 2);
  CHECK(points[1].config.optimizers[0].get<BestOfNConfig>().pool == 32);
  CHECK(points[1].config.optimizers[0].get<BestOfNConfig>().n == std::vector<int>{2, 32});
  CHECK(points[1].swept[1].second == "[2, 32]");
}

TEST_CASE("range, linspace and logspace expand to the expected values") {
  auto points = expand_sweep_text(kHead + kOptimizer + R"(sweep:
  method: zip
  parameters:
    seed: {range: [10, 0, -4]}
    preferences.label_noise: {linspace: [0, 0.5, 3]}
    preferences.temperature: {logspace: [-1, 1, 3]}
)",
                                  "t.yaml");
  REQUIRE(points.size() == 3);
  CHECK(values_of(points, 0) == std::vector<std::string>{"10", "6", "2"});
  CHECK(values_of(points, 1) == std::vector<std::string>{"0", "0.25", "0.5"});
  CHECK(values_of(points, 2) == std::vector<std::string>{"0.1", "1", "10"});
  CHECK(points[2].config.seed == 2);
  CHECK(points[2].config.preferences.temperature == 10);
}

TEST_CASE("point ids are stable across loads and differ between points") {
  std::string yaml = kHead + kOptimizer + "sweep:\n  parameters:\n    seed: {range: [0, 2]}\n";
  auto a = expand_sweep_text(yaml, "a.yaml");
  auto b = expand_sweep_text(yaml, "b.yaml");
  REQUIRE(a.size() == 2);
  CHECK(a[0].point_id == b[0].point_id);
  CHECK(a[1].point_id == b[1].point_id);
  CHECK(a[0].point_id != a[1].point_id);
  CHECK(a[0].point_id.find_first_not_of("0123456789abcdef") == std::string::npos);
}

TEST_CASE("a scenario without a sweep is one point") {
  auto points = expand_sweep_text(kHead + kOptimizer, "t.yaml");
  REQUIRE(points.size() == 1);
  CHECK(points[0].swept.empty());
  CHECK(points[0].point_id == point_id(load_scenario_text(kHead + kOptimizer, "t.yaml")));
}

TEST_CASE("zip parameters of different lengths are an error") {
  CHECK(error_of(kHead + kOptimizer + R"(sweep:
  method: zip
  parameters:
    seed: {range: [0, 3]}
    preferences.n_pairs: {values: [10, 20]}
)") == "t.yaml:12:5: sweep.parameters.preferences.n_pairs: as many values as seed (3) to zip, got 2");
}

TEST_CASE("a bad swept key or value is found at load time, at the parameter") {
  std::string sweep = "sweep:\n  parameters:\n    preferences.label_noise: {values: [0.1, 0.8]}\n";
  CHECK(error_of(kHead + kOptimizer + sweep) ==
        "t.yaml:10:5: preferences.label_noise: a probability in [0, 0.5], got 0.8");
  CHECK(error_of(kHead + kOptimizer + "sweep:\n  parameters:\n    world.dimm: {values: [1]}\n") ==
        "t.yaml:10:5: world.dimm: unknown key, did you mean 'dim'?");
  CHECK(error_of(kHead + kOptimizer + "sweep:\n  parameters:\n    seed: {range: [0, 2], values: [1]}\n") ==
        "t.yaml:10:11: sweep.parameters.seed: exactly one of values, range, linspace, logspace");
}

TEST_CASE("a command-line override of a swept key takes it out of the sweep") {
  std::string yaml = kHead + kOptimizer + "sweep:\n  parameters:\n    seed: {range: [0, 4]}\n";
  auto points = expand_sweep_text(yaml, "t.yaml", {"seed=9"});
  REQUIRE(points.size() == 1);
  CHECK(points[0].config.seed == 9);
}

// regressions found by fuzz/scenario_fuzz.cpp (scripts/fuzz.sh): bad input must end in a located ScenarioError

TEST_CASE("a string that is not UTF-8 is an error at its value, not an exception from the JSON hash") {
  // found by the fuzzer: a byte 0xe0 inside the description made point_id's json dump throw type_error 316
  const std::string bad =
      "schema_version: 1\nname: t\ndescription: exact\xe0 shifted\n" + kHead.substr(kHead.find("world:"));
  CHECK(error_of(bad + kOptimizer) == "t.yaml:3:14: description: a UTF-8 string");
  CHECK_THROWS_AS(expand_sweep_text(bad + kOptimizer, "t.yaml"), ScenarioError);
  // overlong forms, surrogates and truncated sequences too; well-formed text of any length is fine
  for (const char* s : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x88", "\xff"})
    CHECK(error_of(kHead + "optimizer: {pool: 64, name: \"" + s + "\"}\n") ==
          "t.yaml:7:29: optimizer.name: a UTF-8 string");
  CHECK(error_of(kHead + "optimizer: {pool: 64, name: \"\xc3\xa9\xe2\x88\x9d\xf0\x9f\x98\x80\"}\n") == "");
}

TEST_CASE("a range sweep has at most 1e6 values") {
  // found by the fuzzer: range: [0, 2147483647] expanded to 2^31 strings before any check
  CHECK(error_of(kHead + kOptimizer + "sweep:\n  parameters:\n    seed: {range: [-2147483648, 2147483647]}\n") ==
        "t.yaml:10:19: sweep.parameters.seed.range: a range with between 1 and 1e6 values, got 4294967295");
  CHECK(error_of(kHead + kOptimizer + "sweep:\n  parameters:\n    seed: {range: [2147483647, -2147483648, -3]}\n") ==
        "t.yaml:10:19: sweep.parameters.seed.range: a range with between 1 and 1e6 values, got 1431655765");
  CHECK(error_of(kHead + kOptimizer + "sweep:\n  parameters:\n    seed: {range: [3, 3]}\n") ==
        "t.yaml:10:19: sweep.parameters.seed.range: a range with between 1 and 1e6 values, got 0");
  CHECK(expand_sweep_text(kHead + kOptimizer + "sweep:\n  parameters:\n    seed: {range: [0, 7, 3]}\n", "t.yaml")
            .size() == 3);
}
