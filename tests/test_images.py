"""Glow for images: squeeze/unsqueeze, image masks of couplings, convolutional
conditioners, invconv1x1, image contexts, and blocks that use blocks."""

from __future__ import annotations

import pytest
import torch
from oracles import (
    assert_logdet_matches,
    autograd_logdet,
    infer_node,
    make_node,
    randomize_,
    run_checks,
)

import flowspec
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo
from flowspec.core.registry import node_kinds
from flowspec.diagnostics import Reporter, SpecError


def only_error(spec: dict, shape: tuple[int, ...], code: str, *path, context=None):
    node = node_kinds()[spec["kind"]].model_validate(spec)
    reporter = Reporter()
    ctx = PortInfo(context) if context is not None else None
    outputs = run_checks(
        node, (PortInfo(shape),), ctx, NodeCheck(reporter, "node", ("nodes", "node"))
    )
    assert outputs is None
    assert [d.code for d in reporter.diagnostics] == [code], [str(d) for d in reporter.diagnostics]
    diagnostic = reporter.diagnostics[0]
    assert diagnostic.path == ("nodes", "node", *path), diagnostic.path
    assert diagnostic.hint
    return diagnostic


def round_trip(layer: torch.nn.Module, x: torch.Tensor, context=None) -> None:
    z, _ = layer(x, context=context)
    torch.testing.assert_close(layer.inverse(z, context=context), x, atol=1e-10, rtol=0)
    torch.testing.assert_close(layer(layer.inverse(z, context=context), context=context)[0], z)


# --- squeeze / unsqueeze ----------------------------------------------------------------


def test_squeeze_moves_each_block_of_pixels_into_channels():
    _, layer, (out,) = make_node({"kind": "squeeze"}, (3, 4, 6))
    assert out.shape == (12, 2, 3)
    x = torch.randn(2, 3, 4, 6, dtype=torch.float64)
    z, contribution = layer(x)
    assert torch.equal(contribution, torch.zeros(2, dtype=torch.float64))
    # channel c*4 + i*2 + j at (h, w) holds channel c at (2h + i, 2w + j)
    for c, i, j, h, w in [(0, 0, 0, 0, 0), (1, 1, 0, 1, 2), (2, 1, 1, 0, 1)]:
        assert z[0, c * 4 + i * 2 + j, h, w] == x[0, c, 2 * h + i, 2 * w + j]
    round_trip(layer, x)
    assert_logdet_matches(layer, x[:1])


def test_unsqueeze_after_squeeze_is_the_identity():
    _, squeeze, (mid,) = make_node({"kind": "squeeze", "factor": 3}, (2, 6, 3))
    _, unsqueeze, (out,) = make_node({"kind": "unsqueeze", "factor": 3}, mid.shape)
    assert mid.shape == (18, 2, 1) and out.shape == (2, 6, 3)
    x = torch.randn(4, 2, 6, 3, dtype=torch.float64)
    assert torch.equal(unsqueeze(squeeze(x)[0])[0], x)
    assert torch.equal(squeeze.inverse(unsqueeze.inverse(x)), x)
    round_trip(unsqueeze, squeeze(x)[0])
    assert_logdet_matches(unsqueeze, squeeze(x)[0][:1])


def test_squeeze_of_odd_sizes_is_a_located_error():
    d = only_error({"kind": "squeeze"}, (1, 7, 5), "E651", "factor")
    assert "H = 7 and W = 5" in d.message


def test_unsqueeze_needs_channels_divisible_by_the_factor_squared():
    d = only_error({"kind": "unsqueeze"}, (6, 2, 2), "E652", "factor")
    assert "C = 6" in d.message


@pytest.mark.parametrize("kind", ["squeeze", "unsqueeze", "invconv1x1"])
def test_image_kinds_reject_other_ranks(kind):
    d = only_error({"kind": kind}, (16,), "E650", "in")
    assert "[C, H, W]" in d.message and "[16]" in d.message


# --- couplings on images ----------------------------------------------------------------

CONDITIONERS = {
    "resnet": {"kind": "resnet", "channels": 6, "blocks": 1},
    "conv": {"kind": "conv", "channels": 6, "kernel": 3},
    "densenet_idf": {"kind": "densenet", "channels": 6, "depth": 4},
    "densenet_survae": {
        "kind": "densenet",
        "channels": 4,
        "depth": 2,
        "growth": 3,
        "blocks": 1,
        "gated": True,
    },
    "mlp": {"kind": "mlp", "hidden": [8]},
}


