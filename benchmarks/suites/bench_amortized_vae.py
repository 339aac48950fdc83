"""Rezende & Mohamed's headline table, in trend: a VAE with an amortized planar posterior
of K = 0, 2, 5, 10, 20, 40 layers, and the three Sylvester variants at equal K.

Rezende and Mohamed (2015, arXiv:1505.05770, Table 2) report -ln p(x) <= 89.9 nats on
binarized MNIST for a deep latent Gaussian model with a diagonal posterior and 87.5, 86.5,
85.7, 85.1 with K = 10, 20, 40, 80 planar layers; van den Berg et al. (2018,
arXiv:1803.05649, Table 2) find orthogonal, Householder and triangular Sylvester flows all
better than planar flows. Binarized MNIST is not available offline, so the default data are
flowspec's ``digits_binary`` (8x8 digits, 1350 training, 150 validation, 297 test images);
``--data FILE`` runs the same protocol on a file (binarized MNIST as ``x`` of 784 values in
{0, 1}: the specs' input shape is set from the file).

The models are ``specs/planar_vae_digits.yaml`` and ``specs/sylvester_vae_digits.yaml`` with
the encoder's ``repeat`` set to K (K = 0: the diagonal Gaussian posterior). Each is trained
by ``flowspec.train.fit`` (Adam 1e-3, cosine decay, at most ``--steps`` steps of ``--batch``
images, early stopping after 10 of its 40 validations without improvement, the
best-validation weights kept) once per seed, seeds run one after another; every
run is appended to ``--runs`` (JSON lines) as it ends, so an interrupted job keeps what it
finished, and ``--report`` writes the table from those lines. Scores on the test split,
nats per image: -ELBO (mean of 16 one-draw bounds per image) and -IWBO with k = ``--iwbo``
draws (Burda et al. 2016, arXiv:1509.00519), both upper bounds on -ln p(x), the IWBO the
tighter.

    nice -n 10 python benchmarks/suites/bench_amortized_vae.py --seeds 3
    python benchmarks/suites/bench_amortized_vae.py --report    # table into RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "benchmarks" / "amortized_vae_runs.jsonl"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- amortized-vae:start -->", "<!-- amortized-vae:end -->"
PLANAR_K = (0, 2, 5, 10, 20, 40)
SYLVESTER_K = 10
VARIANTS = ("orthogonal", "householder", "triangular")
ELBO_DRAWS = 16
PUBLISHED = {0: "89.9", 10: "87.5", 20: "86.5", 40: "85.7"}


def configurations() -> list[tuple[str, str, int]]:
    """(flow, spec file, K) for every model of the table, in its order."""
    planar = [("planar", "specs/planar_vae_digits.yaml", k) for k in PLANAR_K]
    sylvester = [(v, "specs/sylvester_vae_digits.yaml", SYLVESTER_K) for v in VARIANTS]
    return planar + sylvester


def spec_text(flow: str, path: str, k: int, features: int) -> str:
    """The spec with K layers (and the Sylvester variant, and the data's width)."""
    text = (ROOT / path).read_text().replace("repeat: 10", f"repeat: {k}")
    text = text.replace("shape: [64]", f"shape: [{features}]")
    if flow in VARIANTS:
        text = text.replace("variant: householder", f"variant: {flow}")
    if k == 0:  # no layers: the diagonal Gaussian posterior, with the same network
        flow_only = ("layers:", "- {kind:", "layer_context:", "repeat:")
        lines = [line for line in text.splitlines() if not any(f in line for f in flow_only)]
        text = "\n".join(lines).replace("kind: flow", "kind: gaussian")
    return text


@torch.no_grad()
def score(model, x: torch.Tensor, iwbo_k: int, chunk: int = 16) -> dict[str, float]:
    """Test -ELBO (mean of ELBO_DRAWS draws per image) and -IWBO (k draws), nats per image."""
    torch.manual_seed(0)
    elbo, iwbo = [], []
    for rows in x.split(chunk):
        bounds = torch.stack([model.log_prob(rows) for _ in range(ELBO_DRAWS)])
        elbo.append(-bounds.mean(0))
        iwbo.append(-model.iwbo(rows, k=iwbo_k))
    return {"elbo": float(torch.cat(elbo).mean()), "iwbo": float(torch.cat(iwbo).mean())}


def run(args: argparse.Namespace) -> None:
    import flowspec
    from flowspec.spec.training import TrainSettings
    from flowspec.train.data import load_dataset
    from flowspec.train.files import load_data_file
    from flowspec.train.loop import fit

    torch.set_num_threads(1)
    if args.data:
        shape = (args.features,)
        data = load_data_file(args.data, names=("x", None), shape=shape, levels=2)
    else:
        data = load_dataset("digits_binary", seed=0)
    features = data.train.shape[1]
    chosen = [c for c in configurations() if not args.only or f"{c[0]}:{c[2]}" in args.only]
    for seed in range(args.seeds):
        for flow, path, k in chosen:
            torch.manual_seed(seed)
            model = flowspec.compile(spec_text(flow, path, k, features))
            start = time.process_time()
            settings = TrainSettings(steps=args.steps, batch_size=args.batch, seed=seed)
            result = fit(model, data, settings, progress=False)
            seconds = time.process_time() - start
            model.eval()
            row = {"flow": flow, "k": k, "seed": seed, "steps": args.steps}
            row |= {"steps_run": result.steps, "best_step": result.best_step}
            row |= {"batch": args.batch, "iwbo_k": args.iwbo, "train_cpu_s": seconds}
            row |= {"params": sum(p.numel() for p in model.parameters()), "data": data.name}
            row |= score(model, data.test, args.iwbo)
            with args.runs.open("a") as out:
                out.write(json.dumps(row) + "\n")
            print(json.dumps(row), file=sys.stderr, flush=True)


def _cell(values: list[float]) -> str:
    spread = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.2f}{spread}"


