"""peer_common.py — what every peer shares: its command line, loading the inputs goodhart_workloads dumped,
timing repeats, and writing the report bench/run_workloads.py reads.

Contract: a peer is run as `python3 PEER.py --inputs DIR [--repeats R] [--warmup W] [--seed S] [--json FILE]
[--device cpu|cuda]`; DIR holds config.json and the .npy arrays of one workload (goodhart_workloads
--dump-inputs). The report has the same result keys as goodhart_workloads' (lists of floats)."""
import argparse
import json
import os
import time

import numpy as np


def parse_args(description, with_device=False):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--inputs", required=True, help="folder written by goodhart_workloads --dump-inputs")
    p.add_argument("--repeats", type=int, default=3, help="timed runs; results are the last run's")
    p.add_argument("--warmup", type=int, default=0, help="untimed runs first")
    p.add_argument("--seed", type=int, default=0, help="seed of the peer's own random draws")
    p.add_argument("--json", help="write the report here")
    if with_device:
        p.add_argument("--device", default="cpu", help="cpu | cuda")
    return p.parse_args()


def load_inputs(folder, names):
    """config.json and the named arrays (name.npy), as the runner wrote them."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    arrays = {n: np.load(os.path.join(folder, n + ".npy")) for n in names}
    return config, arrays


def time_repeats(run, repeats, warmup, sync=lambda: None):
    """(seconds of each timed run, the last run's results); sync() waits for queued device work."""
    for _ in range(warmup):
        run()
        sync()
    seconds, results = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        results = run()
        sync()
        seconds.append(time.perf_counter() - start)
    return seconds, results


def publish(args, peer, device, seconds, results):
    report = {"peer": peer, "device": device, "seconds": seconds,
              "seconds_median": float(np.median(seconds)),
              "results": {k: [float(x) for x in v] for k, v in results.items()}}
    print(f"{peer} ({device}): seconds {' '.join(f'{s:.3f}' for s in seconds)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
