"""The DenseNet conditioner (IDF's and SurVAE's forms): its torch-free parameter formula
against the built module, the split of ``channels`` over the layers, dense connectivity,
dropout, and its located diagnostics."""

from __future__ import annotations

import pytest
import torch

import flowspec
from flowspec.conditioners.densenet import DenseNetSpec, layer_growths
from flowspec.diagnostics import SpecError

SETTINGS = [
    {"channels": 7, "depth": 3},
    {"channels": 5, "depth": 2, "growth": 3, "out_kernel": 1},
    {"channels": 4, "depth": 2, "growth": 3, "blocks": 2, "gated": True, "out_kernel": 1},
    {"channels": 6, "depth": 4, "blocks": 1, "kernel": 5, "dropout": 0.5},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_parameter_formula_counts_the_built_module(settings: dict[str, object]) -> None:
    spec = DenseNetSpec.model_validate(settings)
    net = spec.body(3, 4)
    assert spec.body_parameter_count(3, 4) == sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize(("total", "depth"), [(512, 12), (7, 7), (10, 3), (64, 5), (1, 1)])
def test_layers_share_the_channels_as_evenly_as_they_divide(total: int, depth: int) -> None:
    growths = layer_growths(total, depth)
    assert len(growths) == depth and sum(growths) == total
    assert max(growths) - min(growths) <= 1 and growths == sorted(growths)


@pytest.mark.parametrize("settings", SETTINGS)
def test_starts_at_zero_and_every_layer_sees_the_input(settings: dict[str, object]) -> None:
    torch.manual_seed(0)
    net = DenseNetSpec.model_validate(settings).body(3, 4).double().eval()
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    assert torch.equal(net(x), torch.zeros(2, 4, 6, 6, dtype=torch.float64))
    hidden = torch.nn.Sequential(*list(net)[:-1])  # before the zero-initialised conv
    h = hidden(x)
    changed = x.clone()
    changed[:, 0, 3, 3] += 1.0
    moved = (hidden(changed) - h).abs().sum(dim=(0, 2, 3)) > 0
    if settings.get("blocks", 0) == 0:  # IDF's form: the input maps pass through, densely
        assert torch.equal(h[:, :3], x) and moved[3:].all()  # every new map
    else:
        assert moved.any()
    # dropout acts in training only: evaluation is deterministic
    assert torch.equal(hidden(x), h)


def test_dropout_changes_training_passes() -> None:
    torch.manual_seed(0)
    net = DenseNetSpec(channels=6, depth=2, dropout=0.5).body(3, 4)
    hidden = torch.nn.Sequential(*list(net)[:-1]).train()
    x = torch.randn(2, 3, 4, 4)
    assert not torch.equal(hidden(x), hidden(x))


def _spec(conditioner: str) -> str:
    return f"""flowspec: "1"
name: dense
inputs:
  x: {{shape: [4, 4, 4]}}
nodes:
  flow: {{kind: coupling, in: x, mask: channel,
          conditioner: {conditioner}}}
  prior: {{kind: standard_normal, in: flow}}
"""


def test_more_layers_than_channels_to_share_is_a_located_error() -> None:
    with pytest.raises(SpecError) as raised:
        flowspec.check(_spec("{kind: densenet, channels: 3, depth: 5}"))
    (problem,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert problem.code == "E667" and problem.node == "flow"
    assert problem.location is not None and problem.location.line == 7
    assert problem.hint is not None and "depth: 3" in problem.hint


@pytest.mark.parametrize(
    ("conditioner", "ignored"),
    [
        ("{kind: densenet, channels: 8, depth: 2, gated: true}", "gated"),
        ("{kind: densenet, channels: 8, depth: 2, growth: 4}", "channels"),
    ],
)
def test_settings_the_form_leaves_unused_are_warned(conditioner: str, ignored: str) -> None:
    checked = flowspec.check(_spec(conditioner))
    (warning,) = [d for d in checked.warnings if d.code == "W430"]
    assert warning.message.startswith(f"{ignored} is ignored")


def test_even_out_kernel_is_a_located_error() -> None:
    with pytest.raises(SpecError) as raised:
        flowspec.check(_spec("{kind: densenet, channels: 8, depth: 2, out_kernel: 2}"))
    (problem,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert problem.code == "E657" and "out_kernel" in problem.message
