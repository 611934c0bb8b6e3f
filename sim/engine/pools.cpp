// pools.cpp — writing a point's scored responses in the layout a scored world reads.
// Contract: see pools.h.
#include "sim/engine/pools.h"

#include "sim/optimizers/best_of_n.h"

namespace goodhart {

namespace {

// one row per response of r: ids, proxy (and members), gold, log pi_ref, features
void add_rows(const Proxy& proxy, const World& world, const Responses& r, const Eigen::VectorXf& score, int prompt,
              bool features, Backend backend, CsvTable& out) {
  Eigen::MatrixXf members;
  if (proxy.members.size() > 1) proxy.member_scores(backend, r, members);
  for (Eigen::Index i = 0; i < r.size(); ++i) {
    std::vector<std::string> row = {std::to_string(prompt), std::to_string(i), format_float(score(i))};
    for (Eigen::Index m = 0; m < members.cols(); ++m) row.push_back(format_float(members(i, m)));
    row.push_back(format_float(r.gold(i)));
    const Response one{prompt, r.id[static_cast<std::size_t>(i)].candidate, r.x.row(i).cast<double>().transpose()};
    row.push_back(format_double(world.log_ref(one)));
    if (features)
      for (Eigen::Index j = 0; j < r.x.cols(); ++j) row.push_back(format_float(r.x(i, j)));
    out.rows.push_back(std::move(row));
  }
}

}  // namespace

CsvTable export_pools(const RunSpec& spec, Backend backend, bool features) {
  const Scenario& cfg = spec.config;
  const OptimizerConfig* bon = nullptr;
  for (const OptimizerConfig& o : cfg.optimizers)
    if (!bon && o.type == "best_of_n") bon = &o;
  const PointModels m = build_models(spec, backend);
  const World& world = *m.world;
  const Candidates* candidates = world.candidates();
  if (!candidates && !bon)
    throw std::invalid_argument("export-pools: the scenario needs a best_of_n optimizer (in a world without "
                                "candidates the pools exported are the ones it draws)");
  CsvTable out;
  out.header = {"prompt_id", "response_id", "proxy"};
  if (m.proxy.members.size() > 1)
    for (std::size_t k = 0; k < m.proxy.members.size(); ++k) {
      std::string name = "proxy_";  // appended, not "proxy_" + ...: GCC 12 warns falsely (-Wrestrict) on that
      name += std::to_string(k);
      out.header.push_back(std::move(name));
    }
  out.header.insert(out.header.end(), {"gold", "log_ref"});
  for (int j = 0; features && j < world.dim(); ++j) {
    std::string name(1, 'x');  // see proxy_ above
    name += std::to_string(j);
    out.header.push_back(std::move(name));
  }
  const std::vector<float> no_reference;
  const OptimizerContext ctx{cfg, world, m.gold, m.proxy, backend, cfg.seed, no_reference, nullptr, nullptr};
  Responses all;  // a world with candidates: every one, row p*K + k
  if (candidates) all_candidates(world, m.gold, m.proxy.needs(), backend, cfg.seed, all);
  for (int p = 0; p < world.prompts(); ++p) {
    Responses r;
    Eigen::VectorXf score;
    if (candidates) {
      const Eigen::Index K = candidates->count, first = static_cast<Eigen::Index>(p) * K;
      r.x = all.x.middleRows(first, K);
      r.id.assign(all.id.begin() + first, all.id.begin() + first + K);
      r.gold = all.gold.segment(first, K);
      if (all.error.size()) r.error = all.error.segment(first, K);
      if (all.spurious.size()) r.spurious = all.spurious.segment(first, K);
      score.resize(K);
      m.proxy.score(backend, r, score);
    } else {
      draw_bon_pool(bon->get<BestOfNConfig>(), ctx, p, r, score);
    }
    add_rows(m.proxy, world, r, score, p, features, backend, out);
  }
  return out;
}

}  // namespace goodhart
