// test_scored.cpp — the scored world (a file of real scores) against enumeration: what load reads from the file,
// best-of-n as the mean over every n-subset of each prompt's responses, the tilt over the empirical measure in
// closed form, ensembles of proxy columns, the round trip export-pools -> scored world, and located errors for bad
// files.
// Contract: files are written under the system temporary folder; tests/data/scores_small.csv is the shared small
// file (3 prompts x 4 responses, distinct proxy values within each prompt).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "models/worlds/registry.h"
#include "sim/engine/pools.h"
#include "sim/scenario/csv_read.h"
#include "test_helpers.h"

using namespace goodhart;
namespace fs = std::filesystem;

namespace {

const std::string kSmall = GOODHART_SOURCE_DIR "/tests/data/scores_small.csv";

// a scenario of a scored world on `file` with extra world keys, a gold, proxy and optimizer line
std::string scored_yaml(const std::string& file, const std::string& world_keys = "",
                        const std::string& proxy = "{type: scored, standardize: false}",
                        const std::string& optimizer = "optimizer: {type: best_of_n, n: [1, 2, 3, 4]}") {
  return "schema_version: 1\nname: t\ndescription: d\nworld: {type: scored, path: " + file +
         (world_keys.empty() ? "" : ", " + world_keys) + "}\ngold: {type: scored, standardize: false}\nproxy: " +
         proxy + "\n" + optimizer + "\n";
}

RunSpec one_point(const std::string& yaml) {
  const std::vector<RunSpec> points = expand_sweep_text(yaml, "t.yaml");
  REQUIRE(points.size() == 1);
  return points.front();
}

std::string scratch_file(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "goodhart_test_scored";
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << text;
  return (dir / name).string();
}

// the file's values of one column, per prompt (rows in file order: 4 responses per prompt)
std::vector<std::vector<double>> column(const std::string& name) {
  const CsvData csv = read_csv(kSmall);
  std::vector<std::vector<double>> out(3);
  for (std::size_t r = 0; r < csv.rows.size(); ++r) out[r / 4].push_back(std::stod(csv.cell(r, name)));
  return out;
}

}  // namespace

TEST_CASE("scored world: the columns, prompts and pi_ref are the file's") {
  const RunSpec spec = one_point(scored_yaml(kSmall, "feature_columns: [length], log_ref_column: log_ref",
                                             "{type: scored, columns: [proxy, proxy_b], standardize: false}"));
  CHECK(spec.config.world.dim == 4);
  CHECK(spec.config.world.prompts == 3);
  CHECK(to_json(spec.config)["world"]["data_digest"].get<std::string>().size() == 16);
  const auto world = make_world(spec.config.world);
  CHECK(world->score_column("length") == 0);
  CHECK(world->score_column("gold") == 1);
  CHECK(world->score_column("proxy") == 2);
  CHECK(world->score_column("proxy_b") == 3);
  CHECK(world->score_column("log_ref") == -1);
  const Candidates& c = *world->candidates();
  CHECK(c.count == 4);
  CHECK(c.sampled);
  // p1, c: length 5, gold 0, proxy 0.25, proxy_b 0.25; log pi_ref -1.25 in the file, uniform as a measure
  CHECK(c.features(6, 0) == 5.0f);
  CHECK(c.features(6, 1) == 0.0f);
  CHECK(c.features(6, 2) == 0.25f);
  CHECK(c.log_ref(1, 2) == doctest::Approx(-std::log(4.0)));
  CHECK(world->log_ref(Response{1, 2, {}}) == -1.25);
  // enumerated: pi_ref(k|p) = exp(log_ref) normalized within the prompt
  const RunSpec e = one_point(scored_yaml(kSmall, "log_ref_column: log_ref, responses: enumerated"));
  const auto enumerated = make_world(e.config.world);
  const RowMatrixXd& lr = enumerated->candidates()->log_ref;
  const auto file = column("log_ref");
  for (int p = 0; p < 3; ++p) {
    CHECK(lr.row(p).array().exp().sum() == doctest::Approx(1.0).epsilon(1e-12));
    for (int k = 1; k < 4; ++k) CHECK(lr(p, k) - lr(p, 0) == doctest::Approx(file[p][k] - file[p][0]));
  }
  CHECK_FALSE(enumerated->candidates()->sampled);
}

