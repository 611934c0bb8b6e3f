// test_cli.cpp — the command line end to end: bad scenarios (exit 2, one clear line, nothing written),
// byte-identical results at 1 and 2 threads, every library scenario at tiny size, validate/plan/list/version.
// Contract: runs the built `goodhart` binary in temporary folders under the build tree.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "cli_helpers.h"

namespace fs = std::filesystem;
using goodhart::test::cli;
using goodhart::test::CliResult;
using goodhart::test::scratch;
using goodhart::test::slurp;

TEST_CASE("each malformed scenario gets its own clear error, exit 2 and no output folder") {
  const std::pair<const char*, const char*> cases[] = {
      {"unknown_key", "tests/bad/unknown_key.yaml:7:1: optimzer: unknown key, did you mean 'optimizer'?"},
      {"duplicate_key", "tests/bad/duplicate_key.yaml:10:3: optimizer.pool: duplicate key"},
      {"wrong_type", "tests/bad/wrong_type.yaml:9:9: optimizer.pool: an integer"},
      {"label_noise", "tests/bad/label_noise.yaml:8:16: preferences.label_noise: a probability in [0, 0.5]"},
      {"negative_count", "tests/bad/negative_count.yaml:8:12: preferences.n_pairs: an integer >= 0"},
      {"n_over_pool", "tests/bad/n_over_pool.yaml:10:13: optimizer.n: each n <= pool (16)"},
      {"missing_section", "tests/bad/missing_section.yaml:1:1: world: missing required section"},
      {"syntax", "tests/bad/syntax.yaml:7:39: <syntax>:"},
      {"bad_enum", "tests/bad/bad_enum.yaml:7:19: optimizer.type: one of best_of_n, dpo, inference_time_pessimism, kl_optimum, policy_gradient, soft_best_of_n"},
      {"bad_sweep", "tests/bad/bad_sweep.yaml:10:5: proxy.noise.scale: a number > 0"},
      {"zip_duplicate_points", "tests/bad/zip_duplicate_points.yaml:11:5: sweep.parameters.seed: points that differ, "
                               "but point 0 (seed=0, proxy.noise.scale=0.5) and point 2"},
      {"unclosed_quote", "tests/bad/unclosed_quote.yaml:7:14: <syntax>: a closing \" for the quoted string that "
                         "starts here (it runs to the end of the file)"},
      {"foreign_key", "tests/bad/foreign_key.yaml:7:40: optimizer.kl_coef: not a key of best_of_n (keys: pool, n, "},
      {"scored_bad_cell", "tests/bad/scored_bad_cell.csv:3:7: proxy.columns[0]: a finite number in column 'proxy', "
                          "got 'high'"},
  };
  for (const auto& [name, message] : cases) {
    INFO(name);
    const fs::path out = scratch(std::string("bad_") + name);
    const CliResult r = cli(std::string("run tests/bad/") + name + ".yaml --quiet --out " + out.string());
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(message) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(out));
  }
  // a bad command-line override is reported the same way
  const fs::path out = scratch("bad_override");
  const CliResult r = cli("run scenarios/tiny/regressional_gaussian.yaml proxy.noise.scale=-1 --quiet --out " +
                          out.string());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("<command line>: proxy.noise.scale: a number > 0") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("results are byte-identical at 1 and 2 threads") {
  for (const char* scenario : {"gao_bon_learned", "categorical_exact", "catastrophic_heavy_tail", "gao_rl_exact"}) {
    INFO(scenario);
    const fs::path one = scratch(std::string("threads1_") + scenario), two = scratch(std::string("threads2_") + scenario);
    const std::string file = std::string("scenarios/tiny/") + scenario + ".yaml";
    REQUIRE(cli("run " + file + " --quiet --threads 1 --out " + one.string()).exit_code == 0);
    REQUIRE(cli("run " + file + " --quiet --threads 2 --out " + two.string()).exit_code == 0);
    CHECK(slurp(one / "metrics.csv") == slurp(two / "metrics.csv"));
    CHECK(slurp(one / "runs.csv") == slurp(two / "runs.csv"));
    CHECK(slurp(one / "metrics.csv").size() > 1000);
  }
}

