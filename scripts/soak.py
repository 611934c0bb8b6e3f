#!/usr/bin/env python3
# soak.py — a soak of interrupted runs: random valid tiny scenarios, each run once uninterrupted and once killed
# with SIGKILL at random moments and finished with --resume, at 1 or 2 threads; the two results folders must hold
# the same bytes. Not part of CI (it runs for minutes); a crash-safety check to run before a release or after a
# change to how results are written, resumed or locked.
#
# Usage: python3 scripts/soak.py --minutes 10 --seed 1            # prints counts; exit 1 on any mismatch or failure
#        python3 scripts/soak.py --seed 1 --only 417              # replay scenario 417 of seed 1 (kill times differ)
#        options: --binary PATH (default GOODHART_BINARY, build/release/goodhart, then PATH), --two-threads 0.2
#        (share of runs at --threads 2), --max-kills 3, --keep DIR (where failing cases are saved),
#        --ignore-error TEXT (a reference run that exits 1 with TEXT in its error is counted as skipped, not failed:
#        for a known bug that is not about resuming)
#
# Contract: scenario i of seed s is random_scenario(RandomPick(random.Random(f"{s}:{i}"))) from
# python/tests/test_properties.py (the generator the property tests use), with a seed sweep of 2-8 points added to
# most unswept scenarios so that kills land between points. Compared: metrics.csv, runs.csv, sweep.json, every
# points/<id>.json but its timing, and manifest.json but its tool, path, threads, counts and timings; also the
# final manifest's points_run + points_resumed against the point count, finite numbers in the reference run
# (test_properties.check_numbers) and files left over after the resume (a killed write's temporary file).
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python" / "tests"))
from test_properties import (RandomPick, binary, check_numbers, compare_results, point_count,  # noqa: E402
                             random_scenario, render)

EXPECTED_FILES = {"manifest.json", "metrics.csv", "runs.csv", "sweep.json", "points", ".goodhart.lock"}


def scenario(seed, i):
    """Scenario i of seed: a random valid tiny scenario, most of them swept over a few seeds."""
    rng = random.Random(f"{seed}:{i}")
    s = random_scenario(RandomPick(rng), name=f"soak_{seed}_{i}")
    if "sweep" not in s and rng.random() < 0.8:
        start = rng.randint(0, 100)
        s["sweep"] = {"method": "grid", "parameters": {"seed": {"range": [start, start + rng.randint(2, 8)]}}}
    return s


def run(exe, path, out, threads, resume=False):
    args = [exe, "run", str(path), "--out", str(out), "--threads", str(threads), "--quiet"]
    return args + (["--resume"] if resume else [])


def leftovers(folder):
    """Files of a finished results folder that no run leaves behind (points/ holds <point_id>.json only)."""
    folder = Path(folder)
    extra = [p.name for p in folder.iterdir() if p.name not in EXPECTED_FILES]
    extra += [f"points/{p.name}" for p in (folder / "points").iterdir() if not p.name.endswith(".json")
              or len(p.stem) != 16] if (folder / "points").is_dir() else []
    return sorted(extra)


