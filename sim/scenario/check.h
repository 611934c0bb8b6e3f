// check.h — the checks of a parsed scenario: each failure names the dotted key, its location and what was expected.
// Contract: every method throws ScenarioError on failure (the first failure ends validation); `loc` names the key
// whose location is reported when it differs from `key` (a list element, key[i]). Used by validate.cpp for the
// table rules and by each type's validate() for its cross-field checks.
#pragma once

#include <string>
#include <vector>

#include "sim/scenario/fields.h"
#include "sim/scenario/scenario.h"

namespace goodhart {

class Check {
 public:
  explicit Check(const Locations& at) : at_(at) {}

  [[noreturn]] void fail(const std::string& key, const std::string& expected, const std::string& loc = "") const;
  static std::string element(const std::string& key, std::size_t i);  // "key[i]"

  void at_least(long long v, long long lo, const std::string& key, const std::string& loc = "") const;
  void positive(double v, const std::string& key, const std::string& loc = "") const;
  void non_negative(double v, const std::string& key, const std::string& loc = "") const;
  void one_of(const std::string& v, const std::string& key, const std::vector<std::string>& allowed) const;
  // a per-dimension list: one value for every dimension or exactly dim values (or none, when allowed)
  void dims(std::size_t n, int dim, const std::string& key, bool may_be_empty, bool may_be_one) const;
  // a value against a table rule (ints and numbers; strings against one_of)
  void rule(const Rule& r, double v, bool integer, const std::string& key, const std::string& loc = "") const;

 private:
  const Locations& at_;
};

}  // namespace goodhart
