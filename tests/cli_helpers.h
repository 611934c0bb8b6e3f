// cli_helpers.h — running the built `goodhart` binary from the tests: a scratch folder per case, the exit code
// and what it printed. Contract: header-only; folders live under <build dir>/test_scratch, commands run from the
// source tree so scenario paths are relative to it.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace goodhart::test {

struct CliResult {
  int exit_code;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// an empty (not yet created) folder for one test's results
inline std::filesystem::path scratch(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::current_path() / "test_scratch" / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir.parent_path());
  return dir;
}

// `goodhart ARGS` from the source tree (ARGS may start with environment assignments via `env`)
inline CliResult cli(const std::string& args) {
  const std::filesystem::path dir = std::filesystem::current_path() / "test_scratch";
  const std::filesystem::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  std::filesystem::create_directories(dir);
  const std::string cmd = std::string("cd ") + GOODHART_SOURCE_DIR + " && " + GOODHART_BINARY + " " + args + " >" +
                          out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  return {WEXITSTATUS(status), slurp(out), slurp(err)};
}

}  // namespace goodhart::test
