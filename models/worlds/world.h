// world.h — the interface every world implements: what a response is, how pi_ref draws one (with its identity), its
// log pi_ref, and what the world can compute exactly. The worlds are beside this file (gaussian.cpp,
// categorical.cpp, scored.cpp) and register themselves (registry.h); no code outside them tests which world it has: it asks
// for a capability (candidates(), gaussian()) and falls back to sampling where the world offers none.
// Contract: a world is a pure function of its config (structure from world.seed); every draw is keyed by
// (seed, stream, a, b) counters, so draws never depend on threads or on how rows are split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "sim/numeric/mlp.h"

namespace goodhart {

// who a response is: the prompt it answers, its index among that prompt's candidates (a world with candidates()),
// else -1, and the counter (stream, a, b) its own draws (a noisy proxy's error, a spurious feature) are keyed by
struct ResponseId {
  int prompt = 0;
  int candidate = -1;
  std::uint32_t stream = 0, a = 0, b = 0;
};

// one response as a policy sees it: a candidate of a prompt, or (a world without candidates) its features y
struct Response {
  int prompt = 0;
  int candidate = -1;
  Eigen::VectorXd y;
};

// features and identities of drawn responses, row i of x is response id[i]
struct ResponseDraws {
  RowMatrixXf x;
  std::vector<ResponseId> id;
};

// capability: every prompt has `count` enumerable candidates, so expectations and KL are exact sums
struct Candidates {
  int count = 0;           // K per prompt
  RowMatrixXf features;    // row p*K + k is phi[p,k]
  RowMatrixXd log_ref;     // P x K, normalized log pi_ref(k|p)
  bool sampled = false;    // the candidates are draws from pi_ref (a scored world's pools), not its support:
                           // best-of-n is estimated from them without replacement, as from a drawn pool
  // candidate k of prompt p, keyed by (pool stream, p, k) wherever it appears
  ResponseId id(int prompt, int candidate) const;
  // a prompt's K x d features, in place
  Eigen::Map<const RowMatrixXf> prompt_features(int prompt) const;
  // a draw from pi_ref(.|prompt) by inverse CDF on one uniform
  int sample(int prompt, double uniform) const;
};

// capability: pi_ref = N(mean, diag(scale^2)) for every prompt, so tilts of linear rewards, moments of linear and
// quadratic ones and gaussian policies' KL have closed forms
struct GaussianReference {
  Eigen::VectorXd mean, scale;  // length dim
};

class World {
 public:
  // draw_reference's prompt for "a uniform prompt per draw" (the mixture the reward moments are taken under)
  static constexpr int any_prompt = -1;

  World(int dim, int prompts) : dim_(dim), prompts_(prompts) {}
  virtual ~World() = default;
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  int dim() const { return dim_; }
  int prompts() const { return prompts_; }

  // what the world can compute exactly; null where it cannot
  virtual const Candidates* candidates() const { return nullptr; }
  virtual const GaussianReference* gaussian() const { return nullptr; }
  // a world read from a score file: the feature index holding the file's column `name`, -1 when it has none
  virtual int score_column(const std::string& /*name*/) const { return -1; }

  // `count` draws of pi_ref(.|prompt) (any_prompt: a uniform prompt for each), draw i keyed by (seed, stream, a,
  // b0 + i); out.x is count x dim
  virtual void draw_reference(std::uint64_t seed, int prompt, std::uint32_t stream, std::uint32_t a,
                              std::uint32_t b0, Eigen::Index count, ResponseDraws& out) const = 0;
  // both responses of `count` comparisons from pi_ref, the two sides of one comparison answering one prompt;
  // comparison i keyed by (seed, stream, i)
  virtual void draw_pairs(std::uint64_t seed, std::uint32_t stream, Eigen::Index count, ResponseDraws& a,
                          ResponseDraws& b) const = 0;
  // log pi_ref of a response: a log-probability, or a log-density in a continuous world
  virtual double log_ref(const Response& r) const = 0;
  // score(i) += weight * log pi_ref of drawn response i, up to a constant per prompt, in float (a selection score)
  virtual void add_log_ref(const ResponseDraws& r, double weight, Eigen::VectorXf& score) const = 0;

 private:
  int dim_, prompts_;
};

// the linear function that reads the column `name` of a world's score file (World::score_column): weight 1 on its
// feature, 0 on the others; throws std::invalid_argument naming `key` when the world has no such column
Mlp score_column_reader(const World& world, const std::string& name, const std::string& key);

// a world whose responses are each prompt's candidates (categorical, scored): pi_ref draws by inverse CDF over
// them, log pi_ref from Candidates::log_ref. Draw i of draw_reference takes CounterRng(seed, stream, a, b0 + i): a
// uniform prompt first when asked for any_prompt, then a candidate; comparison i of draw_pairs takes
// CounterRng(seed, stream, i): a uniform prompt, then its two candidates. Identities are Candidates::id
class CandidateWorld : public World {
 public:
  using World::World;
  const Candidates* candidates() const override { return &c_; }
  void draw_reference(std::uint64_t seed, int prompt, std::uint32_t stream, std::uint32_t a, std::uint32_t b0,
                      Eigen::Index count, ResponseDraws& out) const override;
  void draw_pairs(std::uint64_t seed, std::uint32_t stream, Eigen::Index count, ResponseDraws& a,
                  ResponseDraws& b) const override;
  double log_ref(const Response& r) const override { return c_.log_ref(r.prompt, r.candidate); }
  void add_log_ref(const ResponseDraws& r, double weight, Eigen::VectorXf& score) const override;

 protected:
  Candidates c_;  // filled by the derived world's constructor

 private:
  void set(ResponseDraws& out, Eigen::Index i, int prompt, int candidate) const;
};

}  // namespace goodhart
