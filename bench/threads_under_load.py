#!/usr/bin/env python3
# threads_under_load.py — is the default thread count slower than one thread on a busy machine? Times `goodhart
# run` of a few scenarios with the default threads and with --threads 1, on a quiet machine and with one busy loop
# per core running beside it, under OpenMP wait policies: the tool's default (GOMP_SPINCOUNT=30000: a waiting thread
# spins briefly, then sleeps), passive (sleeps at once), and libgomp's own (spins 300000 times, the tool before).
# Usage: python3 bench/threads_under_load.py [--binary build/release/goodhart] [--repeats 5]
# Prints a markdown table (min / median / max seconds of each cell) for bench/RESULTS.md.
import argparse
import os
import statistics
import subprocess
import tempfile
import time

SCENARIOS = ["scenarios/adaptive_kl.yaml", "scenarios/gao_rl_pg.yaml", "scenarios/tiny/frontier.yaml"]
POLICIES = {"the tool's default (spin 30000)": {}, "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
            "libgomp's spin 300000 (before)": {"GOMP_SPINCOUNT": "300000"}}


def busy_loops(count):
    return [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(count)]


def timed(binary, scenario, threads, env, out):
    args = [binary, "run", scenario, "--out", out, "--quiet", "--force"] + (["--threads", "1"] if threads else [])
    started = time.perf_counter()
    subprocess.run(args, env=env, check=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", default="build/release/goodhart")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cores = os.cpu_count()
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS")}
    print(f"| scenario | load | wait policy | default threads ({cores}) s min / median / max | --threads 1 s | "
          "default / one |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "r")
        for load in (0, cores):
            loops = busy_loops(load)
            try:
                for scenario in SCENARIOS:
                    for policy, extra in POLICIES.items():
                        env = dict(base, **extra)
                        cells = {}
                        for threads in (0, 1):
                            times = [timed(args.binary, scenario, threads, env, out) for _ in range(args.repeats)]
                            cells[threads] = (min(times), statistics.median(times), max(times))
                        d, one = cells[0], cells[1]
                        print(f"| {scenario} | {load} busy loops | {policy} | {d[0]:.3f} / {d[1]:.3f} / {d[2]:.3f} | "
                              f"{one[0]:.3f} / {one[1]:.3f} / {one[2]:.3f} | {d[1] / one[1]:.2f} |", flush=True)
            finally:
                for p in loops:
                    p.kill()
                    p.wait()


if __name__ == "__main__":
    main()
