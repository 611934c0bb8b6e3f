#!/bin/bash
# test-slurm.sh — opt-in test of scripts/slurm/sweep.sbatch against a real Slurm (not run by CI).
#
# It starts a private single-node Slurm (munged, slurmctld, slurmd) in a temporary folder, submits sweep.sbatch
# as a three-task job array on a tiny scenario, merges the shards in a dependent job, and checks that metrics.csv
# and runs.csv are byte for byte those of one plain `goodhart run`. Everything it started is stopped, and the
# folder removed, when it exits.
#
# Usage, as root, from anywhere (Debian bookworm: apt-get install -y slurm-wlm munge):
#   bash scripts/slurm/test-slurm.sh [GOODHART_BINARY]     # default: the repository's build/release/goodhart
# Environment: SCENARIO (default: the repository's scenarios/tiny/gao_bon_learned.yaml; at least 3 points),
# TIMEOUT_S (default 600: the wait for the jobs), SLURM_TEST_PORT (default 16817: slurmctld's port; slurmd's is
# the next one).
# Exit status: 0 pass, 1 fail, 77 skipped (not root, or Slurm or munge not installed).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GOODHART=$(realpath -m "${1:-$REPO/build/release/goodhart}")
SCENARIO=$(realpath -m "${SCENARIO:-$REPO/scenarios/tiny/gao_bon_learned.yaml}")
TIMEOUT_S=${TIMEOUT_S:-600}
PORT=${SLURM_TEST_PORT:-16817}
TASKS=3
NODE=$(hostname -s)

