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
// When m2 >= -30 (the usual case) every e is at most 2^30 and no sum can overflow. Then, with
// M = (max log_ref) + m2 ln 2, log pi - log pi_ref = c ln2 / beta - M - log Z, so KL = E[c] ln2 / beta - M - log Z;
// entropy = log Z - E[u] ln 2; ess = Z^2 / sum e^2; E[v_j] = sum e v_j / Z. KL and entropy carry a float error of
// ~3e-8 (1 + |M|) (float sums, the polynomial's 1.9e-7).
// In double instead, from the original arrays (as tilt_sweep_ref, vectorized): every beta of a prompt whose best
// candidate is impossible or below 2^-30 of pi_ref's mode (there u would need a large shift, and float could not
// resolve log_ref differences next to c / beta), and any beta where the float KL could be off by more than ~1e-4 of
// itself (large beta: small KL).
// An inf or NaN proxy or value at a possible candidate makes every output of that prompt NaN (as in the reference).
// Contract: same outputs as tilt_sweep_ref within float rounding: KL and entropy to ~1e-4 relative (1e-6
// absolute), ess and expectations to ~1e-5; identical at any thread count (no cross-thread sums).
#include <algorithm>
#include <cfloat>
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
constexpr float float_limit = -30.0f;  // the float pass when the proxy's best candidate has l >= this

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

// prompt p at one beta in double from the original arrays: KL against the renormalized pi_ref (float log_ref
// sums to 1 only within ~1e-7), entropy, ess and E[values]; 0 log 0 = 0, also where log_ref is -inf. The proxy is
// centred on its largest possible value, so that log_ref differences survive next to (proxy - that) / beta.
void tilt_double(const TiltInput& in, int p, double beta, double* row) {
  const Eigen::ArrayXd l = in.log_ref.row(p).transpose().cast<double>();
  const Eigen::ArrayXd proxy = in.proxy.row(p).transpose().cast<double>();
  const double best = (l > -INFINITY).select(proxy, -INFINITY).maxCoeff();
  const Eigen::ArrayXd s = (l > -INFINITY).select((proxy - best) / beta, 0.0), t = l + s;  // impossible: -inf
  const double lmax = l.maxCoeff(), log_ref_sum = lmax + std::log((l - lmax).exp().sum());
  const double tmax = t.maxCoeff(), log_z = tmax + std::log((t - tmax).exp().sum());
  // the exp outside select() (which Eigen evaluates one scalar at a time), then 0 where std::exp would underflow
  const Eigen::ArrayXd x = t - log_z;
  Eigen::ArrayXd pi = x.max(-708.0).exp();
  pi = (x >= -708.0).select(pi, 0.0);
  row[tilt_kl] = std::max(0.0, (pi * (s - (log_z - log_ref_sum))).sum());
  row[tilt_entropy] = -(pi > 0.0).select(pi * (t - log_z), 0.0).sum();
  // ess and expectations over the sum of pi as computed (1 within rounding): a 0/1 value's mean stays in [0, 1]
  const double mass = pi.sum();
  row[tilt_ess] = mass * mass / pi.square().sum();
  for (std::size_t j = 0; j < in.values.size(); ++j)
    row[tilt_first_value + j] =
        (pi > 0.0).select(pi * in.values[j].row(p).transpose().cast<double>().array(), 0.0).sum() / mass;
}

// one prompt's arrays in base 2, padded to whole packets: l -inf, c and values 0 (the padding gets weight 0, and so
// does an impossible candidate, stored as padding whatever its proxy and values)
struct PaddedPrompt {
  int K = 0, n = 0;
  float log_ref_max = 0;  // max log_ref, natural units
  float best_l = 0;       // l at the proxy's best candidate: the shift
  bool float_safe = true; // that shift is safe for every beta (else the prompt is done in double)
  bool finite = true;     // no inf or NaN proxy or value at a possible candidate (else every output is NaN)
  std::vector<float> l, c;
  std::vector<std::vector<float>> v;

  void load(const TiltInput& in, int p) {
    K = static_cast<int>(in.proxy.cols());
    n = (K + lanes - 1) / lanes * lanes;
    l.assign(n, -std::numeric_limits<float>::infinity());
    c.assign(n, 0.0f);
    v.resize(in.values.size());
    // the proxy's best candidate among the possible ones (log_ref > -inf); an impossible candidate is padding
    const float impossible = -std::numeric_limits<float>::infinity();
    int best = 0;
    float pmax = impossible;
    for (int k = 0; k < K; ++k)
      if (in.log_ref(p, k) > impossible && (in.proxy(p, k) > pmax || pmax == impossible)) {
        pmax = in.proxy(p, k);
        best = k;
      }
    log_ref_max = in.log_ref.row(p).maxCoeff();
    for (int k = 0; k < K; ++k)
      if (in.log_ref(p, k) > impossible) {
        l[k] = (in.log_ref(p, k) - log_ref_max) * log2e;
        c[k] = (in.proxy(p, k) - pmax) * log2e;
      }
    best_l = l[best];
    float_safe = best_l >= float_limit;
    finite = in.proxy.row(p).allFinite();  // vectorized; candidate by candidate only when it fails
    for (const FloatMatrixView& values : in.values) finite = finite && values.row(p).allFinite();
    if (!finite) {  // finite after all if only impossible candidates carry the inf or NaN
      finite = true;
      for (int k = 0; finite && k < K; ++k) {
        if (!(in.log_ref(p, k) > -std::numeric_limits<float>::infinity())) continue;
        finite = std::isfinite(in.proxy(p, k));
        for (const FloatMatrixView& values : in.values) finite = finite && std::isfinite(values(p, k));
      }
    }
    for (std::size_t j = 0; j < v.size(); ++j) {
      v[j].assign(n, 0.0f);
      for (int k = 0; k < K; ++k)
        if (in.log_ref(p, k) > impossible) v[j][k] = in.values[j](p, k);
    }
  }
};

// the sums of the weighting pass, in double (c and u in base 2)
struct TiltSums {
  double z = 0, c = 0, u = 0, e2 = 0;
  std::vector<double> v;
};

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
        double* row = &out.at(p, b, 0);
        if (!q.finite) {  // as the reference: an overflowed proxy or value gives NaN, which callers report
          std::fill(row, row + out.columns, std::numeric_limits<double>::quiet_NaN());
          continue;
        }
        if (!q.float_safe) {
          tilt_double(in, p, betas[b], row);
          continue;
        }
        // 1 / beta as a float, at most FLT_MAX (c = 0 stays 0; any c < 0 drops below the floor)
        const float inv_beta = static_cast<float>(std::min(1.0 / betas[b], double{FLT_MAX}));
        sum_weights(q, inv_beta, q.best_l, s);
        const double log_z = std::log(s.z), M = q.log_ref_max + q.best_l * ln2;
        const double kl = std::max(0.0, s.c / s.z * ln2 * inv_beta - M - log_z);
        if (kl < 3e-4 * (1.0 + std::abs(M))) {
          tilt_double(in, p, betas[b], row);
          continue;
        }
        row[tilt_kl] = kl;
        row[tilt_entropy] = log_z - s.u / s.z * ln2;
        row[tilt_ess] = s.z * s.z / s.e2;
        for (int j = 0; j < V; ++j) row[tilt_first_value + j] = s.v[j] / s.z;
      }
    }
  }
}

}  // namespace goodhart
