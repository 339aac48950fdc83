"""The autoregressive conditioners beyond MADE: masked_conv (PixelCNN), rnn (TAN-like GRU),
causal_transformer and wavenet. Each one's autoregressive property is checked by the zero
pattern of its Jacobian; each serves MAF and IAF layers (round trips, log-det)."""

import pytest
import torch
from oracles import assert_logdet_matches, infer_node, make_node, randomize_
from torch.func import jacrev

#: (conditioner, event shape, the position of each flattened feature in its order).
CASES = {
    "masked_conv_gray": (
        {"kind": "masked_conv", "hidden": 8, "layers": 3, "activation": "tanh"},
        (1, 4, 4),
    ),
    "masked_conv_rgb": (
        {"kind": "masked_conv", "hidden": 9, "layers": 2, "activation": "tanh"},
        (3, 3, 3),
    ),
    "rnn": ({"kind": "rnn", "hidden": 8}, (5,)),
    "rnn_reversed_image": ({"kind": "rnn", "hidden": 8, "order": "reversed"}, (1, 2, 3)),
    "causal_transformer": ({"kind": "causal_transformer", "dim": 8, "heads": 2}, (5,)),
    "causal_transformer_reversed": (
        {"kind": "causal_transformer", "dim": 8, "heads": 1, "order": "reversed"},
        (2, 3),
    ),
    "wavenet": ({"kind": "wavenet", "hidden": 8, "layers": 3}, (2, 5)),
    "wavenet_flat": ({"kind": "wavenet", "hidden": 8, "layers": 2, "kernel": 3}, (6,)),
}


def allowed(conditioner: dict, shape: tuple[int, ...]) -> torch.Tensor:
    """``[i, j]``: may feature ``i``'s parameters depend on feature ``j`` (flattened)?"""
    index = torch.arange(torch.Size(shape).numel())
    kind = conditioner["kind"]
    if kind == "masked_conv":  # raster order over pixels, then channels
        pixels = shape[1] * shape[2]
        channel, pixel = index // pixels, index % pixels
        same = pixel[None, :] == pixel[:, None]
        return (pixel[None, :] < pixel[:, None]) | (same & (channel[None, :] < channel[:, None]))
    if kind == "wavenet":  # time order; the channels of a step independent given the past
        time = index % shape[-1]
        return time[None, :] < time[:, None]
    rank = index.flip(0) if conditioner.get("order") == "reversed" else index
    return rank[None, :] < rank[:, None]


def jacobian(layer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``[p, i, j]``: d params_{i, p} / d x_j for one sample (flattened features)."""
    features = x.numel()
    jac = jacrev(lambda v: layer.conditioner(v.unsqueeze(0)).squeeze(0))(x)
    return jac.reshape(features, -1, features).transpose(0, 1)


@pytest.mark.parametrize("case", sorted(CASES))
def test_jacobian_is_zero_wherever_the_order_forbids_a_dependency(case):
    conditioner, shape = CASES[case]
    conditioner = {**conditioner}
    _, layer, _ = make_node({"kind": "autoregressive", "conditioner": conditioner}, shape)
    randomize_(layer)
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    nonzero = jacobian(layer, x) != 0
    permitted = allowed(conditioner, shape)
    assert not (nonzero & ~permitted).any()
    # Every feature with a predecessor uses some of them, and most allowed entries are used.
    has_past = permitted.any(1)
    assert nonzero.any(0).any(1)[has_past].all()
    assert nonzero.any(0).sum() >= 0.75 * permitted.sum()


@pytest.mark.parametrize("direction", ["maf", "iaf"])
@pytest.mark.parametrize("case", ["masked_conv_rgb", "rnn", "causal_transformer", "wavenet"])
def test_round_trip_and_logdet(case, direction):
    conditioner, shape = CASES[case]
    spec = {
        "kind": "autoregressive",
        "direction": direction,
        "conditioner": conditioner,
        "transformer": {"kind": "rq_spline", "bins": 4, "bound": 3.0},
    }
    _, layer, _ = make_node(spec, shape)
    randomize_(layer, scale=0.2)
    x = torch.randn(3, *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    z, _ = layer(x)
    assert not torch.allclose(z, x)
    torch.testing.assert_close(layer.inverse(z), x)
    assert_logdet_matches(layer, x)


@pytest.mark.parametrize("case", ["masked_conv_gray", "rnn", "causal_transformer", "wavenet"])
def test_layers_start_as_the_identity_and_context_reaches_the_conditioner(case):
    conditioner, shape = CASES[case]
    _, layer, _ = make_node(
        {"kind": "autoregressive", "conditioner": conditioner}, shape, context=(2,)
    )
    x = torch.randn(4, *shape, dtype=torch.float64)
    c = torch.randn(4, 2, dtype=torch.float64)
    z, contribution = layer(x, context=c)
    assert torch.equal(z, x) and torch.equal(contribution, torch.zeros(4, dtype=torch.float64))
    randomize_(layer, scale=0.2)
    assert not torch.allclose(layer(x, context=c)[0], layer(x, context=torch.zeros_like(c))[0])


@pytest.mark.parametrize(
    ("conditioner", "shape", "code", "where"),
    [
        ({"kind": "masked_conv", "kernel": 4}, (1, 4, 4), "E710", ("conditioner", "kernel")),
        ({"kind": "masked_conv"}, (16,), "E711", ("in",)),
        (
            {"kind": "causal_transformer", "dim": 10, "heads": 3},
            (4,),
            "E712",
            ("conditioner", "heads"),
        ),
        ({"kind": "wavenet"}, (1, 4, 4), "E713", ("in",)),
    ],
)
def test_mistakes_are_located_errors(conditioner, shape, code, where):
    outputs, reporter = infer_node({"kind": "autoregressive", "conditioner": conditioner}, shape)
    assert outputs is None
    (diagnostic,) = reporter.diagnostics
    assert diagnostic.code == code and diagnostic.path[-len(where) :] == where