TEST_CASE("scored world: best-of-n is the mean over every n-subset of a prompt's responses") {
  const RunSpec spec = one_point(scored_yaml(kSmall));
  const std::vector<MetricRow> rows = run_point(spec, Backend::cpu).rows;
  REQUIRE(rows.size() == 4);
  const auto proxy = column("proxy"), gold = column("gold");
  for (int n = 1; n <= 4; ++n) {
    // brute force: every n-subset of the 4 responses, equally likely (draws without replacement)
    double g = 0.0, f = 0.0;
    for (int p = 0; p < 3; ++p) {
      double gp = 0.0, fp = 0.0;
      int subsets = 0;
      for (int mask = 0; mask < 16; ++mask) {
        if (__builtin_popcount(mask) != n) continue;
        int best = -1;
        for (int k = 0; k < 4; ++k)
          if ((mask >> k & 1) && (best < 0 || proxy[p][k] > proxy[p][best])) best = k;
        gp += gold[p][best];
        fp += proxy[p][best];
        ++subsets;
      }
      g += gp / subsets / 3.0;
      f += fp / subsets / 3.0;
    }
    INFO("n = " << n);
    CHECK(rows[n - 1].gold_mean == doctest::Approx(g).epsilon(1e-6));
    CHECK(rows[n - 1].proxy_mean == doctest::Approx(f).epsilon(1e-6));
    CHECK(rows[n - 1].kl == doctest::Approx(std::log(n) - (n - 1.0) / n));
  }
}

TEST_CASE("scored world: DESIGN.md's pool oracle, best-of-2 gold 1/6") {
  const std::string file = scratch_file("oracle.csv", "prompt_id,proxy,gold\nq,.1,1\nq,.5,2\nq,.3,0\nq,.9,-1\n");
  const RunSpec spec = one_point(scored_yaml(file, "response_column: \"\"", "{type: scored, standardize: false}",
                                             "optimizer: {type: best_of_n, n: [2]}"));
  CHECK(run_point(spec, Backend::cpu).rows.at(0).gold_mean == doctest::Approx(1.0 / 6.0));
}

TEST_CASE("scored world: the tilt over the empirical measure, in closed form") {
  const RunSpec spec = one_point(scored_yaml(kSmall, "", "{type: scored, standardize: false}",
                                             "optimizer: {type: kl_optimum, beta: [0.25, 1, 4]}"));
  const std::vector<MetricRow> rows = run_point(spec, Backend::cpu).rows;
  const auto proxy = column("proxy"), gold = column("gold");
  const double betas[] = {0.25, 1.0, 4.0};
  for (int b = 0; b < 3; ++b) {
    double g = 0.0, kl = 0.0;
    for (int p = 0; p < 3; ++p) {
      double z = 0.0;
      for (double f : proxy[p]) z += std::exp(f / betas[b]) / 4.0;
      for (int k = 0; k < 4; ++k) {
        const double q = std::exp(proxy[p][k] / betas[b]) / 4.0 / z;
        g += q * gold[p][k] / 3.0;
        kl += q * std::log(q * 4.0) / 3.0;
      }
    }
    INFO("beta = " << betas[b]);
    CHECK(rows.at(b).gold_mean == doctest::Approx(g).epsilon(1e-6));
    CHECK(rows.at(b).kl == doctest::Approx(kl).epsilon(1e-6));
  }
}

TEST_CASE("scored world: proxy columns are an ensemble; min (WCO) picks by the smaller score") {
  const RunSpec spec = one_point(scored_yaml(kSmall, "",
                                             "{type: scored, columns: [proxy, proxy_b], aggregate: min, "
                                             "standardize: false}",
                                             "optimizer: {type: best_of_n, n: [4]}"));
  const auto a = column("proxy"), b = column("proxy_b"), gold = column("gold");
  double g = 0.0, f = 0.0;
  for (int p = 0; p < 3; ++p) {
    int best = 0;
    for (int k = 1; k < 4; ++k)
      if (std::min(a[p][k], b[p][k]) > std::min(a[p][best], b[p][best])) best = k;
    g += gold[p][best] / 3.0;
    f += std::min(a[p][best], b[p][best]) / 3.0;
  }
  const MetricRow row = run_point(spec, Backend::cpu).rows.at(0);
  CHECK(row.gold_mean == doctest::Approx(g));
  CHECK(row.proxy_mean == doctest::Approx(f));
}

