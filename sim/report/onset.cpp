// onset.cpp — the onsets, signals, scores and ROC summaries of `goodhart detect`.
// Contract: see onset.h.
#include "sim/report/onset.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <utility>

#include "sim/io/files.h"
#include "sim/report/curves.h"

namespace goodhart {

namespace fs = std::filesystem;

namespace {

constexpr double nan = OnsetCurve::nan;

enum Signal { s_kl, s_growth, s_acceleration, s_entropy, s_disagreement, s_validation, s_gap, s_accuracy };

// the metrics.csv columns a curve is read from
struct Columns {
  std::vector<double> kl, entropy, disagreement, validation, proxy, accuracy;
};

void derive_signals(OnsetCurve& c, const Columns& m) {
  const std::size_t T = c.step.size();
  for (auto& s : c.signal) s.assign(T, nan);
  double validation_max = m.validation[0];
  for (std::size_t t = 1; t < T; ++t) {
    const double dt = c.step[t] - c.step[t - 1];
    c.signal[s_kl][t] = m.kl[t];
    c.signal[s_growth][t] = (m.kl[t] - m.kl[t - 1]) / dt;
    if (t >= 2) c.signal[s_acceleration][t] = (c.signal[s_growth][t] - c.signal[s_growth][t - 1]) / dt;
    if (m.entropy[0] > 0) c.signal[s_entropy][t] = (m.entropy[0] - m.entropy[t]) / m.entropy[0];
    if (m.disagreement[0] > 0) c.signal[s_disagreement][t] = m.disagreement[t] / m.disagreement[0] - 1.0;
    validation_max = std::fmax(validation_max, m.validation[t]);  // NaN passed over
    c.signal[s_validation][t] = validation_max - m.validation[t];
    c.signal[s_gap][t] = (m.proxy[t] - m.proxy[0]) - (m.validation[t] - m.validation[0]);
    c.signal[s_accuracy][t] = m.accuracy[0] - m.accuracy[t];
  }
}

void find_onset(OnsetCurve& c, double k) {
  double best = c.gold[0];
  for (std::size_t t = 1; t < c.gold.size(); ++t) {
    best = std::max(best, c.gold[t]);
    const double se = std::isnan(c.gold_se[t]) ? 0.0 : c.gold_se[t];
    if (c.gold[t] < best - k * se) {
      c.onset = static_cast<int>(t);
      return;
    }
  }
}

void score(OnsetCurve& c) {
  const std::size_t end = c.onset >= 0 ? static_cast<std::size_t>(c.onset) : c.step.size() - 1;
  for (int s = 0; s < onset_signal_count; ++s) {
    c.score[s] = nan;
    for (std::size_t t = 1; t <= end; ++t) c.score[s] = std::fmax(c.score[s], c.signal[s][t]);
  }
}

// the training curves of one folder's metrics.csv
void read_folder(const fs::path& dir, double k, std::vector<OnsetCurve>& out) {
  const fs::path file = dir / "metrics.csv";
  if (!fs::is_regular_file(file))
    throw std::invalid_argument(dir.string() + ": no metrics.csv (expected a goodhart results folder)");
  CsvData csv;
  try {
    csv = read_csv(file);
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(e.what());  // a malformed table is bad input (exit 2)
  }
  const std::vector<std::string> keys = swept_keys(csv, "param_name", file);
  for (const char* need : {"curve_id", "step", "kl", "gold_mean", "gold_se", "proxy_mean"})
    if (csv.column(need) < 0)
      throw std::invalid_argument(file.string() + ": no column " + need +
                                  " (results of an older goodhart: run the scenario again)");
  const auto number = [&](std::size_t r, const char* column) { return cell_number(csv.cell(r, column)); };
  const std::size_t first = out.size();  // this folder's curves start here
  OnsetCurve* c = nullptr;
  Columns m;
  const auto finish = [&] {
    if (!c) return;
    derive_signals(*c, m);
    find_onset(*c, k);
    score(*c);
  };
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    if (csv.cell(r, "param_name") != "step") continue;
    const std::string& id = csv.cell(r, "curve_id");
    if (!c || c->curve_id != id) {
      for (std::size_t i = first; i < out.size(); ++i)
        if (out[i].curve_id == id)
          throw std::invalid_argument(csv.where(file.string(), r, 0) + ": curve " + id +
                                      " continues after other rows (expected its rows together, in step order)");
      finish();
      out.emplace_back();
      c = &out.back();
      c->folder = dir.filename().string();
      c->curve_id = id;
      c->optimizer = csv.cell(r, "optimizer");
      std::vector<std::pair<std::string, std::string>> swept;
      for (const std::string& key : keys) swept.emplace_back(key, csv.cell(r, key));
      c->swept = join_swept(swept);
      m = {};
    }
    const double step = number(r, "step"), gold = number(r, "gold_mean");
    if (std::isnan(step) || std::isnan(gold) || (!c->step.empty() && step <= c->step.back()))
      throw std::invalid_argument(csv.where(file.string(), r, static_cast<std::size_t>(csv.column("step"))) +
                                  ": expected a step larger than the curve's previous one and a gold_mean");
    c->step.push_back(step);
    c->gold.push_back(gold);
    c->gold_se.push_back(number(r, "gold_se"));
    m.kl.push_back(number(r, "kl"));
    m.entropy.push_back(number(r, "entropy"));
    m.disagreement.push_back(number(r, "ensemble_disagreement"));
    m.validation.push_back(number(r, "validation_proxy"));
    m.proxy.push_back(number(r, "proxy_mean"));
    m.accuracy.push_back(number(r, "rm_accuracy_policy"));
  }
  finish();
}

double median(std::vector<double> v) {
  if (v.empty()) return nan;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double ratio(int a, int b) { return b > 0 ? static_cast<double>(a) / b : nan; }

// the roc rows and the summary of one signal
SignalSummary summarize_signal(const std::vector<OnsetCurve>& curves, int s, std::vector<RocPoint>& roc) {
  SignalSummary out;
  out.signal = onset_signals[s];
  std::vector<double> turning, others;
  std::set<double> thresholds;
  for (const OnsetCurve& c : curves) {
    if (std::isnan(c.score[s])) continue;
    (c.onset >= 0 ? turning : others).push_back(c.score[s]);
    thresholds.insert(c.score[s]);
  }
  out.turning = static_cast<int>(turning.size());
  out.others = static_cast<int>(others.size());
  double wins = 0.0;
  for (double a : turning)
    for (double b : others) wins += a > b ? 1.0 : a == b ? 0.5 : 0.0;
  out.auc = turning.empty() || others.empty() ? nan : wins / (static_cast<double>(turning.size()) * others.size());
  out.best.signal = out.signal;
  out.best.threshold = out.best.tpr = out.best.fpr = out.best.lead_mean = out.best.lead_median = nan;
  double best_j = -std::numeric_limits<double>::infinity();
  for (double threshold : thresholds) {
    RocPoint p;
    p.signal = out.signal;
    p.threshold = threshold;
    std::vector<double> leads;
    for (const OnsetCurve& c : curves) {
      if (std::isnan(c.score[s])) continue;
      if (c.onset < 0) {
        p.false_alarms += c.score[s] >= threshold;
        continue;
      }
      const int alarm = c.first_alarm(s, threshold);
      if (alarm < 0) {
        ++p.missed;
      } else if (alarm > c.onset) {
        ++p.late;
      } else {
        ++p.detected;
        leads.push_back(c.onset - alarm);
      }
    }
    p.tpr = ratio(p.detected, out.turning);
    p.fpr = ratio(p.false_alarms, out.others);
    p.lead_mean = leads.empty() ? nan : [&] {
      double sum = 0.0;
      for (double l : leads) sum += l;
      return sum / static_cast<double>(leads.size());
    }();
    p.lead_median = median(leads);
    const double j = p.tpr - p.fpr;
    if (!std::isnan(j) && j >= best_j) {  // ascending thresholds: >= keeps the larger on ties
      best_j = j;
      out.best = p;
    }
    roc.push_back(p);
  }
  return out;
}

}  // namespace

int OnsetCurve::first_alarm(int s, double threshold) const {
  for (std::size_t t = 1; t < signal[s].size(); ++t)
    if (signal[s][t] >= threshold) return static_cast<int>(t);
  return -1;
}

OnsetReport detect_onsets(const std::vector<fs::path>& dirs, double k) {
  if (!std::isfinite(k) || k < 0)
    throw std::invalid_argument("--k: expected a finite number >= 0 of gold standard errors, got " +
                                format_double(std::isnan(k) ? -1.0 : k));
  if (dirs.empty()) throw std::invalid_argument("detect: expected at least one results folder");
  OnsetReport report;
  report.k = k;
  for (const fs::path& dir : dirs) {
    if (!fs::is_directory(dir)) throw std::invalid_argument(dir.string() + ": no such results folder");
    read_folder(dir, k, report.curves);
  }
  if (report.curves.empty())
    throw std::invalid_argument(dirs.front().string() +
                                (dirs.size() > 1 ? " and the other folders hold" : " holds") +
                                " no training curve (rows with param_name step: policy_gradient or dpo)");
  for (int s = 0; s < onset_signal_count; ++s) report.signals.push_back(summarize_signal(report.curves, s, report.roc));
  return report;
}

OnsetReport detect_report(const std::vector<fs::path>& dirs, double k, const fs::path& out, bool quiet,
                          std::ostream& table) {
  OnsetReport report = detect_onsets(dirs, k);
  std::string roc = "signal,threshold,detected,late,missed,false_alarms,tpr,fpr,lead_mean,lead_median\n";
  for (const RocPoint& p : report.roc)
    roc += p.signal + "," + format_double(p.threshold) + "," + std::to_string(p.detected) + "," +
           std::to_string(p.late) + "," + std::to_string(p.missed) + "," + std::to_string(p.false_alarms) + "," +
           format_double(p.tpr) + "," + format_double(p.fpr) + "," + format_double(p.lead_mean) + "," +
           format_double(p.lead_median) + "\n";
  std::string curves = "folder,curve_id,optimizer,swept,evaluations,onset_eval,onset_step,peak_gold,peak_step";
  for (const char* s : onset_signals) curves += std::string(",") + s;
  curves += "\n";
  for (const OnsetCurve& c : report.curves) {
    const std::size_t peak = static_cast<std::size_t>(std::max_element(c.gold.begin(), c.gold.end()) - c.gold.begin());
    curves += csv_escape(c.folder) + "," + csv_escape(c.curve_id) + "," + csv_escape(c.optimizer) + "," +
              csv_escape(c.swept) + "," + std::to_string(c.step.size()) + "," +
              (c.onset >= 0 ? std::to_string(c.onset) : "") + "," +
              (c.onset >= 0 ? format_double(c.step[static_cast<std::size_t>(c.onset)]) : "") + "," +
              format_double(c.gold[peak]) + "," + format_double(c.step[peak]);
    for (double v : c.score) curves += "," + format_double(v);
    curves += "\n";
  }
  std::string signals = "signal,k,curves,turning,others,auc,best_threshold,best_tpr,best_fpr,best_lead_median\n";
  for (const SignalSummary& s : report.signals)
    signals += s.signal + "," + format_double(k) + "," + std::to_string(s.turning + s.others) + "," +
               std::to_string(s.turning) + "," + std::to_string(s.others) + "," + format_double(s.auc) + "," +
               format_double(s.best.threshold) + "," + format_double(s.best.tpr) + "," + format_double(s.best.fpr) +
               "," + format_double(s.best.lead_median) + "\n";
  make_output_folder(out);
  publish_files({{out / "detect.csv", roc}, {out / "detect_curves.csv", curves}, {out / "detect_signals.csv", signals}});
  if (!quiet) {
    int turning = 0;
    for (const OnsetCurve& c : report.curves) turning += c.onset >= 0;
    table << report.curves.size() << " training curves, " << turning << " turn over (gold " << k
          << " standard errors below its running maximum)\n";
    char line[256];
    std::snprintf(line, sizeof line, "%-22s %7s %7s %6s %10s %6s %6s %11s\n", "signal", "turning", "others", "auc",
                  "threshold", "tpr", "fpr", "median lead");
    table << line;
    for (const SignalSummary& s : report.signals) {
      std::snprintf(line, sizeof line, "%-22s %7d %7d %6.3f %10.4g %6.3f %6.3f %11.1f\n", s.signal.c_str(), s.turning,
                    s.others, s.auc, s.best.threshold, s.best.tpr, s.best.fpr, s.best.lead_median);
      table << line;
    }
  }
  return report;
}

}  // namespace goodhart
