// test_worlds.cpp — the world interface (models/worlds/): the registry agrees with the scenario's world types and
// with what each world says it can do; every world's draws, identities and log pi_ref against plain references;
// and no code outside models/worlds/ asks which world it has.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <regex>
#include <string>
#include <vector>

#include "sim/numeric/normal_draws.h"
#include "models/worlds/categorical.h"
#include "models/worlds/gaussian.h"
#include "models/worlds/registry.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/types.h"

using namespace goodhart;

namespace {

WorldConfig categorical(int prompts, int candidates) {
  WorldConfig c;
  c.type = "categorical";
  c.dim = 3;
  c.prompts = prompts;
  CategoricalWorldConfig& own = c.get<CategoricalWorldConfig>();
  own.candidates = candidates;
  own.ref_logit_scale = 1.5;
  own.seed = 4;
  return c;
}

WorldConfig gaussian() {
  WorldConfig c;
  c.dim = 5;
  c.prompts = 3;
  c.get<GaussianWorldConfig>().mean = {0.5, -1.0, 0.0, 2.0, 0.25};
  c.get<GaussianWorldConfig>().scale = {1.0, 0.5, 2.0, 1.5, 0.75};
  return c;
}

// the scored world of tests/data/scores_small.csv, as load reads it
WorldConfig scored() {
  return load_scenario_text("schema_version: 1\nname: t\ndescription: d\nworld: {type: scored, path: " GOODHART_SOURCE_DIR
                            "/tests/data/scores_small.csv}\ngold: {type: scored}\nproxy: {type: scored}\n"
                            "optimizer: {type: best_of_n, n: [1, 2, 4]}\n",
                            "t.yaml")
      .world;
}

}  // namespace

TEST_CASE("worlds: every scenario world type is registered, and its abilities are what the world offers") {
  const auto types = config_types("world");
  REQUIRE(types.size() >= 2);
  for (const ConfigType* t : types) {
    INFO(t->name);
    WorldConfig c = t->name == "categorical" ? categorical(4, 6) : t->name == "scored" ? scored() : gaussian();
    c.type = t->name;
    const WorldType& w = world_type(t->name);
    const auto world = w.make(c);
    const WorldAbilities can = w.abilities(c);
    CHECK(world->dim() == c.dim);
    CHECK(world->prompts() == c.prompts);
    CHECK((can.candidates > 0) == (world->candidates() != nullptr));
    if (world->candidates()) CHECK(world->candidates()->count == can.candidates);
    CHECK(can.gaussian == (world->gaussian() != nullptr));
  }
  CHECK_THROWS_AS(world_type("sequence"), std::invalid_argument);
}

TEST_CASE("categorical world: pi_ref draws follow pi_ref(.|p) within 5 standard errors, with their identities") {
  const auto world = make_world(categorical(3, 5));
  const Candidates& c = *world->candidates();
  const int n = 40000;
  for (int prompt : {1, World::any_prompt}) {
    INFO("prompt " << prompt);
    ResponseDraws d;
    world->draw_reference(9, prompt, stream_id(Stream::pool), 7, 0, n, d);
    REQUIRE(d.x.rows() == n);
    REQUIRE(d.id.size() == static_cast<std::size_t>(n));
    Eigen::MatrixXd count = Eigen::MatrixXd::Zero(3, 5);
    for (int i = 0; i < n; ++i) {
      const ResponseId& id = d.id[i];
      REQUIRE(id.candidate >= 0);
      if (prompt >= 0) CHECK(id.prompt == prompt);
      CHECK(d.x.row(i) == c.features.row(id.prompt * 5 + id.candidate));
      // the identity keys the response's own draws as everywhere else: (pool stream, prompt, candidate)
      CHECK(id.stream == stream_id(Stream::pool));
      CHECK(id.a == static_cast<std::uint32_t>(id.prompt));
      CHECK(id.b == static_cast<std::uint32_t>(id.candidate));
      count(id.prompt, id.candidate) += 1.0;
    }
    for (int p = 0; p < 3; ++p)
      for (int k = 0; k < 5; ++k) {
        const double q = (prompt == World::any_prompt ? 1.0 / 3 : (p == prompt ? 1.0 : 0.0)) * std::exp(c.log_ref(p, k));
        const double se = std::sqrt(q * (1.0 - q) / n) + 1e-12;
        CHECK(std::abs(count(p, k) / n - q) <= 5.0 * se);
      }
  }
  // comparisons: both sides answer one prompt, each side drawn from pi_ref
  ResponseDraws a, b;
  world->draw_pairs(9, stream_id(Stream::preference_pairs), 1000, a, b);
  for (int i = 0; i < 1000; ++i) CHECK(a.id[i].prompt == b.id[i].prompt);
}

