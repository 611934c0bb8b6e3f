"""w1_numpy.py — W1 (bon-sweep) as a researcher writes it in NumPy: P x N responses from N(0, I_d), gold and
proxy tanh MLPs, sort each prompt's pool by proxy, unbiased best-of-n means for n = 1, 2, ..., N.

Contract: float32 throughout; the MLPs (and, when dumped, the responses) come from --inputs; otherwise the
responses are the peer's own normals, so results agree with goodhart's statistically (standard errors given)."""
import os
from math import exp, lgamma

import numpy as np

from peer_common import load_inputs, parse_args, publish, time_repeats


def rank_weights(ns, N):
    """w[g, i-1] = C(i-1, n-1) / C(N, n): the chance that rank i (ascending) is the best of n."""
    w = np.zeros((len(ns), N), dtype=np.float32)
    for g, n in enumerate(ns):
        log_total = lgamma(N + 1) - lgamma(n + 1) - lgamma(N - n + 1)
        for i in range(n, N + 1):
            w[g, i - 1] = exp(lgamma(i) - lgamma(n) - lgamma(i - n + 1) - log_total)
    return w


def mlp(x, w1, b1, w2, b2):
    return (np.tanh(x @ w1 + b1) @ w2 + b2)[..., 0]


def main():
    args = parse_args(__doc__)
    names = [f"{m}_{p}{l}" for m in ("gold", "proxy") for p in ("w", "b") for l in (1, 2)]
    cfg, a = load_inputs(args.inputs, names)
    responses = os.path.join(args.inputs, "responses.npy")
    fixed = np.load(responses) if os.path.exists(responses) else None
    P, N, d = cfg["P"], cfg["N"], cfg["d"]
    W = rank_weights(cfg["n"], N)
    rng = np.random.default_rng(args.seed)
    gold_params = [a[f"gold_{p}{l}"] for l in (1, 2) for p in ("w", "b")]
    proxy_params = [a[f"proxy_{p}{l}"] for l in (1, 2) for p in ("w", "b")]

    def run():
        x = fixed if fixed is not None else rng.standard_normal((P, N, d), dtype=np.float32)
        gold, proxy = mlp(x, *gold_params), mlp(x, *proxy_params)
        order = np.argsort(proxy, axis=1, kind="stable")
        gold_best = np.take_along_axis(gold, order, axis=1) @ W.T   # P x G
        proxy_best = np.take_along_axis(proxy, order, axis=1) @ W.T
        se = lambda v: v.std(axis=0, ddof=1) / np.sqrt(P)
        return {"n": cfg["n"], "gold_mean": gold_best.mean(0), "gold_se": se(gold_best),
                "proxy_mean": proxy_best.mean(0), "proxy_se": se(proxy_best)}

    seconds, results = time_repeats(run, args.repeats, args.warmup)
    publish(args, "numpy", "cpu", seconds, results)


if __name__ == "__main__":
    main()
