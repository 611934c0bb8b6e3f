// test_resume.cpp — nothing lost: a sweep killed with SIGKILL or stopped with SIGTERM resumes to byte-identical
// results; a changed scenario is refused; shards run as separate processes merge to the single-process result;
// the memory guard refuses what cannot fit; stored points are verified (damage recomputed or refused); the tables
// are published all or nothing; a resumed run removes a killed writer's temporaries.
// Contract: runs the built binary in folders under the build tree.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include "cli_helpers.h"

namespace fs = std::filesystem;
using goodhart::test::slurp;

namespace {

fs::path fresh_dir(const std::string& name) { return goodhart::test::scratch(name); }

// runs the binary from the source tree; returns its exit code (and what it wrote to stderr)
int run_goodhart(const std::string& args, std::string* err = nullptr) {
  const goodhart::test::CliResult r = goodhart::test::cli(args);
  if (err) *err = r.err;
  return r.exit_code;
}

std::size_t stored_points(const fs::path& dir) {
  if (!fs::exists(dir / "points")) return 0;
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir / "points")) n += e.path().extension() == ".json";
  return n;
}

// a sweep of 4 points of about half a second each
const std::string sweep = "scenarios/tiny/gao_bon_learned.yaml optimizer.pool=65536 \"optimizer.n=[1, 16, 256, 65536]\"";

