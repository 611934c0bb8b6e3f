#!/usr/bin/env python3
"""run_workloads.py — BENCHMARKS.md's workloads W1-W3 side by side: goodhart (goodhart_workloads) and the peers in
bench/peers/ (NumPy on the CPU, PyTorch eager on --device), on the same inputs, checked to agree, then a table of
times, speedups, % of the limits and the targets.

Usage: bench/run_workloads.py [--device cpu|cuda] [--scale S | --scales w1=S,w2=S,w3=S] [--repeats R]
                              [--workloads w1,w2,w3] [--peers numpy,torch] [--build DIR] [--out DIR]
Every workload runs the engine's own path (what `goodhart run` executes); W3 is the engine's optimizer
(run_policy_gradient), whose sampling and gradients are the backend ops policy_pass and policy_slots.
Contract:
  inputs     goodhart_workloads generates each workload's inputs from its seed and dumps them (--dump-inputs);
             every peer loads that folder, so W2 agrees within float32 rounding. W1's responses (128 MiB per 1024
             prompts) and the policy samples of W3 are drawn by each program itself: W1 is checked statistically at
             the timed scale (|ours - peer| <= 5 standard errors at every n) and exactly on dumped responses at
             scale 1/64; W3 within an absolute + relative tolerance at every evaluation step (sampling noise).
  agreement  any disagreement is printed and the script exits 1 after the table; a peer that cannot run (PyTorch
             not installed, no GPU) is reported as unavailable and skipped.
  timing     --device cpu: --repeats rounds, each one run of goodhart then of every peer (interleaved: the load of a
             shared machine hits all alike); --device cuda: each program's runs in one go after a warm-up run.
  speedup    peer median seconds / goodhart median seconds (> 1: goodhart is faster).
  limits     --device cpu: the limit goodhart_workloads measured (calibration loops on this machine); --device
             cuda: from the GPU's SM count and clock (16 exp/clock/SM on the SFUs, 256 FP32 FLOP/clock/SM).
  output     the table on stdout; under --out the inputs, every report (NAME.json, and all of them in all.json)
             and the table (table.md)."""
import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# BENCHMARKS.md's targets: speedup over the named peer, per device
TARGETS = {"cpu": {"w1": ("numpy", 30.0), "w2": ("numpy", 30.0), "w3": ("numpy", 10.0)},
           "cuda": {"w1": ("torch", 3.0), "w2": ("torch", 60.0), "w3": ("torch", 5.0)}}
CUDA_W2_PERCENT_TARGET = 70.0
DEFAULT_SCALES = {"w1": 0.25, "w2": 0.125, "w3": 0.0625}  # a few minutes on 2 cores, NumPy included
W1_EXACT_SCALE = 1.0 / 64  # 64 prompts: 8 MiB of dumped responses
W3_TOLERANCE = (0.05, 0.03)  # absolute, relative: sampling noise of a 200-step run (see RESULTS.md)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--scale", type=float, help="one scale for every workload")
    p.add_argument("--scales", default="", help="per workload, e.g. w1=0.25,w2=0.125")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workloads", default="w1,w2,w3",
                   help="a comma-separated subset of w1, w2, w3")
    p.add_argument("--peers", default=None, help="default: numpy,torch on cpu; torch on cuda")
    p.add_argument("--build", default=os.path.join(ROOT, "build", "bench"), help="folder holding goodhart_workloads")
    p.add_argument("--out", default=os.path.join(ROOT, "build", "bench-results"))
    return p.parse_args()


def scales_of(args):
    scales = {w: args.scale or DEFAULT_SCALES[w] for w in DEFAULT_SCALES}
    for item in filter(None, args.scales.split(",")):
        w, s = item.split("=")
        scales[w] = float(s)
    return scales


def find_runner(build):
    for path in (os.path.join(build, "bench", "goodhart_workloads"), os.path.join(build, "goodhart_workloads")):
        if os.path.exists(path):
            return path
    sys.exit(f"run_workloads: no goodhart_workloads under {build}; build the target goodhart_workloads first")


def run(cmd, what):
    print("+", " ".join(cmd), flush=True)
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        print(done.stdout)
        raise RuntimeError(f"{what} failed (exit {done.returncode})")
    return done.stdout


def run_ours(runner, workload, scale, backend, timing, json_path, inputs, extra=()):
    cmd = [runner, workload, "--scale", str(scale), "--backend", backend, "--repeats", str(timing[0]),
           "--warmup", str(timing[1]), "--json", json_path, *(["--dump-inputs", inputs] if inputs else []), *extra]
    # the runner's report without its results line (they go to the JSON and are checked below)
    print("".join(line for line in run(cmd, f"goodhart {workload}").splitlines(True)
                  if not line.startswith("  results")), end="")
    with open(json_path) as f:
        return json.load(f)


