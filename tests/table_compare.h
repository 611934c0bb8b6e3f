// table_compare.h — two results tables (metrics.csv, runs.csv) compared cell for cell: the regression check
// against recorded outputs and the per-scenario CPU/CUDA parity check share it.
// Contract: header-only; the columns named in `ignored` are left out of both tables; the remaining headers must
// match in order and the tables in shape; a text or empty cell must match exactly; numbers must be equal when
// tolerance is 0, else within tolerance * max(1, |a|, |b|), and are not compared at all when !numbers; then a cell
// of a column named in `maybe_empty` may also be empty on one side and a number on the other (a fitted peak that
// exists only when the fit's curvature has one sign, which rounding can flip where it is near zero). A
// difference is a failed check naming the file, the row (1-based, the header is row 1) and the column.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "sim/scenario/csv_read.h"

namespace goodhart::test {

struct TableCompare {
  std::vector<std::string> ignored;  // columns left out
  double tolerance = 0.0;            // 0: numbers exactly as text
  bool numbers = true;               // false: shape and text cells only
  std::vector<std::string> maybe_empty;  // with !numbers: columns whose cells may be empty on one side
};

// runs.csv's fitted peaks: empty when the fit has no interior maximum
inline const std::vector<std::string> kFittedPeakColumns = {"bon_peak_sqrt_kl", "bon_peak_gold", "rl_peak_sqrt_kl",
                                                            "rl_peak_gold"};

inline bool cells_agree(const std::string& want, const std::string& got, const TableCompare& how,
                        const std::string& column = "") {
  if (want == got) return true;
  if (!how.numbers && (want.empty() || got.empty()) &&
      std::find(how.maybe_empty.begin(), how.maybe_empty.end(), column) != how.maybe_empty.end()) {
    const std::string& number = want.empty() ? got : want;
    char* end = nullptr;
    std::strtod(number.c_str(), &end);
    return !number.empty() && !*end;
  }
  if (how.tolerance == 0.0 && how.numbers) return false;
  char* end_w = nullptr;
  char* end_g = nullptr;
  const double a = std::strtod(want.c_str(), &end_w), b = std::strtod(got.c_str(), &end_g);
  if (want.empty() || got.empty() || *end_w || *end_g) return false;  // text, or one side empty
  if (!how.numbers) return true;
  return std::abs(a - b) <= how.tolerance * std::max({1.0, std::abs(a), std::abs(b)});
}

inline void check_tables_agree(const std::filesystem::path& want_file, const std::filesystem::path& got_file,
                               const TableCompare& how) {
  const CsvData want = read_csv(want_file), got = read_csv(got_file);
  const auto compared = [&](const CsvData& t) {
    std::vector<int> out;
    for (std::size_t c = 0; c < t.header.size(); ++c)
      if (std::find(how.ignored.begin(), how.ignored.end(), t.header[c]) == how.ignored.end())
        out.push_back(static_cast<int>(c));
    return out;
  };
  const std::vector<int> wc = compared(want), gc = compared(got);
  INFO(got_file.string());
  REQUIRE(wc.size() == gc.size());
  for (std::size_t c = 0; c < wc.size(); ++c) CHECK(want.header[wc[c]] == got.header[gc[c]]);
  REQUIRE(want.rows.size() == got.rows.size());
  for (std::size_t r = 0; r < want.rows.size(); ++r)
    for (std::size_t c = 0; c < wc.size(); ++c) {
      INFO("row " << r + 2 << ", column " << want.header[wc[c]]);
      const std::string &w = want.rows[r][wc[c]], &g = got.rows[r][gc[c]];
      CHECK_MESSAGE(cells_agree(w, g, how, want.header[wc[c]]), "expected " << w << ", got " << g);
    }
}

}  // namespace goodhart::test
