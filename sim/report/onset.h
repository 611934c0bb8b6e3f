// onset.h — `goodhart detect`: onset detectors scored against gold. For every training curve of one or more
// results folders, the true onset of overoptimization from gold, and for each signal a practitioner has without
// gold, how well "alarm at the first evaluation where the signal reaches a threshold" anticipates it.
// Contract:
//   curves     the rows of metrics.csv with param_name step (policy_gradient, dpo), grouped by curve_id, in file
//              order; steps must increase along a curve. Other curves (grids in n or beta) are not training runs
//              and are skipped; evaluation t is a curve's t-th row (t = 0 at pi_ref).
//   onset      the first t >= 1 with gold_t < max_{s <= t} gold_s - k gold_se_t (gold_se empty, one prompt: 0).
//              A curve with an onset turns over; one without does not.
//   signals    per evaluation t >= 1, larger = more alarming, from columns that need no gold:
//     kl                     kl_t: a KL budget
//     kl_growth              (kl_t - kl_{t-1}) / (step_t - step_{t-1})
//     kl_acceleration        (growth_t - growth_{t-1}) / (step_t - step_{t-1}), t >= 2
//     entropy_drop           (entropy_0 - entropy_t) / entropy_0: entropy collapse (a world with candidates)
//     ensemble_disagreement  ensemble_disagreement_t / ensemble_disagreement_0 - 1 (an ensemble proxy)
//     validation_drop        max_{s <= t} validation_proxy_s - validation_proxy_t: the held-out validation RM
//                            turns over (early_stopping heldout_proxy or monitor)
//     proxy_validation_gap   (proxy_t - proxy_0) - (validation_proxy_t - validation_proxy_0): the proxy's gain
//                            the validation RM does not share
//     accuracy_drop          rm_accuracy_policy_0 - rm_accuracy_policy_t: the proxy's accuracy on fresh pairs
//                            from the current policy (measured against gold's order, which fresh labels estimate)
//              A signal is NaN where its columns are empty (or entropy_0, ensemble_disagreement_0 are not > 0).
//   score      a turning curve's: the signal's maximum over 1 <= t <= onset (an alarm in time); another curve's:
//              its maximum over every t >= 1 (any alarm is false); NaN values are passed over. A curve with no
//              value in its window is left out of that signal.
//   roc        per signal, for every distinct score as threshold (ascending) and +inf: detected = turning curves
//              with score >= threshold, late = turning curves whose first alarm comes after the onset, missed =
//              never alarmed, false_alarms = other curves with score >= threshold; tpr = detected / turning,
//              fpr = false_alarms / others (NaN without curves of that kind); lead = onset - first alarm, in
//              evaluations, mean and median over the detected. auc = P(turning score > other score) + P(=) / 2
//              over all pairs (Mann-Whitney), NaN without both kinds; best = the threshold of largest tpr - fpr
//              (Youden's J; the larger threshold on ties).
//   output     detect.csv (the roc rows), detect_curves.csv (a row per curve: its onset and every score),
//              detect_signals.csv (a row per signal: auc and the best threshold), published together into `out`;
//              the signal table on `table` unless quiet.
//   errors     k not finite or < 0, a folder without metrics.csv or its columns, no training curve, steps that do
//              not increase: std::invalid_argument naming the folder or file:line.
#pragma once

#include <filesystem>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

namespace goodhart {

inline constexpr const char* onset_signals[] = {"kl",           "kl_growth",       "kl_acceleration",
                                                "entropy_drop", "ensemble_disagreement", "validation_drop",
                                                "proxy_validation_gap", "accuracy_drop"};
inline constexpr int onset_signal_count = sizeof(onset_signals) / sizeof(onset_signals[0]);

struct OnsetCurve {
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  std::string folder, curve_id, optimizer, swept;  // swept: "key=value ..." of the point's swept keys
  std::vector<double> step, gold, gold_se;
  std::vector<double> signal[onset_signal_count];  // per evaluation; index 0 (pi_ref) is NaN
  int onset = -1;                                   // the onset's evaluation, -1: does not turn over
  double score[onset_signal_count];                 // NaN: left out of the signal
  int first_alarm(int signal, double threshold) const;  // -1: never
};

struct RocPoint {
  std::string signal;
  double threshold = 0.0;
  int detected = 0, late = 0, missed = 0, false_alarms = 0;
  double tpr = 0.0, fpr = 0.0, lead_mean = 0.0, lead_median = 0.0;
};

struct SignalSummary {
  std::string signal;
  int turning = 0, others = 0;
  double auc = 0.0;
  RocPoint best;
};

struct OnsetReport {
  double k = 2.0;
  std::vector<OnsetCurve> curves;
  std::vector<RocPoint> roc;
  std::vector<SignalSummary> signals;
};

// the curves of the folders with their onsets, signals and scores, and every signal's roc and summary
OnsetReport detect_onsets(const std::vector<std::filesystem::path>& dirs, double k);

// detect_onsets, written to out (detect.csv, detect_curves.csv, detect_signals.csv) and printed
OnsetReport detect_report(const std::vector<std::filesystem::path>& dirs, double k, const std::filesystem::path& out,
                          bool quiet, std::ostream& table);

}  // namespace goodhart
