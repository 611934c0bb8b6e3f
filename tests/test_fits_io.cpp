// test_fits_io.cpp — Gao fits against noiseless curves of known coefficients, and the output helpers of sim/io.
// Contract: doctest cases only (tests/main.cpp has the main); temporary files live under the system temp folder.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/stats/fits.h"
#include "sim/io/files.h"
#include "sim/io/progress.h"

using namespace goodhart;

namespace {

std::vector<double> grid() { return {0.0, -1.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0}; }  // d <= 0 must be ignored

std::vector<double> curve(const std::vector<double>& d, double (*f)(double)) {
  std::vector<double> y;
  for (const double x : d) y.push_back(f(x));
  return y;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::filesystem::path scratch_folder(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / ("goodhart_test_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("best-of-n fit recovers alpha and beta of a noiseless curve") {
  const auto d = grid();
  const auto gold = curve(d, [](double x) { return x * (0.81 - 0.12 * x); });
  const GaoFit f = fit_gao_bon(d, gold);
  CHECK(f.alpha == doctest::Approx(0.81).epsilon(1e-12));
  CHECK(f.beta == doctest::Approx(0.12).epsilon(1e-12));
  CHECK(std::abs(f.r2 - 1.0) < 1e-12);
  CHECK(f.peak_sqrt_kl == doctest::Approx(0.81 / (2 * 0.12)).epsilon(1e-12));
  CHECK(f.peak_gold == doctest::Approx(0.81 * 0.81 / (4 * 0.12)).epsilon(1e-12));
}

TEST_CASE("RL fit recovers alpha and beta of a noiseless curve") {
  const auto d = grid();
  const auto gold = curve(d, [](double x) { return x > 0 ? x * (0.6 - 0.25 * std::log(x)) : 0.0; });
  const GaoFit f = fit_gao_rl(d, gold);
  CHECK(f.alpha == doctest::Approx(0.6).epsilon(1e-12));
  CHECK(f.beta == doctest::Approx(0.25).epsilon(1e-12));
  CHECK(std::abs(f.r2 - 1.0) < 1e-12);
  const double peak = std::exp(0.6 / 0.25 - 1);
  CHECK(f.peak_sqrt_kl == doctest::Approx(peak).epsilon(1e-12));
  CHECK(f.peak_gold == doctest::Approx(peak * (0.6 - 0.25 * std::log(peak))).epsilon(1e-12));
}

TEST_CASE("a noisy curve fits with r2 below 1") {
  const auto d = grid();
  auto gold = curve(d, [](double x) { return x * (0.81 - 0.12 * x); });
  for (std::size_t i = 0; i < gold.size(); ++i) gold[i] += (i % 2 == 0 ? 0.05 : -0.05);
  for (const GaoFit& f : {fit_gao_bon(d, gold), fit_gao_rl(d, gold)}) {
    CHECK(f.r2 < 1.0);
    CHECK(f.r2 > 0.9);
  }
}

TEST_CASE("a monotone curve has no fitted peak") {
  const auto d = grid();
  const auto gold = curve(d, [](double x) { return x + 0.1 * x * x; });
  const GaoFit f = fit_gao_bon(d, gold);
  CHECK(f.beta == doctest::Approx(-0.1).epsilon(1e-12));
  CHECK(std::isnan(f.peak_sqrt_kl));
  CHECK(std::isnan(f.peak_gold));
}

TEST_CASE("a curve nearly straight in d has no fitted peak, not an infinite one") {
  const auto d = grid();
  // beta = 1e-4 puts the RL peak at d = exp(1e4 - 1), beyond double range (a policy-gradient run on a linear
  // proxy, gold rising straight in d, fits so)
  const auto straight = curve(d, [](double x) { return x > 0 ? x * (1.0 - 1e-4 * std::log(x)) : 0.0; });
  const GaoFit rl = fit_gao_rl(d, straight);
  CHECK(rl.beta == doctest::Approx(1e-4).epsilon(1e-6));
  CHECK(std::isnan(rl.peak_sqrt_kl));
  CHECK(std::isnan(rl.peak_gold));
}

TEST_CASE("degenerate inputs give all-NaN fits") {
  const std::vector<double> one_d = {0.0, 1.0}, one_g = {0.0, 0.5};
  const std::vector<double> same_d = {2.0, 2.0, 2.0}, same_g = {0.1, 0.2, 0.3};
  for (const GaoFit& f : {fit_gao_bon(one_d, one_g), fit_gao_rl(one_d, one_g), fit_gao_bon(same_d, same_g)}) {
    CHECK(std::isnan(f.alpha));
    CHECK(std::isnan(f.beta));
    CHECK(std::isnan(f.r2));
    CHECK(std::isnan(f.peak_sqrt_kl));
  }
  const std::vector<double> short_g = {1.0};
  CHECK_THROWS_AS(fit_gao_bon(same_d, short_g), std::invalid_argument);
}

TEST_CASE("empirical peak is the first maximum") {
  const std::vector<double> d = {0.0, 0.5, 1.0, 1.5, 2.0};
  const std::vector<double> gold = {0.0, 0.4, std::nan(""), 0.4, 0.1};
  const EmpiricalPeak p = empirical_peak(d, gold);
  CHECK(p.index == 1);
  CHECK(p.sqrt_kl == 0.5);
  CHECK(p.gold == 0.4);
  CHECK(std::isnan(empirical_peak({}, {}).gold));
}

TEST_CASE("format_double round-trips bit-exactly") {
  const double values[] = {0.1, 1e-300, 123456789.123, 1.0 / 3.0, -2.5, 0.0, -0.0, 5e-324,
                           std::numeric_limits<double>::max(), 1e21, 2.0};
  for (const double x : values) {
    const std::string s = format_double(x);
    double back = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), back);
    CHECK(ec == std::errc{});
    CHECK(end == s.data() + s.size());
    CHECK(std::bit_cast<std::uint64_t>(back) == std::bit_cast<std::uint64_t>(x));
  }
  CHECK(format_double(0.1) == "0.1");
  CHECK(format_double(2.0) == "2");
  CHECK(format_double(std::nan("")) == "");
  CHECK_THROWS_AS(format_double(std::numeric_limits<double>::infinity()), std::overflow_error);
  CHECK_THROWS_AS(format_double(-std::numeric_limits<double>::infinity()), std::overflow_error);
}

TEST_CASE("csv cells are quoted only when needed") {
  CHECK(csv_escape("best_of_n") == "best_of_n");
  CHECK(csv_escape("") == "");
  CHECK(csv_escape("a,b") == "\"a,b\"");
  CHECK(csv_escape("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_escape("two\nlines") == "\"two\nlines\"");
}

TEST_CASE("CsvTable renders rows and rejects a short one") {
  CsvTable t{{"k", "v"}, {{"a", "1"}, {"b,c", ""}}};
  CHECK(t.str() == "k,v\na,1\n\"b,c\",\n");
  t.rows.push_back({"only"});
  CHECK_THROWS_AS(t.str(), std::logic_error);
}

TEST_CASE("write_file_atomic creates folders, overwrites and leaves no temporary file") {
  const auto dir = scratch_folder("atomic");
  const auto path = dir / "sub" / "metrics.csv";
  write_file_atomic(path, "first\n");
  CHECK(slurp(path) == "first\n");
  write_file_atomic(path, "second\n");
  CHECK(slurp(path) == "second\n");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(path.parent_path())) {
    CHECK(e.path().filename() == "metrics.csv");
    ++entries;
  }
  CHECK(entries == 1);
  // a parent that is a file cannot hold the target
  CHECK_THROWS_AS(write_file_atomic(path / "inside", "x"), std::runtime_error);
  std::filesystem::remove_all(dir.parent_path());
}

TEST_CASE("Progress writes nothing when quiet") {
  std::ostringstream out;
  {
    Progress p(4, true, "run", out, false, std::chrono::milliseconds(0));
    p.advance(2);
    p.finish();
  }
  {
    Progress p(4, true, "run", out, true);
    p.advance();
  }
  CHECK(out.str().empty());
}

TEST_CASE("Progress off a terminal writes plain lines and one final line") {
  std::ostringstream out;
  Progress p(40, false, "run", out, false, std::chrono::milliseconds(0));
  p.advance(12);
  p.advance(28);
  p.finish();
  p.finish();
  const std::string s = out.str();
  CHECK(s.find("run: 12/40 points (30%), elapsed 0s, ETA") == 0);
  CHECK(s.find("run: 40/40 points (100%), elapsed") != std::string::npos);
  CHECK(std::count(s.begin(), s.end(), '\n') == 3);
  CHECK(s.find('\r') == std::string::npos);
}

TEST_CASE("Progress on a terminal redraws one bar") {
  std::ostringstream out;
  Progress p(40, false, "", out, true, std::chrono::milliseconds(0));
  p.advance(12);
  p.finish();
  const std::string s = out.str();
  CHECK(s.find("\r[#########.....................] 12/40 points  30%  ETA") != std::string::npos);
  CHECK(std::count(s.begin(), s.end(), '\n') == 1);
  CHECK(s.back() == '\n');
}
