"""Holes in the front end's checks (issue 10): each case used to be accepted (and
reported as exact), crash with a traceback, or say something the user cannot act on.
Every mistake must be one located diagnostic: code, line, node."""

from __future__ import annotations

import math

import pytest
import torch

import flowspec
from flowspec.diagnostics import Diagnostic, SpecError


def spec(nodes: str, inputs: str = "  x: {shape: [4]}\n", blocks: str = "") -> str:
    return f'flowspec: "1"\nname: holes\ninputs:\n{inputs}{blocks}nodes:\n{nodes}'


def errors_of(text: str) -> list[Diagnostic]:
    with pytest.raises(SpecError) as caught:
        flowspec.check(text)
    return [d for d in caught.value.diagnostics if d.severity == "error"]


def only_error(text: str, code: str) -> Diagnostic:
    found = errors_of(text)
    assert [d.code for d in found] == [code], [d.format() for d in found]
    return found[0]


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


# --- a value reaching a node through two roles ----------------------------------------

SELF_CONDITIONED = {
    "conditional_normal": spec(
        "  halves: {kind: split, in: x, sizes: [2, 2]}\n"
        "  p0: {kind: standard_normal, in: halves.out0}\n"
        "  p1: {kind: conditional_normal, in: halves.out1, context: halves.out1}\n"
    ),
    "coupling": spec(
        "  c: {kind: affine_coupling, in: x, context: x}\n  p: {kind: standard_normal, in: c}\n",
        inputs="  x: {shape: [4]}\n",
    ),
    "coupling on a node output": spec(
        "  r: {kind: reverse, in: x}\n"
        "  c: {kind: additive_coupling, in: r, context: r}\n"
        "  p: {kind: standard_normal, in: c}\n"
    ),
}


@pytest.mark.parametrize("case", list(SELF_CONDITIONED))
def test_a_node_conditioned_on_its_own_input_is_an_error(case: str) -> None:
    text = SELF_CONDITIONED[case]
    found = errors_of(text)
    self_conditioning = [d for d in found if d.code == "E209"]
    assert len(self_conditioning) == 1, [d.format() for d in found]
    diagnostic = self_conditioning[0]
    assert diagnostic.path[-1] == "context" and "its own input" in diagnostic.message
    assert diagnostic.location.line == line_of(text, "context:")


# --- wiring given where it is ignored --------------------------------------------------

BLOCK_WITH_CONTEXT = spec(
    "  body: {block: step, in: x}\n  p: {kind: standard_normal, in: body}\n",
    inputs="  x: {shape: [4]}\n  y: {shape: [2], context: true}\n",
    blocks="blocks:\n  step:\n    - {kind: affine_coupling, context: y}\n    - {kind: reverse}\n",
)


def test_context_on_a_block_element_is_located_not_a_traceback() -> None:
    diagnostic = only_error(BLOCK_WITH_CONTEXT, "E113")
    assert diagnostic.path == ("blocks", "step", 0, "context")
    assert diagnostic.location.line == line_of(BLOCK_WITH_CONTEXT, "context: y")
    assert "context: y" in diagnostic.hint


def test_render_of_a_block_element_with_context_fails_cleanly(tmp_path) -> None:
    from typer.testing import CliRunner

    from flowspec.cli.app import app

    path = tmp_path / "s.yaml"
    path.write_text(BLOCK_WITH_CONTEXT, encoding="utf-8")
    result = CliRunner().invoke(app, ["render", str(path), "-o", str(tmp_path / "g.gv")])
    assert result.exit_code == 1 and "E113" in result.output


def test_block_use_context_with_no_conditional_node_is_an_error() -> None:
    text = spec(
        "  body: {block: step, in: x, context: y}\n  p: {kind: standard_normal, in: body}\n",
        inputs="  x: {shape: [4]}\n  y: {shape: [2], context: true}\n",
        blocks="blocks:\n  step:\n    - {kind: actnorm}\n    - {kind: reverse}\n",
    )
    diagnostic = only_error(text, "E213")
    assert diagnostic.path == ("nodes", "body", "context") and diagnostic.node == "body"
    assert "actnorm, reverse" in diagnostic.message


def test_block_use_context_reaches_its_conditional_nodes() -> None:
    text = spec(
        "  body: {block: step, in: x, context: y, repeat: 2}\n"
        "  p: {kind: standard_normal, in: body}\n",
        inputs="  x: {shape: [4]}\n  y: {shape: [2], context: true}\n",
        blocks="blocks:\n  step:\n    - {kind: affine_coupling}\n    - {kind: reverse}\n",
    )
    graph = flowspec.check(text).graph
    conditioned = [n.id for n in graph.nodes.values() if n.context is not None]
    assert conditioned == ["body_0_0", "body_1_0"]


