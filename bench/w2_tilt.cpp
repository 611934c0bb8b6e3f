// w2_tilt.cpp — BENCHMARKS.md's W2 (tilt-sweep) on the engine: P prompts of K = 4096 candidates with reference
// log-probs, proxy and gold; for B = 64 betas log-spaced over [1e-2, 10] the exact optimum
// pi_b ∝ pi_ref exp(proxy / b) through tilt_sweep, and per beta the mean over prompts of E[proxy], E[gold] and
// KL(pi_b || pi_ref).
// Contract: inputs from opts.seed only, one CounterRng per prompt and array: reference logits z ~ N(0, 1)
// (world_logits stream), normalized by log-sum-exp in double; proxy ~ N(0, 1) (pool stream); gold =
// 0.8 proxy + 0.6 N(0, 1) (the pool stream's error offset). The timed region is the tilt_sweep call and the
// means over prompts; results agree with the peers' within float32 rounding (they load the dumped arrays).
#include <cmath>

#include "bench/workloads.h"

namespace goodhart::bench {

namespace {

constexpr int candidates = 4096, beta_count = 64;

struct W2Inputs {
  RowMatrixXf log_ref, proxy, gold;
  std::vector<double> betas;
};

W2Inputs make_inputs(int P, std::uint64_t seed) {
  W2Inputs in;
  const int K = candidates;
  in.log_ref.resize(P, K);
  in.proxy.resize(P, K);
  in.gold.resize(P, K);
  const std::uint32_t error_stream = stream_id(Stream::pool) + stream_id(Stream::error_offset);
#pragma omp parallel for schedule(static)
  for (int p = 0; p < P; ++p) {
    CounterRng logit_rng(seed, Stream::world_logits, p), proxy_rng(seed, Stream::pool, p),
        error_rng(seed, error_stream, p);
    Eigen::ArrayXd z(K);
    for (int k = 0; k < K; ++k) {
      z(k) = logit_rng.normal();
      const double f = proxy_rng.normal();
      in.proxy(p, k) = static_cast<float>(f);
      in.gold(p, k) = static_cast<float>(0.8 * f + 0.6 * error_rng.normal());
    }
    const double m = z.maxCoeff();
    in.log_ref.row(p) = (z - (m + std::log((z - m).exp().sum()))).cast<float>().matrix().transpose();
  }
  for (int b = 0; b < beta_count; ++b) in.betas.push_back(std::pow(10.0, -2.0 + 3.0 * b / (beta_count - 1)));
  return in;
}

}  // namespace

WorkloadReport run_w2(const WorkloadOptions& opts) {
  const int P = scaled_prompts(16384, opts.scale), K = candidates, B = beta_count;
  const W2Inputs in = make_inputs(P, opts.seed);
  if (!opts.dump_inputs.empty()) {
    const auto dir =
        open_dump(opts, {{"workload", "w2"}, {"P", P}, {"K", K}, {"B", B}, {"seed", opts.seed}});
    write_npy(dir / "log_ref.npy", in.log_ref.data(), {P, K});
    write_npy(dir / "proxy.npy", in.proxy.data(), {P, K});
    write_npy(dir / "gold.npy", in.gold.data(), {P, K});
    write_npy(dir / "betas.npy", in.betas.data(), {B});
  }
  std::vector<double> kl(B), proxy(B), gold(B);
  TiltResult out;  // its buffer allocated once, not in every timed run
  const auto run = [&] {
    tilt_sweep(opts.backend, {&in.log_ref, &in.proxy, {&in.proxy, &in.gold}}, in.betas, out);
    for (int b = 0; b < B; ++b) {
      double k = 0, f = 0, g = 0;
      for (int p = 0; p < P; ++p) {
        k += out.at(p, b, tilt_kl);
        f += out.at(p, b, tilt_first_value);
        g += out.at(p, b, tilt_first_value + 1);
      }
      kl[b] = k / P;
      proxy[b] = f / P;
      gold[b] = g / P;
    }
  };
  WorkloadReport r;
  r.seconds = time_repeats(opts, run);
  r.unit = "entry-betas/s";
  r.items = static_cast<double>(P) * K * B;
  r.limit = cpu_limit(opts, "Eigen's vectorized float exp/s measured on all threads (one exp per entry-beta)",
                      measured_exp_rate);
  r.sizes = {{"P", P}, {"K", K}, {"B", B}};
  r.results = {{"beta", in.betas}, {"proxy", proxy}, {"gold", gold}, {"kl", kl}};
  return r;
}

}  // namespace goodhart::bench
