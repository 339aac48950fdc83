"""Huge and non-finite numbers in a spec: each is a located diagnostic (exit 1 from the
CLI), never a traceback, a MemoryError, a silent NaN or an attempt to allocate the memory
the number asks for. And ``flowspec validate`` counts parameters without allocating them
(that every kind's count equals its module's is its contract: tests/test_contract_nodes.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.conditioners.mlp import MAX_WIDTH
from flowspec.core.node import MAX_AXIS, MAX_EVENT_NUMEL, MAX_SEED
from flowspec.diagnostics import Diagnostic, SpecError
from flowspec.layers.uniform_dequantization import UniformDequantization
from flowspec.spec.document import MAX_LEVELS

TEMPLATE = """\
flowspec: "1"
name: limits
inputs:
  x: {INPUT}
nodes:
  layer: {NODE}
  prior: {kind: standard_normal, in: layer}
"""


@dataclass(frozen=True)
class Case:
    """One bad number: the spec, and where the diagnostic must point."""

    spec: str
    line: int
    #: The spec path the diagnostic must be at.
    path: tuple[str | int, ...]
    #: A fragment of the message.
    says: str


def simple(input_: str, node: str) -> str:
    """A spec with one input ``x`` (line 4) and one node ``layer`` (line 6) before the prior."""
    return TEMPLATE.replace("{INPUT}", input_).replace("{NODE}", node)


def node_path(*fields: str | int) -> tuple[str | int, ...]:
    return ("nodes", "layer", *fields)


def x_path(*fields: str | int) -> tuple[str | int, ...]:
    return ("inputs", "x", *fields)


def at_most(bound: int) -> str:
    return f"expected at most {bound}"


FLAT = "{shape: [4]}"
CONDITIONAL = """\
flowspec: "1"
name: limits
inputs:
  x: {shape: [4]}
nodes:
  layer: {kind: split, sizes: [2, 2], in: x}
  prior: {kind: standard_normal, in: layer.out0}
  c: {kind: conditional_normal, in: layer.out1, context: layer.out0, min_scale: .nan}