// starts the sweep in the background, waits until `points` are stored, sends `signal`, waits for the exit code
int interrupted_run(const fs::path& dir, int points, const char* signal) {
  const fs::path pid_file = dir.string() + ".pid", rc_file = dir.string() + ".rc";
  fs::remove(rc_file);
  const std::string cmd = std::string("cd ") + GOODHART_SOURCE_DIR + " && (" + GOODHART_BINARY + " run " + sweep +
                          " --quiet --out " + dir.string() + " 2>/dev/null & echo $! > " + pid_file.string() +
                          "; wait $!; echo $? > " + rc_file.string() + ") 2>/dev/null &";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (stored_points(dir) < static_cast<std::size_t>(points) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::string kill = "kill -" + std::string(signal) + " $(cat " + pid_file.string() + ")";
  REQUIRE(std::system(kill.c_str()) == 0);
  while (!fs::exists(rc_file) || slurp(rc_file).empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return std::stoi(slurp(rc_file));
}

}  // namespace

TEST_CASE("a sweep killed with SIGKILL resumes to byte-identical results") {
  const fs::path whole = fresh_dir("resume_whole"), killed = fresh_dir("resume_killed");
  REQUIRE(run_goodhart("run " + sweep + " --quiet --out " + whole.string()) == 0);
  CHECK(interrupted_run(killed, 1, "KILL") == 137);
  // the kill came mid-sweep: some points stored, no combined files yet
  CHECK(stored_points(killed) >= 1);
  CHECK(stored_points(killed) < 4);
  CHECK_FALSE(fs::exists(killed / "metrics.csv"));
  std::string err;
  REQUIRE(run_goodhart("run " + sweep + " --resume --out " + killed.string(), &err) == 0);
  CHECK(err.find("already finished") != std::string::npos);
  CHECK(slurp(killed / "metrics.csv") == slurp(whole / "metrics.csv"));
  CHECK(slurp(killed / "runs.csv") == slurp(whole / "runs.csv"));
}

TEST_CASE("a resumed whole run removes the temporary files a killed writer left, and nothing else") {
  const fs::path dir = fresh_dir("resume_temporaries");
  REQUIRE(run_goodhart("run scenarios/tiny/gao_bon_learned.yaml --quiet --out " + dir.string()) == 0);
  // what a SIGKILL between open and rename leaves; a user's files that only look alike stay
  const std::vector<fs::path> left = {dir / "metrics.csv.tmp.4242", dir / "points" / "0123abcd.json.tmp.17"};
  const std::vector<fs::path> kept = {dir / "notes.tmp.txt", dir / "points.tmp.", dir / "draft.tmp.7a"};
  for (const fs::path& p : left) std::ofstream(p) << "half a file";
  for (const fs::path& p : kept) std::ofstream(p) << "mine";
  REQUIRE(run_goodhart("run scenarios/tiny/gao_bon_learned.yaml --resume --quiet --out " + dir.string()) == 0);
  for (const fs::path& p : left) CHECK_FALSE(fs::exists(p));
  for (const fs::path& p : kept) CHECK(fs::exists(p));
}

TEST_CASE("SIGTERM stops after the point in flight, keeps it, and says how to resume") {
  const fs::path whole = fresh_dir("term_whole"), stopped = fresh_dir("term_stopped");
  REQUIRE(run_goodhart("run " + sweep + " --quiet --out " + whole.string()) == 0);
  CHECK(interrupted_run(stopped, 1, "TERM") == 128 + 15);
  CHECK(stored_points(stopped) >= 1);
  CHECK_FALSE(fs::exists(stopped / "metrics.csv"));
  REQUIRE(run_goodhart("run " + sweep + " --resume --quiet --out " + stopped.string()) == 0);
  CHECK(slurp(stopped / "metrics.csv") == slurp(whole / "metrics.csv"));
}

TEST_CASE("resuming a changed scenario into the same folder is refused, naming the keys") {
  const fs::path dir = fresh_dir("resume_changed");
  REQUIRE(run_goodhart("run scenarios/tiny/categorical_exact.yaml --quiet --out " + dir.string()) == 0);
  const std::string before = slurp(dir / "metrics.csv");
  std::string err;
  CHECK(run_goodhart("run scenarios/tiny/categorical_exact.yaml world.dim=4 preferences.label_noise=0.2 --resume "
                 "--quiet --out " + dir.string(), &err) == 2);
  CHECK(err.find("different scenario") != std::string::npos);
  CHECK(err.find("scenario.world.dim") != std::string::npos);
  CHECK(err.find("scenario.preferences.label_noise") != std::string::npos);
  CHECK(slurp(dir / "metrics.csv") == before);
}

TEST_CASE("a different scenario into a folder of results is refused without --force, and replaces them with it") {
  const fs::path dir = fresh_dir("overwrite_other");
  REQUIRE(run_goodhart("run scenarios/tiny/categorical_exact.yaml --quiet --out " + dir.string()) == 0);
  const std::string before = slurp(dir / "metrics.csv");
  std::string err;
  CHECK(run_goodhart("run scenarios/tiny/categorical_exact.yaml world.dim=4 --quiet --out " + dir.string(), &err) == 2);
  CHECK(err.find("holds results of a different scenario (differing keys: scenario.world.dim)") != std::string::npos);
  CHECK(err.find("pass --force to delete them") != std::string::npos);
  CHECK(slurp(dir / "metrics.csv") == before);  // nothing lost
  // the same scenario again starts afresh without asking; --force replaces another's
  CHECK(run_goodhart("run scenarios/tiny/categorical_exact.yaml --quiet --out " + dir.string()) == 0);
  CHECK(run_goodhart("run scenarios/tiny/categorical_exact.yaml world.dim=4 --force --quiet --out " + dir.string()) ==
        0);
  CHECK(slurp(dir / "metrics.csv") != before);
}

TEST_CASE("shards run as separate processes merge into the single-process results") {
  const std::string file = "scenarios/tiny/gao_bon_learned.yaml";
  const fs::path whole = fresh_dir("shard_whole");
  REQUIRE(run_goodhart("run " + file + " --quiet --out " + whole.string()) == 0);
  std::string dirs;
  for (int i = 0; i < 3; ++i) {
    const fs::path d = fresh_dir("shard_" + std::to_string(i));
    REQUIRE(run_goodhart("run " + file + " --quiet --shard " + std::to_string(i) + "/3 --out " + d.string()) == 0);
    CHECK_FALSE(fs::exists(d / "metrics.csv"));
    dirs.append(" ").append(d.string());  // not += " " + ...: GCC 12 warns falsely (-Wrestrict) on that
  }
  const fs::path merged = fresh_dir("shard_merged");
  REQUIRE(run_goodhart("merge" + dirs + " --quiet --out " + merged.string()) == 0);
  CHECK(slurp(merged / "metrics.csv") == slurp(whole / "metrics.csv"));
  CHECK(slurp(merged / "runs.csv") == slurp(whole / "runs.csv"));
  // a missing shard and a point in two folders are errors
  std::string err;
  CHECK(run_goodhart("merge " + (fs::current_path() / "test_scratch/shard_0").string() + " --quiet --out " +
                 fresh_dir("shard_missing").string(), &err) == 2);
  CHECK(err.find("points missing from every folder: 1, 2") != std::string::npos);
  const fs::path again = fresh_dir("shard_again");
  REQUIRE(run_goodhart("run " + file + " --quiet --point 0 --out " + again.string()) == 0);
  CHECK(run_goodhart("merge" + dirs + " " + again.string() + " --quiet --out " + fresh_dir("shard_dup").string(), &err) ==
        2);
  CHECK(err.find("points found in more than one folder: 0") != std::string::npos);
}

TEST_CASE("SLURM array variables pick the shard; --point runs one point") {
  const std::string file = "scenarios/tiny/gao_bon_learned.yaml";
  const fs::path dir = fresh_dir("slurm");
  const std::string env = "SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=2 ";
  const std::string cmd = std::string("cd ") + GOODHART_SOURCE_DIR + " && " + env + GOODHART_BINARY + " run " + file +
                          " --quiet --out " + dir.string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  // task 2 of 1..2 is shard 1/2: points 1 and 3
  CHECK(stored_points(dir) == 2);
  CHECK(fs::exists(dir / "shards" / "shard-1-of-2.json"));
  // --array=0-4:2: task 4 is shard 2 of 3 (point 2); a list (--array=1,3,7) is refused, with nothing written
  const auto run_with = [&](const std::string& vars, const fs::path& out) {
    const std::string c = std::string("cd ") + GOODHART_SOURCE_DIR + " && " + vars + " " + GOODHART_BINARY +
                          " run " + file + " --quiet --out " + out.string() + " 2>/dev/null";
    const int status = std::system(c.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  const fs::path stepped = fresh_dir("slurm_step");
  CHECK(run_with("SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=4 SLURM_ARRAY_TASK_STEP=2 "
                 "SLURM_ARRAY_TASK_COUNT=3", stepped) == 0);
  CHECK(fs::exists(stepped / "shards" / "shard-2-of-3.json"));
  CHECK(stored_points(stepped) == 1);
  const fs::path listed = fresh_dir("slurm_list");
  CHECK(run_with("SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=7 SLURM_ARRAY_TASK_STEP=1 "
                 "SLURM_ARRAY_TASK_COUNT=3", listed) == 2);
  CHECK_FALSE(fs::exists(listed));
}

TEST_CASE("the memory guard refuses a sweep that cannot fit, before writing anything") {
  const fs::path dir = fresh_dir("too_big");
  std::string err;
  CHECK(run_goodhart("run scenarios/tiny/categorical_exact.yaml world.prompts=100000 world.candidates=100000 --quiet "
                 "--out " + dir.string(), &err) == 2);
  CHECK(err.find("lower world.prompts, world.candidates") != std::string::npos);
  CHECK(err.find("--force") != std::string::npos);
  CHECK_FALSE(fs::exists(dir));
}

// rewrites one stored point file with `edit` applied to its JSON text
void edit_point(const fs::path& file, const std::function<std::string(std::string)>& edit) {
  const std::string text = edit(slurp(file));
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
  const auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

TEST_CASE("resume and merge verify each stored point: a damaged one is computed again (resume) or refused (merge)") {
  const std::string tiny = "scenarios/tiny/gao_bon_learned.yaml --threads 1 --quiet";
  const fs::path whole = fresh_dir("verify_whole");
  REQUIRE(run_goodhart("run " + tiny + " --out " + whole.string()) == 0);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(whole / "points")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() == 4);
  // damage of every kind: a hand-edited value, an injected row, a dropped column (the same edit to the header and
  // the checksum recomputed cannot happen by hand: the header is compared with the sweep's), not JSON at all
  const fs::path damaged = fresh_dir("verify_damaged");
  fs::copy(whole, damaged, fs::copy_options::recursive);
  const auto at = [&](std::size_t i) { return damaged / "points" / files[i].filename(); };
  edit_point(at(0), [](std::string s) { return replace_once(s, ",0.", ",0.9"); });
  edit_point(at(1), [](std::string s) { return replace_once(s, "\"runs_rows\": \"", "\"runs_rows\": \"x,y\\n"); });
  edit_point(at(2), [](std::string s) { return replace_once(s, "point_id,curve_id,", "point_id,"); });
  edit_point(at(3), [](std::string) { return std::string("{\"index\": 3,"); });
  // merge names the first damaged point and writes nothing
  std::string err;
  CHECK(run_goodhart("merge " + damaged.string() + " --out " + fresh_dir("verify_merged").string(), &err) == 2);
  CHECK(err.find("merge: point ") != std::string::npos);
  CHECK(err.find(" is damaged: ") != std::string::npos);
  CHECK_FALSE(fs::exists(fs::path(GOODHART_SOURCE_DIR) / "test_scratch" / "verify_merged" / "metrics.csv"));
  // resume names each and computes them again, to the uninterrupted bytes
  fs::remove(damaged / "metrics.csv");
  CHECK(run_goodhart("run " + tiny + " --resume --out " + damaged.string(), &err) == 0);
  CHECK(std::count(err.begin(), err.end(), '\n') == 4);
  CHECK(err.find("is damaged: not a point file") != std::string::npos);
  CHECK(err.find("computing it again") != std::string::npos);
  CHECK(slurp(damaged / "metrics.csv") == slurp(whole / "metrics.csv"));
  CHECK(slurp(damaged / "runs.csv") == slurp(whole / "runs.csv"));
}

TEST_CASE("a disk that fills while the tables are written publishes none of them and says what is missing") {
  // a file size limit (ulimit -f, SIGXFSZ ignored) above every point file and below metrics.csv: the write of the
  // combined tables fails as on a full disk
  const fs::path dir = fresh_dir("publish_full");
  const std::string run = "run scenarios/tiny/gao_bon_learned.yaml --threads 1 --quiet --out " + dir.string();
  REQUIRE(run_goodhart(run) == 0);
  std::uintmax_t largest_point = 0;
  for (const auto& e : fs::directory_iterator(dir / "points")) largest_point = std::max(largest_point, e.file_size());
  const std::uintmax_t metrics = fs::file_size(dir / "metrics.csv");
  const std::uintmax_t limit_blocks = (largest_point + 1023) / 1024 + 1;
  REQUIRE(limit_blocks * 1024 < metrics);
  const fs::path fresh = fresh_dir("publish_full_fresh"), err_file = fresh.string() + ".err";
  const std::string cmd = std::string("cd ") + GOODHART_SOURCE_DIR + " && bash -c 'trap \"\" XFSZ; ulimit -f " +
                          std::to_string(limit_blocks) + "; exec " + GOODHART_BINARY + " " + run.substr(0, run.find(" --out")) +
                          " --out " + fresh.string() + "' 2>" + err_file.string();
  const int status = std::system(cmd.c_str());
  const std::string err = slurp(err_file);
  INFO(err);
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(err.find("File too large") != std::string::npos);
  CHECK(err.find("metrics.csv, runs.csv and manifest.json of " + fresh.string() + " were not written") !=
        std::string::npos);
  CHECK(err.find("rerun with --resume") != std::string::npos);
  // none of the three, no temporary file left; every point kept
  for (const char* f : {"metrics.csv", "runs.csv", "manifest.json"}) CHECK_FALSE(fs::exists(fresh / f));
  for (const auto& e : fs::directory_iterator(fresh)) CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);
  CHECK(stored_points(fresh) == 4);
  // with room again, --resume publishes the uninterrupted tables
  CHECK(run_goodhart(run.substr(0, run.find(" --out")) + " --resume --out " + fresh.string()) == 0);
  CHECK(slurp(fresh / "metrics.csv") == slurp(dir / "metrics.csv"));
}
