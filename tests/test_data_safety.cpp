// test_data_safety.cpp — what a scenario file may not do to the user's files, and runs that may not share a folder:
// names and output.dir that would write outside the working folder, sweeps whose points are one scenario twice,
// the results-folder lock (a second whole run refused, naming the holder; shards share it), and output targets
// that cannot be used (a file, an unwritable folder, an empty path) or thread counts out of range.
// Contract: every refusal is a located error (exit 2 through the CLI) before anything is written; the lock is
// taken and released in-process (FolderLock) and by the built binary (test::cli).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_helpers.h"
#include "sim/engine/plan.h"
#include "sim/io/files.h"
#include "sim/scenario/scenario.h"

using namespace goodhart;

namespace {

namespace fs = std::filesystem;

std::string scenario(const std::string& top, const std::string& sweep = "") {
  return "schema_version: 1\n" + top + "description: t\nseed: 0\n"
         "world: {type: gaussian, dim: 2, prompts: 2}\ngold: {type: linear}\nproxy: {type: noisy}\n"
         "optimizer: {type: best_of_n, pool: 16, n: [1, 2]}\n" + sweep;
}

std::string load_error(const std::string& yaml) {
  try {
    expand_sweep_text(yaml, "t.yaml", {});
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("name and output.dir from a file never reach outside the working folder") {
  for (const char* name : {"\"..\"", "\".\"", "\"../x\"", "\"/tmp/x\"", "\"a/b\"", "\".hidden\"", "\"a b\"",
                           "\"a\\x01b\"", "\"\""}) {
    INFO(name);
    const std::string err = load_error(scenario(std::string("name: ") + name + "\n"));
    CHECK(err.find("t.yaml:2:7: name: a folder name of letters, digits") == 0);
  }
  // a control character is shown escaped, not written raw to the terminal
  CHECK(load_error(scenario("name: \"a\\x01b\"\n")).find("got 'a\\x01b'") != std::string::npos);
  for (const char* dir : {"../out", "/tmp/out", "a/../../b", "~/out", "a\\b"}) {
    INFO(dir);
    const std::string err = load_error(scenario(std::string("name: ok\noutput: {dir: \"") + dir + "\"}\n"));
    CHECK(err.find("output.dir: a relative folder inside the working folder") != std::string::npos);
  }
  CHECK(load_error(scenario("name: ok.v2-final_3\noutput: {dir: results/sub/run-1}\n")).empty());
  // through the CLI: exit 2, nothing written where the name points
  const fs::path dir = test::scratch("safety_name");
  fs::create_directories(dir);
  std::ofstream(dir / "s.yaml") << scenario("name: \"../escaped\"\n");
  const auto r = test::cli("run " + (dir / "s.yaml").string() + " --quiet");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("name: a folder name") != std::string::npos);
  CHECK_FALSE(fs::exists(fs::path(GOODHART_SOURCE_DIR) / "escaped"));
}

TEST_CASE("a sweep whose points are one scenario twice is refused, naming both points") {
  const std::string twice = load_error(scenario("name: t\n", "sweep: {parameters: {seed: {values: [0, 0]}}}\n"));
  CHECK(twice.find("sweep.parameters.seed: points that differ, but point 0 (seed=0) and point 1 (seed=0)") !=
        std::string::npos);
  // two spellings of one number
  const std::string spelled = load_error(
      scenario("name: t\n", "sweep: {parameters: {proxy.noise.scale: {values: [0.25, 2.5e-1]}}}\n"));
  CHECK(spelled.find("point 0 (proxy.noise.scale=0.25) and point 1 (proxy.noise.scale=2.5e-1)") !=
        std::string::npos);
  // distinct values pass
  CHECK(load_error(scenario("name: t\n", "sweep: {parameters: {seed: {values: [0, 1]}}}\n")).empty());
  // loading (validate, plan) refuses them as expanding does, in a zip too (found by the fuzzer: load accepted it)
  const std::string zip = scenario("name: t\n", "sweep: {method: zip, parameters: {seed: {values: [0, 1, 0]}, "
                                                 "preferences.n_pairs: {values: [300, 300, 300]}}}\n");
  CHECK(load_error(zip).find("point 0 (seed=0, preferences.n_pairs=300) and point 2") != std::string::npos);
  CHECK_THROWS_WITH_AS(load_scenario_text(zip, "t.yaml"), doctest::Contains("and point 2"), ScenarioError);
  CHECK_THROWS_AS(load_scenario_text(scenario("name: t\n", "sweep: {parameters: {seed: {values: [0, 0]}}}\n"),
                                     "t.yaml"),
                  ScenarioError);
}

TEST_CASE("one whole run per results folder: a second is refused naming the holder; shards share the folder") {
  const fs::path dir = test::scratch("safety_lock");
  {
    const FolderLock held(dir, true, "a test");
    CHECK_THROWS_WITH_AS(FolderLock(dir, true, "another"), doctest::Contains("is in use by another goodhart run (pid"),
                         FolderLocked);
    CHECK_THROWS_AS(FolderLock(dir, false, "a shard"), FolderLocked);
    const auto r = test::cli("run scenarios/tiny/categorical_exact.yaml --quiet --out " + dir.string());
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("is in use by another goodhart run (pid") != std::string::npos);
    CHECK(r.err.find("a test") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "sweep.json"));  // refused before writing anything
  }
  {
    const FolderLock a(dir, false, "shard 0"), b(dir, false, "shard 1");  // shards of one sweep coexist
    CHECK_THROWS_AS(FolderLock(dir, true, "a whole run"), FolderLocked);
  }
  // released (also when a holder dies: the kernel drops flock locks with the process)
  const auto r = test::cli("run scenarios/tiny/categorical_exact.yaml --quiet --out " + dir.string());
  CHECK(r.exit_code == 0);
  CHECK(fs::exists(dir / "metrics.csv"));
}