TEST_CASE("categorical world: log_ref and add_log_ref read pi_ref's table") {
  const auto world = make_world(categorical(2, 4));
  const Candidates& c = *world->candidates();
  ResponseDraws d;
  world->draw_reference(1, World::any_prompt, 3, 0, 0, 50, d);
  Eigen::VectorXf score = Eigen::VectorXf::Zero(50);
  world->add_log_ref(d, 2.0, score);
  for (int i = 0; i < 50; ++i) {
    const Response r{d.id[i].prompt, d.id[i].candidate, {}};
    CHECK(world->log_ref(r) == c.log_ref(r.prompt, r.candidate));
    CHECK(score(i) == 2.0f * static_cast<float>(c.log_ref(r.prompt, r.candidate)));
  }
  // inverse CDF: the first k whose cumulative pi_ref exceeds u
  double cumulative = 0.0;
  for (int k = 0; k < 4; ++k) {
    CHECK(c.sample(1, cumulative + 1e-9) == k);
    cumulative += std::exp(c.log_ref(1, k));
  }
  CHECK(c.sample(1, 1.0) == 3);
}

TEST_CASE("gaussian world: draws are normal_draws.h's reference rows; log_ref is the density; add_log_ref its shape") {
  const WorldConfig cfg = gaussian();
  const auto world = make_world(cfg);
  const GaussianReference& ref = *world->gaussian();
  ResponseDraws d;
  world->draw_reference(21, 2, 17, 5, 100, 40, d);
  const Eigen::VectorXf mean = ref.mean.cast<float>(), scale = ref.scale.cast<float>();
  for (int i = 0; i < 40; ++i) {
    float row[5];
    draw_gaussian_row(21, 17, 5, 100 + i, mean.data(), scale.data(), 5, row);
    for (int j = 0; j < 5; ++j) CHECK(d.x(i, j) == doctest::Approx(row[j]).epsilon(1e-5));
    CHECK(d.id[i].prompt == 2);
    CHECK(d.id[i].candidate == -1);
    CHECK((d.id[i].stream == 17 && d.id[i].a == 5 && d.id[i].b == 100u + i));
  }
  Eigen::VectorXf score = Eigen::VectorXf::Zero(40);
  world->add_log_ref(d, 1.0, score);
  const double constant = -ref.scale.array().log().sum() - 2.5 * std::log(2.0 * std::numbers::pi);
  for (int i = 0; i < 40; ++i) {
    Response r;
    r.y = d.x.row(i).transpose().cast<double>();
    double density = 0.0;
    for (int j = 0; j < 5; ++j) {
      const double z = (r.y(j) - ref.mean(j)) / ref.scale(j);
      density += -0.5 * z * z - std::log(ref.scale(j)) - 0.5 * std::log(2.0 * std::numbers::pi);
    }
    CHECK(world->log_ref(r) == doctest::Approx(density).epsilon(1e-12));
    CHECK(score(i) + constant == doctest::Approx(density).epsilon(1e-5));
  }
  // comparisons: side a is rows (stream, 0, i), side b rows (stream, 1, i)
  ResponseDraws a, b, a0, b0;
  world->draw_pairs(21, 30, 8, a, b);
  world->draw_reference(21, World::any_prompt, 30, 0, 0, 8, a0);
  world->draw_reference(21, World::any_prompt, 30, 1, 0, 8, b0);
  CHECK(a.x == a0.x);
  CHECK(b.x == b0.x);
}

TEST_CASE("no code outside models/worlds/ asks which world it has") {
  // a world type is named only where it is defined; elsewhere code asks for a capability. Docs strings may name
  // a world; a comparison of a world's type, or a world-type flag, may not.
  const std::filesystem::path root = GOODHART_SOURCE_DIR;
  const std::regex asks(R"re(world\.type\s*[!=]=|\.categorical\b|\.type\s*[!=]=\s*"(categorical|gaussian)")re");
  int files = 0;
  for (const char* dir : {"sim", "models", "python/bindings", "bench"})
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / dir)) {
      const std::string path = std::filesystem::relative(entry.path(), root).generic_string();
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || path.starts_with("models/worlds/") ||
          (ext != ".h" && ext != ".cpp" && ext != ".cu" && ext != ".cuh"))
        continue;
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      for (int number = 1; std::getline(in, line); ++number) {
        INFO(path << ":" << number << ": " << line);
        CHECK_FALSE(std::regex_search(line, asks));
      }
    }
  CHECK(files > 80);
}
