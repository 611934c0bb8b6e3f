// gaussian.cpp — the gaussian world: a response is a feature vector y in R^d and pi_ref = N(mean, diag(scale^2)),
// the same for every prompt (prompts are independent pools, for standard errors). Offers GaussianReference.
// Contract: draw i of draw_reference is row (seed, stream, a, b0 + i) of sim/numeric/normal_draws.h (float Box-Muller on
// Philox blocks); a comparison's sides are rows (stream, 0, i) and (stream, 1, i); every identity is its row's
// counter, with prompt 0 for any_prompt (every prompt has the same pi_ref).
#include <cmath>

#include "sim/numeric/gaussian_density.h"
#include "sim/numeric/normal_draws.h"
#include "models/worlds/gaussian.h"
#include "models/worlds/registry.h"
#include "sim/scenario/check.h"

namespace goodhart {

namespace {

Eigen::VectorXd broadcast(const std::vector<double>& v, int dim) {
  if (v.size() == 1) return Eigen::VectorXd::Constant(dim, v[0]);
  return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size()));
}

class GaussianWorld final : public World {
 public:
  explicit GaussianWorld(const WorldConfig& cfg) : World(cfg.dim, cfg.prompts) {
    const GaussianWorldConfig& own = cfg.get<GaussianWorldConfig>();
    ref_.mean = broadcast(own.mean, cfg.dim);
    ref_.scale = broadcast(own.scale, cfg.dim);
  }

  const GaussianReference* gaussian() const override { return &ref_; }

  void draw_reference(std::uint64_t seed, int prompt, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                      Eigen::Index count, ResponseDraws& out) const override {
    out.x.resize(count, dim());
    const Eigen::VectorXf mean = ref_.mean.cast<float>(), scale = ref_.scale.cast<float>();
    fill_gaussian_rows(seed, stream, a, b0, static_cast<int>(count), dim(), mean.data(), scale.data(), out.x.data(),
                       out.x.outerStride());
    out.id.resize(static_cast<std::size_t>(count));
    for (Eigen::Index i = 0; i < count; ++i)
      out.id[i] = {prompt == any_prompt ? 0 : prompt, -1, stream, a, b0 + static_cast<std::uint32_t>(i)};
  }

  void draw_pairs(std::uint64_t seed, std::uint32_t stream, Eigen::Index count, ResponseDraws& a,
                  ResponseDraws& b) const override {
    draw_reference(seed, any_prompt, stream, 0, 0, count, a);
    draw_reference(seed, any_prompt, stream, 1, 0, count, b);
  }

  double log_ref(const Response& r) const override {
    return diagonal_gaussian_log_density(r.y, ref_.mean, ref_.scale);
  }

  // -|(y - mean) / scale|^2 / 2: the constant is the same for every response
  void add_log_ref(const ResponseDraws& r, double weight, Eigen::VectorXf& score) const override {
    const Eigen::RowVectorXf mu = ref_.mean.cast<float>().transpose();
    const Eigen::RowVectorXf inv_s = ref_.scale.cast<float>().cwiseInverse().transpose();
    score += static_cast<float>(-0.5 * weight) *
             ((r.x.rowwise() - mu).array().rowwise() * inv_s.array()).square().rowwise().sum().matrix();
  }

 private:
  GaussianReference ref_;
};

ConfigType config_type() {
  using W = GaussianWorldConfig;
  ConfigType t = typed_config_type<W>(
      "world", "gaussian", "a response is a feature vector y in R^d; pi_ref = N(mean, diag(scale^2))",
      {{
          field<W>("mean", &W::mean, "pi_ref mean (one value is used for every dimension)")
              .allowed("1 value or `dim` values"),
          field<W>("scale", &W::scale, "pi_ref standard deviation", positive())
              .allowed("1 or `dim` values, each > 0"),
      }});
  t.validate = [](const void* c, const Scenario& s, const Check& k, const std::string& path) {
    const W& w = *static_cast<const W*>(c);
    k.dims(w.mean.size(), s.world.dim, path + ".mean", false, true);
    k.dims(w.scale.size(), s.world.dim, path + ".scale", false, true);
  };
  return t;
}

const WorldRegistration registered(config_type(),
                                   {"gaussian",
                                    [](const WorldConfig& c) -> std::unique_ptr<const World> {
                                      return std::make_unique<GaussianWorld>(c);
                                    },
                                    [](const WorldConfig&) { return WorldAbilities{0, true}; }});

}  // namespace

}  // namespace goodhart
