"""w3_numpy.py — W3 (pg-train) as a researcher writes it in NumPy: a log-linear policy
pi_theta(k|p) ∝ pi_ref(k|p) exp(theta . phi[p,k]) trained by RLOO (G samples per prompt, reward = proxy - kl_coef
* (log pi - log pi_ref), the k1 estimate) with Adam over all prompts, evaluated exactly every eval_every steps.

Contract: float32 arrays (features P x K x d, log_ref, proxy, gold: P x K) and hyperparameters from --inputs;
the gradient of -mean(A log pi(sample)) by hand; its own random draws, so results agree with goodhart's
statistically."""
import numpy as np

from peer_common import load_inputs, parse_args, publish, time_repeats


def log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def main():
    args = parse_args(__doc__)
    cfg, a = load_inputs(args.inputs, ["features", "log_ref", "proxy", "gold"])
    phi, log_ref, proxy, gold = a["features"], a["log_ref"], a["proxy"], a["gold"]
    P, K, d, G = cfg["P"], cfg["K"], cfg["d"], cfg["num_generations"]
    kl_coef, lr = np.float32(cfg["kl_coef"]), np.float32(cfg["learning_rate"])
    rng = np.random.default_rng(args.seed)
    rows = np.arange(P)[:, None]

    def policy(theta):
        log_pi = log_softmax(log_ref + phi @ theta)
        return log_pi, np.exp(log_pi)

    def evaluate(out, step, theta):
        log_pi, pi = policy(theta)
        out["step"].append(step)
        out["kl"].append((pi * (log_pi - log_ref)).sum(1).mean())
        out["proxy"].append((pi * proxy).sum(1).mean())
        out["gold"].append((pi * gold).sum(1).mean())

    def run():
        theta = np.zeros(d, np.float32)
        m, v = np.zeros_like(theta), np.zeros_like(theta)
        out = {"step": [], "kl": [], "proxy": [], "gold": []}
        evaluate(out, 0, theta)
        for t in range(1, cfg["steps"] + 1):
            log_pi, pi = policy(theta)
            # G samples per prompt by inverse CDF
            u = rng.random((P, G), dtype=np.float32)
            idx = (pi.cumsum(axis=1)[:, None, :] < u[:, :, None]).sum(axis=2).clip(max=K - 1)
            r = proxy[rows, idx] - kl_coef * (log_pi[rows, idx] - log_ref[rows, idx])
            adv = r - (r.sum(axis=1, keepdims=True) - r) / (G - 1)   # RLOO baseline
            # d/dtheta of -mean(adv * log pi(idx)) = sum_k coef_k (phi_k - E_pi[phi])
            coef = np.zeros((P, K), np.float32)
            for g in range(G):
                coef[rows[:, 0], idx[:, g]] -= adv[:, g] / (P * G)
            grad = np.einsum("pk,pkd->d", coef - coef.sum(axis=1, keepdims=True) * pi, phi)
            # Adam
            m = 0.9 * m + 0.1 * grad
            v = 0.999 * v + 0.001 * grad * grad
            theta = theta - lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
            if t % cfg["eval_every"] == 0 or t == cfg["steps"]:
                evaluate(out, t, theta)
        return out

    seconds, results = time_repeats(run, args.repeats, args.warmup)
    publish(args, "numpy", "cpu", seconds, results)


if __name__ == "__main__":
    main()
