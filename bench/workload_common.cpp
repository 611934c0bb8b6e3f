// workload_common.cpp — repeats, reports, .npy dumps and calibration loops for the workload runners.
// Contract: see workload_common.h.
#include "bench/workload_common.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace goodhart::bench {

int scaled_prompts(int base, double scale) {
  return std::max(1, static_cast<int>(std::lround(base * scale)));
}

std::vector<double> time_repeats(const WorkloadOptions& opts, const std::function<void()>& run) {
  for (int i = 0; i < opts.warmup; ++i) run();
  std::vector<double> seconds;
  for (int i = 0; i < opts.repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    seconds.push_back(seconds_since(start));
  }
  return seconds;
}

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

template <typename T>
void write_npy_typed(const std::filesystem::path& file, const T* data, const std::vector<std::int64_t>& shape,
                     const char* descr) {
  std::ostringstream dims;
  std::int64_t count = 1;
  for (std::int64_t s : shape) {
    dims << s << ", ";
    count *= s;
  }
  std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': (" + dims.str() +
                       "), }";
  // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(file, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + file.string());
  const auto length = static_cast<std::uint16_t>(header.size());
  out.write("\x93NUMPY\x01\x00", 8);
  const char len_bytes[2] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
  out.write(len_bytes, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(T)));
}

}  // namespace

void write_npy(const std::filesystem::path& file, const float* data, const std::vector<std::int64_t>& shape) {
  write_npy_typed(file, data, shape, "<f4");
}

void write_npy(const std::filesystem::path& file, const double* data, const std::vector<std::int64_t>& shape) {
  write_npy_typed(file, data, shape, "<f8");
}

std::filesystem::path open_dump(const WorkloadOptions& opts, const nlohmann::json& config) {
  const std::filesystem::path dir(opts.dump_inputs);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << config.dump(2) << "\n";
  return dir;
}

void publish(const WorkloadOptions& opts, const WorkloadReport& r) {
  const double lo = *std::min_element(r.seconds.begin(), r.seconds.end());
  const double hi = *std::max_element(r.seconds.begin(), r.seconds.end());
  const double med = median(r.seconds);
  const double throughput = r.items / med;
  nlohmann::json j = {{"workload", opts.workload},
                      {"scale", opts.scale},
                      {"backend", backend_name(opts.backend)},
                      {"threads", omp_get_max_threads()},
                      {"seed", opts.seed},
                      {"sizes", r.sizes},
                      {"seconds", r.seconds},
                      {"seconds_min", lo},
                      {"seconds_median", med},
                      {"seconds_max", hi},
                      {"unit", r.unit},
                      {"items", r.items},
                      {"throughput_median", throughput},
                      {"limit",
                       {{"what", r.limit.what}, {"per_second", r.limit.per_second},
                        {"flop_per_item", r.limit.flop_per_item}}},
                      {"percent_of_limit", 100.0 * throughput / r.limit.per_second},
                      {"results", r.results}};
  if (!r.profile.is_null()) j["profile"] = r.profile;
  std::cout << opts.workload << " (" << backend_name(opts.backend) << ", " << omp_get_max_threads()
            << " threads, scale " << opts.scale << ") sizes " << r.sizes.dump() << "\n"
            << "  seconds min/median/max " << lo << " / " << med << " / " << hi << " over " << r.seconds.size()
            << " repeats\n"
            << "  throughput " << throughput << " " << r.unit << " = " << 100.0 * throughput / r.limit.per_second
            << "% of " << r.limit.per_second << " (" << r.limit.what << ")\n";
  if (!r.profile.is_null()) std::cout << "  profile (one run, seconds) " << r.profile.dump() << "\n";
  std::cout << "  results " << r.results.dump() << "\n";
  if (!opts.json.empty()) {
    std::ofstream out(opts.json);
    if (!out) throw std::runtime_error("cannot write " + opts.json);
    out << j.dump(2) << "\n";
  }
}

Limit cpu_limit(const WorkloadOptions& opts, std::string what, double (*rate)(), double flop_per_item) {
  if (opts.backend != Backend::cpu) return {"not measured on this backend", std::nan(""), flop_per_item};
  const double best = std::max({rate(), rate(), rate()});
  return {std::move(what), flop_per_item > 0.0 ? best / flop_per_item : best, flop_per_item};
}

double measured_peak_flops() {
  constexpr int lanes = 64;  // 8 independent 8-float vectors: enough chains to hide the FMA latency
  constexpr long rounds = 1 << 22;
  double flops = 0.0;
  const auto start = std::chrono::steady_clock::now();
#pragma omp parallel reduction(+ : flops)
  {
    float acc[lanes];
    for (int i = 0; i < lanes; ++i) acc[i] = 1.0f + 1e-3f * i;
    const float a = 0.999999f, b = 1e-7f;
    for (long r = 0; r < rounds; ++r)
      for (int i = 0; i < lanes; ++i) acc[i] = std::fma(acc[i], a, b);
    float sink = 0.0f;
    for (float x : acc) sink += x;
    flops += 2.0 * lanes * rounds + (sink == 12345.0f ? 1.0 : 0.0);  // sink keeps the loop alive
  }
  return flops / seconds_since(start);
}

double measured_exp_rate() {
  constexpr int n = 4096, rounds = 20000;
  double count = 0.0;
  const auto start = std::chrono::steady_clock::now();
#pragma omp parallel reduction(+ : count)
  {
    Eigen::ArrayXf x = Eigen::ArrayXf::LinSpaced(n, -20.0f, 0.0f), y(n);
    float sink = 0.0f;
    for (int r = 0; r < rounds; ++r) {
      y = (x + 1e-6f * static_cast<float>(r & 7)).exp();
      sink += y(r % n);
    }
    count += static_cast<double>(n) * rounds + (sink == 12345.0f ? 1.0 : 0.0);
  }
  return count / seconds_since(start);
}

}  // namespace goodhart::bench
