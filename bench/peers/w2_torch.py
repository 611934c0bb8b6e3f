"""w2_torch.py — W2 (tilt-sweep) in PyTorch eager on --device cpu or cuda: for each beta the exact optimum
pi_b ∝ pi_ref exp(proxy / b) by log_softmax over every prompt's K candidates, then the means over prompts of
E[proxy], E[gold] and KL(pi_b || pi_ref).

Contract: float32 arrays (log_ref, proxy, gold: P x K; betas) from --inputs; results agree with goodhart's within
float32 rounding."""
import torch

from peer_common import load_inputs, parse_args, publish, time_repeats


def main():
    args = parse_args(__doc__, with_device=True)
    _, a = load_inputs(args.inputs, ["log_ref", "proxy", "gold", "betas"])
    dev = torch.device(args.device)
    log_ref, proxy, gold = (torch.from_numpy(a[k]).to(dev) for k in ("log_ref", "proxy", "gold"))
    betas = a["betas"].tolist()

    @torch.no_grad()
    def run():
        rows = []
        for beta in betas:
            log_pi = torch.log_softmax(log_ref + proxy / beta, dim=1)
            pi = log_pi.exp()
            rows.append(torch.stack([(pi * proxy).sum(1).mean(), (pi * gold).sum(1).mean(),
                                     (pi * (log_pi - log_ref)).sum(1).mean()]))
        proxy_mean, gold_mean, kl = torch.stack(rows).T.tolist()
        return {"beta": betas, "proxy": proxy_mean, "gold": gold_mean, "kl": kl}

    sync = torch.cuda.synchronize if dev.type == "cuda" else lambda: None
    seconds, results = time_repeats(run, args.repeats, args.warmup, sync)
    publish(args, "torch", args.device, seconds, results)


if __name__ == "__main__":
    main()
