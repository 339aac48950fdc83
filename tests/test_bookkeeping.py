"""The bookkeeping table: rows in inference order, parameter counts, and the dims summary
(kept by bijections, dropped by slice, added by augment)."""

import io
import json

from rich.console import Console

import flowspec
from flowspec.core.registry import node_kinds
from flowspec.graph.bookkeeping import bookkeeping, render_table

PLAIN = """
flowspec: "1"
name: plain
inputs:
  x: {shape: [4]}
blocks:
  step:
    - {kind: affine_coupling, net: {hidden: [8]}}
    - {kind: reverse}
nodes:
  body: {block: step, repeat: 2, in: x}
  prior: {kind: standard_normal, in: body}
"""

SLICED = """
flowspec: "1"
name: sliced
inputs:
  x: {shape: [6]}
nodes:
  c1: {kind: affine_coupling, in: x, net: {hidden: [8]}}
  down: {kind: slice, keep: 2, in: c1, decoder: {net: {hidden: [8]}}}
  prior: {kind: standard_normal, in: down}
"""

AUGMENTED = """
flowspec: "1"
name: augmented
inputs:
  x: {shape: [2]}
nodes:
  up: {kind: augment, extra: 3, in: x, encoder: {net: {hidden: [8]}}}
  c1: {kind: affine_coupling, in: up, net: {hidden: [8]}}
  prior: {kind: standard_normal, in: c1}
"""

MULTI = """
flowspec: "1"
name: multi
inputs:
  x: {shape: [4]}
  c: {shape: [3], context: true}
nodes:
  halves: {kind: split, in: x, sizes: [1, 3]}
  down: {kind: slice, keep: 1, in: halves.out1, decoder: {net: {hidden: [8]}}}
  p0: {kind: standard_normal, in: halves.out0}
  p1: {kind: conditional_normal, in: down, context: c, net: {hidden: [8]}}
"""


def test_rows_follow_inference_order_with_inputs_first():
    model = flowspec.compile(PLAIN)
    book = bookkeeping(model)
    graph = model.checked.graph
    assert [row.id for row in book.rows] == graph.inference_order
    assert book.rows[0].id == "x" and book.rows[0].category == "input"
    assert book.rows[0].outputs == ((4,),) and book.rows[0].dims_out == 4
    prior = book.rows[-1]
    assert (prior.kind, prior.category, prior.inputs, prior.outputs) == (
        "standard_normal",
        "distribution",
        ((4,),),
        (),
    )
    coupling = next(row for row in book.rows if row.kind == "affine_coupling")
    assert coupling.category == "bijective" and coupling.group == "body"
    assert coupling.contribution == node_kinds()["affine_coupling"].contribution


def test_parameter_counts_are_each_modules_numel():
    model = flowspec.compile(SLICED)
    book = bookkeeping(model)
    for row in book.rows:
        if row.is_input:
            assert row.params == 0
        else:
            assert row.params == sum(p.numel() for p in model.nodes[row.id].parameters())
    assert any(row.params > 0 for row in book.rows)
    assert book.total_params == sum(p.numel() for p in model.parameters())


def test_plain_flow_keeps_every_dim_and_is_exact():
    book = bookkeeping(flowspec.compile(PLAIN))
    assert book.data_dims == book.latent_dims == 4
    assert book.dropped == [] and book.added == []
    assert all(row.dims_in == row.dims_out for row in book.rows if row.category == "bijective")
    assert book.likelihood == "exact"
    assert book.verdict == "log_prob is the exact log-likelihood"
    assert book.summary()[-1] == book.verdict


def test_slice_drops_dims_that_its_decoder_models():
    book = bookkeeping(flowspec.compile(SLICED))
    assert (book.data_dims, book.latent_dims) == (6, 2)
    [change] = book.dropped
    assert (change.node, change.kind, change.dims, change.dims_in) == ("down", "slice", -4, 6)
    assert book.added == []
    text = change.describe()
    assert "down" in text and "drops 4" in text and node_kinds()["slice"].contribution in text
    assert text in book.summary()
    assert book.likelihood == "exact"  # the slice's term is an exact density, not a bound


def test_augment_adds_dims_and_makes_a_bound():
    book = bookkeeping(flowspec.compile(AUGMENTED))
    assert (book.data_dims, book.latent_dims) == (2, 5)
    [change] = book.added
    assert (change.node, change.dims, change.sampled) == ("up", 3, True)
    assert (
        "adds 3" in change.describe() and node_kinds()["augment"].contribution in change.describe()
    )
    assert book.dropped == []
    assert book.likelihood == "lower bound"
    assert book.verdict == "log_prob is a lower bound (ELBO): stochastic nodes: up"
    up = next(row for row in book.rows if row.id == "up")
    assert up.likelihood == "lower bound" and (up.dims_in, up.dims_out) == (2, 5)


def test_dims_add_up_over_several_distributions_and_context_is_not_data():
    book = bookkeeping(flowspec.compile(MULTI))
    assert (book.data_dims, book.context_dims, book.latent_dims) == (4, 3, 1 + 1)
    dropped = sum(-c.dims for c in book.dropped)
    added = sum(c.dims for c in book.added)
    assert book.data_dims - dropped + added == book.latent_dims
    context_row = next(row for row in book.rows if row.id == "c")
    assert (context_row.kind, context_row.category) == ("context", "input")
    assert next(row for row in book.rows if row.id == "p1").context == (3,)
    halves = next(row for row in book.rows if row.id == "halves")
    assert halves.outputs == ((1,), (3,)) and halves.dims_out == 4


def test_to_dict_is_json_and_the_table_renders():
    book = bookkeeping(flowspec.compile(AUGMENTED))
    data = json.loads(json.dumps(book.to_dict()))
    assert [row["id"] for row in data["rows"]] == [row.id for row in book.rows]
    assert data["rows"][1]["outputs"] == [[5]]
    assert data["added"][0]["node"] == "up" and data["likelihood"] == "lower bound"
    assert data["verdict"] == book.verdict
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(render_table(book))
    text = console.export_text()
    for row in book.rows:
        assert row.id in text
    assert "(bound)" in text and "2 -> 5" in text