"""
CASES: dict[str, Case] = {
    # --- sizes ------------------------------------------------------------------------
    "axis too long": Case(
        simple("{shape: [100000000000]}", "{kind: affine_coupling, in: x}"),
        4,
        x_path("shape", 0),
        at_most(MAX_AXIS),
    ),
    "event too large": Case(
        simple("{shape: [8192, 8192, 4]}", "{kind: flatten, in: x}"),
        4,
        x_path("shape"),
        f"at most {MAX_EVENT_NUMEL}",
    ),
    "hidden too wide": Case(
        simple(FLAT, "{kind: affine_coupling, in: x, net: {hidden: [64, 10000000000]}}"),
        6,
        node_path("net", "hidden", 1),
        at_most(MAX_WIDTH),
    ),
    "too many levels": Case(
        simple("{shape: [4], levels: 4294967296}", "{kind: uniform_dequantization, in: x}"),
        4,
        x_path("levels"),
        at_most(MAX_LEVELS),
    ),
    "augment too wide": Case(
        simple(FLAT, "{kind: augment, in: x, extra: 100000000000}"),
        6,
        node_path("extra"),
        at_most(MAX_AXIS),
    ),
    "reshape axis too long": Case(
        simple(FLAT, "{kind: reshape, in: x, shape: [100000000000000, 1]}"),
        6,
        node_path("shape", 0),
        at_most(MAX_EVENT_NUMEL),
    ),
    # --- seeds ------------------------------------------------------------------------
    "shuffle seed": Case(
        simple(FLAT, "{kind: shuffle, in: x, seed: 18446744073709551616}"),
        6,
        node_path("seed"),
        at_most(MAX_SEED),
    ),
    "lu_linear seed": Case(
        simple(FLAT, "{kind: lu_linear, in: x, seed: 9223372036854775808}"),
        6,
        node_path("seed"),
        at_most(MAX_SEED),
    ),
    # --- non-finite numbers -------------------------------------------------------------
    "low is -inf": Case(
        simple("{shape: [4], low: -.inf}", "{kind: reverse, in: x}"), 4, x_path("low"), "finite"
    ),
    "high is nan": Case(
        simple("{shape: [4], high: .nan}", "{kind: reverse, in: x}"), 4, x_path("high"), "finite"
    ),
    "scale_bound is inf": Case(
        simple(FLAT, "{kind: affine_coupling, in: x, scale_bound: .inf}"),
        6,
        node_path("scale_bound"),
        "finite",
    ),
    "eps is nan": Case(
        simple(FLAT, "{kind: actnorm, in: x, eps: .nan}"), 6, node_path("eps"), "finite"
    ),
    "negative_slope is inf": Case(
        simple(FLAT, "{kind: elementwise, fn: leaky_relu, in: x, negative_slope: .inf}"),
        6,
        node_path("negative_slope"),
        "finite",
    ),
    "scale is -inf": Case(
        simple(FLAT, "{kind: elementwise, fn: scale_shift, in: x, scale: -.inf}"),
        6,
        node_path("scale"),
        "finite",
    ),
    "shift is nan": Case(
        simple(FLAT, "{kind: elementwise, fn: scale_shift, in: x, shift: .nan}"),
        6,
        node_path("shift"),
        "finite",
    ),
    "alpha is nan": Case(
        simple(FLAT, "{kind: elementwise, fn: logit, in: x, alpha: .nan}"),
        6,
        node_path("alpha"),
        "finite",
    ),
    "decoder min_scale is nan": Case(
        simple(FLAT, "{kind: slice, keep: 2, in: x, decoder: {min_scale: .nan}}"),
        6,
        node_path("decoder", "min_scale"),
        "finite",
    ),
    "conditional_normal min_scale is nan": Case(
        CONDITIONAL, 8, ("nodes", "c", "min_scale"), "finite"
    ),
}


def the_error(diagnostics: list[Diagnostic]) -> Diagnostic:
    errors = [d for d in diagnostics if d.severity == "error"]
    assert len(errors) == 1, "\n".join(map(str, diagnostics))
    return errors[0]


@pytest.mark.parametrize("name", list(CASES))
def test_check_reports_a_located_error(name: str) -> None:
    case = CASES[name]
    start = time.process_time()
    with pytest.raises(SpecError) as caught:
        flowspec.check(case.spec)
    assert time.process_time() - start < 20.0  # nothing huge is built (CPU time, generous)
    diagnostic = the_error(caught.value.diagnostics)
    assert diagnostic.path == case.path, diagnostic
    assert case.says in diagnostic.message, diagnostic
    assert diagnostic.location is not None and diagnostic.location.line == case.line, diagnostic


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("name", list(CASES))
def test_cli_validate_exits_1_with_a_located_code(
    name: str, runner: CliRunner, tmp_path: Path
) -> None:
    case = CASES[name]
    spec = tmp_path / "limits.yaml"
    spec.write_text(case.spec, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"{spec}:{case.line}:" in result.output and "error[E104]" in result.output


def test_largest_event_is_accepted() -> None:
    """The bounds reject what is absurd, not what is merely large."""
    checked = flowspec.check(simple(f"{{shape: [{MAX_AXIS}, 8]}}", "{kind: flatten, in: x}"))
    assert checked.graph.nodes["layer"].output_info[0].shape == (MAX_AXIS * 8,)


FEATURES, HIDDEN = 4096, 16384
WIDE = f"""\
flowspec: "1"
name: wide
inputs:
  x: {{shape: [{FEATURES}]}}
nodes:
  lu: {{kind: lu_linear, in: x}}
  c: {{kind: additive_coupling, in: lu, net: {{hidden: [{HIDDEN}]}}}}
  prior: {{kind: standard_normal, in: c}}
"""


def test_validate_counts_parameters_without_allocating_them(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 4096-feature LU layer and an MLP with a 16384-wide hidden layer hold 100 M
    weights: validate reports their number from each kind's formula, building nothing."""
    spec = tmp_path / "wide.yaml"
    spec.write_text(WIDE, encoding="utf-8")
    built: list[str] = []

    def recording_build(self: flowspec.CheckedSpec) -> dict[str, torch.nn.Module]:
        built.append(self.graph.header.name)
        return {}

    monkeypatch.setattr(flowspec.CheckedSpec, "build_nodes", recording_build)
    start = time.process_time()
    result = runner.invoke(app, ["validate", "--json", str(spec)])
    assert result.exit_code == 0, result.output
    assert time.process_time() - start < 20.0  # CPU time: the machine may be loaded
    assert not built
    half = FEATURES // 2
    lu = FEATURES * FEATURES + FEATURES  # free entries of L and U, log|s|, the bias
    mlp = (half * HIDDEN + HIDDEN) + (HIDDEN * half + half)  # kept half -> shift of the rest
    assert f'"total_params": {lu + mlp}' in result.output


def test_the_most_levels_still_round_trip_in_float32() -> None:
    """Why levels are bounded: at 2^16 levels float32 dequantization is still exact."""
    layer = UniformDequantization(MAX_LEVELS, 1)
    x = torch.arange(MAX_LEVELS, dtype=torch.float32).reshape(-1, 1)
    for _ in range(5):
        z, _ = layer(x)
        assert bool(((z > 0) & (z < 1)).all())
        assert torch.equal(layer.inverse(z), x)
