// library.cpp — the scenario library's folder and library names as scenario arguments (library.h).
#include "sim/cli/library.h"

#include <cstdlib>

namespace fs = std::filesystem;

namespace goodhart {

fs::path scenario_library() {
  if (const char* env = std::getenv("GOODHART_SCENARIOS"); env && *env) return env;
  std::error_code ec;
  const fs::path installed = fs::read_symlink("/proc/self/exe", ec).parent_path().parent_path() / "share" /
                             "goodhart" / "scenarios";
  if (!ec && fs::is_directory(installed, ec)) return installed;
  return GOODHART_SCENARIO_DIR;
}

std::string resolve_scenario_argument(const std::string& argument) {
  std::error_code ec;
  if (argument.empty() || fs::path(argument).is_absolute() || fs::exists(argument, ec)) return argument;
  const fs::path library = scenario_library();
  for (const fs::path& candidate : {library / argument, library / (argument + ".yaml")})
    if (fs::is_regular_file(candidate, ec)) return candidate.string();
  return argument;
}

}  // namespace goodhart
