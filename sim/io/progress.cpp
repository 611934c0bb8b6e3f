// progress.cpp — renders Progress: "[#####.....] 12/40 points  30%  ETA 0:12" or "label: 12/40 points (30%), ...".
// Contract: one write and flush per update, throttled by the interval; the ETA assumes a constant rate.
#include "sim/io/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <locale>
#include <sstream>
#include <utility>

namespace goodhart {
namespace {

constexpr std::size_t kBarWidth = 30;

// "0:12", "12:05" or "1:02:03", for the bar
std::string clock_time(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

// "9s", "2m05s" or "1h02m", for the plain lines
std::string short_time(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

}  // namespace

Progress::Progress(std::size_t total, bool quiet, std::string label)
    : Progress(total, quiet, std::move(label), std::cerr, ::isatty(2) == 1) {}

Progress::Progress(std::size_t total, bool quiet, std::string label, std::ostream& out, bool terminal,
                   std::optional<std::chrono::milliseconds> min_interval)
    : total_(total), quiet_(quiet), label_(std::move(label)), out_(out), terminal_(terminal),
      interval_(min_interval.value_or(terminal ? kTerminalInterval : kPlainInterval)) {
  // a bar shows up at once; plain lines wait for progress
  if (!quiet_ && terminal_) {
    std::lock_guard lock(mutex_);
    draw(false);
  }
}

Progress::~Progress() {
  if (drawn_ && !finished_) out_ << '\n' << std::flush;
}

void Progress::advance(std::size_t done_units) {
  if (quiet_) return;
  std::lock_guard lock(mutex_);
  done_ += done_units;
  if (finished_ || Clock::now() - last_draw_ < interval_) return;
  draw(false);
}

void Progress::finish() {
  if (quiet_) return;
  std::lock_guard lock(mutex_);
  if (finished_) return;
  draw(true);
  finished_ = true;
}

void Progress::draw(bool final) {
  // counts, percentage and times
  last_draw_ = Clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const std::size_t done = std::min(done_, total_);
  const double fraction = total_ == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total_);
  const std::size_t percent = total_ == 0 ? 100 : done * 100 / total_;  // floored: 100% only when done
  const bool eta_known = done > 0;
  const double eta = eta_known ? elapsed * static_cast<double>(total_ - done) / static_cast<double>(done) : 0.0;
  std::ostringstream line;
  line.imbue(std::locale::classic());
  // a redrawn bar: carriage return, the line, erase to its end
  if (terminal_) {
    const auto filled = static_cast<std::size_t>(fraction * kBarWidth);
    line << '\r';
    if (!label_.empty()) line << label_ << ' ';
    line << '[' << std::string(filled, '#') << std::string(kBarWidth - filled, '.') << "] " << done << '/' << total_
         << " points  " << percent << "%  ";
    if (final) line << "elapsed " << clock_time(elapsed);
    else line << "ETA " << (eta_known ? clock_time(eta) : "-:--");
    line << (final ? "\x1b[K\n" : "\x1b[K");
    drawn_ = !final;
  } else {
    // a plain line
    if (!label_.empty()) line << label_ << ": ";
    line << done << '/' << total_ << " points (" << percent << "%), elapsed " << short_time(elapsed);
    if (!final && eta_known) line << ", ETA " << short_time(eta);
    line << '\n';
  }
  out_ << line.str() << std::flush;
}

}  // namespace goodhart
