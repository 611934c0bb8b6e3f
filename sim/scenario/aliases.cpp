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