def test_an_unused_context_input_is_an_error() -> None:
    text = spec(
        "  c: {kind: affine_coupling, in: x}\n  p: {kind: standard_normal, in: c}\n",
        inputs="  x: {shape: [4]}\n  y: {shape: [2], context: true}\n",
    )
    diagnostic = only_error(text, "E203")
    assert diagnostic.node == "y" and "context input 'y' is never used" in diagnostic.message
    assert diagnostic.location.line == line_of(text, "y: {shape")


def test_block_output_used_twice_is_named_by_the_block_use() -> None:
    text = spec(
        "  body: {block: step, in: x, repeat: 2}\n"
        "  p: {kind: standard_normal, in: body}\n"
        "  q: {kind: standard_normal, in: body}\n",
        blocks="blocks:\n  step:\n    - {kind: actnorm}\n    - {kind: reverse}\n",
    )
    diagnostic = only_error(text, "E205")
    assert "output 'body' is used twice" in diagnostic.message
    assert "body_1_1" not in diagnostic.format()
    assert diagnostic.location.line == line_of(text, "q: {kind")


def test_block_output_unused_is_named_by_the_block_use() -> None:
    text = spec(
        "  body: {block: step, in: x}\n"
        "  c: {kind: actnorm, in: z}\n  p: {kind: standard_normal, in: c}\n",
        inputs="  x: {shape: [4]}\n  z: {shape: [4]}\n",
        blocks="blocks:\n  step:\n    - {kind: actnorm}\n",
    )
    diagnostic = only_error(text, "E203")
    assert "output 'body' is never used" in diagnostic.message and diagnostic.node == "body"
    assert diagnostic.location.line == line_of(text, "body: {block")


# --- domains taken as open where they are closed ---------------------------------------


@pytest.mark.parametrize("fn", ["logit", "log"])
def test_declared_bounds_are_closed(fn: str) -> None:
    text = spec(
        f"  m: {{kind: elementwise, fn: {fn}, in: x}}\n  p: {{kind: standard_normal, in: m}}\n",
        inputs="  x: {shape: [4], low: 0, high: 1}\n",
    )
    diagnostic = only_error(text, "E422")
    assert "[0, 1]" in diagnostic.message and "bounds: open" in diagnostic.hint


def test_logit_with_alpha_or_open_bounds_accepts_the_closed_unit_interval() -> None:
    closed = "  x: {shape: [4], low: 0, high: 1}\n"
    with_alpha = spec(
        "  m: {kind: elementwise, fn: logit, alpha: 0.01, in: x}\n"
        "  p: {kind: standard_normal, in: m}\n",
        inputs=closed,
    )
    model = flowspec.compile(with_alpha)
    x = torch.tensor([[0.0, 1.0, 0.5, 0.25]])
    assert torch.isfinite(model.log_prob(x)).all()
    open_bounds = spec(
        "  m: {kind: elementwise, fn: logit, in: x}\n  p: {kind: standard_normal, in: m}\n",
        inputs="  x: {shape: [4], low: 0, high: 1, bounds: open}\n",
    )
    flowspec.check(open_bounds)


def test_dequantized_values_are_strictly_inside_so_logit_needs_no_alpha() -> None:
    text = spec(
        "  d: {kind: uniform_dequantization, in: x}\n"
        "  m: {kind: elementwise, fn: logit, in: d}\n  p: {kind: standard_normal, in: m}\n",
        inputs="  x: {shape: [4], levels: 4}\n",
    )
    flowspec.check(text)


# --- W501 survives learned maps ----------------------------------------------------------


@pytest.mark.parametrize(
    "between",
    [
        "  b: {kind: actnorm, in: m}\n",
        "  b: {kind: affine_coupling, in: m}\n",
        "  b: {kind: lu_linear, in: m}\n",
        "  b: {kind: elementwise, fn: scale_shift, learnable: true, in: m}\n",
    ],
    ids=["actnorm", "coupling", "lu_linear", "learnable scale_shift"],
)
def test_bounded_support_warning_survives_learned_maps(between: str) -> None:
    text = spec(
        f"  m: {{kind: elementwise, fn: softplus, in: x}}\n{between}"
        "  p: {kind: standard_normal, in: b}\n"
    )
    warnings = flowspec.check(text).warnings
    assert [w.code for w in warnings] == ["W501"] and warnings[0].node == "p"


def test_bounded_support_warning_survives_concat_with_unbounded_values() -> None:
    text = spec(
        "  m: {kind: elementwise, fn: sigmoid, in: a}\n"
        "  j: {kind: concat, in: [m, b]}\n  p: {kind: standard_normal, in: j}\n",
        inputs="  a: {shape: [2]}\n  b: {shape: [2]}\n",
    )
    assert [w.code for w in flowspec.check(text).warnings] == ["W501"]


