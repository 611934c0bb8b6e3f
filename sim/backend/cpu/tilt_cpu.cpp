// tilt_cpu.cpp — fast exact tilt over all prompts and betas: one prompt per OpenMP task, each result written to its
// own slot; per beta two passes over the prompt's arrays (cache-resident) in SIMD packets (Eigen's packet math,
// whatever the ISA: explicit packets because Eigen 3.4 evaluates select() one scalar at a time):
//   pass 1  M = max_k t_k, t = log_ref + c / beta, c = proxy - max proxy <= 0 (no overflow for any beta)
//   pass 2  one exp per entry, e_k = exp(t_k - M) (0 where t_k - M < -87, also for a -inf log_ref), and every sum at
//           once: Z = sum e, sum e c, sum e u (u = t - M), sum e^2, sum e v_j — float packets over blocks of 256
//           entries, then double.
// Then log pi - log pi_ref = c / beta - M - log Z, so KL = E[c] / beta - M - log Z; entropy = log Z - E[u];
// ess = Z^2 / sum e^2; E[v_j] = sum e v_j / Z. KL and entropy carry a float error of ~1e-7 (1 + |M|); where that
// would exceed ~1e-4 of the KL (large beta: small KL; tiny beta with pi_ref's mass far from the proxy's maximum:
// |t| ~ 1e6) they are recomputed in double against the renormalized pi_ref.
// Contract: same outputs as tilt_sweep_ref within float rounding (relative ~1e-5); identical at any thread count
// (no cross-thread sums).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "sim/backend/ops.h"

namespace goodhart {

namespace {

namespace ei = Eigen::internal;
using Packet = ei::packet_traits<float>::type;
constexpr int lanes = ei::packet_traits<float>::size;
constexpr int block = 256;  // entries summed in float before the double sums

// KL(pi_beta || pi_ref) and the entropy of pi_beta in double, pi_ref renormalized (float log_ref sums to 1 only
// within ~1e-7); 0 log 0 = 0, also where log_ref is -inf
void kl_entropy_double(const Eigen::Map<const Eigen::ArrayXf>& lr, const Eigen::Map<const Eigen::ArrayXf>& centered,
                       double beta, double& kl, double& entropy) {
  const Eigen::ArrayXd l = lr.cast<double>(), s = centered.cast<double>() / beta, t = l + s;
  const double lmax = l.maxCoeff(), log_ref_sum = lmax + std::log((l - lmax).exp().sum());
  const double tmax = t.maxCoeff(), log_z = tmax + std::log((t - tmax).exp().sum());
  // the exp outside select() (which Eigen evaluates one scalar at a time), then 0 where std::exp would underflow
  const Eigen::ArrayXd x = t - log_z;
  Eigen::ArrayXd pi = x.max(-708.0).exp();
  pi = (x >= -708.0).select(pi, 0.0);
  kl = std::max(0.0, (pi * (s - (log_z - log_ref_sum))).sum());
  entropy = -(pi > 0.0).select(pi * (t - log_z), 0.0).sum();
}

// one prompt's arrays padded to whole packets: log_ref -inf, c and values 0 (the padding gets weight 0)
struct PaddedPrompt {
  int K = 0, n = 0;
  std::vector<float> lr, c;
  std::vector<std::vector<float>> v;