TEST_CASE("export-pools then a scored world replays the synthetic best-of-n and kl_optimum curves") {
  struct Case {
    const char* name;
    std::string synthetic, world_keys, optimizers;
    double tolerance;  // 0: the same bytes (the same floats ranked and averaged in the same order)
  };
  const std::string head = "schema_version: 1\nname: s\ndescription: d\n";
  const Case cases[] = {
      // a gaussian world's pools: a sample of pi_ref, ranked as the run ranks them
      {"gaussian", head + "world: {type: gaussian, dim: 3, prompts: 6}\ngold: {type: concave}\n"
                          "preferences: {n_pairs: 200}\nproxy: {type: learned}\n",
       "", "optimizer: {type: best_of_n, pool: 32, n: [1, 2, 4, 8, 16, 32]}", 0.0},
      // a categorical world's candidates with pi_ref: enumerated, the exact distributions again (log pi_ref
      // normalized once more: last-bit differences)
      {"categorical", head + "world: {type: categorical, dim: 3, prompts: 5, candidates: 12}\ngold: {type: concave}\n"
                             "preferences: {n_pairs: 200}\nproxy: {type: learned}\n",
       "log_ref_column: log_ref, responses: enumerated",
       "optimizers:\n  - {type: best_of_n, n: [1, 2, 4, 8]}\n  - {type: kl_optimum, beta: [0.1, 0.5, 2]}", 1e-12},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const RunSpec synthetic = one_point(c.synthetic + c.optimizers + "\n");
    const std::string file = scratch_file(std::string(c.name) + "_pools.csv",
                                          export_pools(synthetic, Backend::cpu).str());
    const RunSpec replay = one_point(scored_yaml(file, c.world_keys, "{type: scored, standardize: false}",
                                                 c.optimizers));
    const std::vector<MetricRow> want = run_point(synthetic, Backend::cpu).rows;
    const std::vector<MetricRow> got = run_point(replay, Backend::cpu).rows;
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      INFO(want[i].optimizer << " " << want[i].param_name << " " << want[i].param);
      for (auto member : {&MetricRow::kl, &MetricRow::gold_mean, &MetricRow::proxy_mean, &MetricRow::gold_se,
                          &MetricRow::proxy_gold_corr, &MetricRow::rm_accuracy_policy}) {
        if (std::isnan(want[i].*member))
          CHECK(std::isnan(got[i].*member));  // no distinct pairs from a deterministic policy, in both
        else if (c.tolerance == 0.0)
          CHECK(got[i].*member == want[i].*member);
        else
          CHECK(std::fabs(got[i].*member - want[i].*member) <= c.tolerance);
      }
    }
  }
}

