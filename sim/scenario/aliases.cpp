// aliases.cpp — other spellings users know from TRL and friends (DESIGN.md §3), mapped to our canonical keys.
// Contract: one table; the resolved config holds canonical keys only; a section is named without list indices
// ("optimizer" for every entry of `optimizers`).
#include <array>

#include "sim/scenario/internal.h"

namespace goodhart::scenario_detail {

namespace {

struct Alias {
  std::string_view section, alias, canonical;
};

// to add one: {section, alias, canonical key in config.h}
constexpr std::array kAliases = {
    Alias{"preferences", "num_pairs", "n_pairs"}, Alias{"proxy", "lr", "learning_rate"},
    Alias{"proxy", "num_train_epochs", "epochs"}, Alias{"proxy", "per_device_train_batch_size", "batch_size"},
    Alias{"proxy", "weight_decay", "l2"},         Alias{"optimizer", "n_samples", "samples"},
    Alias{"optimizer", "target_kl", "kl_budget"},
    // policy_gradient: TRL and OpenRLHF names
    Alias{"optimizer", "advantage_estimator", "algorithm"},
    Alias{"optimizer", "n_samples_per_prompt", "num_generations"},
    Alias{"optimizer", "rloo_k", "num_generations"},
    Alias{"optimizer", "init_kl_coef", "kl_coef"},
    Alias{"optimizer", "adap_kl_ctrl", "adaptive_kl"},
    Alias{"optimizer", "kl_target", "adaptive_kl_target"},
    Alias{"optimizer", "target", "adaptive_kl_target"},
    Alias{"optimizer", "kl_horizon", "adaptive_kl_horizon"},
    Alias{"optimizer", "horizon", "adaptive_kl_horizon"},
    Alias{"optimizer", "eps_clip", "cliprange"},
    Alias{"optimizer", "ppo_epochs", "num_ppo_epochs"},
    Alias{"optimizer", "lr", "learning_rate"},
    Alias{"optimizer", "total_steps", "steps"},
};

}  // namespace

std::string canonical_key(std::string_view section, std::string_view key) {
  for (const auto& a : kAliases)
    if (a.section == section && a.alias == key) return std::string(a.canonical);
  return std::string(key);
}

std::vector<std::string> aliases_of(std::string_view section) {
  std::vector<std::string> out;
  for (const auto& a : kAliases)
    if (a.section == section) out.emplace_back(a.alias);
  return out;
}

}  // namespace goodhart::scenario_detail