TEST_CASE("every library scenario runs at tiny size and writes complete results") {
  for (const auto& entry : fs::directory_iterator(fs::path(GOODHART_SOURCE_DIR) / "scenarios" / "tiny")) {
    const std::string name = entry.path().stem().string();
    INFO(name);
    // the full-size copy exists beside it and validates
    CHECK(cli("validate scenarios/" + name + ".yaml").exit_code == 0);
    const fs::path out = scratch("tiny_" + name);
    const CliResult r = cli("run scenarios/tiny/" + name + ".yaml --quiet --out " + out.string());
    REQUIRE(r.exit_code == 0);
    CHECK(r.err.empty());
    for (const char* f : {"metrics.csv", "runs.csv", "manifest.json"}) CHECK(fs::exists(out / f));
    // no NaN or infinity anywhere: cells that do not apply are empty
    const std::string metrics = slurp(out / "metrics.csv");
    CHECK(metrics.find("nan") == std::string::npos);
    CHECK(metrics.find("inf") == std::string::npos);
  }
}

TEST_CASE("validate, plan, list and version") {
  const CliResult v = cli("validate scenarios/gao_bon_learned.yaml");
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("valid: 12 points") != std::string::npos);
  const CliResult p = cli("plan scenarios/gao_bon_learned.yaml");
  CHECK(p.exit_code == 0);
  CHECK(p.out.find("total: 12 points") != std::string::npos);
  const CliResult l = cli("list");
  CHECK(l.exit_code == 0);
  for (const char* s : {"regressional_gaussian.yaml", "catastrophic_heavy_tail.yaml", "gao_bon_learned.yaml",
                        "gao_rl_exact.yaml"})
    CHECK(l.out.find(s) != std::string::npos);
  CHECK(cli("version").out.find("goodhart ") == 0);
  CHECK(cli("frobnicate").exit_code == 2);
  CHECK(cli("run scenarios/tiny/regressional_gaussian.yaml --backend tpu --quiet").exit_code == 2);
}

TEST_CASE("progress: periodic lines on a non-terminal stderr, nothing with --quiet") {
  const fs::path out = scratch("progress");
  const CliResult r = cli("run scenarios/tiny/gao_rl_exact.yaml --out " + out.string());
  CHECK(r.exit_code == 0);
  CHECK(r.err.find("2/2 points") != std::string::npos);
  CHECK(r.err.find("wrote ") != std::string::npos);
  const fs::path quiet_out = scratch("progress_quiet");
  const CliResult quiet = cli("run scenarios/tiny/gao_rl_exact.yaml --quiet --out " + quiet_out.string());
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.err.empty());
  CHECK(fs::exists(quiet_out / "metrics.csv"));
}

TEST_CASE("export-pools writes one point's scored responses, which run replays as a scored world") {
  // a pool of 1024 per prompt (the tiny scenario's 16384 make a 36 MB file that took 36 s to replay in this test)
  const std::string scenario = "scenarios/tiny/gao_bon_learned.yaml optimizer.pool=1024 'optimizer.n=[1,4,16,64]'";
  const fs::path dir = scratch("export_pools");
  fs::create_directories(dir);
  const fs::path file = dir / "pools.csv";
  // a sweep needs --point; a point past the end and an existing file are refused, with nothing written
  const CliResult many = cli("export-pools " + scenario + " --quiet --out " + file.string());
  CHECK(many.exit_code == 2);
  CHECK(many.err.find("choose one with --point K") != std::string::npos);
  CHECK(cli("export-pools " + scenario + " --point 99 --quiet --out " + file.string())
            .exit_code == 2);
  CHECK_FALSE(fs::exists(file));
  const CliResult one = cli("export-pools " + scenario + " --point 1 --features --out " +
                            file.string());
  REQUIRE_MESSAGE(one.exit_code == 0, one.err);
  const std::string text = slurp(file);
  CHECK(text.starts_with("prompt_id,response_id,proxy,gold,log_ref,x0,"));
  CHECK(cli("export-pools " + scenario + " --point 1 --quiet --out " + file.string()).exit_code ==
        2);
  CHECK(slurp(file) == text);
  // the replay: a scenario beside the file, run and validated like any other
  std::ofstream(dir / "replay.yaml") << "schema_version: 1\nname: replay\ndescription: d\n"
                                        "world: {type: scored, path: pools.csv}\ngold: {type: scored}\n"
                                        "proxy: {type: scored}\noptimizer: {type: best_of_n, n: [1, 2, 4]}\n";
  const CliResult replay = cli("run " + (dir / "replay.yaml").string() + " --quiet --out " + (dir / "out").string());
  CHECK_MESSAGE(replay.exit_code == 0, replay.err);
  CHECK(fs::exists(dir / "out" / "metrics.csv"));
}
