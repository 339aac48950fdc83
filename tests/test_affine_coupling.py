import pytest
import torch
from oracles import assert_logdet_matches, infer_node, make_node, randomize_

import flowspec
from flowspec.diagnostics import SpecError


@pytest.mark.parametrize("mask", ["half", "alternate", [0, 1, 1, 0, 1]])
def test_round_trip_and_logdet(mask):
    _, layer, (out,) = make_node(
        {"kind": "affine_coupling", "mask": mask, "net": {"hidden": [16]}}, (5,)
    )
    randomize_(layer)
    x = torch.randn(7, 5, dtype=torch.float64)
    z, contribution = layer(x)
    assert out.shape == (5,) and contribution.shape == (7,)
    torch.testing.assert_close(layer.inverse(z), x)
    assert_logdet_matches(layer, x)


def test_starts_at_identity():
    _, layer, _ = make_node({"kind": "affine_coupling"}, (4,))
    x = torch.randn(3, 4, dtype=torch.float64)
    z, contribution = layer(x)
    torch.testing.assert_close(z, x)
    torch.testing.assert_close(contribution, torch.zeros(3, dtype=torch.float64))


def test_context_conditions_the_transform():
    _, layer, _ = make_node({"kind": "affine_coupling"}, (4,), context=(3,))
    randomize_(layer)
    x = torch.randn(6, 4, dtype=torch.float64)
    c = torch.randn(6, 3, dtype=torch.float64)
    z, _ = layer(x, context=c)
    assert not torch.allclose(z, layer(x, context=torch.zeros_like(c))[0])
    torch.testing.assert_close(layer.inverse(z, context=c), x)


@pytest.mark.parametrize(
    ("mask", "code"), [([1, 1, 1], "E404"), ([0, 0, 0], "E405"), ([1, 0], "E403")]
)
def test_bad_masks_are_reported(mask, code):
    outputs, reporter = infer_node({"kind": "affine_coupling", "mask": mask}, (3,))
    assert outputs is None
    assert [d.code for d in reporter.diagnostics] == [code]
    assert reporter.diagnostics[0].path[-1] == "mask"


def test_image_input_needs_flatten():
    outputs, reporter = infer_node({"kind": "affine_coupling"}, (1, 8, 8))
    assert outputs is None and "flatten" in reporter.diagnostics[0].hint


def test_dropout_conditioner_is_exact_per_sampled_network_and_off_in_eval():
    _, layer, _ = make_node(
        {
            "kind": "coupling",
            "transformer": {"kind": "affine"},
            "conditioner": {"kind": "mlp", "hidden": [32], "dropout": 0.5},
        },
        (4,),
    )
    randomize_(layer)
    assert any(isinstance(m, torch.nn.Dropout) for m in layer.modules())
    x = torch.randn(9, 4, dtype=torch.float64)
    layer.train()
    torch.manual_seed(0)
    first = layer(x)[0]
    assert not torch.allclose(first, layer(x)[0])  # a different sub-network each call
    torch.manual_seed(0)  # the same sub-network again: the inverse is exact for it
    z = layer(x)[0]
    torch.manual_seed(0)
    torch.testing.assert_close(layer.inverse(z), x)
    layer.eval()
    z, _ = layer(x)
    torch.testing.assert_close(z, layer(x)[0])
    torch.testing.assert_close(layer.inverse(z), x)
    assert_logdet_matches(layer, x)


def test_dropout_outside_its_range_is_a_located_error():
    text = (
        'flowspec: "1"\nname: d\ninputs:\n  x: {shape: [4]}\nnodes:\n'
        "  c:\n    kind: coupling\n    in: x\n"
        "    conditioner: {kind: mlp, dropout: 1.0}\n"
        "  prior: {kind: standard_normal, in: c}\n"
    )
    with pytest.raises(SpecError) as caught:
        flowspec.check(text)
    (error,) = caught.value.diagnostics
    assert (error.code, error.node, error.location.line) == ("E104", "c", 9)
    assert "dropout" in error.format()