def report(args: argparse.Namespace) -> str:
    """The markdown table of the runs in ``args.runs`` (and into RESULTS.md)."""
    rows = [json.loads(line) for line in args.runs.read_text().splitlines() if line.strip()]
    first = rows[0]
    lines = [
        "## Amortized flow posteriors: Rezende & Mohamed's table in trend (bench_amortized_vae.py)",
        "",
        f"VAE on `{first['data']}` (latent 8, encoder and decoder MLPs of one hidden layer of "
        "128; flow parameters linear in the encoder's last hidden layer, "
        "`layer_context: hidden`), trained by `flowspec.train.fit` for "
        f"at most {first['steps']} steps of {first['batch']} images (Adam 1e-3, cosine decay; "
        "40 validations per run, stopping after 10 without a better validation -ELBO, the best "
        "weights kept), one run per seed, seeds run one after another (mean ± standard "
        "deviation over the seeds a row has). Test split, nats per image: -ELBO (mean of 16 draws per image) and "
        f"-IWBO with k = {first['iwbo_k']} draws, both upper bounds on -ln p(x). Paired: the "
        "change from K = 0 within each seed (same data order), mean ± sd. CPU: training "
        "process seconds per run, one thread, under `nice -n 10` on the shared 2-core VM.",
        "",
        "| posterior | K | parameters | seeds | test -ELBO | test -IWBO | -IWBO - (K = 0), "
        "paired | R&M 2015, MNIST -ln p(x) <= | CPU s |",
        "| :-- | --: | --: | --: | --: | --: | --: | --: | --: |",
    ]
    base = {r["seed"]: r["iwbo"] for r in rows if r["k"] == 0}
    for flow, _, k in configurations():
        runs = [r for r in rows if r["flow"] == flow and r["k"] == k]
        if not runs:
            continue
        label = "diagonal Gaussian" if k == 0 else flow
        paired = [r["iwbo"] - base[r["seed"]] for r in runs if r["seed"] in base] if k else [0.0]
        published = PUBLISHED.get(k, "") if flow == "planar" else ""
        lines.append(
            f"| {label} | {k} | {runs[0]['params']:,} | {len(runs)} "
            f"| {_cell([r['elbo'] for r in runs])} "
            f"| {_cell([r['iwbo'] for r in runs])} | {_cell(paired)} | {published} "
            f"| {statistics.mean(r['train_cpu_s'] for r in runs):.0f} |"
        )
    table = "\n".join(lines)
    text = RESULTS.read_text()
    if START in text:
        head, rest = text.split(START, 1)
        text = head + START + "\n" + table + "\n" + END + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n{START}\n{table}\n{END}\n"
    RESULTS.write_text(text)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--iwbo", type=int, default=1000, help="IWBO draws per image")
    parser.add_argument("--data", help="a data file (e.g. binarized MNIST, x in {0, 1})")
    parser.add_argument("--features", type=int, default=784, help="pixels per image of --data")
    parser.add_argument("--runs", type=Path, default=RUNS, help="JSON lines of finished runs")
    parser.add_argument(
        "--only", nargs="*", help="run only these models, as FLOW:K (planar:40, householder:10)"
    )
    parser.add_argument("--report", action="store_true", help="write the table of --runs")
    args = parser.parse_args()
    if args.report:
        print(report(args))
    else:
        run(args)


if __name__ == "__main__":
    main()
