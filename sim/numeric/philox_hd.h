// philox_hd.h — counter-based random numbers: every draw is a pure function of (seed, stream, a, b, draw).
// Contract: CounterRng(seed, stream, a, b) yields the same sequence on any thread, in any order of use, on host
// and device (Philox4x32-10 from Random123). It is also a UniformRandomBitGenerator for Boost's distributions.
#pragma once

#include <cmath>
#include <cstdint>

#include <Random123/philox.h>

#include "sim/numeric/host_device.h"

namespace goodhart {

// what a draw is for; never renumber (outputs depend on these values)
enum class Stream : std::uint32_t {
  world_features = 1,   // categorical phi[p,k]
  world_logits = 2,     // categorical reference logits
  gold_weights = 3,     // random gold directions and teacher weights
  preference_pairs = 4, // responses of training pairs (a = pair, b = side)
  preference_labels = 5,
  heldout_pairs = 6,    // responses of held-out pairs
  heldout_labels = 7,
  proxy_init = 8,       // initial weights of a learned proxy
  proxy_batches = 9,    // minibatch order
  pool = 10,            // optimizer pools (a = prompt, b = sample)
  standardize = 11,     // Monte Carlo standardization samples
  accuracy_pairs = 12,  // sampled policy pairs for rm_accuracy_policy (a = prompt, b = grid index)
  reference_pairs = 13, // pi_ref pairs for rm_accuracy_ref
  reference_labels = 14,
  policy_samples = 15,  // policy_gradient training samples (categorical: a = step, b = prompt; gaussian:
                        // a = step * P + prompt, b = sample)
  policy_batches = 16,  // policy minibatch order (reserved: minibatches now split each group by index)
  dpo_batches = 17,     // dpo minibatch order
  soft_bon_partitions = 18,  // soft best-of-n: the pool's random partitions into groups (a = prompt, b = n index)
  pessimism_pools = 19,      // inference-time pessimism: the N draws that set lambda (a = prompt, b = n index)
  reward_references = 20,    // policy_gradient reward_transform: reference responses (a = prompt, b = index)
  error_offset = 1000,  // noisy-proxy error of a response drawn from stream s: stream s + error_offset
  spurious_offset = 2000,  // spurious-feature noise of a response drawn from stream s: s + spurious_offset
};

GOODHART_HD inline std::uint32_t stream_id(Stream s) { return static_cast<std::uint32_t>(s); }

class CounterRng {
 public:
  using result_type = std::uint32_t;

  GOODHART_HD CounterRng(std::uint64_t seed, std::uint32_t stream, std::uint32_t a, std::uint32_t b = 0) {
    key_ = {{static_cast<std::uint32_t>(seed), stream}};
    ctr_ = {{a, b, 0u, static_cast<std::uint32_t>(seed >> 32)}};
  }
  GOODHART_HD CounterRng(std::uint64_t seed, Stream stream, std::uint32_t a, std::uint32_t b = 0)
      : CounterRng(seed, stream_id(stream), a, b) {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return 0xffffffffu; }

  GOODHART_HD result_type operator()() {
    if (used_ == 4) {
      block_ = r123::Philox4x32()(ctr_, key_);
      ctr_.v[2] += 1;
      used_ = 0;
    }
    return block_.v[used_++];
  }

  // uniform in (0, 1) with 53 random bits, never 0 or 1
  GOODHART_HD double uniform() {
    const std::uint64_t hi = (*this)() >> 5, lo = (*this)() >> 6;
    return (static_cast<double>(hi * 67108864ull + lo) + 0.5) * (1.0 / 9007199254740992.0);
  }

  // standard normal by Box-Muller; the second of each pair is kept for the next call
  GOODHART_HD double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double angle = 6.283185307179586 * uniform();
    spare_ = r * std::sin(angle);
    has_spare_ = true;
    return r * std::cos(angle);
  }

 private:
  r123::Philox4x32::key_type key_;
  r123::Philox4x32::ctr_type ctr_;
  r123::Philox4x32::ctr_type block_{};
  int used_ = 4;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

}  // namespace goodhart
