// proxy.cpp — building, training, standardizing and scoring proxies.
// Contract: see proxy.h.
#include "models/proxy.h"

#include <algorithm>

#include "models/bradley_terry.h"
#include "models/noise.h"
#include "models/odin.h"
#include "models/preferences.h"

namespace goodhart {

RowMatrixXf proxy_inputs(const Proxy& p, const Responses& r) {
  const int visible = static_cast<int>(p.columns.size()), base = p.quadratic ? 2 * visible : visible;
  RowMatrixXf in(r.size(), base + (p.rho > 0.0 ? 1 : 0));
  for (int j = 0; j < visible; ++j) {
    in.col(j) = r.x.col(p.columns[j]);
    if (p.quadratic) in.col(visible + j) = r.x.col(p.columns[j]).array().square();
  }
  if (p.rho > 0.0)
    in.col(base) = static_cast<float>(p.rho) * r.gold +
                      static_cast<float>(std::sqrt(1.0 - p.rho * p.rho)) * r.spurious;
  return in;
}

void Proxy::score(Backend b, const Responses& r, Eigen::Ref<Eigen::VectorXf> out) const {
  if (noisy) {
    out = ((r.gold + static_cast<float>(noise.scale) * r.error).array() - static_cast<float>(shift)) /
          static_cast<float>(scale);
    return;
  }
  if (members.size() == 1) {
    score_mlp(b, members[0], proxy_inputs(*this, r), out);
    return;
  }
  // an ensemble: every member's scores, aggregated per response, then standardized
  Eigen::MatrixXf scores;
  member_scores(b, r, scores);
  const Eigen::ArrayXf mean = scores.rowwise().mean().array();
  Eigen::ArrayXf agg = mean;
  if (aggregate == "min") agg = scores.rowwise().minCoeff().array();
  if (aggregate == "uwo")
    agg = mean - static_cast<float>(uwo_lambda) * (scores.array().colwise() - mean).square().rowwise().mean();
  out = ((agg - static_cast<float>(shift)) / static_cast<float>(scale)).matrix();
}

void Proxy::member_scores(Backend b, const Responses& r, Eigen::MatrixXf& out) const {
  const RowMatrixXf in = proxy_inputs(*this, r);
  out.resize(in.rows(), static_cast<Eigen::Index>(members.size()));
  for (std::size_t m = 0; m < members.size(); ++m) score_mlp(b, members[m], in, out.col(m));
}

double Proxy::score_one(const double* x, double gold, double error, double spurious) const {
  if (noisy) return (gold + noise.scale * error - shift) / scale;
  std::vector<double> in;
  for (int c : columns) in.push_back(x[c]);
  if (quadratic)
    for (int c : columns) in.push_back(x[c] * x[c]);
  if (rho > 0.0) in.push_back(rho * gold + std::sqrt(1.0 - rho * rho) * spurious);
  if (members.size() == 1) return mlp_eval(members[0], in.data());
  std::vector<double> v;
  for (const Mlp& m : members) v.push_back(mlp_eval(m, in.data()));
  double mean = 0.0, var = 0.0;
  for (double x : v) mean += x / v.size();
  for (double x : v) var += (x - mean) * (x - mean) / v.size();
  const double agg = aggregate == "min" ? *std::min_element(v.begin(), v.end())
                     : aggregate == "uwo" ? mean - uwo_lambda * var
                                          : mean;
  return (agg - shift) / scale;
}

bool Proxy::linear_in_features(int dim, Eigen::VectorXd& a, double& c) const {
  if (noisy || quadratic || rho > 0.0 || members.size() != 1 || members[0].layers() != 1) return false;
  a = Eigen::VectorXd::Zero(dim);
  for (std::size_t j = 0; j < columns.size(); ++j) a(columns[j]) = members[0].weights[0](j, 0);
  c = members[0].biases[0](0);
  return true;
}

namespace {

Eigen::MatrixXd as_double(const RowMatrixXf& m) { return m.cast<double>(); }

double accuracy(const Proxy& p, const PreferencePairs& pairs, Backend b) {
  if (pairs.size() == 0) return std::numeric_limits<double>::quiet_NaN();
  Eigen::VectorXf fa(pairs.size()), fb(pairs.size());
  p.score(b, pairs.a, fa);
  p.score(b, pairs.b, fb);
  double correct = 0.0;
  for (Eigen::Index i = 0; i < pairs.size(); ++i)
    correct += fa(i) == fb(i) ? 0.5 : ((fa(i) > fb(i)) == (pairs.label(i) > 0.5) ? 1.0 : 0.0);
  return correct / static_cast<double>(pairs.size());
}

// pi_ref responses and their weights: every candidate with its pi_ref probability (over uniform prompts), or
// `samples` Monte Carlo draws of equal weight
void reference_sample(const Proxy& p, const World& world, const Gold& gold, Backend b, std::uint64_t seed,
                      int samples, Responses& r, Eigen::VectorXd& w) {
  const Candidates* c = world.candidates();
  if (c)
    all_candidates(world, gold, p.needs(), b, seed, r);
  else
    draw_reference_responses(world, gold, p.needs(), b, seed, World::any_prompt, stream_id(Stream::standardize), 0,
                             0, samples, r);
  w = Eigen::VectorXd::Constant(r.size(), 1.0 / static_cast<double>(r.size()));
  if (c)
    for (int q = 0; q < world.prompts(); ++q)
      for (int k = 0; k < c->count; ++k) w(q * c->count + k) = std::exp(c->log_ref(q, k)) / world.prompts();
}

// mean and variance under pi_ref of a proxy (or of the gold, when gold_only): exact over candidates or Monte Carlo
void reference_moments(const Proxy& p, bool gold_only, const World& world, const Gold& gold, Backend b,
                       std::uint64_t seed, int samples, double& mean, double& var) {
  Responses r;
  Eigen::VectorXd w;
  reference_sample(p, world, gold, b, seed, samples, r, w);
  Eigen::VectorXf f(r.size());
  if (gold_only)
    f = r.gold;
  else
    p.score(b, r, f);
  const Eigen::VectorXd fd = f.cast<double>();
  mean = w.dot(fd);
  var = w.dot(fd.cwiseProduct(fd)) - mean * mean;
}

// each member to mean 0, variance 1 under pi_ref (closed form for a linear proxy under a gaussian pi_ref, else exact
// sums or Monte Carlo), then an ensemble's aggregate
void standardize_members(Proxy& p, const EvalConfig& eval, const World& world, const Gold& gold, Backend backend,
                         std::uint64_t seed) {
  for (Mlp& member : p.members) {
    Proxy single = p;
    single.members = {member};
    double mean = 0.0, var = 1.0, c = 0.0;
    Eigen::VectorXd a;
    const GaussianReference* ref = world.gaussian();
    if (ref && single.linear_in_features(world.dim(), a, c)) {
      mean = a.dot(ref->mean) + c;
      var = (a.array().square() * ref->scale.array().square()).sum();
    } else {
      reference_moments(single, false, world, gold, backend, seed, eval.standardize_samples, mean, var);
    }
    standardize_output(member, mean, var > 1e-300 ? std::sqrt(var) : 1.0);
  }
  if (p.members.size() > 1) {
    double mean = 0.0, var = 1.0;
    reference_moments(p, false, world, gold, backend, seed, eval.standardize_samples, mean, var);
    p.shift = mean;
    p.scale = var > 1e-300 ? std::sqrt(var) : 1.0;
  }
}

}  // namespace

double reference_correlation(const Proxy& p, int feature, const EvalConfig& eval, const World& world,
                             const Gold& gold, Backend backend, std::uint64_t seed) {
  Eigen::VectorXd a;
  double c = 0.0;
  const GaussianReference* ref = world.gaussian();
  if (ref && p.linear_in_features(world.dim(), a, c)) {
    const Eigen::ArrayXd spread = a.array() * ref->scale.array();
    const double sd = std::sqrt(spread.square().sum());
    return sd > 0.0 ? spread(feature) / sd : std::numeric_limits<double>::quiet_NaN();
  }
  Responses r;
  Eigen::VectorXd w;
  reference_sample(p, world, gold, backend, seed, eval.standardize_samples, r, w);
  Eigen::VectorXf f(r.size());
  p.score(backend, r, f);
  const Eigen::ArrayXd v = f.cast<double>().array(), b = r.x.col(feature).cast<double>().array();
  const Eigen::ArrayXd vc = v - (w.array() * v).sum(), bc = b - (w.array() * b).sum();
  const double svv = (w.array() * vc.square()).sum(), sbb = (w.array() * bc.square()).sum();
  return svv > 0.0 && sbb > 0.0 ? (w.array() * vc * bc).sum() / std::sqrt(svv * sbb)
                                : std::numeric_limits<double>::quiet_NaN();
}

std::vector<Eigen::Index> member_pair_rows(Eigen::Index shared, Eigen::Index own, int member) {
  std::vector<Eigen::Index> rows(static_cast<std::size_t>(shared + own));
  for (Eigen::Index i = 0; i < shared; ++i) rows[i] = i;
  for (Eigen::Index i = 0; i < own; ++i) rows[shared + i] = shared + member * own + i;
  return rows;
}

Mlp average_weights(const std::vector<Mlp>& members) {
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(parameter_count(members.at(0)));
  for (const Mlp& m : members) mean += pack_parameters(m);
  mean /= static_cast<double>(members.size());
  Mlp out = members[0];
  unpack_parameters(mean, out);
  return out;
}

Proxy make_proxy(const ProxyConfig& cfg, const PreferenceConfig& prefs, const EvalConfig& eval, const World& world,
                 const Gold& gold, bool gold_standardized, Backend backend, std::uint64_t seed, ProxyData data) {
  Proxy p;
  if (cfg.type == "noisy") {
    // the error is independent of gold: proxy moments are gold's (mean 0 and variance 1, or 0 for a constant gold,
    // when gold is standardized) plus the error's
    p.noisy = true;
    p.noise = cfg.noise;
    if (cfg.standardize) {
      double gold_mean = 0.0, gold_var = gold.variance;
      if (!gold_standardized)
        reference_moments(p, true, world, gold, backend, seed, eval.standardize_samples, gold_mean, gold_var);
      const ErrorMoments m = error_moments(cfg.noise);
      p.shift = gold_mean + cfg.noise.scale * (m.finite_mean ? m.mean : m.median);
      p.scale = m.finite_variance ? std::sqrt(gold_var + cfg.noise.scale * cfg.noise.scale * m.variance) : 1.0;
    }
    return p;
  }
  if (cfg.type == "scored") {
    // columns of the world's score file, each a member (one-hot linear), aggregated as an ensemble's
    for (int j = 0; j < world.dim(); ++j) p.columns.push_back(j);
    for (const std::string& name : cfg.columns)
      p.members.push_back(score_column_reader(world, name, "proxy.columns"));
    p.aggregate = cfg.aggregate;
    p.uwo_lambda = cfg.uwo_lambda;
    if (cfg.standardize) standardize_members(p, eval, world, gold, backend, seed);
    const PreferencePairs heldout = make_preference_pairs(prefs, world, gold, p.needs(), backend, seed,
                                                          prefs.heldout_pairs, Stream::heldout_pairs,
                                                          Stream::heldout_labels);
    p.heldout_accuracy = accuracy(p, heldout, backend);
    return p;
  }
  // learned: visible columns, data, fit, held-out accuracy, standardization
  for (int j = 0; j < world.dim(); ++j) p.columns.push_back(j);
  if (!cfg.features.empty()) p.columns = cfg.features;
  p.rho = cfg.spurious_correlation;
  p.quadratic = cfg.model == "quadratic";
  const int inputs = static_cast<int>(p.columns.size()) * (p.quadratic ? 2 : 1) + (p.rho > 0.0 ? 1 : 0);
  const std::vector<int> hidden = cfg.model == "mlp" ? cfg.hidden : std::vector<int>{};
  p.aggregate = cfg.aggregate;
  p.uwo_lambda = cfg.uwo_lambda;

  // the pairs it is fitted to and those it is checked on: training and held-out, swapped for a validation RM
  const bool validation = data == ProxyData::heldout;
  const int offset = validation ? validation_member_offset : 0;
  const Eigen::Index fit_count = validation ? prefs.heldout_pairs : prefs.n_pairs;
  const Eigen::Index check_count = validation ? prefs.n_pairs : prefs.heldout_pairs;
  const Stream fit_pairs = validation ? Stream::heldout_pairs : Stream::preference_pairs;
  const Stream fit_labels = validation ? Stream::heldout_labels : Stream::preference_labels;
  const Stream check_pairs = validation ? Stream::preference_pairs : Stream::heldout_pairs;
  const Stream check_labels = validation ? Stream::preference_labels : Stream::heldout_labels;

  // the pairs: shared_pairs of fit_count shared by every member, then each member's own rest, member by member
  const int k = cfg.ensemble_members;
  const Eigen::Index shared = std::llround(cfg.shared_pairs * static_cast<double>(fit_count)),
                     own = fit_count - shared;
  const PreferencePairs train = make_preference_pairs(prefs, world, gold, p.needs(), backend, seed, shared + k * own,
                                                      fit_pairs, fit_labels);
  const Eigen::MatrixXd xa = as_double(proxy_inputs(p, train.a)), xb = as_double(proxy_inputs(p, train.b));
  // odin: the bias feature's values, which its bias head takes up (whether or not the proxy sees the feature)
  Eigen::VectorXd bias_a, bias_b;
  if (cfg.disentangle == "odin") {
    bias_a = train.a.x.col(cfg.bias_feature).cast<double>();
    bias_b = train.b.x.col(cfg.bias_feature).cast<double>();
  }
  const Activation activation = parse_activation(cfg.activation);
  // each member: its own initialization (or one shared draw) and batch order; with bootstrap, its own resample
  for (int m = 0; m < k; ++m) {
    const int key = m + offset;
    CounterRng init(seed, Stream::proxy_init, cfg.ensemble_init == "shared" ? offset : key);
    Mlp f = make_random_mlp(inputs, hidden, activation, init);
    const std::uint64_t member_seed = seed ^ (static_cast<std::uint64_t>(key) << 48);
    std::vector<Eigen::Index> rows = member_pair_rows(shared, own, m);
    if (k > 1 && cfg.ensemble_method == "bootstrap") {
      // resample the member's pairs with replacement (draws keyed past any epoch index of the batch stream)
      const std::vector<Eigen::Index> data = rows;
      CounterRng rng(seed, Stream::proxy_batches, 1000000u + static_cast<std::uint32_t>(key));
      const Eigen::Index n = static_cast<Eigen::Index>(data.size());
      for (auto& r : rows) r = data[std::min<Eigen::Index>(n - 1, static_cast<Eigen::Index>(rng.uniform() * n))];
    }
    if (cfg.disentangle == "odin")
      f = fit_odin(cfg, xa(rows, Eigen::all), xb(rows, Eigen::all), train.label(rows), bias_a(rows), bias_b(rows),
                   member_seed, f, init);
    else if (own == 0 && !(k > 1 && cfg.ensemble_method == "bootstrap"))
      fit_bradley_terry(cfg, xa, xb, train.label, member_seed, f);  // every pair, in order: no copy
    else
      fit_bradley_terry(cfg, xa(rows, Eigen::all), xb(rows, Eigen::all), train.label(rows), member_seed, f);
    p.members.push_back(std::move(f));
  }
  if (cfg.aggregate == "weights") p.members = {average_weights(p.members)};
  const PreferencePairs heldout = make_preference_pairs(prefs, world, gold, p.needs(), backend, seed, check_count,
                                                        check_pairs, check_labels);
  if (cfg.standardize) standardize_members(p, eval, world, gold, backend, seed);
  p.heldout_accuracy = accuracy(p, heldout, backend);
  return p;
}

}  // namespace goodhart
