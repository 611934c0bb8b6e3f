// pools.h — a point's responses as a score file: what `goodhart export-pools` writes and a scored world reads back
// (world: {type: scored}), so a synthetic run can be replayed through the path a real dump takes.
// Contract: one row per response, header prompt_id, response_id, proxy, [proxy_0 ... proxy_{k-1}: an ensemble's
// standardized members], gold, log_ref, and with `features` x0 ... x{d-1}; a world with candidates gives every
// candidate (log_ref the normalized log pi_ref(k|p): replay it with `responses: enumerated`), any other world the
// pool of the scenario's first best_of_n optimizer, drawn as that optimizer draws it (log_ref a log-density:
// replay with `responses: sampled`). Numbers are shortest round-trip text of the values the run uses (float scores), so a replay with
// `standardize: false` ranks and averages the same values.
#pragma once

#include "sim/engine/run.h"
#include "sim/io/files.h"

namespace goodhart {

// throws std::invalid_argument when a world without candidates has no best_of_n optimizer, PointFailed as
// run_point does
CsvTable export_pools(const RunSpec& spec, Backend backend, bool features = false);

}  // namespace goodhart
