"""Mutation fuzzer for flowspec specs (not a test; run by hand).

python fuzz/fuzz_specs.py N SEED [verbs]
Mutates specs/*.yaml, runs CLI verbs in-process via typer's CliRunner, flags tracebacks,
hangs, diagnostics without file:line:col.
"""

from __future__ import annotations

import copy
import random
import re
import signal
import sys
import tempfile
import traceback
from pathlib import Path

import yaml
from typer.testing import CliRunner

from flowspec.cli import app

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
if len(sys.argv) > 4:
    SPECS = [s for s in SPECS if any(k in s.name for k in sys.argv[4].split(","))]
runner = CliRunner()

WEIRD = [
    None,
    True,
    False,
    0,
    -1,
    -7,
    1,
    2,
    3,
    10**12,
    1e308,
    float("inf"),
    float("nan"),
    0.5,
    -0.5,
    "",
    "x",
    "é∂ƒ",
    "nodes",
    "__init__",
    [],
    [1],
    [2, 2],
    [-1],
    [0],
    [1, 0],
    [10**9, 10**9],
    {},
    {"kind": "mlp"},
    {"kind": "flow"},
    "standard_normal",
    "affine",
    "mlp",
    [[1]],
    "1e-3",
    "${x}",
    "'); import os #",
]