@pytest.mark.parametrize(
    "mask", ["channel", "channel_flipped", "checkerboard", "checkerboard_flipped"]
)
@pytest.mark.parametrize("conditioner", sorted(CONDITIONERS))
def test_image_coupling_logdet_matches_autograd(mask, conditioner):
    spec = {"kind": "coupling", "mask": mask, "conditioner": CONDITIONERS[conditioner]}
    _, layer, (out,) = make_node(spec, (3, 4, 4))
    assert out.shape == (3, 4, 4)
    randomize_(layer, scale=0.3)
    x = torch.randn(3, 3, 4, 4, dtype=torch.float64)
    assert_logdet_matches(layer, x)
    round_trip(layer, x)
    # Some values are transformed, the kept ones pass through unchanged.
    z, _ = layer(x)
    kept = layer.parts.split(torch.ones_like(x))[0] if mask.startswith("check") else None
    if mask.startswith("checkerboard"):
        assert torch.equal(z * kept, x * kept) and not torch.allclose(z, x)
    else:
        first = slice(0, 1) if mask == "channel" else slice(2, 3)  # C // 2 channels
        assert torch.equal(z[:, first], x[:, first]) and not torch.allclose(z, x)


@pytest.mark.parametrize("mask", ["checkerboard", "channel_flipped"])
def test_realnvp_resnet_coupling_inverts_in_training_and_evaluation(mask):
    """Its batch norms see only the kept values, which the coupling leaves alone, so the
    inverse finds the same batch statistics in training; in evaluation (running averages
    moved by that training pass) the log-det is autograd's."""
    conditioner = {"kind": "realnvp_resnet", "channels": 6, "blocks": 1}
    _, layer, _ = make_node(
        {"kind": "coupling", "mask": mask, "conditioner": conditioner}, (2, 4, 4)
    )
    randomize_(layer, scale=0.3)
    x = 1.5 + torch.randn(3, 2, 4, 4, dtype=torch.float64)
    z, _ = layer.train()(x)
    assert not torch.allclose(z, x)
    torch.testing.assert_close(layer.inverse(z), x, atol=1e-10, rtol=0)
    assert_logdet_matches(layer, x)  # evaluation mode
    round_trip(layer, x)


def test_weight_normalised_convolutions_ignore_the_scale_of_their_directions():
    from flowspec.layers.conditioners.realnvp_resnet import RealNVPResNet

    net = randomize_(RealNVPResNet(2, 4, 6, blocks=1).double(), scale=0.3).eval()
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    before = net(x)
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if name.endswith("direction"):
                parameter.mul_(3.0)
    torch.testing.assert_close(net(x), before, atol=1e-12, rtol=1e-10)


def test_checkerboard_keeps_alternate_pixels():
    _, layer, _ = make_node({"kind": "coupling", "mask": "checkerboard"}, (1, 2, 3))
    keep = layer.parts.keep[0, 0].int().tolist()
    assert keep == [[1, 0, 1], [0, 1, 0]]
    _, flipped, _ = make_node({"kind": "coupling", "mask": "checkerboard_flipped"}, (1, 2, 3))
    assert flipped.parts.keep[0, 0].int().tolist() == [[0, 1, 0], [1, 0, 1]]


@pytest.mark.parametrize("context", [(3,), (2, 4, 4)])
@pytest.mark.parametrize("conditioner", ["resnet", "conv"])
def test_conv_conditioners_take_a_flat_or_image_context(conditioner, context):
    spec = {"kind": "coupling", "mask": "channel", "conditioner": CONDITIONERS[conditioner]}
    _, layer, _ = make_node(spec, (2, 4, 4), context=context)
    randomize_(layer, scale=0.3)
    x = torch.randn(3, 2, 4, 4, dtype=torch.float64)
    c = torch.randn(3, *context, dtype=torch.float64)
    z, contribution = layer(x, context=c)
    other, _ = layer(x, context=c + 1.0)
    assert not torch.allclose(z, other)  # the context reaches the parameters
    round_trip(layer, x, context=c)
    expected = torch.stack(
        [
            autograd_logdet(lambda v, i=i: layer(v, context=c[i : i + 1])[0], x[i : i + 1])[0]
            for i in range(3)
        ]
    )
    torch.testing.assert_close(contribution, expected, atol=1e-8, rtol=1e-7)


