// scored.h — the scored world's own keys (world: {type: scored, ...}), read as world.get<ScoredWorldConfig>(), and
// the table of scores it reads from its file; the world, its table of keys and the reader are in scored.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/numeric/mlp.h"

namespace goodhart {

// a score file once read: P prompts with K responses each, the numeric columns the scenario names
struct ScoredData {
  int prompts = 0, responses = 0;     // P, K
  std::vector<std::string> columns;   // the feature and score columns, in feature order
  RowMatrixXf values;                 // row p*K + k: response k of prompt p (in file order within its prompt)
  std::vector<double> log_ref;        // per row, when the file has a log pi_ref column; else empty
  std::vector<std::string> prompt_ids;  // in order of first appearance
};

struct ScoredWorldConfig {
  std::string path;                          // the score file (CSV), relative to the scenario file's folder
  std::string prompt_column = "prompt_id";   // which prompt a row answers
  std::string response_column = "response_id";  // the response's id within its prompt; "": rows are responses
  std::string log_ref_column;                // log pi_ref of the response; "": none
  std::vector<std::string> feature_columns;  // numeric columns a policy or a noisy proxy may use besides scores
  std::string responses = "sampled";         // sampled: draws from pi_ref (its empirical measure is uniform);
                                             // enumerated: pi_ref's whole support, weighted by exp(log_ref)
  std::string data_digest;                   // FNV-1a of the file's bytes: set when read; given, it must agree
  std::shared_ptr<const ScoredData> data;    // the file as read by load (not a key)
};

}  // namespace goodhart