def test_a_map_back_to_the_real_line_clears_the_warning() -> None:
    text = spec(
        "  m: {kind: elementwise, fn: sigmoid, in: x}\n  b: {kind: actnorm, in: m}\n"
        "  p: {kind: standard_normal, in: b}\n"
    )
    assert flowspec.check(text).warnings[0].code == "W501"
    clean = spec(
        "  m: {kind: elementwise, fn: sigmoid, in: x}\n"
        "  l: {kind: elementwise, fn: logit, in: m}\n"
        "  b: {kind: actnorm, in: l}\n  p: {kind: standard_normal, in: b}\n"
    )
    assert flowspec.check(clean).warnings == []


# --- what the user sees --------------------------------------------------------------------


def test_glued_kind_names_the_key_actually_read() -> None:
    text = spec("  r: {kind:reverse, in: x}\n  p: {kind: standard_normal, in: r}\n")
    diagnostic = only_error(text, "E105")
    assert "'kind:reverse'" in diagnostic.message and "'kind: reverse'" in diagnostic.hint


def test_tab_indentation_gets_a_hint() -> None:
    text = 'flowspec: "1"\nname: t\ninputs:\n\tx: {shape: [2]}\n'
    diagnostic = only_error(text, "E003")
    assert diagnostic.location.line == 4 and "tab" in diagnostic.hint


@pytest.mark.parametrize(
    ("nodes", "inputs", "says"),
    [
        ("  b: {block: step, in: x, repeat: '8'}\n", "  x: {shape: [4]}\n", "expected an integer"),
        ("  b: {block: step, in: x}\n", "  x: {shape: [true, 2]}\n", "expected an integer"),
        ("  b: {block: step, in: x}\n", "  x: {shape: []}\n", "expected at least 1 item"),
        ("  b: {block: step, in: x}\n", "  x: {shape: [0]}\n", "expected a value above 0"),
    ],
    ids=["repeat string", "shape bool", "shape empty", "shape zero"],
)
def test_field_errors_speak_flowspec_not_pydantic(nodes: str, inputs: str, says: str) -> None:
    text = spec(
        nodes + "  p: {kind: standard_normal, in: b}\n",
        inputs=inputs,
        blocks="blocks:\n  step:\n    - {kind: actnorm}\n",
    )
    found = errors_of(text)
    assert found[0].code == "E104" and says in found[0].message, found[0].format()
    for diagnostic in found:
        for phrase in ("Input should", "after validation", "List should", "Value error"):
            assert phrase not in diagnostic.format()


def test_strict_numbers_in_node_fields() -> None:
    text = spec(
        "  c: {kind: affine_coupling, in: x, scale_bound: true}\n"
        "  p: {kind: standard_normal, in: c}\n"
    )
    diagnostic = only_error(text, "E104")
    assert diagnostic.path[-1] == "scale_bound" and "expected a number" in diagnostic.message


# --- constants exact in float64 ------------------------------------------------------------


def test_scale_shift_is_exact_after_double() -> None:
    model = flowspec.compile(
        spec(
            "  s: {kind: elementwise, fn: scale_shift, scale: 0.1, shift: 0.3, in: x}\n"
            "  p: {kind: standard_normal, in: s}\n",
            inputs="  x: {shape: [1]}\n",
        )
    ).double()
    x = torch.ones(1, 1, dtype=torch.float64)
    trace = model.trace(x)
    (z,) = trace.latents.values()
    assert z.item() == 0.1 * 1.0 + 0.3
    assert trace.contributions["s"].item() == math.log(0.1)
    assert abs(model.nodes["s"].inverse(z).item() - 1.0) < 1e-15  # float64, not float32


# --- actnorm's first batch -------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_actnorm_refuses_a_non_finite_first_batch(bad: float) -> None:
    model = flowspec.compile(
        spec("  a: {kind: actnorm, in: x}\n  p: {kind: standard_normal, in: a}\n")
    )
    x = torch.randn(8, 4)
    x[3, 1] = bad
    with pytest.raises(ValueError, match="non-finite"):
        model.log_prob(x)
    layer = model.nodes["a"]
    assert not layer.is_initialized and not bool(layer.initialized)
    assert torch.isfinite(model.log_prob(torch.randn(8, 4))).all()
    assert torch.isfinite(layer.bias).all() and torch.isfinite(layer.log_scale).all()


# --- the model from the middle: every value, generation from given latents ----------------