def test_conv_conditioner_starts_at_the_identity():
    spec = {"kind": "coupling", "mask": "checkerboard", "conditioner": {"kind": "resnet"}}
    _, layer, _ = make_node(spec, (2, 4, 4))
    x = torch.randn(3, 2, 4, 4, dtype=torch.float64)
    z, contribution = layer(x)
    assert torch.equal(z, x) and torch.equal(contribution, torch.zeros(3, dtype=torch.float64))


@pytest.mark.parametrize(
    ("mask", "shape", "code"),
    [
        ("channel", (1, 4, 4), "E653"),
        ("checkerboard", (4, 1, 1), "E654"),
        ("channel", (8,), "E650"),
        ("checkerboard", (2, 4), "E650"),
    ],
)
def test_image_masks_report_shapes_they_cannot_split(mask, shape, code):
    only_error({"kind": "coupling", "mask": mask}, shape, code, "mask")


def test_flat_masks_on_images_point_to_the_image_masks():
    d = only_error({"kind": "coupling", "mask": "half"}, (4, 2, 2), "E401", "in")
    assert "mask: channel or checkerboard" in d.hint


def test_conv_conditioner_on_a_flat_coupling_is_a_located_error():
    spec = {"kind": "coupling", "conditioner": {"kind": "resnet"}}
    d = only_error(spec, (8,), "E655", "conditioner", "kind")
    assert "resnet" in d.message


def test_conv_conditioner_context_of_another_size_is_a_located_error():
    spec = {"kind": "coupling", "mask": "channel", "conditioner": {"kind": "conv"}}
    d = only_error(spec, (2, 4, 4), "E656", "context", context=(1, 3, 3))
    assert "[1, 3, 3]" in d.message


def test_even_kernels_are_a_located_error():
    spec = {"kind": "coupling", "mask": "channel", "conditioner": {"kind": "resnet", "kernel": 4}}
    only_error(spec, (2, 4, 4), "E657", "conditioner", "kernel")
    outer = {"kind": "resnet", "batch_norm": True, "outer_kernel": 2}
    spec = {"kind": "coupling", "mask": "channel", "conditioner": outer}
    d = only_error(spec, (2, 4, 4), "E657", "conditioner", "outer_kernel")
    assert "outer_kernel: 3 or 1" in d.hint


def test_a_conditioner_without_kind_is_still_an_mlp():
    spec = {"kind": "coupling", "conditioner": {"hidden": [4]}}
    node = node_kinds()["coupling"].model_validate(spec)
    assert node.conditioner.kind == "mlp"


# --- invconv1x1, actnorm on images, conditional prior on image halves -------------------


def test_invconv1x1_logdet_and_round_trip_on_images():
    _, layer, _ = make_node({"kind": "invconv1x1", "seed": 4}, (3, 2, 2))
    randomize_(layer, scale=0.2)
    x = torch.randn(2, 3, 2, 2, dtype=torch.float64)
    assert_logdet_matches(layer, x)
    round_trip(layer, x)


def test_actnorm_acts_per_channel_on_images():
    _, layer, _ = make_node({"kind": "actnorm"}, (3, 2, 2))
    spread = torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64).view(1, 3, 1, 1)
    x = torch.randn(64, 3, 2, 2, dtype=torch.float64) * spread
    z, _ = layer(x)
    std = z.std(dim=(0, 2, 3), correction=0)
    torch.testing.assert_close(std, torch.ones(3, dtype=torch.float64), atol=1e-5, rtol=0)
    assert_logdet_matches(layer, x[:2])


def test_factored_out_image_half_has_an_image_conditioned_prior():
    text = """
flowspec: "1"
name: factor
inputs:
  x: {shape: [2, 4, 4]}
nodes:
  coarse: {kind: squeeze, in: x}
  parts: {kind: split, sizes: [4, 4], in: coarse}
  early: {kind: conditional_normal, in: parts.out1, context: parts.out0, net: {hidden: [8]}}
  prior: {kind: standard_normal, in: parts.out0}
"""
    model = flowspec.compile(text)
    x = torch.randn(5, 2, 4, 4)
    assert model.log_prob(x).shape == (5,)
    assert model.sample(3).shape == (3, 2, 4, 4)


# --- blocks that use blocks --------------------------------------------------------------

