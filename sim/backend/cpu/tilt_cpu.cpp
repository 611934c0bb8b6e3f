// tilt_cpu.cpp — fast exact tilt over all prompts and betas: one prompt per OpenMP task, each result written to its
// own slot; per beta one pass over the prompt's arrays (cache-resident) in SIMD packets (Eigen's packet math,
// whatever the ISA). Everything is kept in base 2, so each entry-beta costs one exp2 (a range reduction and a
// degree-5 polynomial, 1.9e-7 relative, exact at integers) and no max pass:
//   l = (log_ref - max log_ref) log2(e) <= 0 and c = (proxy - max proxy) log2(e) <= 0, loaded once per prompt;
//   u = l + c / beta - m2 for a shift m2 fixed before the pass, e = 2^u (0 where u <= -60, also for a -inf
//   log_ref), and every sum at once: Z = sum e, sum e c, sum e u, sum e^2, sum e v_j — float packets over blocks
//   of 256 entries, then double.
// The shift: m2 = l at the proxy's best candidate (c = 0 there), so that candidate's e is exactly 1 for every
// beta (the entropy near beta -> 0, where pi is nearly all on it, needs that exactness), and every u <= -m2.
// When m2 >= -30 (the usual case) every e is at most 2^30 and no sum can overflow: one pass. Otherwise a max pass
// first sets m2 = max u (two passes).
// Then, with M = (max log_ref) + m2 ln 2, log pi - log pi_ref = c ln2 / beta - M - log Z, so KL = E[c] ln2 / beta -
// M - log Z; entropy = log Z - E[u] ln 2; ess = Z^2 / sum e^2; E[v_j] = sum e v_j / Z. KL and entropy carry a float
// error of ~3e-8 (1 + |M|) (float sums, the polynomial's 1.9e-7); where that could exceed ~1e-4 of the KL (large
// beta: small KL; tiny beta with pi_ref's mass far from the proxy's maximum) they are recomputed in double against
// the renormalized pi_ref.
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
// the int packet with Packet's lanes (looking up a trait of a SIMD type drops only its alignment attribute: harmless)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
using PacketI = ei::unpacket_traits<Packet>::integer_packet;
#pragma GCC diagnostic pop
constexpr int lanes = ei::packet_traits<float>::size;
constexpr int block = 256;  // entries summed in float before the double sums
constexpr float log2e = 1.44269504088896341f;
constexpr double ln2 = 0.69314718055994531;
// 2^u below 2^-60 is taken as 0: the largest e is 1 (the shift's candidate), so what is dropped is below 1e-18 of Z,
// and e^2, e c, e u stay normal floats (a denormal operand costs a microcode assist: ~100 cycles)
constexpr float exp2_floor = -60.0f;
constexpr float one_pass_limit = -30.0f;  // one pass when the proxy's best candidate has l >= this

// 2^u for u in [-126, 127]: u = n + f with n = round(u), f in [-0.5, 0.5]; 2^f by a degree-5 polynomial fitted for
// relative error with 2^0 = 1 exactly (1.9e-7 with float evaluation), 2^n by building the exponent bits
Packet exp2_normal_range(const Packet& u) {
  const Packet n = ei::print(u), f = ei::psub(u, n);
  Packet p = ei::pset1<Packet>(1.326472731307149e-3f);
  p = ei::pmadd(p, f, ei::pset1<Packet>(9.671512991189957e-3f));
  p = ei::pmadd(p, f, ei::pset1<Packet>(5.550733581185341e-2f));
  p = ei::pmadd(p, f, ei::pset1<Packet>(2.4022242426872253e-1f));
  p = ei::pmadd(p, f, ei::pset1<Packet>(6.931470036506653e-1f));
  p = ei::pmadd(p, f, ei::pset1<Packet>(1.0f));
  const PacketI biased = ei::pcast<Packet, PacketI>(ei::padd(n, ei::pset1<Packet>(127.0f)));
  return ei::pmul(p, ei::preinterpret<Packet>(ei::plogical_shift_left<23>(biased)));
}

// KL(pi_beta || pi_ref) and the entropy of pi_beta in double, pi_ref renormalized (float log_ref sums to 1 only
// within ~1e-7); 0 log 0 = 0, also where log_ref is -inf. l and c are the base-2 arrays of PaddedPrompt.
void kl_entropy_double(const Eigen::Map<const Eigen::ArrayXf>& l2, const Eigen::Map<const Eigen::ArrayXf>& c2,
                       double beta, double& kl, double& entropy) {
  const Eigen::ArrayXd l = l2.cast<double>() * ln2, s = c2.cast<double>() * (ln2 / beta), t = l + s;
  const double lmax = l.maxCoeff(), log_ref_sum = lmax + std::log((l - lmax).exp().sum());
  const double tmax = t.maxCoeff(), log_z = tmax + std::log((t - tmax).exp().sum());
  // the exp outside select() (which Eigen evaluates one scalar at a time), then 0 where std::exp would underflow
  const Eigen::ArrayXd x = t - log_z;
  Eigen::ArrayXd pi = x.max(-708.0).exp();
  pi = (x >= -708.0).select(pi, 0.0);
  kl = std::max(0.0, (pi * (s - (log_z - log_ref_sum))).sum());
  entropy = -(pi > 0.0).select(pi * (t - log_z), 0.0).sum();
}