def run_peer(peer, workload, device, inputs, timing, json_path):
    script = os.path.join(HERE, "peers", f"{workload.removesuffix('op')}_{peer}.py")
    cmd = [sys.executable, script, "--inputs", inputs, "--repeats", str(timing[0]), "--warmup", str(timing[1]),
           "--json", json_path]
    if peer == "torch":
        cmd += ["--device", device]
    print(run(cmd, f"{peer} {workload}"), end="")
    with open(json_path) as f:
        return json.load(f)


def merged(runs):
    """one report from several invocations: every timed second, the last run's results, statistics recomputed (the
    % of the limit against the median of the limits measured in each invocation)"""
    report = dict(runs[-1])
    report["seconds"] = [t for r in runs for t in r["seconds"]]
    report["seconds_median"] = float(np.median(report["seconds"]))
    if "items" in report:  # goodhart's: throughput and % of its limit at the median
        report["seconds_min"], report["seconds_max"] = min(report["seconds"]), max(report["seconds"])
        report["throughput_median"] = report["items"] / report["seconds_median"]
        limits = [r["limit"]["per_second"] for r in runs if r["limit"]["per_second"]]  # one per round, load-dependent
        report["percent_of_limit"] = 100.0 * report["throughput_median"] / np.median(limits) if limits else math.nan
    return report


# agreement checks: each returns a list of human-readable failures

def disagreements(ours, peer, keys, tolerance):
    bad = []
    for key in keys:
        a, b = np.asarray(ours[key], float), np.asarray(peer[key], float)
        tol = tolerance(key, a, b)
        for i in np.flatnonzero(~(np.abs(a - b) <= tol)):
            bad.append(f"{key}[{i}]: goodhart {a[i]:.6g} vs {b[i]:.6g} (tolerance {np.broadcast_to(tol, a.shape)[i]:.3g})")
    return bad


def w1_statistical(ours, peer):
    se = lambda key: np.hypot(np.asarray(ours[key.replace("mean", "se")]), np.asarray(peer[key.replace("mean", "se")]))
    return disagreements(ours, peer, ["gold_mean", "proxy_mean"], lambda key, a, b: 5.0 * se(key))


def w1_exact(ours, peer):
    return disagreements(ours, peer, ["gold_mean", "proxy_mean"], lambda key, a, b: 2e-3 + 1e-3 * np.abs(a))


def w2_close(ours, peer):
    return disagreements(ours, peer, ["proxy", "gold", "kl"], lambda key, a, b: 1e-4 + 1e-4 * np.abs(a))


def w3_close(ours, peer):
    absolute, relative = W3_TOLERANCE
    return disagreements(ours, peer, ["kl", "proxy", "gold"], lambda key, a, b: absolute + relative * np.abs(a))


CHECKS = {"w1": w1_statistical, "w2": w2_close, "w3": w3_close}


def gpu_limits():
    """(exp/s, FP32 FLOP/s) of GPU 0 from its SM count and maximum SM clock, or None when unknown."""
    try:
        import torch
        sms = torch.cuda.get_device_properties(0).multi_processor_count
        mhz = float(subprocess.run(["nvidia-smi", "--query-gpu=clocks.max.sm", "--format=csv,noheader,nounits"],
                                   capture_output=True, text=True, check=True).stdout.split()[0])
    except Exception as e:  # no torch, no driver: the % column stays empty
        print(f"run_workloads: GPU limits unknown ({e})")
        return None
    hz = mhz * 1e6
    return {"exp": sms * 16 * hz, "flops": sms * 256 * hz, "what": f"{sms} SMs at {mhz:.0f} MHz"}


def percent_of_limit(report, device, limits):
    if device == "cpu":
        return report["percent_of_limit"]
    if limits is None:
        return math.nan
    if report["workload"] == "w2":
        return 100.0 * report["throughput_median"] / limits["exp"]
    return 100.0 * report["throughput_median"] * report["limit"]["flop_per_item"] / limits["flops"]


