// kl_audit_run.cpp — `goodhart audit-kl` (kl_audit_run.h): the point chosen, its models built as a run builds them,
// the audit's rows as CSV.
#include "sim/engine/kl_audit_run.h"

#include <stdexcept>

#include "models/worlds/registry.h"
#include "sim/engine/run.h"
#include "sim/optimizers/kl_audit.h"
#include "sim/scenario/scenario.h"

namespace goodhart {

namespace {

// where the scenario gave the first of `keys`, else its file's start
std::string where(const RunSpec& spec, const std::string& scenario_path, const std::vector<std::string>& keys) {
  for (const std::string& key : keys)
    if (const auto at = spec.given.find(key); at != spec.given.end()) return at->second;
  return scenario_path + ":1:1";
}

// the scenario's optimizer types, quoted and comma-separated
std::string optimizer_types(const Scenario& s) {
  std::string out;
  for (const auto& o : s.optimizers) out += (out.empty() ? "'" : ", '") + o.type + "'";
  return out;
}

}  // namespace

CsvTable kl_audit_table(const std::string& scenario_path, const std::vector<std::string>& overrides,
                        const KlAuditOptions& options) {
  const std::vector<RunSpec> points = expand_sweep(scenario_path, overrides);
  if (options.point < 0 && points.size() > 1)
    throw std::invalid_argument("audit-kl: the scenario has " + std::to_string(points.size()) +
                                " points; choose one with --point K (goodhart validate --list-points)");
  if (options.point >= static_cast<int>(points.size()))
    throw std::invalid_argument("audit-kl: --point " + std::to_string(options.point) + ", but the scenario has " +
                                std::to_string(points.size()) + " point" + (points.size() == 1 ? "" : "s"));
  const RunSpec& spec = points[static_cast<std::size_t>(std::max(options.point, 0))];
  const Scenario& s = spec.config;
  std::size_t j = 0;
  while (j < s.optimizers.size() && s.optimizers[j].type != "policy_gradient") ++j;
  if (j == s.optimizers.size())
    throw ScenarioError(where(spec, scenario_path, {"optimizer.type", "optimizers", "optimizer"}), "optimizer.type",
                        "a policy_gradient optimizer (audit-kl audits the KL penalty of the first one), got " +
                            optimizer_types(s));
  const PolicyGradientConfig& opt = s.optimizers[j].get<PolicyGradientConfig>();
  if (world_abilities(s.world).candidates == 0)
    throw ScenarioError(where(spec, scenario_path, {"world.type", "world"}), "world.type",
                        "categorical or scored (audit-kl enumerates every response of a world with candidates), got '" +
                            s.world.type + "'");
  const PointModels models = build_models(spec, Backend::cpu);
  const ResponseTable table = candidate_table(*models.world, models.gold, models.proxy, Backend::cpu, s.seed);
  const int m = options.off_policy_steps > 0 ? options.off_policy_steps : default_off_policy_steps(opt);
  CsvTable out;
  out.header = {"step",       "off_policy_steps", "estimator",     "kl_in",         "correction",
                "kl",         "kl_reverse",       "kl_estimated",  "grad_kl_norm",  "expected_grad_norm",
                "cos_kl",     "rel_err_kl",       "cos_objective", "rel_err_objective", "variance_per_sample",
                "descends"};
  for (const KlAuditRow& r : audit_kl(opt, *models.world, table, m))
    out.rows.push_back({std::to_string(r.step), std::to_string(r.off_policy_steps), r.estimator, r.kl_in,
                        r.correction, format_double(r.kl), format_double(r.kl_reverse),
                        format_double(r.kl_estimated), format_double(r.grad_kl_norm),
                        format_double(r.expected_grad_norm), format_double(r.cos_kl), format_double(r.rel_err_kl),
                        format_double(r.cos_objective), format_double(r.rel_err_objective),
                        format_double(r.variance_per_sample), r.descends});
  return out;
}

std::filesystem::path run_kl_audit(const std::string& scenario_path, const std::vector<std::string>& overrides,
                                   const KlAuditOptions& options) {
  const CsvTable table = kl_audit_table(scenario_path, overrides, options);  // every error before any write
  const FolderLock lock(options.dir, true, "goodhart audit-kl " + scenario_path);
  const std::filesystem::path file = options.dir / "kl_audit.csv";
  write_file_atomic(file, table.str());
  return file;
}

}  // namespace goodhart
