"""Random VALID 2-D specs from bijective kinds (+ abs/log): integrate exp(log_prob) on a grid,
check round trips and log-det vs autograd. python fuzz/random_valid.py N SEED"""

import random
import sys
import traceback

import torch

sys.path.insert(0, "tests")
from oracles import chain_spec, grid_mass_2d, randomize_
from torch.func import jacrev

import flowspec

torch.set_num_threads(1)


def T(r):
    return r.choice(
        [
            {"kind": "affine"},
            {"kind": "additive"},
            {"kind": "rq_spline", "bins": 4, "bound": 3.0},
            {"kind": "scale_shift", "scale": r.choice([0.5, 2.0, -1.5]), "shift": 0.3},
            {"kind": "leaky_relu", "negative_slope": r.choice([0.3, 2.0])},
            {"kind": "logistic_mixture", "components": 2},
            {"kind": "naf", "hidden": 4},
        ]
    )


def element(r):
    net = {"kind": "mlp", "hidden": [8]}
    if r.random() < 0.3:
        net["dropout"] = 0.2
    c = r.randrange(16)
    if c == 0:
        return [{"kind": "affine_coupling", "net": net}]
    if c == 1:
        return [{"kind": "additive_coupling", "net": net}]
    if c == 2:
        return [{"kind": "coupling", "transformer": T(r), "conditioner": net}]
    if c == 3:
        return [
            {
                "kind": "autoregressive",
                "direction": r.choice(["maf", "iaf"]),
                "transformer": T(r),
                "conditioner": {
                    "kind": "made",
                    "hidden": [8],
                    "order": r.choice(["natural", "reversed"]),
                },
            }
        ]
    if c == 4:
        return [
            {
                "kind": "elementwise",
                "fn": r.choice(["scale_shift", "leaky_relu"]),
                **({"scale": -2.0, "shift": 1.0} if r.random() < 0.5 else {}),
            }
        ]
    if c == 5:
        return [{"kind": "elementwise", "transformer": T(r)}]
    if c == 6:
        return [{"kind": "elementwise", "fn": "sigmoid"}, {"kind": "elementwise", "fn": "logit"}]
    if c == 7:
        return [
            {"kind": "elementwise", "fn": "tanh"},
            {"kind": "elementwise", "fn": "scale_shift", "scale": 0.5, "shift": 0.5},
            {"kind": "elementwise", "fn": "logit"},
        ]
    if c == 8:
        return [{"kind": "elementwise", "fn": "softplus"}, {"kind": "elementwise", "fn": "log"}]
    if c == 9:
        return [{"kind": r.choice(["reverse", "shuffle"])}]
    if c == 10:
        return [{"kind": "lu_linear"}]
    if c == 11:
        return [{"kind": "actnorm"}]
    if c == 12:
        return (
            [
                {"kind": "elementwise", "transformer": {"kind": r.choice(["sigmoid", "tanh"])}},
                {"kind": "elementwise", "transformer": {"kind": "scale_shift", "scale": 1.0}},
            ]
            if False
            else [
                {"kind": "coupling", "transformer": {"kind": "sigmoid"}, "conditioner": net},
                {"kind": "coupling", "transformer": {"kind": "logit"}, "conditioner": net},
            ]
        )
    if c == 13:
        return [
            {"kind": "coupling", "transformer": {"kind": "exp"}, "conditioner": net},
            {"kind": "coupling", "transformer": {"kind": "log"}, "conditioner": net},
        ]
    if c == 14:
        return [{"kind": "abs"}, {"kind": "elementwise", "fn": "log"}]
    return [
        {
            "kind": "autoregressive",
            "transformer": {"kind": r.choice(["tanh", "sigmoid", "exp", "softplus"])},
            "conditioner": {"kind": "made", "hidden": [8]},
        },
        {
            "kind": "autoregressive",
            "transformer": {"kind": r.choice(["logit", "log"])},
            "conditioner": {"kind": "made", "hidden": [8]},
        },
    ]


def make(r):
    chain = []
    for _ in range(r.randint(1, 4)):
        chain += element(r)
    return chain_spec(chain, r, "rand")


def mass(model, lim=12.0, n=500):
    return grid_mass_2d(lambda c: model.log_prob(c).nan_to_num(float("-inf")), lim, n)


def check(text, seed):
    try:
        checked = flowspec.check(text)
    except flowspec.SpecError as e:
        d = [d for d in e.diagnostics if d.severity == "error"][0]
        return f"INVALID {d.code} {d.message[:200]}"
    torch.manual_seed(seed)
    model = checked.build_model().double()
    randomize_(model, scale=0.15, seed=seed)
    model.log_prob(torch.randn(256, 2, dtype=torch.float64))
    model.eval()
    out = []
    if model.likelihood != "exact":
        return f"notexact {model.likelihood}"
    m = mass(model)
    heavy = "softplus" in text or "exp" in text
    if not (0.97 < m < 1.02) and not (heavy and m < 1.02):
        out.append(f"MASS {m:.4f}")
    x = torch.randn(32, 2, dtype=torch.float64)
    if "abs" not in text:
        base = model.nodes["prior"]
        z = model.trace(x).latents["prior"]
        jac = torch.stack(
            [
                torch.linalg.slogdet(
                    jacrev(lambda v: model.trace(v[None]).latents["prior"][0])(row)
                )[1]
                for row in x
            ]
        )
        with torch.no_grad():
            ld = model.log_prob(x) - base(z)
        if not torch.allclose(ld, jac, atol=1e-6, rtol=1e-6):
            out.append(f"LOGDET {(ld - jac).abs().max().item():.2e}")
    with torch.no_grad():
        tr = model.trace(x)
        back = model.inverse(tr.latents)
    if "abs" not in text and not torch.allclose(back, x, atol=1e-5):
        out.append(f"ROUNDTRIP {(back - x).abs().max().item():.2e}")
    with torch.no_grad():
        s, lp = model.sample_and_log_prob(32)
        lp2 = model.log_prob(s)
    if not torch.allclose(lp, lp2, atol=1e-5, rtol=1e-5):
        out.append(f"SAMPLE_LP {(lp - lp2).abs().max().item():.2e}")
    return " ".join(out) or "ok"


if __name__ == "__main__":
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    r = random.Random(seed)
    for i in range(n):
        text = make(r)
        try:
            res = check(text, i)
        except Exception as e:
            res = "EXC " + "".join(traceback.format_exception(e))[-800:]
        if res not in ("ok",) and not res.startswith("notexact"):
            print(f"--- case {seed}/{i}: {res}\n{text}", flush=True)
        else:
            print(f"case {i}: {res}", flush=True)
