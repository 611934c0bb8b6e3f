// merge.cpp — combining the stored points of results folders (shards run as separate processes or machines)
// into one folder, after checking that they belong to one sweep and hold every point exactly once.
// Contract: see sweep_run.h (merge_results); the combined CSVs equal those of a single-process run byte for byte.
#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "sim/engine/sweep_files.h"
#include "sim/engine/sweep_run.h"
#include "sim/io/files.h"

namespace fs = std::filesystem;

namespace goodhart {

void merge_results(const std::vector<fs::path>& dirs, const fs::path& out, bool quiet) {
  // one sweep: every folder's sweep.json equal to the first
  std::vector<fs::path> unique;
  for (const fs::path& d : dirs)
    if (std::find_if(unique.begin(), unique.end(), [&](const fs::path& u) { return fs::equivalent(u, d); }) ==
        unique.end())
      unique.push_back(d);
  const nlohmann::json sweep = read_json_file(unique.front() / "sweep.json");
  for (const fs::path& d : unique) {
    const std::vector<std::string> keys = differing_keys(sweep, read_json_file(d / "sweep.json"));
    if (!keys.empty())
      throw RunRefused(d.string() + " holds results of a different sweep than " + unique.front().string() +
                       " (first differing key: " + keys.front() + ")");
  }
  // every point exactly once, and sound
  const TableHeaders headers = sweep_headers(sweep);
  std::vector<StoredPoint> stored;
  std::string missing, duplicated;
  std::map<std::string, fs::path> source;
  for (const auto& p : sweep.at("points")) {
    const std::string id = p.at("point_id").get<std::string>();
    const std::string index = std::to_string(p.at("index").get<int>());
    int copies = 0;
    for (const fs::path& d : unique) {
      PointLookup found = load_point(d, id, headers);
      if (!found.damage.empty())
        throw RunRefused("merge: point " + index + " in " + d.string() + " is damaged: " + found.damage +
                         "; rerun that shard with --resume to compute it again");
      if (found.point && ++copies == 1) {
        stored.push_back(std::move(*found.point));
        source[id] = d;
      }
    }
    if (copies == 0) missing += (missing.empty() ? "" : ", ") + index;
    if (copies > 1) duplicated += (duplicated.empty() ? "" : ", ") + index;
  }
  if (!missing.empty()) throw RunRefused("merge: points missing from every folder: " + missing);
  if (!duplicated.empty()) throw RunRefused("merge: points found in more than one folder: " + duplicated);
  // the merged folder: its points, the combined files and a manifest naming the shards
  // the merged folder is written whole: no run or other merge may write it meanwhile
  std::optional<FolderLock> lock;
  try {
    lock.emplace(out, true, "goodhart merge");
  } catch (const FolderLocked& e) {
    throw RunRefused(e.what());
  } catch (const FolderUnusable& e) {
    throw RunRefused(e.what());
  }
  fs::create_directories(out / "points");
  write_file_atomic(out / "sweep.json", sweep.dump(2) + "\n");
  for (const StoredPoint& p : stored)
    if (!fs::exists(point_file(out, p.point_id)) || !fs::equivalent(source[p.point_id], out))
      store_point(out, p, headers);
  nlohmann::ordered_json shards = nlohmann::ordered_json::array();
  double seconds = 0.0;
  for (const fs::path& d : unique)
    if (fs::exists(d / "shards"))
      for (const auto& entry : fs::directory_iterator(d / "shards"))
        shards.push_back(nlohmann::ordered_json(read_json_file(entry.path())));
  for (const StoredPoint& p : stored) seconds += p.seconds;
  nlohmann::ordered_json manifest = {{"tool", tool_json()},
                                     {"merged_from", nlohmann::ordered_json::array()},
                                     {"point_seconds_total", seconds},
                                     {"shards", shards}};
  for (const fs::path& d : unique) manifest["merged_from"].push_back(d.string());
  manifest["scenario"] = sweep.at("scenario");
  manifest["sweep"] = sweep.at("sweep");
  write_combined(out, sweep, stored, manifest);
  if (!quiet) std::fprintf(stderr, "merged %zu points from %zu folders into %s\n", stored.size(), unique.size(),
                           out.string().c_str());
}

}  // namespace goodhart
