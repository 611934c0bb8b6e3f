"""w2_numpy.py — W2 (tilt-sweep) as a researcher writes it in NumPy: for each beta the exact optimum
pi_b ∝ pi_ref exp(proxy / b) over every prompt's K candidates, then the means over prompts of E[proxy], E[gold]
and KL(pi_b || pi_ref).

Contract: float32 arrays (log_ref, proxy, gold: P x K; betas) from --inputs; a log-sum-exp per prompt and beta;
results agree with goodhart's within float32 rounding."""
import numpy as np

from peer_common import load_inputs, parse_args, publish, time_repeats


def main():
    args = parse_args(__doc__)
    _, a = load_inputs(args.inputs, ["log_ref", "proxy", "gold", "betas"])
    log_ref, proxy, gold, betas = a["log_ref"], a["proxy"], a["gold"], a["betas"]

    def run():
        out = {"beta": betas, "proxy": [], "gold": [], "kl": []}
        for beta in betas.astype(np.float32):
            t = log_ref + proxy / beta
            t -= t.max(axis=1, keepdims=True)
            w = np.exp(t)
            z = w.sum(axis=1, keepdims=True)
            pi = w / z
            log_pi = t - np.log(z)
            out["proxy"].append((pi * proxy).sum(axis=1).mean())
            out["gold"].append((pi * gold).sum(axis=1).mean())
            out["kl"].append((pi * (log_pi - log_ref)).sum(axis=1).mean())
        return out

    seconds, results = time_repeats(run, args.repeats, args.warmup)
    publish(args, "numpy", "cpu", seconds, results)


if __name__ == "__main__":
    main()