  void load(const TiltInput& in, int p) {
    K = static_cast<int>(in.proxy.cols());
    n = (K + lanes - 1) / lanes * lanes;
    lr.assign(n, -std::numeric_limits<float>::infinity());
    c.assign(n, 0.0f);
    v.resize(in.values.size());
    const float pmax = in.proxy.row(p).maxCoeff();
    for (int k = 0; k < K; ++k) {
      lr[k] = in.log_ref(p, k);
      c[k] = in.proxy(p, k) - pmax;
    }
    for (std::size_t j = 0; j < v.size(); ++j) {
      v[j].assign(n, 0.0f);
      for (int k = 0; k < K; ++k) v[j][k] = in.values[j](p, k);
    }
  }
};

// a packet accumulator that std::vector can hold (a raw SIMD type as a template argument loses its attributes)
struct Accumulator {
  Packet p;
};

// the sums of pass 2, in double
struct TiltSums {
  double z = 0, c = 0, u = 0, e2 = 0;
  std::vector<double> v;
};

float max_t(const PaddedPrompt& q, float inv_beta) {
  const Packet inv = ei::pset1<Packet>(inv_beta);
  Packet m = ei::pset1<Packet>(-std::numeric_limits<float>::infinity());
  for (int k = 0; k < q.n; k += lanes) m = ei::pmax(m, ei::pmadd(ei::ploadu<Packet>(&q.c[k]), inv, ei::ploadu<Packet>(&q.lr[k])));
  return ei::predux_max(m);
}

void sum_weights(const PaddedPrompt& q, float inv_beta, float tmax, TiltSums& s) {
  const int V = static_cast<int>(q.v.size());
  const Packet inv = ei::pset1<Packet>(inv_beta), shift = ei::pset1<Packet>(tmax);
  const Packet floor = ei::pset1<Packet>(-87.0f), zero = ei::pzero(floor);
  s = TiltSums{};
  s.v.assign(V, 0.0);
  std::vector<Accumulator> sv(V);
  for (int first = 0; first < q.n; first += block) {
    Packet z = zero, sc = zero, su = zero, se2 = zero;
    for (Accumulator& a : sv) a.p = zero;
    const int last = std::min(first + block, q.n);
    for (int k = first; k < last; k += lanes) {
      const Packet c = ei::ploadu<Packet>(&q.c[k]);
      const Packet u = ei::pmax(ei::psub(ei::pmadd(c, inv, ei::ploadu<Packet>(&q.lr[k])), shift), floor);
      // exp of the clamped u, zeroed where t - M < -87 (no denormals, no 0 * -inf)
      const Packet e = ei::pand(ei::pcmp_lt(floor, u), ei::pexp(u));
      z = ei::padd(z, e);
      sc = ei::pmadd(e, c, sc);
      su = ei::pmadd(e, u, su);
      se2 = ei::pmadd(e, e, se2);
      for (int j = 0; j < V; ++j) sv[j].p = ei::pmadd(e, ei::ploadu<Packet>(&q.v[j][k]), sv[j].p);
    }
    s.z += ei::predux(z);
    s.c += ei::predux(sc);
    s.u += ei::predux(su);
    s.e2 += ei::predux(se2);
    for (int j = 0; j < V; ++j) s.v[j] += ei::predux(sv[j].p);
  }
}

}  // namespace

void tilt_sweep_cpu(const TiltInput& in, std::span<const double> betas, TiltResult& out) {
  const int P = static_cast<int>(in.proxy.rows());
  const int V = static_cast<int>(in.values.size());
  out.prompts = P;
  out.betas = static_cast<int>(betas.size());
  out.columns = tilt_first_value + V;
  out.data.assign(static_cast<std::size_t>(P) * out.betas * out.columns, 0.0);
#pragma omp parallel
  {
    PaddedPrompt q;
    TiltSums s;
#pragma omp for schedule(dynamic, 16)
    for (int p = 0; p < P; ++p) {
      q.load(in, p);
      for (int b = 0; b < out.betas; ++b) {
        const float inv_beta = static_cast<float>(1.0 / betas[b]);
        const float tmax = max_t(q, inv_beta);
        sum_weights(q, inv_beta, tmax, s);
        const double log_z = std::log(s.z);
        double kl = std::max(0.0, s.c / s.z * inv_beta - tmax - log_z);
        double entropy = log_z - s.u / s.z;
        if (kl < 1e-3 * (1.0 + std::abs(tmax)))
          kl_entropy_double(Eigen::Map<const Eigen::ArrayXf>(q.lr.data(), q.K),
                            Eigen::Map<const Eigen::ArrayXf>(q.c.data(), q.K), betas[b], kl, entropy);
        out.at(p, b, tilt_kl) = kl;
        out.at(p, b, tilt_entropy) = entropy;
        out.at(p, b, tilt_ess) = s.z * s.z / s.e2;
        for (int j = 0; j < V; ++j) out.at(p, b, tilt_first_value + j) = s.v[j] / s.z;
      }
    }
  }
}

}  // namespace goodhart
