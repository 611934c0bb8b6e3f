// library.h — where the command line finds the scenario library, and a scenario argument that names a library
// scenario (`goodhart run gao_bon_learned`) rather than a file.
#pragma once

#include <filesystem>
#include <string>

namespace goodhart {

// the folder of the running tool's binary (empty if unknown)
std::filesystem::path tool_folder();

// $GOODHART_SCENARIOS when set; else the installed copy beside the tool (<bin>/../share/goodhart/scenarios, where
// the Python package puts it); else the source tree the tool was built from
std::filesystem::path scenario_library();

// `argument` when it is a path that exists or an absolute one; else the library's <argument> or <argument>.yaml
// when there is one (`gao_bon_learned`, `tiny/frontier.yaml`); else `argument` (loading it reports the missing file)
std::string resolve_scenario_argument(const std::string& argument);

}  // namespace goodhart
