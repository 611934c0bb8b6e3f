// test_layers.cpp — dependencies point down: no source includes a header of a layer above its own.
// Contract: reads every source under sim/, models/ and python/bindings/; the layers, bottom first, are
//   0 sim/scenario (the config structs and their tables) and sim/numeric (counter RNG, gaussian draws, the CDF
//     walk, the MLP value type: numerics every layer shares, knowing nothing of the simulation)
//   1 sim/backend/ (the ops, with the same names on cpu/, cuda/ and ref/)
//   2 models/ (worlds, rewards, policies; they run on the ops)
//   3 sim/stats (metric rows, fits, rank statistics)
//   4 sim/optimizers
//   5 sim/engine and sim/io (runs, sweeps, plans and the files they read and write)
//   6 sim/report (finished results folders read back: curves, the leaderboard and its rendering)
//   7 sim/cli and python/bindings
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Layer {
  const char* prefix;
  int rank;
};

const Layer kLayers[] = {{"sim/scenario/", 0}, {"sim/numeric/", 0}, {"sim/backend/", 1}, {"models/", 2},
                         {"sim/stats/", 3},    {"sim/optimizers/", 4}, {"sim/engine/", 5}, {"sim/io/", 5},
                         {"sim/report/", 6},
                         {"sim/cli/", 7},      {"python/bindings/", 7}};

// the rank of a repository path, or -1 outside every layer
int rank_of(const std::string& path) {
  for (const Layer& l : kLayers)
    if (path.starts_with(l.prefix)) return l.rank;
  return -1;
}

// the path of an `#include "path"` line, else ""
std::string quoted_include(const std::string& line) {
  const auto hash = line.find_first_not_of(" \t");
  if (hash == std::string::npos || line[hash] != '#') return "";
  const auto word = line.find_first_not_of(" \t", hash + 1);
  if (word == std::string::npos || line.compare(word, 7, "include") != 0) return "";
  const auto open = line.find('"', word + 7), close = open == std::string::npos ? open : line.find('"', open + 1);
  return close == std::string::npos ? "" : line.substr(open + 1, close - open - 1);
}

}  // namespace

TEST_CASE("no source includes a header of a layer above its own") {
  const fs::path root = GOODHART_SOURCE_DIR;
  int files = 0, includes = 0;
  for (const char* dir : {"sim", "models", "python/bindings"})
    for (const auto& entry : fs::recursive_directory_iterator(root / dir)) {
      const std::string ext = entry.path().extension().string();
      if (!entry.is_regular_file() || (ext != ".h" && ext != ".cpp" && ext != ".cu" && ext != ".cuh")) continue;
      const std::string path = fs::relative(entry.path(), root).generic_string();
      const int own = rank_of(path);
      REQUIRE_MESSAGE(own >= 0, path << " is in no layer: add its folder to kLayers");
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      for (int number = 1; std::getline(in, line); ++number) {
        const std::string header = quoted_include(line);
        const int target = rank_of(header);
        if (target < 0) continue;  // none, a header beside the file, or a library's
        ++includes;
        INFO(path << ":" << number << " includes " << header);
        CHECK(target <= own);
      }
    }
  MESSAGE(files << " files, " << includes << " includes between layers checked");
  CHECK(files > 80);
}