MULTI = spec(
    "  d: {kind: uniform_dequantization, in: x}\n"
    "  l: {kind: elementwise, fn: logit, alpha: 0.05, in: d}\n"
    "  a: {kind: augment, extra: 2, in: l, encoder: {net: {hidden: [8]}}}\n"
    "  c: {kind: affine_coupling, in: a, net: {hidden: [8]}}\n"
    "  s: {kind: slice, keep: 4, in: c, decoder: {net: {hidden: [8]}}}\n"
    "  halves: {kind: split, in: s, sizes: [2, 2]}\n"
    "  p0: {kind: standard_normal, in: halves.out0}\n"
    "  p1: {kind: conditional_normal, in: halves.out1, context: halves.out0, net: {hidden: [8]}}\n",
    inputs="  x: {shape: [4], levels: 8}\n",
)


def test_trace_exposes_every_intermediate_value() -> None:
    torch.manual_seed(0)
    model = flowspec.compile(MULTI)
    x = torch.randint(0, 8, (5, 4)).float()
    trace = model.trace(x)
    values = trace.values
    assert set(values) == {"x", "d", "l", "a", "c", "s", "halves.out0", "halves.out1"}
    dequantized = values["d"]  # what the dequantizer produces
    assert ((dequantized * 8).floor() == x).all() and (dequantized > 0).all()
    added = values["a"][:, 4:]  # what the augment adds
    assert added.shape == (5, 2) and torch.equal(values["a"][:, :4], values["l"])
    dropped = values["c"][:, 4:]  # what the slice drops
    assert torch.equal(values["s"], values["c"][:, :4]) and dropped.shape == (5, 2)
    assert torch.equal(trace.latents["p0"], values["halves.out0"])


def test_inverse_of_the_latents_gives_back_the_data() -> None:
    torch.manual_seed(0)
    model = flowspec.compile(
        spec(
            "  c: {kind: affine_coupling, in: x, net: {hidden: [8]}}\n"
            "  halves: {kind: split, in: c, sizes: [2, 2]}\n"
            "  p0: {kind: standard_normal, in: halves.out0}\n"
            "  p1: {kind: conditional_normal, in: halves.out1, context: halves.out0, "
            "net: {hidden: [8]}}\n"
        )
    ).double()
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    x = torch.randn(6, 4, dtype=torch.float64)
    latents = model.trace(x).latents
    torch.testing.assert_close(model.inverse(latents), x, rtol=1e-12, atol=1e-12)
    # A distribution left out is drawn; the one given is used as is.
    partial = model.inverse({"p0": latents["p0"]})
    assert partial.shape == (6, 4)
    torch.testing.assert_close(model.trace(partial).latents["p0"], latents["p0"])


def test_inverse_checks_its_latents() -> None:
    model = flowspec.compile(MULTI)
    with pytest.raises(TypeError, match="2 distributions"):
        model.inverse(torch.zeros(3, 2))
    with pytest.raises(TypeError, match="'prior' is not a distribution"):
        model.inverse({"prior": torch.zeros(3, 2)})
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        model.inverse({"p0": torch.zeros(3, 3)})
    with pytest.raises(ValueError, match="one batch size"):
        model.inverse({"p0": torch.zeros(3, 2), "p1": torch.zeros(4, 2)})
    single = flowspec.compile(
        spec("  a: {kind: actnorm, in: x, data_init: false}\n  p: {kind: standard_normal, in: a}\n")
    )
    z = torch.randn(3, 4)
    torch.testing.assert_close(single.inverse(z), z)


def test_a_context_input_used_as_data_is_reported_once() -> None:
    text = spec(
        "  a: {kind: actnorm, in: y}\n  p: {kind: standard_normal, in: a}\n"
        "  q: {kind: standard_normal, in: x}\n",
        inputs="  x: {shape: [4]}\n  y: {shape: [2], context: true}\n",
    )
    assert [d.code for d in errors_of(text)] == ["E204"]


def test_a_block_use_conditioned_on_its_own_output_is_a_cycle() -> None:
    text = spec(
        "  body: {block: step, in: x, context: body}\n  p: {kind: standard_normal, in: body}\n",
        blocks="blocks:\n  step:\n    - {kind: affine_coupling}\n    - {kind: reverse}\n",
    )
    assert [d.code for d in errors_of(text)] == ["E207"]


def test_actnorm_eps_without_data_init_is_ignored_and_said() -> None:
    text = spec(
        "  a: {kind: actnorm, in: x, data_init: false, eps: 0.001}\n"
        "  p: {kind: standard_normal, in: a}\n"
    )
    warnings = flowspec.check(text).warnings
    assert [(w.code, w.path[-1]) for w in warnings] == [("W430", "eps")]
    quiet = spec("  a: {kind: actnorm, in: x, eps: 0.001}\n  p: {kind: standard_normal, in: a}\n")
    assert flowspec.check(quiet).warnings == []