NESTED = """
flowspec: "1"
name: nested
inputs:
  x: {shape: [1, 4, 4]}
blocks:
  step:
    - {kind: actnorm}
    - {kind: invconv1x1, seed: 1}
  scale:
    - {kind: squeeze}
    - {block: step, repeat: 3}
nodes:
  body: {block: scale, repeat: 2, in: x}
  prior: {kind: standard_normal, in: body}
"""


def test_a_block_may_use_a_block():
    checked = flowspec.check(NESTED.replace("repeat: 2", "repeat: 1"))
    ids = [node.id for node in checked.graph.layers]
    assert ids == [
        "body_0_0",
        *[f"body_0_1_{r}_{i}" for r in range(3) for i in range(2)],
        "prior",
    ]
    nodes = checked.graph.nodes
    assert nodes["body_0_1_2_1"].group == "body_0_1" and nodes["body_0_1_2_1"].use == "body"
    # every repetition of the inner block draws its own seed
    seeds = [nodes[f"body_0_1_{r}_1"].spec.seed for r in range(3)]
    assert seeds == [1, 2, 3]
    assert checked.graph.nodes["prior"].input_info[0].shape == (4, 2, 2)


def test_repeated_nested_blocks_draw_distinct_seeds_and_shapes_flow():
    checked = flowspec.check(NESTED.replace("[1, 4, 4]", "[1, 8, 8]"))
    nodes = checked.graph.nodes
    seeds = [nodes[f"body_{o}_1_{r}_1"].spec.seed for o in range(2) for r in range(3)]
    assert seeds == [1, 2, 3, 4, 5, 6]
    assert nodes["prior"].input_info[0].shape == (16, 2, 2)
    model = checked.build_model()
    log_prob = model.log_prob(torch.randn(3, 1, 8, 8))
    assert log_prob.shape == (3,) and torch.isfinite(log_prob).all()
    assert model.sample(2).shape == (2, 1, 8, 8)


def errors_of(text: str):
    with pytest.raises(SpecError) as caught:
        flowspec.check(text)
    return caught.value.diagnostics


def test_a_block_using_itself_through_another_names_the_cycle():
    text = NESTED.replace("    - {kind: invconv1x1, seed: 1}", "    - {block: scale}")
    (diagnostic,) = errors_of(text)
    assert diagnostic.code == "E658"
    assert "block 'step' uses itself: step -> scale -> step" in diagnostic.message
    assert diagnostic.location is not None and diagnostic.location.line == 12
    assert diagnostic.path[-1] == "block"


def test_a_block_using_itself_directly_is_reported_once():
    text = NESTED.replace("    - {kind: invconv1x1, seed: 1}", "    - {block: step, repeat: 2}")
    diagnostics = errors_of(text)
    assert [d.code for d in diagnostics] == ["E658"]
    assert "step -> step" in diagnostics[0].message
    assert diagnostics[0].path == ("blocks", "step", 1, "block")
    assert diagnostics[0].location.line == 9


def test_an_unknown_nested_block_is_a_located_error():
    (diagnostic,) = errors_of(NESTED.replace("{block: step, repeat: 3}", "{block: stpe}"))
    assert diagnostic.code == "E111" and "did you mean 'step'" in diagnostic.hint
    assert diagnostic.path == ("blocks", "scale", 1, "block") and diagnostic.location.line == 12


def test_a_nested_block_use_takes_no_input():
    (diagnostic,) = errors_of(NESTED.replace("{block: step, repeat: 3}", "{block: step, in: x}"))
    assert diagnostic.code == "E109" and diagnostic.path == ("blocks", "scale", 1, "in")


def test_nested_blocks_render_and_emit(tmp_path):
    from flowspec.render import render

    checked = flowspec.check(NESTED)
    result = render(checked.graph, tmp_path / "nested.svg")
    assert result.written.exists()
    assert "body_1_1_2_1" in checked.source()


def test_nested_shapes_are_checked_where_the_inner_block_is():
    text = NESTED.replace("[1, 4, 4]", "[1, 6, 6]")  # the second squeeze sees [4, 3, 3]
    diagnostics = errors_of(text)
    assert [d.code for d in diagnostics] == ["E651"]
    assert diagnostics[0].node == "body_1_0"
    assert infer_node({"kind": "squeeze"}, (4, 3, 3))[0] is None
