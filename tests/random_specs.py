"""Random valid specs over every node kind, transformer, conditioner and density, each with
the oracles it admits (run by tests/spec_oracles.py).

A spec comes from one family, chosen by ``seed % len(FAMILIES)``; the family decides what
can be checked against an independent computation:

- ``exact_2d``: a 2-D real input through couplings, autoregressive layers, elementwise maps,
  permutations, LU, actnorm, standardize, planar (by root finding), radial, residual (exact log-det),
  splits and concats, reshapes, abs, sort and ordered_to_real, slices, factored-out
  conditional bases: the grid mass (1 when exact, below 1 when a density gets values that do
  not fill its support), round trips, log-dets against autograd, the density of own samples.
- ``image``: ``[2, 2, 2]`` images through squeeze/unsqueeze, 1x1 convolutions, channel and
  checkerboard couplings with ResNet, conv and MLP conditioners, masked convolutions,
  max-pooling, channel slices and factored-out halves: the mass by importance sampling,
  round trips, log-dets, own samples.
- ``generation_only``: planar without inverse and Sylvester flows: log_prob is unavailable,
  and the density of own samples matches the change of variables along generation.
- ``discrete``: values with levels through discrete and integer discrete flows into
  categorical and discretized-logistic bases: the pmf enumerated (one on the data's domain
  when exact, below one when a pmf over all integers gets values with levels).
- ``estimate``: residual blocks (roulette, series, exact) and CNFs (Hutchinson, exact trace):
  an unbiased estimate averages to the exact value; the exact ones integrate to one.
- ``dequantized``, ``augmented``, ``vae``, ``argmax``: lower bounds whose exact value is
  computed by quadrature (over the dequantization cell, the added noise, the latent, the
  argmax cell): the bound stays below it, the importance-weighted bound approaches it, and
  the exact marginal is normalised.
- ``conditional``: a context input conditioning couplings, autoregressive layers and the
  base: the grid mass is one for each context value.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["FAMILIES", "RandomSpec", "covering_seeds", "everything", "parts_used", "random_spec"]

Node = dict[str, Any]


@dataclass
class RandomSpec:
    """A random spec and what its oracles need to know about it."""

    seed: int
    family: str
    doc: dict[str, Any]
    #: Family details: the node a bound's tail model starts at, the data's levels, ...
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return yaml.safe_dump(self.doc, sort_keys=False)


class Graph:
    """Builds a spec's nodes one after another (``n0``, ``n1``, ...), wiring each to the
    previous value unless told otherwise."""

    def __init__(self, rng: random.Random, name: str, inputs: dict[str, Any]):
        self.rng = rng
        self.doc: dict[str, Any] = {"flowspec": "1", "name": name, "inputs": inputs, "nodes": {}}
        self.count = 0
        #: Whether a map with a heavy tail is in already (one keeps grids meaningful).
        self.heavy = False

    def layers(self, features: int, context: str | None = None) -> list[Node]:
        """:func:`flat_layers`, with at most one heavy-tailed map per spec."""
        nodes = flat_layers(self.rng, features, context, heavy=not self.heavy)
        self.heavy = self.heavy or heavy_tailed(nodes)
        return nodes

    def add(self, node: Node, into: str | list[str], name: str | None = None) -> str:
        name = name or f"n{self.count}"
        self.count += 1
        self.doc["nodes"][name] = {**node, "in": into}
        return name

    def chain(self, nodes: list[Node], start: str, context: str | None = None) -> str:
        """``nodes`` one after the other from ``start``: as separate nodes, or (sometimes)
        as a block used once or twice, which gives its context to every node taking one."""
        if not nodes:
            return start
        if self.rng.random() < 0.3:
            repeat = 1 if heavy_tailed(nodes) else self.rng.randint(1, 2)
            name = f"b{len(self.doc.setdefault('blocks', {}))}"
            self.doc["blocks"][name] = [
                {k: v for k, v in n.items() if k != "context"} for n in nodes
            ]
            use = {"block": name, "repeat": repeat}
            if context is not None and any("context" in n for n in nodes):
                use["context"] = context
            return self.add(use, start)
        for node in nodes:
            start = self.add(node, start)
        return start


# --- parts ---------------------------------------------------------------------------------


def mlp(rng: random.Random) -> Node:
    net: Node = {"kind": "mlp", "hidden": [rng.choice([4, 8])]}
    net["activation"] = rng.choice(["tanh", "elu", "relu", "silu"])
    if rng.random() < 0.2:
        net["dropout"] = 0.1  # off in eval mode, where the oracles run
    return net


def real_transformer(rng: random.Random) -> Node:
    """A transformer of the real line onto itself, with parameters."""
    return rng.choice(
        [
            {"kind": "affine", "scale_bound": 2.0},
            {"kind": "additive"},
            {"kind": "rq_spline", "bins": rng.randint(2, 5), "bound": 3.0},
            {"kind": "logistic_mixture", "components": 2},
            {"kind": "naf", "hidden": 4},
        ]
    )


def fixed_transformer(rng: random.Random) -> Node:
    """A transformer of the real line onto itself without parameters per feature."""
    return rng.choice(
        [
            {"kind": "scale_shift", "scale": rng.choice([0.5, 2.0, -1.5]), "shift": 0.3},
            {"kind": "scale_shift", "scale": -1.0, "learnable": True},
            {"kind": "leaky_relu", "negative_slope": rng.choice([0.3, 2.0])},
        ]
    )


#: Fixed maps onto part of the line and back onto all of it (as elementwise fns); the last
#: compresses the positive side (log of softplus), which gives the density a heavy tail.
ROUND_TRIPS = [
    [{"fn": "sigmoid"}, {"fn": "logit"}],
    [{"fn": "tanh"}, {"fn": "scale_shift", "scale": 0.5, "shift": 0.5}, {"fn": "logit"}],
    [{"fn": "exp"}, {"fn": "log"}],
    [{"fn": "softplus"}, {"fn": "log"}],
]
#: The maps after which the density has a log-normal tail (log of softplus, log of abs, the
#: log-gaps of ordered_to_real): one per spec, since two in a row make the tail
#: doubly exponential, past any grid (one keeps the mass within |x| ~ 1000).
HEAVY = ("softplus", "abs", "ordered_to_real")


def heavy_tailed(nodes: list[Node]) -> bool:
    text = yaml.safe_dump(nodes)
    return any(f"fn: {name}" in text or f"kind: {name}" in text for name in HEAVY)


def autoregressive_conditioner(rng: random.Random, features: int) -> Node:
    order = rng.choice(["natural", "reversed"])
    return rng.choice(
        [
            {
                "kind": "made",
                "hidden": [max(2 * features, 4)],
                "order": rng.choice([order, "random"]),
            },
            {"kind": "rnn", "hidden": 4, "order": order},
            {"kind": "causal_transformer", "dim": 8, "heads": 2, "layers": 1, "order": order},
            {"kind": "wavenet", "hidden": 4, "layers": 1},
        ]
    )


def flat_mask(rng: random.Random, features: int) -> Any:
    if features == 2:
        return rng.choice(["half", "alternate", [0, 1], [1, 0]])
    return rng.choice(["half", "alternate"])


def flat_layers(
    rng: random.Random, features: int, context: str | None = None, heavy: bool = False
) -> list[Node]:
    """One run of nodes that keep a flat real ``[features]`` stream on the whole real line
    (and exact), with ``context`` given to the kinds that take one; ``heavy`` allows a map
    with a heavy tail."""
    ctx = {"context": context} if context is not None else {}
    roll = rng.randrange(14 if features >= 2 else 6)
    if roll == 0:
        return [{"kind": "elementwise", "transformer": real_transformer(rng)}]
    if roll == 1:
        fixed = fixed_transformer(rng)
        if rng.random() < 0.5:
            return [{"kind": "elementwise", "transformer": fixed}]
        return [
            {
                "kind": "elementwise",
                "fn": fixed["kind"],
                **{k: v for k, v in fixed.items() if k != "kind"},
            }
        ]
    if roll == 2:
        maps = rng.choice(ROUND_TRIPS if heavy else ROUND_TRIPS[:-1])
        if rng.random() < 0.5:
            return [{"kind": "elementwise", **step} for step in maps]
        return [
            {"kind": "elementwise", "transformer": {"kind": step.pop("fn"), **step}}
            for step in (dict(m) for m in maps)
        ]
    if roll == 3:
        return [
            rng.choice(
                [
                    {"kind": "actnorm"},
                    {"kind": "standardize"},
                    {"kind": "lu_linear", "bias": rng.random() < 0.5},
                ]
            )
        ]
    if roll == 4:
        method = rng.choice(["bisection", "newton"])
        return [{"kind": "planar", "inverse": {"method": method, "tol": 1.0e-10, "max_iter": 200}}]
    if roll == 5:
        if rng.random() < 0.5:
            return [{"kind": "radial"}]
        net = {"kind": "mlp", "hidden": [8], "activation": rng.choice(["elu", "tanh"])}
        inverse = {"tol": 1.0e-10, "max_iter": 500}
        return [
            {
                "kind": "residual",
                "net": net,
                "logdet": "exact",
                "lipschitz": 0.7,
                "inverse": inverse,
            }
        ]
    if roll == 6:
        return [
            {"kind": "affine_coupling", "net": mlp(rng), "mask": flat_mask(rng, features), **ctx}
        ]
    if roll == 7:
        return [
            {"kind": "additive_coupling", "net": mlp(rng), "mask": flat_mask(rng, features), **ctx}
        ]
    if roll in (8, 9):
        transformer = real_transformer(rng) if roll == 8 else fixed_transformer(rng)
        return [
            {
                "kind": "coupling",
                "mask": flat_mask(rng, features),
                "transformer": transformer,
                "conditioner": mlp(rng),
                **ctx,
            }
        ]
    if roll in (10, 11):
        conditioner = autoregressive_conditioner(rng, features)
        if context is not None and conditioner["kind"] == "wavenet":
            conditioner = {"kind": "made", "hidden": [max(2 * features, 4)]}
        return [
            {
                "kind": "autoregressive",
                "direction": rng.choice(["maf", "iaf"]),
                "transformer": real_transformer(rng),
                "conditioner": conditioner,
                **ctx,
            }
        ]
    if roll == 12:
        pairs = [("sigmoid", "logit"), ("exp", "log"), ("softplus", "log")]
        first, back = rng.choice(pairs if heavy else pairs[:-1])
        made = {"kind": "made", "hidden": [max(2 * features, 4)]}
        return [
            {"kind": "autoregressive", "transformer": {"kind": first}, "conditioner": made},
            {"kind": "autoregressive", "transformer": {"kind": back}, "conditioner": made},
        ]
    return [rng.choice([{"kind": "reverse"}, {"kind": "shuffle", "seed": rng.randrange(100)}])]


def gaussian_or_flow(rng: random.Random, features: int, proposal: bool, flat: bool = True) -> Node:
    """A real density part: a Gaussian or a conditional flow (proposals may use layers
    without an inference direction: planar, Sylvester); ``flat`` events take any layer,
    others elementwise ones."""
    if rng.random() < 0.5:
        return {"kind": "gaussian", "net": mlp(rng)}
    elementwise = {"kind": "elementwise", "transformer": real_transformer(rng)}
    if not flat:
        return {"kind": "flow", "net": {"hidden": [4]}, "layers": [elementwise]}
    layers = [rng.choice([{"kind": "radial"}, elementwise])]
    if features >= 2:
        layers.append({"kind": "affine_coupling", "net": {"hidden": [4]}})
    if proposal:
        layers.append(rng.choice([{"kind": "planar"}, {"kind": "sylvester"}]))
    else:
        layers.append({"kind": "planar", "inverse": {"method": "newton", "tol": 1.0e-10}})
    return {"kind": "flow", "net": {"hidden": [4]}, "layers": layers, "repeat": rng.randint(1, 2)}


def prior(rng: random.Random) -> Node:
    return {"kind": rng.choice(["standard_normal", "diagonal_normal"])}


# --- families ------------------------------------------------------------------------------


def exact_2d(rng: random.Random, seed: int) -> RandomSpec:
    g = Graph(rng, f"exact-2d-{seed}", {"x": {"shape": [2]}})
    last = "x"
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.6:
            last = g.chain(g.layers(2), last)
        elif roll < 0.68 and not g.heavy:
            g.heavy = True  # log of abs: a log-normal tail
            sign = "fair" if rng.random() < 0.5 else {"kind": "bernoulli", "net": mlp(rng)}
            last = g.add({"kind": "abs", "sign": sign}, last)
            last = g.add({"kind": "elementwise", "fn": "log"}, last)
        elif roll < 0.76 and not g.heavy:
            last = g.add({"kind": "sort"}, last)
            if rng.random() < 0.8:  # without it: a lower bound (W501), mass 1/2
                g.heavy = True
                last = g.add({"kind": "ordered_to_real"}, last)
        elif roll < 0.84:
            halves = g.add({"kind": "split", "sizes": [1, 1]}, last)
            a = g.chain(g.layers(1), f"{halves}.out0")
            b = g.chain(g.layers(1), f"{halves}.out1")
            last = g.add({"kind": "concat"}, [a, b])
        elif roll < 0.9:
            shape = rng.choice([[1, 2], [2, 1]])
            last = g.add({"kind": "flatten"}, g.add({"kind": "reshape", "shape": shape}, last))
        else:
            bounded = {"kind": rng.choice(["sigmoid", "tanh", "softplus"])}
            last = g.add(
                {"kind": "coupling", "transformer": bounded, "conditioner": mlp(rng)}, last
            )
    ending = rng.random()
    if ending < 0.2:  # drop a feature, modelled by a decoder
        decoder = gaussian_or_flow(rng, 1, proposal=False)
        last = g.chain(g.layers(1), g.add({"kind": "slice", "keep": 1, "decoder": decoder}, last))
    elif ending < 0.35:  # factor one feature out into a conditional base
        halves = g.add({"kind": "split", "sizes": [1, 1]}, last)
        g.add(
            {"kind": "conditional_normal", "context": f"{halves}.out0", "net": mlp(rng)},
            f"{halves}.out1",
        )
        last = g.chain(g.layers(1), f"{halves}.out0")
    g.add(prior(rng), last, name="prior")
    return RandomSpec(seed, "exact_2d", g.doc)


def image_conditioned(rng: random.Random, which: int, squeezed: bool = False) -> Node:
    """A coupling or autoregressive layer on an image with the image conditioner ``which``
    (resnet, conv, masked_conv, made, mlp, zero_conv, residual_mlp, patch_transformer,
    realnvp_resnet, gated_attention, densenet)."""
    kernel = 1 if squeezed else 3
    masks = ["channel", "channel_flipped"] + (
        [] if squeezed else ["checkerboard", "checkerboard_flipped"]
    )
    coupling = {"kind": "coupling", "mask": rng.choice(masks), "transformer": real_transformer(rng)}
    autoregressive = {
        "kind": "autoregressive",
        "direction": rng.choice(["maf", "iaf"]),
        "transformer": real_transformer(rng),
    }
    return [
        {
            **coupling,
            "conditioner": {"kind": "resnet", "channels": 4, "blocks": 1, "kernel": kernel},
        },
        {**coupling, "conditioner": {"kind": "conv", "channels": 4, "kernel": kernel}},
        {
            **autoregressive,
            "conditioner": {"kind": "masked_conv", "hidden": 4, "layers": 1, "kernel": kernel},
        },
        {**autoregressive, "conditioner": {"kind": "made", "hidden": [16]}},
        {**coupling, "conditioner": {"kind": "mlp", "hidden": [8]}},
        {**coupling, "conditioner": {"kind": "zero_conv", "kernel": kernel, "edge_bias": True}},
        {**coupling, "conditioner": {"kind": "residual_mlp", "hidden": 8, "blocks": 1}},
        {
            **autoregressive,
            "conditioner": {"kind": "patch_transformer", "patch": 1, "dim": 8, "heads": 2},
        },
        {
            **coupling,
            "conditioner": {"kind": "realnvp_resnet", "channels": 4, "blocks": 1, "kernel": kernel},
        },
        {
            **coupling,
            "conditioner": {"kind": "gated_attention", "channels": 4, "blocks": 1, "heads": 2},
        },
        {
            **coupling,
            "conditioner": {"kind": "densenet", "channels": 4, "depth": 2, "out_kernel": kernel},
        },
    ][which % 11]


def image_layers(rng: random.Random, squeezed: bool = False) -> list[Node]:
    """A run of nodes on a real image."""
    return rng.choice(
        [
            [{"kind": "actnorm"}],
            [{"kind": rng.choice(["invconv1x1", "lu_linear"])}],
            [image_conditioned(rng, rng.randrange(5), squeezed)],
            [rng.choice([{"kind": "reverse"}, {"kind": "shuffle", "seed": 1}])],
            [{"kind": "elementwise", "transformer": real_transformer(rng)}],
        ]
    )


def image(rng: random.Random, seed: int) -> RandomSpec:
    g = Graph(rng, f"image-{seed}", {"x": {"shape": [2, 2, 2]}})
    # Each image conditioner in turn (Real NVP's with its batch-norm bijection after the
    # coupling), then random layers.
    first = image_conditioned(rng, seed // len(FAMILIES))
    last = g.add(first, "x")
    if first["conditioner"]["kind"] == "realnvp_resnet":
        last = g.add({"kind": "batch_norm"}, last)
    last = g.chain(image_layers(rng), last)
    roll = rng.random()
    if roll < 0.25:
        last = g.add({"kind": "squeeze"}, last)
        last = g.chain(image_layers(rng, squeezed=True), last)
        last = g.add({"kind": "unsqueeze"}, last)
    elif roll < 0.4:
        last = g.add({"kind": "flatten"}, last)
        last = g.chain(g.layers(8), last)
        last = g.add({"kind": "reshape", "shape": [2, 2, 2]}, last)
    ending = rng.random()
    if ending < 0.3:
        decoder = gaussian_or_flow(rng, 6, proposal=False)
        last = g.add({"kind": "flatten"}, g.add({"kind": "max_pool", "decoder": decoder}, last))
    elif ending < 0.5:
        decoder = gaussian_or_flow(rng, 4, proposal=False, flat=False)
        last = g.add({"kind": "slice", "keep": 1, "decoder": decoder}, last)
    elif ending < 0.7:
        halves = g.add({"kind": "split", "sizes": [1, 1]}, last)
        g.add(
            {"kind": "conditional_normal", "context": f"{halves}.out0", "net": {"hidden": [8]}},
            f"{halves}.out1",
        )
        last = f"{halves}.out0"
    g.add(prior(rng), last, name="prior")
    return RandomSpec(seed, "image", g.doc)


def generation_only(rng: random.Random, seed: int) -> RandomSpec:
    g = Graph(rng, f"generation-only-{seed}", {"x": {"shape": [3]}})
    one_way = [
        {"kind": "planar"},
        {"kind": "sylvester", "variant": "orthogonal", "columns": rng.randint(1, 3)},
        {"kind": "sylvester", "variant": "householder", "reflections": rng.randint(1, 2)},
        {"kind": "sylvester", "variant": "triangular", "reverse": rng.random() < 0.5},
    ]
    both_ways = [
        {"kind": "radial"},
        {"kind": "affine_coupling", "net": {"hidden": [8]}},
        {"kind": "lu_linear"},
    ]
    nodes = [rng.choice(one_way)] + [
        rng.choice(one_way + both_ways) for _ in range(rng.randint(0, 2))
    ]
    rng.shuffle(nodes)
    g.add({"kind": "standard_normal"}, g.chain(nodes, "x"), name="prior")
    return RandomSpec(seed, "generation_only", g.doc)


def discrete(rng: random.Random, seed: int) -> RandomSpec:
    features, levels = rng.randint(2, 3), rng.randint(2, 4)
    g = Graph(rng, f"discrete-{seed}", {"x": {"shape": [features], "levels": levels}})
    last = "x"
    integers = modular = False
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.45:
            modular = True  # a bijection of 0..K-1 only
            node = {"kind": "discrete_flow", "net": mlp(rng), "scale": rng.random() < 0.5}
            last = g.chain([node, {"kind": rng.choice(["reverse", "shuffle"])}], last)
        elif roll < 0.6:
            sizes = [1, features - 1]
            parts = g.add({"kind": "split", "sizes": sizes}, last)
            last = g.add({"kind": "concat"}, [f"{parts}.out1", f"{parts}.out0"])
        elif roll < 0.7:
            last = g.add(
                {"kind": "flatten"}, g.add({"kind": "reshape", "shape": [features, 1]}, last)
            )
        elif features == 2:  # integers on two features: the oracle sums a window of Z^2
            last = g.add({"kind": "integer_discrete_flow", "net": mlp(rng)}, last)
            integers = True
            break
    if not integers and rng.random() < 0.3:  # a conditional pmf of the rest given one value
        parts = g.add({"kind": "split", "sizes": [1, features - 1]}, last)
        g.add({"kind": "categorical"}, f"{parts}.out0", name="first")
        base = {"kind": "categorical", "context": f"{parts}.out0", "net": mlp(rng)}
        g.add(base, f"{parts}.out1", name="prior")
    elif integers or rng.random() < 0.5:
        g.add({"kind": "discretized_logistic", "mixtures": rng.randint(1, 2)}, last, name="prior")
    else:
        g.add({"kind": "categorical"}, last, name="prior")
    meta = {"levels": levels, "integers_only": integers and not modular}
    return RandomSpec(seed, "discrete", g.doc, meta)


def estimate(rng: random.Random, seed: int) -> RandomSpec:
    g = Graph(rng, f"estimate-{seed}", {"x": {"shape": [2]}})
    nodes: list[Node] = []
    for _ in range(rng.randint(1, 2)):
        if rng.random() < 0.6:
            logdet = rng.choice(["roulette", "roulette", "series", "exact"])
            node: Node = {
                "kind": "residual",
                "net": {"kind": "mlp", "hidden": [8], "activation": "elu"},
                "lipschitz": 0.7,
                "logdet": logdet,
                "inverse": {"tol": 1.0e-10, "max_iter": 500},
            }
            if logdet != "exact":
                node["terms"] = rng.randint(1, 3)
                node["trace_samples"] = rng.randint(1, 2)
            nodes.append(node)
        else:
            nodes.append(
                {
                    "kind": "cnf",
                    "net": {"kind": "mlp", "hidden": [8], "activation": "tanh"},
                    "time": 0.5,
                    "trace": rng.choice(["hutchinson", "exact"]),
                    "solver": {"method": "rk4", "step_size": 0.125},
                }
            )
        if rng.random() < 0.3:
            nodes.append({"kind": "actnorm"})
    g.add({"kind": "standard_normal"}, g.chain(nodes, "x"), name="prior")
    return RandomSpec(seed, "estimate", g.doc)


def dequantized(rng: random.Random, seed: int) -> RandomSpec:
    features, levels = rng.randint(1, 2), rng.randint(2, 3)
    g = Graph(rng, f"dequantized-{seed}", {"x": {"shape": [features], "levels": levels}})
    kind = rng.choice(["uniform_dequantization", "variational_dequantization", "rounding"])
    node: Node = {"kind": kind}
    if kind != "uniform_dequantization":
        node["dequantizer"] = gaussian_or_flow(rng, features, proposal=True)
    lifted = g.add(node, "x", name="lift")
    high = levels if kind == "rounding" else 1
    last = lifted
    if kind == "rounding":
        last = g.add({"kind": "elementwise", "fn": "scale_shift", "scale": 1.0 / levels}, last)
    last = g.add({"kind": "elementwise", "fn": "logit"}, last)
    for _ in range(rng.randint(0, 2)):
        last = g.chain(g.layers(features), last)
    g.add({"kind": "standard_normal"}, last, name="prior")
    tail = {"shape": [features], "low": 0, "high": high, "bounds": "open"}
    return RandomSpec(seed, "dequantized", g.doc, {"node": "lift", "tail": tail, "levels": levels})


def augmented(rng: random.Random, seed: int) -> RandomSpec:
    g = Graph(rng, f"augmented-{seed}", {"x": {"shape": [1]}})
    encoder = gaussian_or_flow(rng, 1, proposal=True)
    last = g.add({"kind": "augment", "extra": 1, "encoder": encoder}, "x", name="lift")
    for _ in range(rng.randint(1, 2)):
        last = g.chain(g.layers(2), last)
    g.add({"kind": "standard_normal"}, last, name="prior")
    return RandomSpec(seed, "augmented", g.doc, {"node": "lift", "tail": {"shape": [2]}})


def vae(rng: random.Random, seed: int) -> RandomSpec:
    data, decoder = rng.choice(
        [
            ({"shape": [1]}, gaussian_or_flow(rng, 1, proposal=False)),
            ({"shape": [1], "levels": 2}, {"kind": "bernoulli", "net": mlp(rng)}),
            ({"shape": [1], "levels": 3}, {"kind": "categorical", "net": mlp(rng)}),
            (
                {"shape": [1], "levels": 3},
                {"kind": "discretized_logistic", "mixtures": 2, "net": mlp(rng)},
            ),
        ]
    )
    g = Graph(rng, f"vae-{seed}", {"x": data})
    encoder = gaussian_or_flow(rng, 1, proposal=True)
    last = g.add(
        {"kind": "vae", "latent": 1, "encoder": encoder, "decoder": decoder}, "x", name="lift"
    )
    last = g.chain(g.layers(1) if rng.random() < 0.5 else [], last)
    g.add({"kind": "standard_normal"}, last, name="prior")
    return RandomSpec(
        seed, "vae", g.doc, {"node": "lift", "tail": {"shape": [1]}, "levels": data.get("levels")}
    )


def argmax(rng: random.Random, seed: int) -> RandomSpec:
    g = Graph(rng, f"argmax-{seed}", {"x": {"shape": [1], "levels": 2}})
    encoder = gaussian_or_flow(rng, 2, proposal=True)
    last = g.add({"kind": "argmax", "encoder": encoder}, "x", name="lift")
    for _ in range(rng.randint(0, 2)):
        last = g.chain(g.layers(2), last)
    g.add({"kind": "standard_normal"}, last, name="prior")
    return RandomSpec(seed, "argmax", g.doc, {"node": "lift", "tail": {"shape": [2]}, "levels": 2})


def conditional(rng: random.Random, seed: int) -> RandomSpec:
    inputs = {"x": {"shape": [2]}, "c": {"shape": [1], "context": True}}
    g = Graph(rng, f"conditional-{seed}", inputs)
    last = "x"
    conditioned = False
    for _ in range(rng.randint(1, 3)):
        nodes = g.layers(2, context="c")
        conditioned = conditioned or any("context" in n for n in nodes)
        last = g.chain(nodes, last, context="c")
    if not conditioned or rng.random() < 0.5:
        g.add({"kind": "conditional_normal", "context": "c", "net": mlp(rng)}, last, name="prior")
    else:
        g.add(prior(rng), last, name="prior")
    return RandomSpec(seed, "conditional", g.doc, {"contexts": [-1.0, 0.7]})


FAMILIES: dict[str, Callable[[random.Random, int], RandomSpec]] = {
    "exact_2d": exact_2d,
    "image": image,
    "generation_only": generation_only,
    "discrete": discrete,
    "estimate": estimate,
    "dequantized": dequantized,
    "augmented": augmented,
    "vae": vae,
    "argmax": argmax,
    "conditional": conditional,
}


def random_spec(seed: int) -> RandomSpec:
    """The spec of ``seed``: family ``seed % len(FAMILIES)``, drawn from ``Random(seed)``."""
    family = list(FAMILIES)[seed % len(FAMILIES)]
    return FAMILIES[family](random.Random(seed), seed)


#: The fields whose value is a part of that role (anything else holding a ``kind`` is a node).
ROLES = {
    "transformer": "transformer",
    "conditioner": "conditioner",
    "net": "conditioner",
    "decoder": "density",
    "encoder": "density",
    "dequantizer": "density",
    "sign": "density",
}


def parts_used(value: Any, role: str = "node") -> set[tuple[str, str]]:
    """Every ``(role, kind)`` a spec (or a part of it) names: node kinds (also a flow
    density's layers), transformers (an elementwise ``fn`` is the transformer of that name),
    conditioners and densities."""
    found: set[tuple[str, str]] = set()
    if isinstance(value, dict):
        if isinstance(value.get("kind"), str):
            found.add((role, value["kind"]))
        if isinstance(value.get("fn"), str):
            found.add(("transformer", value["fn"]))
        for key, inner in value.items():
            found |= parts_used(inner, ROLES.get(key, "node"))
    elif isinstance(value, list):
        for inner in value:
            found |= parts_used(inner, role)
    return found


def everything() -> set[tuple[str, str]]:
    """What the random specs must cover: every registered node kind, transformer,
    conditioner and density, and every family (each brings its oracles)."""
    from flowspec.core.registry import conditioner_kinds, node_kinds, transformer_kinds
    from flowspec.densities.choice import density_kinds

    return (
        {("node", kind) for kind in node_kinds()}
        | {("transformer", kind) for kind in transformer_kinds()}
        | {("conditioner", kind) for kind in conditioner_kinds()}
        | {("density", kind) for kind in density_kinds()}
        | {("family", family) for family in FAMILIES}
    )


def covering_seeds(candidates: range) -> list[int]:
    """Few seeds whose specs cover :func:`everything` between them (greedy set cover over
    ``candidates``, lowest seed first among equals); what none covers is left out, which
    the coverage test reports."""
    wanted = everything()
    covers = {
        seed: (parts_used(spec.doc) | {("family", spec.family)}) & wanted
        for seed, spec in ((seed, random_spec(seed)) for seed in candidates)
    }
    chosen: list[int] = []
    left = set(wanted)
    while left:
        best = max(covers, key=lambda seed: (len(covers[seed] & left), -seed))
        if not covers[best] & left:
            break
        chosen.append(best)
        left -= covers[best]
    return sorted(chosen)