def main():
    args = parse_args()
    scales = scales_of(args)
    workloads = args.workloads.split(",")
    peers = (args.peers or ("numpy,torch" if args.device == "cpu" else "torch")).split(",")
    if "torch" in peers and importlib.util.find_spec("torch") is None:
        print("run_workloads: PyTorch is not installed here: the torch peer is unavailable")
        peers.remove("torch")
    runner = find_runner(args.build)
    os.makedirs(args.out, exist_ok=True)
    limits = gpu_limits() if args.device == "cuda" else None
    failures, rows, reports = [], [], {}
    # CPU: rounds of one run per program, interleaved, so a change of load hits all of them alike; CUDA: every
    # program's runs together after one warm-up run (context, handles and kernel loads stay out of the figures)
    rounds, timing = (args.repeats, (1, 0)) if args.device == "cpu" else (1, (args.repeats, 1))
    for w in workloads:
        inputs = os.path.join(args.out, f"{w}_inputs")
        ours_runs, peer_runs = [], {p: [] for p in peers}
        for r in range(rounds):
            # the timing split of the pieces (an extra untimed run) only once, in the last round
            ours_runs.append(run_ours(runner, w, scales[w], args.device, timing,
                                      os.path.join(args.out, f"{w}_goodhart.json"), inputs if r == 0 else None,
                                      ["--profile"] if r == rounds - 1 else []))
            for peer in list(peer_runs):
                try:
                    peer_runs[peer].append(run_peer(peer, w, args.device, inputs, timing,
                                                    os.path.join(args.out, f"{w}_{peer}.json")))
                except RuntimeError as e:
                    failures.append(f"{w}: {e}")
                    del peer_runs[peer]
        ours = reports[f"{w}_goodhart"] = merged(ours_runs)
        medians = {}
        for peer, runs in peer_runs.items():
            report = reports[f"{w}_{peer}"] = merged(runs)
            medians[peer] = report["seconds_median"]
            failures += [f"{w} vs {peer}: {m}" for m in CHECKS[w](ours["results"], report["results"])]
        if w == "w1":  # the exact check on dumped responses at a small scale
            exact_inputs = os.path.join(args.out, "w1_exact_inputs")
            small = run_ours(runner, w, W1_EXACT_SCALE, args.device, (1, 0),
                             os.path.join(args.out, "w1_exact_goodhart.json"), exact_inputs, ["--dump-responses"])
            for peer in peer_runs:
                report = run_peer(peer, w, args.device, exact_inputs, (1, 0),
                                  os.path.join(args.out, f"w1_exact_{peer}.json"))
                failures += [f"w1 (dumped responses) vs {peer}: {m}" for m in w1_exact(small["results"], report["results"])]
        rows.append(table_row(w, ours, medians, args.device, limits))
    table = format_table(rows, args.device, limits)
    print(table)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out, "all.json"), "w") as f:
        json.dump({"failures": failures, "reports": reports}, f, indent=1)
    if failures:
        print(f"\nrun_workloads: {len(failures)} DISAGREEMENT(S) between goodhart and the peers:")
        for m in failures[:40]:
            print("  " + m)
        sys.exit(1)
    print("\nall results agree (W1: 5 standard errors, and exactly on dumped responses; W2: 1e-4 + 1e-4 |x|; "
          f"W3: {W3_TOLERANCE[0]} + {W3_TOLERANCE[1]} |x|)")


def table_row(w, ours, medians, device, limits):
    peer, target = TARGETS[device][w]
    speedups = {p: m / ours["seconds_median"] for p, m in medians.items()}
    percent = percent_of_limit(ours, device, limits)
    met = speedups.get(peer, math.nan) >= target
    if device == "cuda" and w == "w2":
        met = met and percent >= CUDA_W2_PERCENT_TARGET
    return {"w": w, "ours": ours, "medians": medians, "speedups": speedups, "percent": percent,
            "target": f">= {target:g}x {peer}" + (f", >= {CUDA_W2_PERCENT_TARGET:g}% limit" if device == "cuda" and w == "w2" else ""),
            "met": "yes" if met else ("n/a" if peer not in speedups else "no")}


def format_table(rows, device, limits):
    peers = sorted({p for r in rows for p in r["medians"]})
    head = ["workload", "scale (P)", "goodhart s min/med/max", "throughput"] + \
           [f"{p} s (med)" for p in peers] + [f"speedup vs {p}" for p in peers] + ["% of limit", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        o = r["ours"]
        cells = [r["w"], f"{o['scale']:g} ({o['sizes']['P']})",
                 f"{o['seconds_min']:.3f} / {o['seconds_median']:.3f} / {o['seconds_max']:.3f}",
                 f"{o['throughput_median']:.3g} {o['unit']}"]
        cells += [f"{r['medians'][p]:.3f}" if p in r["medians"] else "-" for p in peers]
        cells += [f"{r['speedups'][p]:.2f}x" if p in r["speedups"] else "-" for p in peers]
        cells += [f"{r['percent']:.1f}%", r["target"], r["met"]]
        lines.append("| " + " | ".join(cells) + " |")
    where = f"device {device}" + (f" ({limits['what']})" if limits else "")
    return f"\n{where}; speedup = peer median / goodhart median\n" + "\n".join(lines)


if __name__ == "__main__":
    main()
