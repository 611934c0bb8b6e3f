"""w3_torch.py — W3 (pg-train) in PyTorch eager on --device cpu or cuda: a log-linear policy
pi_theta(k|p) ∝ pi_ref(k|p) exp(theta . phi[p,k]) trained by RLOO (G samples per prompt, reward = proxy - kl_coef
* (log pi - log pi_ref), the k1 estimate) with torch.optim.Adam over all prompts, evaluated exactly every
eval_every steps.

Contract: float32 tensors (features P x K x d, log_ref, proxy, gold: P x K) and hyperparameters from --inputs;
autograd for the gradient; its own random draws, so results agree with goodhart's statistically."""
import torch

from peer_common import load_inputs, parse_args, publish, time_repeats


def main():
    args = parse_args(__doc__, with_device=True)
    cfg, a = load_inputs(args.inputs, ["features", "log_ref", "proxy", "gold"])
    dev = torch.device(args.device)
    phi, log_ref, proxy, gold = (torch.from_numpy(a[k]).to(dev) for k in ("features", "log_ref", "proxy", "gold"))
    G, kl_coef = cfg["num_generations"], cfg["kl_coef"]
    gen = torch.Generator(device=dev).manual_seed(args.seed)

    def log_policy(theta):
        return torch.log_softmax(log_ref + phi @ theta, dim=1)

    @torch.no_grad()
    def evaluate(theta):
        log_pi = log_policy(theta)
        pi = log_pi.exp()
        return torch.stack([(pi * (log_pi - log_ref)).sum(1).mean(), (pi * proxy).sum(1).mean(),
                            (pi * gold).sum(1).mean()])

    def run():
        theta = torch.zeros(cfg["d"], device=dev, requires_grad=True)
        adam = torch.optim.Adam([theta], lr=cfg["learning_rate"], eps=1e-8)
        steps, evals = [0], [evaluate(theta)]
        for t in range(1, cfg["steps"] + 1):
            log_pi = log_policy(theta)
            with torch.no_grad():
                idx = torch.multinomial(log_pi.exp(), G, replacement=True, generator=gen)
                r = proxy.gather(1, idx) - kl_coef * (log_pi.gather(1, idx) - log_ref.gather(1, idx))
                adv = r - (r.sum(1, keepdim=True) - r) / (G - 1)   # RLOO baseline
            loss = -(adv * log_pi.gather(1, idx)).mean()
            adam.zero_grad()
            loss.backward()
            adam.step()
            if t % cfg["eval_every"] == 0 or t == cfg["steps"]:
                steps.append(t)
                evals.append(evaluate(theta))
        kl, proxy_mean, gold_mean = torch.stack(evals).T.tolist()
        return {"step": steps, "kl": kl, "proxy": proxy_mean, "gold": gold_mean}

    sync = torch.cuda.synchronize if dev.type == "cuda" else lambda: None
    seconds, results = time_repeats(run, args.repeats, args.warmup, sync)
    publish(args, "torch", args.device, seconds, results)


if __name__ == "__main__":
    main()