class Soak:
    def __init__(self, args):
        self.args = args
        self.exe = args.binary or binary()
        if not self.exe:
            sys.exit("soak.py: no goodhart binary (make build, or --binary PATH)")
        self.counts = dict(scenarios=0, points=0, kills=0, finished_before_kill=0, resumes=0, mismatches=0,
                           failures=0, skipped=0, leftovers=0, threads_2_runs=0, runs=0)
        self.rng = random.Random(f"kills:{args.seed}")
        self.keep = Path(args.keep or tempfile.mkdtemp(prefix=f"goodhart-soak-{args.seed}-"))

    def build(self):
        """The binary's identity: a relink changes it."""
        try:
            st = os.stat(self.exe)
            return st.st_mtime_ns, st.st_size
        except OSError:
            return None

    def threads(self):
        two = self.rng.random() < self.args.two_threads
        self.counts["runs"] += 1
        self.counts["threads_2_runs"] += two
        return 2 if two else 1

    def record(self, kind, i, text, detail):
        """Save a failing case: the scenario and what happened."""
        case = self.keep / f"{kind}-{i}"
        case.mkdir(parents=True, exist_ok=True)
        (case / "scenario.yaml").write_text(text, encoding="utf-8")
        (case / "what.txt").write_text(detail + "\n")
        print(f"{kind}: scenario {i} (seed {self.args.seed}): {detail.splitlines()[0][:200]}\n  saved in {case}",
              flush=True)

    def one(self, i, work):
        s = scenario(self.args.seed, i)
        text = render(s)
        path = work / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        ref, cut = work / "ref", work / "cut"
        # the uninterrupted run
        t_ref = self.threads()
        start = time.monotonic()
        done = subprocess.run(run(self.exe, path, ref, t_ref), capture_output=True, text=True)
        wall = time.monotonic() - start
        if done.returncode != 0:
            if done.returncode == 1 and any(t in done.stderr for t in self.args.ignore_error):
                self.counts["skipped"] += 1
                return
            self.counts["failures"] += 1
            self.record("failure", i, text, f"uninterrupted run (--threads {t_ref}) exited {done.returncode}: "
                        f"{done.stderr.strip()}")
            return
        self.counts["scenarios"] += 1
        self.counts["points"] += point_count(s)
        problems = check_numbers(ref, s)
        if problems:
            self.counts["failures"] += 1
            self.record("numbers", i, text, "\n".join(problems[:20]))
        # the interrupted run: up to max_kills SIGKILLs at random moments, each later start with --resume
        log = [f"reference: --threads {t_ref}, {wall:.3f} s"]
        for k in range(self.rng.randint(1, self.args.max_kills)):
            t = self.threads()
            resume = k > 0 or self.rng.random() < 0.5
            child = subprocess.Popen(run(self.exe, path, cut, t, resume), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
            delay = self.rng.uniform(0, 1.1 * wall)
            time.sleep(delay)
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                self.counts["kills"] += 1
            _, err = child.communicate()
            self.counts["resumes"] += resume
            log.append(f"start {k}: --threads {t}{' --resume' if resume else ''}, kill after {delay:.4f} s: "
                       f"exit {child.returncode}")
            if child.returncode == 0:
                self.counts["finished_before_kill"] += 1
            elif child.returncode != -signal.SIGKILL:
                self.counts["failures"] += 1
                self.record("failure", i, text, f"interrupted run exited {child.returncode}: {err.strip()}\n"
                            + "\n".join(log))
                return
        t = self.threads()
        final = subprocess.run(run(self.exe, path, cut, t, resume=True), capture_output=True, text=True)
        self.counts["resumes"] += 1
        log.append(f"final: --threads {t} --resume: exit {final.returncode}")
        if final.returncode != 0:
            self.counts["failures"] += 1
            self.record("failure", i, text, f"resume exited {final.returncode}: {final.stderr.strip()}\n"
                        + "\n".join(log))
            return
        diffs = compare_results(ref, cut)
        manifest = json.loads((cut / "manifest.json").read_text())
        if manifest.get("points_run", 0) + manifest.get("points_resumed", 0) != point_count(s):
            diffs.append(f"manifest: points_run {manifest.get('points_run')} + points_resumed "
                         f"{manifest.get('points_resumed')} != {point_count(s)} points")
        if diffs:
            self.counts["mismatches"] += 1
            self.record("mismatch", i, text, "differ: " + ", ".join(diffs) + "\n" + "\n".join(log))
            shutil.copytree(cut, self.keep / f"mismatch-{i}" / "interrupted", dirs_exist_ok=True)
            shutil.copytree(ref, self.keep / f"mismatch-{i}" / "uninterrupted", dirs_exist_ok=True)
        extra = leftovers(cut)
        if extra:
            self.counts["leftovers"] += 1
            if self.counts["leftovers"] <= 5:
                print(f"leftovers: scenario {i}: {extra}", flush=True)

    def main(self):
        start = time.monotonic()
        deadline = start + 60 * self.args.minutes
        i = 0
        while True:
            # a binary relinked while a scenario ran would compare two builds: wait for it and redo the scenario
            before = self.build()
            saved = dict(self.counts)
            try:
                with tempfile.TemporaryDirectory(prefix="goodhart-soak-") as work:
                    self.one(self.args.only if self.args.only is not None else i, Path(work))
            except OSError as e:  # the binary is missing or not executable for a moment
                print(f"binary unavailable ({e}); retrying scenario {i} in 30 s", flush=True)
                before = None
            if before is None or self.build() != before:
                self.counts = saved
                self.counts["binary_changed"] = saved.get("binary_changed", 0) + 1
                time.sleep(30)
                continue
            i += 1
            if self.args.only is not None or time.monotonic() > deadline:
                break
            if i % 100 == 0:
                print(f"{i} scenarios, {time.monotonic() - start:.0f} s: {self.counts}", flush=True)
        elapsed = time.monotonic() - start
        c = self.counts
        print(f"soak seed {self.args.seed}: {c['scenarios']} scenarios ({c['points']} points), {c['kills']} kills, "
              f"{c['finished_before_kill']} starts finished before their kill, {c['resumes']} resumes, "
              f"{c['mismatches']} mismatches, {c['failures']} failures, {c['skipped']} skipped, "
              f"{c['leftovers']} folders with leftovers, {c['threads_2_runs']}/{c['runs']} runs at --threads 2, "
              f"{c.get('binary_changed', 0)} scenarios redone after a relink, "
              f"{elapsed:.0f} s elapsed")
        if c["mismatches"] or c["failures"]:
            print(f"failing cases are in {self.keep}")
            return 1
        if not any(self.keep.iterdir()):
            self.keep.rmdir()
        return 0


def parse():
    p = argparse.ArgumentParser(description="kill -9 and resume soak of random tiny scenarios (see the header)")
    p.add_argument("--minutes", type=float, default=10, help="how long to run (default 10)")
    p.add_argument("--seed", type=int, default=1, help="which scenarios (and kill times) to draw")
    p.add_argument("--only", type=int, help="run scenario ONLY of the seed, once")
    p.add_argument("--binary", help="the goodhart binary (default: GOODHART_BINARY, build/release/goodhart, PATH)")
    p.add_argument("--two-threads", type=float, default=0.2, help="share of runs at --threads 2 (default 0.2)")
    p.add_argument("--max-kills", type=int, default=3, help="at most this many kills per scenario (default 3)")
    p.add_argument("--keep", help="folder for failing cases (default: a new temporary folder)")
    p.add_argument("--ignore-error", action="append", default=[], metavar="TEXT",
                   help="count a reference run that exits 1 with TEXT in its error as skipped")
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(Soak(parse()).main())