TEST_CASE("strict scalars: a quoted number or boolean is a string; a second YAML document is refused") {
  const std::string head = "schema_version: 1\nname: t\ndescription: t\nseed: 0\n";
  const std::string rest = "gold: {type: linear}\nproxy: {type: noisy}\noptimizer: {type: best_of_n, pool: 16, n: [1]}\n";
  CHECK(load_error("schema_version: \"1\"\nname: t\ndescription: t\nworld: {type: gaussian}\n" + rest)
            .find("t.yaml:1:17: schema_version: an integer, got the quoted string \"1\"") == 0);
  CHECK(load_error(head + "world: {type: gaussian, dim: \"8\"}\n" + rest)
            .find("world.dim: an integer, got the quoted string \"8\" (write it without quotes)") != std::string::npos);
  CHECK(load_error(head + "world: {type: gaussian, scale: ['2']}\n" + rest)
            .find("world.scale: a list of numbers, got the quoted string \"2\"") != std::string::npos);
  CHECK(load_error(head + "world: {type: categorical, normalize_features: \"true\"}\n" + rest)
            .find("true or false, got the quoted string \"true\"") != std::string::npos);
  CHECK(load_error(head + "world: {type: gaussian, dim: 8}\n" + rest).empty());  // plain: a number
  CHECK(load_error(head + "world: {type: gaussian}\n" + rest + "---\nname: other\n")
            .find("t.yaml:10:1: <document>: one YAML document per scenario file") == 0);
  // the fuzzer's input on which yaml-cpp's LoadAll never returned (it made empty documents without end)
  CHECK(load_error(", one seed).\nsprefer\nschlmles, one seed).\nsprefer\n 1").find("<document>") !=
        std::string::npos);
}

TEST_CASE("output targets: a file, an uncreatable or unwritable folder, '' and a thread count out of range") {
  const fs::path dir = test::scratch("safety_targets");
  fs::create_directories(dir);
  std::ofstream(dir / "a_file") << "keep me\n";
  const std::string run = "run scenarios/tiny/categorical_exact.yaml --quiet ";
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"--out " + (dir / "a_file").string(), "a_file is a file, not a folder: name a folder for the output"},
      {"--out /dev/full", "/dev/full is a file, not a folder"},
      {"--out " + (dir / "a_file" / "sub").string(), "cannot create the folder"},
      {"--out /proc/goodhart-results", "cannot create the folder /proc/goodhart-results"},
      {"--out /proc", "cannot write into the folder /proc"},
      {"--out ''", "--out: an empty path: name a folder or leave the option out"},
      {"--threads 0", "--threads: Value 0 not in range 1 to 1024"},
      {"--threads 100000000", "--threads: Value 100000000 not in range 1 to 1024"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    const auto r = test::cli(run + c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') <= 2);  // one line (CLI11 adds "Run with --help")
  }
  CHECK(test::slurp(dir / "a_file") == "keep me\n");
  // a folder as the scenario, and a missing one, are named as such
  const auto folder = test::cli("run scenarios --quiet --out " + (dir / "x").string());
  CHECK(folder.exit_code == 2);
  CHECK(folder.err.find("scenarios:1:1: <file>: a scenario file, but scenarios is a folder") != std::string::npos);
  const auto missing = test::cli("validate scenarios/no_such.yaml");
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("there is no file scenarios/no_such.yaml") != std::string::npos);
  CHECK_FALSE(fs::exists(dir / "x"));
  // compare: the same folder twice (spelled two ways)
  const auto twice = test::cli("compare " + dir.string() + " " + dir.string() + "/");
  CHECK(twice.exit_code == 2);
  CHECK(twice.err.find("is given twice") != std::string::npos);
}

