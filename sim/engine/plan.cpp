// plan.cpp — the estimates behind `goodhart plan`.
// Contract: see plan.h; each optimizer's share comes from its registration (registry.h). The per-response cost is
// a round figure measured on a 2-core x86-64 machine.
#include "sim/engine/plan.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <ostream>

#include "models/worlds/registry.h"
#include "sim/optimizers/registry.h"

namespace goodhart {

namespace {

// flops to score one response with an mlp of these widths over d inputs
double mlp_flops(int d, const std::vector<int>& hidden) {
  double flops = 0.0;
  int in = d;
  for (int h : hidden) {
    flops += 2.0 * in * h;
    in = h;
  }
  return flops + 2.0 * in;
}


}  // namespace

std::string human_bytes(double b) {
  char buf[32];
  const char* unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024.0 && u < 4) b /= 1024.0, ++u;
  std::snprintf(buf, sizeof buf, "%.1f %s", b, unit[u]);
  return buf;
}

// MemAvailable from /proc/meminfo, in bytes (0 when unknown)
double available_memory() {
  std::ifstream in("/proc/meminfo");
  for (std::string key; in >> key;) {
    double kib = 0;
    in >> kib;
    if (key == "MemAvailable:") return kib * 1024.0;
    in.ignore(1 << 10, '\n');
  }
  return 0.0;
}

PlanEstimate estimate_point(const Scenario& s, int threads) {
  const WorldConfig& w = s.world;
  const double d = w.dim, P = w.prompts;
  const double per_response = 10e-9 * d + 1e-9 * (mlp_flops(w.dim, s.gold.type == "mlp" ? s.gold.hidden
                                                                                          : std::vector<int>{}) +
                                                  mlp_flops(w.dim, s.proxy.model == "mlp" ? s.proxy.hidden
                                                                                          : std::vector<int>{}));
  PlanEstimate e;
  double parallel_responses = 0.0;
  e.bytes += P * world_abilities(w).candidates * (d + 8) * 4.0;  // the candidate table, where there is one
  for (const OptimizerConfig& o : s.optimizers) {
    const OptimizerCost c = optimizer_type(o.type).cost(o, s, threads);
    e.bytes = std::max(e.bytes, c.bytes);
    e.seconds += c.seconds;
    parallel_responses += c.parallel_responses;
  }
  const double serial_responses = 2.0 * (s.preferences.n_pairs + s.preferences.heldout_pairs) +
                                  2.0 * s.eval.standardize_samples + 2.0 * s.eval.accuracy_pairs;
  const double training = s.proxy.type == "learned"
                              ? 6.0 * s.proxy.epochs * s.preferences.n_pairs *
                                    mlp_flops(w.dim, s.proxy.model == "mlp" ? s.proxy.hidden : std::vector<int>{}) *
                                    1e-9
                              : 0.0;
  e.responses = parallel_responses + serial_responses;
  e.seconds += parallel_responses * per_response / threads + serial_responses * per_response + training;
  return e;
}

PlanEstimate print_plan(const std::vector<RunSpec>& points, int threads, std::ostream& out) {
  PlanEstimate total;
  const double available = available_memory();
  out << "point  point_id          memory      responses   seconds  swept\n";
  for (const RunSpec& p : points) {
    const PlanEstimate e = estimate_point(p.config, threads);
    char line[160];
    std::snprintf(line, sizeof line, "%5d  %s  %10s  %10.3g  %8.2f  ", p.index, p.point_id.c_str(),
                  human_bytes(e.bytes).c_str(), e.responses, e.seconds);
    out << line;
    for (const auto& [k, v] : p.swept) out << k << "=" << v << " ";
    if (available > 0 && e.bytes > available) out << " <- exceeds the memory available";
    out << "\n";
    total.bytes = std::max(total.bytes, e.bytes);
    total.responses += e.responses;
    total.seconds += e.seconds;
  }
  char line[160];
  std::snprintf(line, sizeof line, "total: %zu points, peak memory %s, %.3g responses, about %.0f s on %d threads "
                "(rough estimate)\n", points.size(), human_bytes(total.bytes).c_str(), total.responses,
                total.seconds, threads);
  out << line;
  if (available > 0)
    out << "memory available: " << human_bytes(available)
        << (total.bytes > available ? "; goodhart run refuses this sweep unless --force\n" : "; the sweep fits\n");
  return total;
}

}  // namespace goodhart
