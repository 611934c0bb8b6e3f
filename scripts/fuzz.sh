#!/usr/bin/env bash
# fuzz.sh — builds the libFuzzer target over scenario parsing, validation and sweep expansion (fuzz/, clang++ with
# ASan + UBSan) into build/fuzz and runs it for SECONDS (default 60) on a seed corpus of scenarios/*.yaml,
# scenarios/tiny/*.yaml and tests/bad/*.yaml, copied into a temporary corpus folder.
# Usage: scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
#   FUZZ_CORPUS=DIR   keep the corpus in DIR (seeds are added to it) instead of a temporary folder
#   FUZZ_WORKERS=N    fuzzing processes in parallel (libFuzzer -fork=N; default 1)
#   FUZZ_STRICT=1     count timeouts (slow inputs) as failures too
# Findings land in build/fuzz/artifacts/ (emptied at the start of each run); reproduce one with
# build/fuzz/scenario_fuzz FILE. Exit status: non-zero when the build fails or libFuzzer finds a crash (an exception
# other than ScenarioError, a sanitizer report), a leak or an out-of-memory input.
# Limits: -timeout=10 s per input, -rss_limit_mb=2048 (a single malloc over 2 GiB is an out-of-memory finding too),
# -max_len=8192 bytes (the harness itself ignores inputs over 64 KiB). A timeout is recorded and reported but does
# not stop the run or fail it (unless FUZZ_STRICT=1): a legitimate sweep of a few thousand points takes over 10 s
# under ASan + coverage (about 3 ms per point per call), and the scenario layer accepts up to 2^31 points.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
workers="${FUZZ_WORKERS:-1}"
out=build/fuzz
start=$(date +%s)

CXX="${FUZZ_CXX:-clang++}" cmake -S fuzz -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$out" -j "$(nproc)" >/dev/null
built=$(date +%s)

if [ -n "${FUZZ_CORPUS:-}" ]; then
  corpus="$FUZZ_CORPUS"
  mkdir -p "$corpus"
else
  corpus="$(mktemp -d "${TMPDIR:-/tmp}/goodhart-fuzz-corpus.XXXXXX")"
  trap 'rm -rf "$corpus"' EXIT
fi
for f in scenarios/*.yaml scenarios/tiny/*.yaml tests/bad/*.yaml; do
  cp "$f" "$corpus/seed-$(echo "$f" | tr '/' '_')"
done
rm -rf "$out/artifacts"
mkdir -p "$out/artifacts"
log="$out/fuzz.log"

# -fork: each job runs in a child process, so a slow input (-ignore_timeouts=1) does not end the run; a crash, leak
# or out-of-memory input does
status=0
"$out/scenario_fuzz" -fork="$workers" -ignore_timeouts=1 -timeout_exitcode=70 -ignore_ooms=0 -ignore_crashes=0 \
  -max_total_time="$seconds" -dict=fuzz/dictionary.txt -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
  -artifact_prefix="$out/artifacts/" "$@" "$corpus" >"$log" 2>&1 || status=$?
end=$(date +%s)

# the figures: executions, speed, coverage (cov: covered edges, ft: features), corpus, findings
last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1) || last=""
execs=$(echo "$last" | sed -nE 's/^#([0-9]+):.*/\1/p')
fuzz_s=$((end - built))
echo "fuzz: build $((built - start)) s, fuzzing ${fuzz_s} s, ${execs:-0} executions" \
  "($(( ${execs:-0} / (fuzz_s > 0 ? fuzz_s : 1) )) exec/s)," \
  "$(echo "$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' || echo 'no coverage line')"
count() { find "$out/artifacts" -name "$1-*" | wc -l; }
crashes=$(count crash) leaks=$(count leak) ooms=$(count oom) timeouts=$(count timeout) slow=$(count slow-unit)
echo "fuzz: crashes $crashes, leaks $leaks, out-of-memory $ooms, timeouts $timeouts (log: $log)"
if [ "$timeouts" -gt 0 ]; then
  echo "fuzz: inputs over the 10 s timeout (large sweeps are expected here; anything else is a hang):"
  find "$out/artifacts" -name 'timeout-*' | sed 's/^/  /'
  # -fork exits with the last job's status, so a timeout in the job running when time is up is exit 70 even
  # with -ignore_timeouts=1: that alone is not a finding
  [ "$status" -eq 70 ] && status=0
  [ "${FUZZ_STRICT:-0}" = 1 ] && status=1
fi
if [ $((crashes + leaks + ooms)) -gt 0 ] || [ "$status" -ne 0 ]; then
  grep -E 'ERROR: |SUMMARY: |scenario_fuzz: |Test unit written|^    #[0-9]+ 0x.*/(sim|fuzz)/' "$log" | head -30 || true
  echo "fuzz: FOUND A CRASH, LEAK OR OUT-OF-MEMORY INPUT (artifacts in $out/artifacts/)"
  [ "$status" -eq 0 ] && status=1
fi
exit $status
