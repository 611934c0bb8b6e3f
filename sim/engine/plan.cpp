// plan.cpp — the estimates behind `goodhart plan`.
// Contract: see plan.h; each optimizer's share comes from its registration (registry.h). The per-response cost is
// a round figure measured on a 2-core x86-64 machine.
#include "sim/engine/plan.h"

#include <algorithm>
#include <cmath>
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


int sum_of(const std::vector<int>& widths) {
  double total = 0.0;
  for (int h : widths) total += h;
  return static_cast<int>(std::min(total, 1e9));
}

// bytes of an mlp's weights over d inputs (double precision, with its gradient and optimizer state)
double mlp_weight_bytes(int d, const std::vector<int>& hidden) { return 4.0 * 8.0 * mlp_flops(d, hidden) / 2.0; }

// the training pairs a learned proxy draws: the shared ones once, each member's own rest (models/proxy.h)
double drawn_training_pairs(const Scenario& s) {
  const double n = s.preferences.n_pairs;
  if (s.proxy.type != "learned") return n;
  const double shared = std::round(s.proxy.shared_pairs * n);
  return shared + s.proxy.ensemble_members * (n - shared);
}

// the stage of a point that holds the most memory at once, besides the optimizers: standardizing gold (and the
// reference gold of win rates), drawing and fitting the preference pairs, or the RM's accuracy pairs. Per-element
// costs are measured (bench: /usr/bin/time on 1e6-element runs, d = 8 and 32) and rounded up.
PlanEstimate largest_stage(const Scenario& s) {
  const double d = s.world.dim;
  const std::vector<int> none;
  const std::vector<int>& gold_hidden = s.gold.type == "mlp" ? s.gold.hidden : none;
  const bool learned = s.proxy.type == "learned";
  const std::vector<int>& proxy_hidden = learned && s.proxy.model == "mlp" ? s.proxy.hidden : none;
  const double proxy_inputs = learned && s.proxy.model == "quadratic" ? 2.0 * d : d;
  // a response: its features and values (doubles where they are computed), the gold mlp's activations while scored
  const double response = 16.0 * d + 64.0 + 8.0 * sum_of(gold_hidden);
  const double weights = mlp_weight_bytes(s.world.dim, gold_hidden) + mlp_weight_bytes(s.world.dim, proxy_hidden);
  // a training pair: two responses, the fit's design rows (lbfgs: the full batch in double, with the mlp's
  // activations and their gradients), a resample index per ensemble member
  const bool full_batch = learned && s.proxy.optimizer == "lbfgs";
  const double members = learned ? s.proxy.ensemble_members : 0.0;
  const double pair = 2.0 * response + (full_batch ? 48.0 * proxy_inputs + 64.0 * sum_of(proxy_hidden) : 0.0) +
                      8.0 * members;
  struct Stage {
    double bytes;
    const char* keys;
  };
  const Stage stages[] = {
      {response * s.eval.standardize_samples, "eval.standardize_samples"},
      {pair * (drawn_training_pairs(s) + s.preferences.heldout_pairs),
       full_batch && !proxy_hidden.empty() ? "preferences.n_pairs, preferences.heldout_pairs, proxy.hidden"
                                           : "preferences.n_pairs, preferences.heldout_pairs"},
      {2.0 * response * s.eval.accuracy_pairs, "eval.accuracy_pairs"},
  };
  PlanEstimate e;
  for (const Stage& st : stages)
    if (st.bytes > e.bytes) e = {st.bytes, 0.0, 0.0, st.keys};
  e.bytes += weights;
  if (!gold_hidden.empty() && weights > e.bytes / 2) e.sized_by = "gold.hidden";
  return e;
}

}  // namespace

std::string human_seconds(double seconds) {
  char buf[32];
  if (seconds < 1.0) return "under 1 s";
  if (seconds < 120.0) std::snprintf(buf, sizeof buf, "about %.0f s", seconds);
  else if (seconds < 7200.0) std::snprintf(buf, sizeof buf, "about %.0f min", seconds / 60.0);
  else std::snprintf(buf, sizeof buf, "about %.1f h", seconds / 3600.0);
  return buf;
}

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
  PlanEstimate e = largest_stage(s);
  double parallel_responses = 0.0;
  const double table = P * world_abilities(w).candidates * (d + 8) * 4.0;  // the candidate table, where there is one
  if (table > e.bytes) e.bytes = table, e.sized_by = "world.prompts, world.candidates";
  for (const OptimizerConfig& o : s.optimizers) {
    const OptimizerCost c = optimizer_type(o.type).cost(o, s, threads);
    if (c.bytes > e.bytes) e.bytes = c.bytes, e.sized_by = c.sized_by;
    e.seconds += c.seconds;
    parallel_responses += c.parallel_responses;
  }
  const double serial_responses = 2.0 * (drawn_training_pairs(s) + s.preferences.heldout_pairs) +
                                  2.0 * s.eval.standardize_samples + 2.0 * s.eval.accuracy_pairs;
  const double training = s.proxy.type == "learned"
                              ? 6.0 * s.proxy.epochs * s.preferences.n_pairs * s.proxy.ensemble_members *
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
  std::snprintf(line, sizeof line, "total: %zu points, peak memory %s, %.3g responses, %s on %d threads "
                "(rough estimate)\n", points.size(), human_bytes(total.bytes).c_str(), total.responses,
                human_seconds(total.seconds).c_str(), threads);
  out << line;
  if (available > 0)
    out << "memory available: " << human_bytes(available)
        << (total.bytes > available ? "; goodhart run refuses this sweep unless --force\n" : "; the sweep fits\n");
  return total;
}

}  // namespace goodhart