// one prompt's arrays in base 2, padded to whole packets: l -inf, c and values 0 (the padding gets weight 0)
struct PaddedPrompt {
  int K = 0, n = 0;
  float log_ref_max = 0;  // max log_ref, natural units
  float best_l = 0;       // l at the proxy's best candidate: the one-pass shift
  bool one_pass = true;   // that shift is safe for every beta
  std::vector<float> l, c;
  std::vector<std::vector<float>> v;

  void load(const TiltInput& in, int p) {
    K = static_cast<int>(in.proxy.cols());
    n = (K + lanes - 1) / lanes * lanes;
    l.assign(n, -std::numeric_limits<float>::infinity());
    c.assign(n, 0.0f);
    v.resize(in.values.size());
    Eigen::Index best = 0;
    const float pmax = in.proxy.row(p).maxCoeff(&best);
    log_ref_max = in.log_ref.row(p).maxCoeff();
    for (int k = 0; k < K; ++k) {
      l[k] = (in.log_ref(p, k) - log_ref_max) * log2e;
      c[k] = (in.proxy(p, k) - pmax) * log2e;
    }
    best_l = l[best];
    one_pass = best_l >= one_pass_limit;
    for (std::size_t j = 0; j < v.size(); ++j) {
      v[j].assign(n, 0.0f);
      for (int k = 0; k < K; ++k) v[j][k] = in.values[j](p, k);
    }
  }
};

// the sums of the weighting pass, in double (c and u in base 2)
struct TiltSums {
  double z = 0, c = 0, u = 0, e2 = 0;
  std::vector<double> v;
};

// max over entries of l + c / beta (the two-pass shift)
float max_u(const PaddedPrompt& q, float inv_beta) {
  const Packet inv = ei::pset1<Packet>(inv_beta);
  Packet m = ei::pset1<Packet>(-std::numeric_limits<float>::infinity());
  for (int k = 0; k < q.n; k += lanes)
    m = ei::pmax(m, ei::pmadd(ei::ploadu<Packet>(&q.c[k]), inv, ei::ploadu<Packet>(&q.l[k])));
  return ei::predux_max(m);
}

// the sums for one beta, block by block: the weights of a block into a buffer with the running sums in registers,
// then one dot product per value array (an accumulator per value kept in memory would chain every iteration)
void sum_weights(const PaddedPrompt& q, float inv_beta, float shift, TiltSums& s) {
  const int V = static_cast<int>(q.v.size());
  const Packet inv = ei::pset1<Packet>(inv_beta), m2 = ei::pset1<Packet>(shift);
  const Packet floor = ei::pset1<Packet>(exp2_floor), zero = ei::pzero(floor);
  alignas(64) float e_block[block];
  s = TiltSums{};
  s.v.assign(V, 0.0);
  for (int first = 0; first < q.n; first += block) {
    Packet z = zero, sc = zero, su = zero, se2 = zero;
    const int size = std::min(block, q.n - first);
    for (int i = 0; i < size; i += lanes) {
      const Packet c = ei::ploadu<Packet>(&q.c[first + i]);
      const Packet u = ei::pmax(ei::psub(ei::pmadd(c, inv, ei::ploadu<Packet>(&q.l[first + i])), m2), floor);
      // 2^u of the clamped u, zeroed where u <= -60 (no denormals, no 0 * -inf)
      const Packet e = ei::pand(ei::pcmp_lt(floor, u), exp2_normal_range(u));
      ei::pstore(&e_block[i], e);
      z = ei::padd(z, e);
      sc = ei::pmadd(e, c, sc);
      su = ei::pmadd(e, u, su);
      se2 = ei::pmadd(e, e, se2);
    }
    s.z += ei::predux(z);
    s.c += ei::predux(sc);
    s.u += ei::predux(su);
    s.e2 += ei::predux(se2);
    for (int j = 0; j < V; ++j) {
      Packet sv = zero;
      for (int i = 0; i < size; i += lanes)
        sv = ei::pmadd(ei::pload<Packet>(&e_block[i]), ei::ploadu<Packet>(&q.v[j][first + i]), sv);
      s.v[j] += ei::predux(sv);
    }
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
        const float shift = q.one_pass ? q.best_l : max_u(q, inv_beta);
        sum_weights(q, inv_beta, shift, s);
        const double log_z = std::log(s.z), M = q.log_ref_max + shift * ln2;
        double kl = std::max(0.0, s.c / s.z * ln2 * inv_beta - M - log_z);
        double entropy = log_z - s.u / s.z * ln2;
        if (kl < 3e-4 * (1.0 + std::abs(M)))
          kl_entropy_double(Eigen::Map<const Eigen::ArrayXf>(q.l.data(), q.K),
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