def walk(obj, path=()):
    yield path, obj
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            yield from walk(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from walk(v, path + (i,))


def get(obj, path):
    for p in path:
        obj = obj[p]
    return obj


def mutate(doc, rng):
    doc = copy.deepcopy(doc)
    paths = [p for p, _ in walk(doc) if p]
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        paths = [p for p, _ in walk(doc) if p]
        if not paths:
            break
        p = rng.choice(paths)
        parent = get(doc, p[:-1])
        key = p[-1]
        op = rng.choice(["delete", "retype", "retype", "dup", "kind", "swap", "nest", "ref"])
        try:
            if op == "delete":
                del parent[key]
            elif op == "retype":
                parent[key] = copy.deepcopy(rng.choice(WEIRD))
            elif op == "dup" and isinstance(parent, dict):
                other = rng.choice(paths)
                parent[key] = copy.deepcopy(get(doc, other))
            elif op == "kind":
                kinds = [
                    "affine_coupling",
                    "coupling",
                    "autoregressive",
                    "elementwise",
                    "abs",
                    "sort",
                    "max_pool",
                    "rounding",
                    "variational_dequantization",
                    "argmax",
                    "vae",
                    "discrete_flow",
                    "integer_discrete_flow",
                    "planar",
                    "radial",
                    "sylvester",
                    "residual",
                    "cnf",
                    "squeeze",
                    "invconv1x1",
                    "slice",
                    "augment",
                    "split",
                    "concat",
                    "reverse",
                    "shuffle",
                    "actnorm",
                    "lu_linear",
                    "standard_normal",
                    "diagonal_normal",
                    "uniform_dequantization",
                    "flow",
                    "gaussian",
                    "categorical",
                    "bernoulli",
                    "discretized_logistic",
                    "mlp",
                    "made",
                    "conv",
                    "rq_spline",
                    "scale_shift",
                    "leaky_relu",
                    "sigmoid",
                    "logit",
                    "tanh",
                    "exp",
                    "log",
                    "softplus",
                    "naf",
                    "logistic_mixture",
                    "resnet",
                    "masked_conv",
                    "wavenet",
                    "rnn",
                ]
                ks = [q for q, v in walk(doc) if q and q[-1] == "kind"]
                if ks:
                    q = rng.choice(ks)
                    get(doc, q[:-1])["kind"] = rng.choice(kinds)
            elif op == "swap":
                ins = [q for q, v in walk(doc) if q and q[-1] in ("in", "context")]
                if len(ins) >= 2:
                    a, b = rng.sample(ins, 2)
                    pa, pb = get(doc, a[:-1]), get(doc, b[:-1])
                    pa[a[-1]], pb[b[-1]] = pb[b[-1]], pa[a[-1]]
            elif op == "nest":
                parent[key] = (
                    {"kind": "flow", "nodes": [copy.deepcopy(parent[key])]}
                    if rng.random() < 0.5
                    else [parent[key]]
                )
            elif op == "ref":
                ids = list(doc.get("nodes", {}) or {}) + list(doc.get("inputs", {}) or {})
                if ids:
                    parent[key] = rng.choice(ids) + rng.choice(["", ".z", ".x_a", ".out", ".a"])
        except Exception:
            pass
    return doc


TEXT_MUTATORS = [
    lambda t, r: (
        t.replace("shape: [2]", "shape: &s [2]").replace("inputs:", "x_alias: *s\ninputs:", 1)
        if "&s" not in t
        else t
    ),
    lambda t, r: t + "\nextra: !!python/object/apply:os.system ['echo pwned']\n",
    lambda t, r: t.replace("kind:", "kind: !!python/name:os.system", 1),
    lambda t, r: t.replace("hidden: [", "hidden: [99999999999, ", 1),
    lambda t, r: t.replace("{", "{<<: {kind: exp}, ", 1),
    lambda t, r: t[: r.randrange(len(t))],
    lambda t, r: t.replace("\n", "\n\t", 1),
    lambda t, r: t.replace("name:", 'name: "\\u0000\\ud800 é" #', 1),
    lambda t, r: t + "\n" + "a: " + "[" * 500 + "]" * 500 + "\n",
    lambda t, r: t.replace("repeat: ", "repeat: 1000000", 1),
    lambda t, r: t.replace("repeat: ", "repeat: -", 1),
    lambda t, r: t.replace("shape: [", "shape: [0, ", 1),
    lambda t, r: t.replace("1.0e", "1e", 1),
    lambda t, r: t.replace('"1"', "1", 1),
    lambda t, r: (
        t.replace(": ", ': "</script>\\"""\'\'\'{}', 1)
        if r.random() < 0.3
        else t.replace("name: ", 'name: \'"""; import os; os.system(1) #', 1)
    ),
]


def DATA(spec):
    m = re.search(r"--data (\w+)", spec.read_text())
    return ["--data", m.group(1)] if m else []


class Hang(Exception):
    pass


def _alarm(*_):
    raise Hang()


LOC = re.compile(r":\d+:\d+: (error|warning)\[[EW]\d{3}\]")


def run(args, timeout=30):
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        res = runner.invoke(app, args, catch_exceptions=True)
    except Hang:
        return None, "HANG"
    finally:
        signal.alarm(0)
    return res, None


def judge(res, hang, args, text):
    problems = []
    if hang:
        return ["hang"]
    if isinstance(res.exception, Hang):
        return ["hang"]
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        tb = "".join(traceback.format_exception(res.exception))
        problems.append("traceback: " + tb[-1500:])
    out = (res.stdout or "") + (getattr(res, "stderr", "") or "")
    if "Traceback" in out:
        problems.append("traceback in output")
    if res.exit_code not in (0, 1, 2):
        problems.append(f"exit {res.exit_code}")
    if res.exit_code == 1:
        if "error[" in out and not LOC.search(out):
            problems.append("diagnostic without location")
    if "pwned" in out:
        problems.append("EXECUTED")
    return problems


def main():
    n = int(sys.argv[1])
    seed = int(sys.argv[2])
    verbs = sys.argv[3].split(",") if len(sys.argv) > 3 else ["validate"]
    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="fuzz"))
    found = 0
    for i in range(n):
        spec = rng.choice(SPECS)
        text = spec.read_text()
        if rng.random() < 0.25:
            text = rng.choice(TEXT_MUTATORS)(text, rng)
        else:
            doc = yaml.safe_load(text)
            doc = mutate(doc, rng)
            try:
                text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
            except Exception:
                continue
        f = tmp / f"case{i}.yaml"
        f.write_text(text)
        for verb in verbs:
            args = {
                "validate": ["validate", str(f)],
                "render": ["render", str(f), "-o", str(tmp / "o.svg")],
                "compile": ["compile", str(f), "-o", str(tmp / "o.py")],
                "train": [
                    "train",
                    str(f),
                    "--steps",
                    "2",
                    "-b",
                    "8",
                    "--no-progress",
                    "-o",
                    str(tmp / "ck.safetensors"),
                ]
                + DATA(spec),
            }[verb]
            res, hang = run(args, 60 if verb == "train" else 30)
            probs = judge(res, hang, args, text) if res is not None or hang else []
            if probs:
                found += 1
                keep = ROOT / "fuzz" / "found" / f"{seed}_{i}_{verb}.yaml"
                keep.parent.mkdir(exist_ok=True)
                keep.write_text(text)
                print(f"== {keep.name} from {spec.name}: {probs[0][:1500]}", flush=True)
            if res is not None and res.exit_code != 0:
                break
    print("done", n, "found", found)


if __name__ == "__main__":
    main()
