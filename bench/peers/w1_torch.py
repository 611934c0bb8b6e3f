"""w1_torch.py — W1 (bon-sweep) in PyTorch eager on --device cpu or cuda: P x N responses from N(0, I_d), gold and
proxy tanh MLPs, sort each prompt's pool by proxy, unbiased best-of-n means for n = 1, 2, ..., N.

Contract: float32 throughout; the MLPs (and, when dumped, the responses) come from --inputs; otherwise the
responses are the peer's own normals, so results agree with goodhart's statistically (standard errors given)."""
import os

import numpy as np
import torch

from peer_common import load_inputs, parse_args, publish, time_repeats
from w1_numpy import rank_weights


def main():
    args = parse_args(__doc__, with_device=True)
    names = [f"{m}_{p}{l}" for m in ("gold", "proxy") for p in ("w", "b") for l in (1, 2)]
    cfg, a = load_inputs(args.inputs, names)
    dev = torch.device(args.device)
    t = {k: torch.from_numpy(v).to(dev) for k, v in a.items()}
    responses = os.path.join(args.inputs, "responses.npy")
    fixed = torch.from_numpy(np.load(responses)).to(dev) if os.path.exists(responses) else None
    P, N, d = cfg["P"], cfg["N"], cfg["d"]
    W = torch.from_numpy(rank_weights(cfg["n"], N)).to(dev)
    gen = torch.Generator(device=dev).manual_seed(args.seed)

    def mlp(x, m):
        return (torch.tanh(x @ t[f"{m}_w1"] + t[f"{m}_b1"]) @ t[f"{m}_w2"] + t[f"{m}_b2"])[..., 0]

    @torch.no_grad()
    def run():
        x = fixed if fixed is not None else torch.randn(P, N, d, generator=gen, device=dev)
        gold, proxy = mlp(x, "gold"), mlp(x, "proxy")
        proxy_sorted, order = proxy.sort(dim=1, stable=True)
        gold_best = gold.gather(1, order) @ W.T   # P x G
        proxy_best = proxy_sorted @ W.T
        se = lambda v: v.std(dim=0) / P ** 0.5
        return {"n": cfg["n"], "gold_mean": gold_best.mean(0).tolist(), "gold_se": se(gold_best).tolist(),
                "proxy_mean": proxy_best.mean(0).tolist(), "proxy_se": se(proxy_best).tolist()}

    sync = torch.cuda.synchronize if dev.type == "cuda" else lambda: None
    seconds, results = time_repeats(run, args.repeats, args.warmup, sync)
    publish(args, "torch", args.device, seconds, results)


if __name__ == "__main__":
    main()
