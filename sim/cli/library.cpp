// library.cpp — the scenario library's folder and library names as scenario arguments (library.h).
#include "sim/cli/library.h"

#include <cstdlib>

namespace fs = std::filesystem;

namespace goodhart {

fs::path tool_folder() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

fs::path scenario_library() {
  if (const char* env = std::getenv("GOODHART_SCENARIOS"); env && *env) return env;
  const fs::path tool = tool_folder();
  std::error_code ec;
  const fs::path installed = tool.parent_path() / "share" / "goodhart" / "scenarios";
  if (!tool.empty() && fs::is_directory(installed, ec)) return installed;
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