TEST_CASE("scored world: a bad file is refused with its file:line:col, the key and what was expected") {
  const std::string header = "prompt_id,response_id,proxy,gold\n";
  const std::pair<std::string, std::string> cases[] = {
      {header + "a,0,1,2\na,1,x,3\n", "bad.csv:3:5: proxy.columns[0]: a finite number in column 'proxy', got 'x'"},
      {header + "a,0,1,2\na,1,nan,3\n", "bad.csv:3:5: proxy.columns[0]: a finite number in column 'proxy', got 'nan'"},
      {header + "a,0,1,2\na,1,1,inf\n", "bad.csv:3:7: gold.column: a finite number in column 'gold', got 'inf'"},
      {header + "a,0,1,2\na,1,,3\n", "bad.csv:3:5: proxy.columns[0]: a finite number in column 'proxy', got an empty"},
      {header + "a,0,1,2\na,1,2,3\nb,0,1,1\n",
       "bad.csv:4:1: world.prompt_column: every prompt with the same number of responses (2, as prompt 'a'), but "
       "prompt 'b' has 1"},
      {header + "a,0,1,2\na,0,2,3\n",
       "bad.csv:3:3: world.response_column: one row per response, but prompt 'a' has response '0' twice (line 2"},
      {header + "a,0,1,2\na,1,2\n", "bad.csv:3:6: world.path: 4 cells as in the header, but this row has 3"},
      {header, "bad.csv:2:1: world.path: at least one scored response (a row)"},
      {"prompt_id,response_id,proxy\na,0,1\n", "gold.column: a column of "},
      {header + "a,0,1e39,2\n", "bad.csv:2:5: proxy.columns[0]: a number within float range"},
      {"prompt_id,response_id,proxy,gold,gold\na,0,1,2,3\n", "gold.column: a column of "},
      {"prompt_id,response_id,proxy,gold\n\"a,0,1,2\n", "bad.csv:2:1: world.path: a closing '\"' for the quoted cell"},
  };
  for (const auto& [text, message] : cases) {
    INFO(text);
    const std::string file = scratch_file("bad.csv", text);
    CHECK_THROWS_WITH_AS(expand_sweep_text(scored_yaml(file), "t.yaml"), doctest::Contains(message.c_str()), ScenarioError);
  }
  // keys the file decides, a missing file, types that are not the file's, a changed file
  const std::string good = scratch_file("good.csv", header + "a,0,1,2\na,1,2,3\n");
  const auto refused = [](const std::string& yaml, const std::vector<std::string>& overrides) {
    try {
      expand_sweep_text(yaml, "t.yaml", overrides);
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const std::string ok = scored_yaml(good, "", "{type: scored}", "optimizer: {type: best_of_n, n: [1, 2]}");
  CHECK(refused(ok, {}) == "accepted");
  CHECK(refused(ok, {"world.dim=3"}).find("world.dim: no value: a scored world's file sets it") != std::string::npos);
  CHECK(refused(ok, {"world.path=nowhere.csv"}).find("world.path: a score file, but there is no file nowhere.csv") !=
        std::string::npos);
  CHECK(refused(ok, {"world.path=/dev/null"}).find("world.path: a regular file, but /dev/null is not one") !=
        std::string::npos);
  CHECK(refused(ok, {"gold.type=linear"}).find("gold.type: scored in a scored world") != std::string::npos);
  CHECK(refused(ok, {"proxy.type=learned"}).find("proxy.type: scored (columns of the file) or noisy") !=
        std::string::npos);
  CHECK(refused(ok, {"proxy.columns=[proxy, proxy]"}).find("proxy.columns: distinct columns") != std::string::npos);
  CHECK(refused(ok, {"optimizer.n=[1, 3]"}).find("each n <= the responses per prompt of the score file (2)") !=
        std::string::npos);
  CHECK(refused(ok, {"world.responses=enumerated"}).find("world.log_ref_column: the column of log pi_ref") !=
        std::string::npos);
  const std::string digest = to_json(one_point(ok).config)["world"]["data_digest"];
  CHECK(refused(ok, {"world.data_digest=" + digest}) == "accepted");
  scratch_file("good.csv", header + "a,0,1,2\na,1,2,4\n");
  CHECK(refused(ok, {"world.data_digest=" + digest}).find("world.data_digest: the digest of") != std::string::npos);
  // gold and proxy types scored need a world with a file
  const std::string gaussian = "schema_version: 1\nname: t\ndescription: d\nworld: {type: gaussian}\n"
                               "gold: {type: scored}\nproxy: {type: learned}\noptimizer: {type: best_of_n}\n";
  CHECK(refused(gaussian, {}).find("gold.type: a gold type of the gaussian world") != std::string::npos);
}

TEST_CASE("scored_replay: an ensemble of the dump's proxy columns beats one column at the same n") {
  // the claims of scenarios/scored_replay.yaml: one column reaches about 0.91 gold at n = 128, the mean, min and
  // uwo of five about 1.2 at n = 64 (0.2 above the single column: more than 3 standard errors of its 16 prompts)
  const std::vector<test::PointRun> runs = test::run_scenario("scenarios/tiny/scored_replay.yaml");
  REQUIRE(runs.size() == 4);
  const auto bon = [](const test::PointRun& r, double n) {
    for (const MetricRow& m : test::rows_of(r.result, "best_of_n"))
      if (m.param == n) return m;
    FAIL("no n = " << n);
    return MetricRow{};
  };
  const MetricRow single = bon(runs[0], 64), single_end = bon(runs[0], 128);
  CHECK(single_end.gold_mean == doctest::Approx(0.911).epsilon(0.01));
  CHECK(bon(runs[0], 128).kl == doctest::Approx(std::log(128.0) - 127.0 / 128.0));
  for (std::size_t k = 1; k < runs.size(); ++k) {
    INFO(runs[k].swept("proxy.aggregate"));
    const MetricRow ensemble = bon(runs[k], 64);
    CHECK(ensemble.gold_mean > 1.15);
    CHECK(ensemble.gold_mean - single.gold_mean > 3.0 * single.gold_se);
  }
}

TEST_CASE("regularized best-of-n in a gaussian world ranks its pool by the responses' own log-density") {
  // with alpha huge, best of the whole pool is the pool's most likely response: found from the exported pool
  const RunSpec spec = one_point(
      "schema_version: 1\nname: s\ndescription: d\nworld: {type: gaussian, dim: 2, prompts: 4}\n"
      "gold: {type: linear}\nproxy: {type: noisy}\noptimizer: {type: best_of_n, pool: 16, n: [16], "
      "ref_logprob_weight: 1.0e6}\n");
  const CsvData pools = parse_csv(export_pools(spec, Backend::cpu).str(), "pools");
  double want = 0.0;
  for (int p = 0; p < 4; ++p) {
    std::size_t best = static_cast<std::size_t>(p) * 16;
    for (std::size_t r = best; r < static_cast<std::size_t>(p + 1) * 16; ++r)
      if (std::stod(pools.cell(r, "log_ref")) > std::stod(pools.cell(best, "log_ref"))) best = r;
    want += std::stod(pools.cell(best, "gold")) / 4.0;
  }
  CHECK(run_point(spec, Backend::cpu).rows.at(0).gold_mean == doctest::Approx(want).epsilon(1e-6));
}