# a test started from inside a Slurm job must not hand that job's array variables to the plain run
mapfile -t inherited < <(compgen -e | grep '^SLURM_' || true)
[[ ${#inherited[@]} -eq 0 ]] || unset "${inherited[@]}"

say() { printf 'test-slurm: %s\n' "$*"; }
fail() { say "FAIL: $*"; exit 1; }
skip() { say "SKIPPED: $*"; exit 77; }

check_prerequisites() {
  [[ $EUID -eq 0 ]] || skip "needs root: slurmd starts every job as its user and must run as root"
  local missing=() tool
  for tool in munged munge mungekey slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  [[ ${#missing[@]} -eq 0 ]] ||
    skip "${missing[*]} not found; install them with: apt-get update && apt-get install -y slurm-wlm munge"
  [[ -x $GOODHART ]] || fail "no goodhart binary at $GOODHART: build it (cmake --build --preset release) or pass its path"
  local points
  points=$("$GOODHART" validate "$SCENARIO" --list-points | wc -l)
  [[ $points -ge $TASKS ]] || fail "$SCENARIO has $points points; the test needs at least $TASKS"
  say "$SCENARIO: $points points over $TASKS array tasks, on $NODE with $(nproc) CPUs"
}

# waits up to $1 seconds for the command after it to succeed
wait_until() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

# munged's socket and its parents must be reachable by every user: open the folder to traversal
start_munge() {
  mkdir -p "$TMP/munge"
  chmod 711 "$TMP"
  mungekey --create --keyfile="$TMP/munge/munge.key"
  munged --foreground --key-file="$TMP/munge/munge.key" --socket="$TMP/munge/socket" \
    --pid-file="$TMP/munge/munged.pid" --seed-file="$TMP/munge/munged.seed" --log-file="$TMP/munge/munged.log" \
    2>"$TMP/munge/munged.stderr" &
  PIDS+=($!)
  wait_until 10 munge --socket="$TMP/munge/socket" --no-input || fail "munged did not start: $(cat "$TMP"/munge/munged.*)"
}

write_slurm_conf() {
  mkdir -p "$TMP/slurm/state" "$TMP/slurm/spool" "$TMP/logs"
  cat >"$SLURM_CONF" <<EOF
ClusterName=goodhart-test
SlurmctldHost=$NODE
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$TMP/munge/socket
StateSaveLocation=$TMP/slurm/state
SlurmdSpoolDir=$TMP/slurm/spool
SlurmctldPidFile=$TMP/slurm/slurmctld.pid
SlurmdPidFile=$TMP/slurm/slurmd.pid
SlurmctldLogFile=$TMP/slurm/slurmctld.log
SlurmdLogFile=$TMP/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
MpiDefault=none
ReturnToService=2
MinJobAge=3600
DependencyParameters=kill_invalid_depend
NodeName=$NODE CPUs=$(nproc) RealMemory=$(($(awk '/^MemTotal/ {print $2}' /proc/meminfo) / 1024)) State=UNKNOWN
PartitionName=test Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

node_idle() { [[ $(sinfo --noheader --nodes="$NODE" --format=%T) == idle ]]; }

start_slurm() {
  export SLURM_CONF=$TMP/slurm/slurm.conf
  write_slurm_conf
  slurmctld -D -f "$SLURM_CONF" 2>"$TMP/slurm/slurmctld.stderr" &
  PIDS+=($!)
  wait_until 30 scontrol ping || fail "slurmctld did not start: $(tail -n 20 "$TMP"/slurm/slurmctld.*)"
  slurmd -D -f "$SLURM_CONF" 2>"$TMP/slurm/slurmd.stderr" &
  PIDS+=($!)
  wait_until 30 node_idle || fail "node $NODE is not idle: $(sinfo --noheader --Node --long; tail -n 20 "$TMP"/slurm/slurmd.*)"
}

# on exit, even a failed one: cancel the jobs, stop the daemons (newest first), remove the folder
cleanup() {
  local status=$? i
  if [[ ${#JOBS[@]} -gt 0 ]]; then
    scancel "${JOBS[@]}" 2>/dev/null || true
    wait_until 10 jobs_done || true
  fi
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
    wait "${PIDS[i]}" 2>/dev/null || true
  done
  rm -rf "$TMP"
  exit "$status"
}

jobs_done() { [[ -z $(squeue --noheader --jobs="$(IFS=,; echo "${JOBS[*]}")") ]]; }

# every task of job $1 (one line each) completed with exit code 0
job_succeeded() {
  local tasks
  tasks=$(scontrol --oneliner show job "$1") && [[ -n $tasks ]] &&
    ! grep -v 'JobState=COMPLETED .* ExitCode=0:0 ' <<<"$tasks" | grep -q .
}

show_job_logs() {
  scontrol --oneliner show job "$1" |
    awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(JobId|ArrayTaskId|JobState|Reason|ExitCode)=/) printf "%s ", $i; print "" }'
  tail -n 20 "$TMP"/logs/*
}

run_sweep_on_slurm() {
  local array merge
  array=$(SCENARIO=$SCENARIO OUT=$TMP/slurm-out GOODHART=$GOODHART sbatch --parsable --array=0-$((TASKS - 1)) \
    --cpus-per-task=1 --mem=1G --chdir="$TMP" --output="$TMP/logs/sweep-%A_%a.log" "$REPO/scripts/slurm/sweep.sbatch")
  JOBS+=("$array")
  merge=$(sbatch --parsable --dependency=afterok:"$array" --mem=1G --chdir="$TMP" --output="$TMP/logs/merge-%j.log" \
    --wrap "$(printf '%q merge %q' "$GOODHART" "$TMP/slurm-out")")
  JOBS+=("$merge")
  say "submitted array job $array and merge job $merge; waiting up to ${TIMEOUT_S}s"
  wait_until "$TIMEOUT_S" jobs_done || { show_job_logs "$array"; fail "the jobs did not finish in ${TIMEOUT_S}s"; }
  job_succeeded "$array" || { show_job_logs "$array"; fail "an array task failed"; }
  job_succeeded "$merge" || { show_job_logs "$merge"; fail "the merge job failed"; }
}

# the array must really have been split: one shard manifest per task
check_shards() {
  local i
  for ((i = 0; i < TASKS; i++)); do
    [[ -f $TMP/slurm-out/shards/shard-$i-of-$TASKS.json ]] ||
      fail "no shards/shard-$i-of-$TASKS.json: goodhart did not take its shard from the array task"
  done
}

compare_with_plain_run() {
  "$GOODHART" run "$SCENARIO" --out "$TMP/plain-out" --quiet
  local file
  for file in metrics.csv runs.csv; do
    cmp "$TMP/plain-out/$file" "$TMP/slurm-out/$file" || fail "$file differs between the Slurm array and a plain run"
  done
}

main() {
  check_prerequisites
  TMP=$(mktemp -d)
  PIDS=()
  JOBS=()
  trap cleanup EXIT
  trap 'fail interrupted' INT TERM
  start_munge
  start_slurm
  run_sweep_on_slurm
  check_shards
  compare_with_plain_run
  say "PASS: metrics.csv and runs.csv of the $TASKS-task Slurm array, merged, match a plain run (${SECONDS}s)"
}

main
