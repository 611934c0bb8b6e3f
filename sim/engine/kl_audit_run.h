// kl_audit_run.h — `goodhart audit-kl`: one point of a scenario, its first policy_gradient optimizer audited by
// audit_kl (sim/optimizers/kl_audit.h), written as kl_audit.csv into the folder the user chose.
// Contract: a scenario the audit cannot take (no policy_gradient optimizer, a world without candidates, a
// mean_shift policy, several points and no --point) is a ScenarioError or std::invalid_argument naming the key,
// raised before anything is written; the file is written atomically (files.h) under the folder's exclusive lock.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sim/io/files.h"

namespace goodhart {

struct KlAuditOptions {
  std::filesystem::path dir;  // the output folder
  int point = -1;             // the sweep point (-1: the scenario's only one)
  int off_policy_steps = 0;   // 0: default_off_policy_steps of the optimizer
};

// the audit's table (kl_audit.csv's cells)
CsvTable kl_audit_table(const std::string& scenario_path, const std::vector<std::string>& overrides,
                        const KlAuditOptions& options);

// kl_audit_table, written to options.dir / "kl_audit.csv"; returns its path
std::filesystem::path run_kl_audit(const std::string& scenario_path, const std::vector<std::string>& overrides,
                                   const KlAuditOptions& options);

}  // namespace goodhart
