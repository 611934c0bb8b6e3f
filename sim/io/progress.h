// progress.h — progress of a sweep on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise.
// Contract: nothing at all when quiet; advance() and finish() are thread-safe; finish() prints once.
#pragma once

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>

namespace goodhart {

class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kTerminalInterval{100};  // bar redraws at most ~10 times a second
  static constexpr std::chrono::milliseconds kPlainInterval{5000};    // plain lines at most every 5 seconds

  // writes to stderr, as a bar when stderr is a terminal (isatty(2))
  Progress(std::size_t total, bool quiet, std::string label);
  // for tests: any stream, the mode forced, and optionally the minimum time between updates
  Progress(std::size_t total, bool quiet, std::string label, std::ostream& out, bool terminal,
           std::optional<std::chrono::milliseconds> min_interval = std::nullopt);
  ~Progress();  // ends a half-drawn bar's line so later messages start clean; prints no final line

  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(std::size_t done_units = 1);
  void finish();

 private:
  void draw(bool final);  // caller holds mutex_

  std::size_t total_;
  bool quiet_;
  std::string label_;
  std::ostream& out_;
  bool terminal_;
  std::chrono::milliseconds interval_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_ = start_;
  std::size_t done_ = 0;
  bool drawn_ = false;     // a bar line is on screen without its newline
  bool finished_ = false;
  std::mutex mutex_;
};

}  // namespace goodhart