TEST_CASE("the memory estimate covers every stage; run refuses what cannot fit before allocating or writing") {
  // peak resident bytes per element measured with /usr/bin/time -f %M on 1e6-element runs (dim 8, the base
  // scenario below, one thread), minus the 8 MB of a tiny run; the estimate must not fall below any of them
  const std::string base = "schema_version: 1\nname: mem\ndescription: t\nseed: 0\n"
                           "world: {type: gaussian, dim: 8, prompts: 16}\ngold: {type: linear}\n"
                           "preferences: {n_pairs: 1000, heldout_pairs: 0}\n"
                           "proxy: {type: learned, model: linear, optimizer: lbfgs, epochs: 5}\n"
                           "eval: {standardize_samples: 1000, accuracy_pairs: 100}\n"
                           "optimizer: {type: best_of_n, pool: 1024, n: [1, 2, 4]}\n";
  struct Measured {
    std::vector<std::string> overrides;
    double elements, bytes_each;
  };
  const std::vector<Measured> measured = {
      {{"preferences.n_pairs=1000000"}, 1e6, 484},                                     // lbfgs, linear
      {{"preferences.n_pairs=1000000", "world.dim=32"}, 1e6, 1566},                    // lbfgs, linear, d = 32
      {{"preferences.n_pairs=1000000", "proxy.model=quadratic"}, 1e6, 797},            // lbfgs, quadratic
      {{"preferences.n_pairs=1000000", "proxy.optimizer=adam"}, 1e6, 273},             // adam minibatches
      {{"preferences.n_pairs=1000000", "proxy.ensemble_members=4"}, 1e6, 656},         // bootstrap members
      {{"preferences.n_pairs=1000000", "proxy.model=mlp", "proxy.hidden=[64]", "proxy.epochs=1"}, 1e6, 3422},
      {{"preferences.n_pairs=200000", "proxy.model=mlp", "proxy.hidden=[128, 128]", "proxy.epochs=1"}, 2e5, 8500},
      {{"eval.standardize_samples=4000000"}, 4e6, 86},
      {{"eval.standardize_samples=4000000", "world.dim=32"}, 4e6, 273},
      {{"eval.accuracy_pairs=4000000"}, 4e6, 187},
      {{"gold.type=mlp", "gold.hidden=[256]", "eval.standardize_samples=1000000"}, 1e6, 1081},
  };
  for (const Measured& m : measured) {
    INFO(m.overrides.front() << (m.overrides.size() > 1 ? " " + m.overrides[1] : ""));
    const RunSpec spec = expand_sweep_text(base, "mem.yaml", m.overrides).front();
    CHECK(estimate_point(spec.config, 1).bytes >= m.elements * m.bytes_each);
  }
  // sizes no machine has: refused by run, naming the keys that size them, and nothing written
  const fs::path dir = test::scratch("safety_memory");
  fs::create_directories(dir);
  std::ofstream(dir / "mem.yaml") << base;
  for (const auto& [overrides, keys] : std::vector<std::pair<std::string, std::string>>{
           {"preferences.n_pairs=2000000000", "lower preferences.n_pairs, preferences.heldout_pairs"},
           {"eval.standardize_samples=2000000000", "lower eval.standardize_samples"},
           {"gold.type=mlp gold.hidden=[300000,300000]", "lower gold.hidden"},
           {"proxy.model=mlp proxy.hidden=[4096] preferences.n_pairs=100000000",
            "lower preferences.n_pairs, preferences.heldout_pairs, proxy.hidden"}}) {
    INFO(overrides);
    const auto r = test::cli("run " + (dir / "mem.yaml").string() + " " + overrides + " --quiet --out " +
                             (dir / "out").string());
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("of memory and this machine has") != std::string::npos);
    CHECK(r.err.find(keys) != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "out"));
  }
}

TEST_CASE("an error from inside a library names the point, the stage and the keys given for it; nothing is written") {
  const fs::path dir = test::scratch("safety_library_error");
  const auto r = test::cli("run scenarios/tiny/gao_bon_learned.yaml proxy.l2=1e300 --quiet --threads 1 --out " +
                           dir.string());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("error: point 0 (proxy.model=linear, preferences.n_pairs=300): fitting the proxy failed: ") == 0);
  CHECK(r.err.find("proxy.l2 = 1e+300 (<command line>)") != std::string::npos);
  CHECK(r.err.find("proxy.optimizer = \"lbfgs\" (scenarios/tiny/gao_bon_learned.yaml:8:") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK_FALSE(fs::exists(dir));  // the run created the folder and stored no point: it is gone
}
