"""``torch.compile(fullgraph=True)`` captures every node kind: compiled ``log_prob`` (and
its gradients) and ``sample`` agree with eager, draw for draw under the same seed.

The ``aot_eager`` backend runs dynamo's graph capture and AOT autograd's functionalisation
without C++ code generation, so the test checks that every kind traces as one graph
(``fullgraph=True`` raises on any graph break) and keeps the eager random stream.
"""

import pytest
import torch
from bundled import DATA, SPECS, UNROLLED
from oracles import randomize_
from survae_specs import SURVAE_KINDS
from torch._dynamo.testing import CompileCounterWithBackend

import flowspec
from flowspec.core.ports import PortInfo
from flowspec.core.registry import node_kinds
from flowspec.emit.export import NOT_FULLGRAPH
from flowspec.emit.runtime import FlowModel

BACKEND = "aot_eager"
BATCH = 16

#: Small specs covering what the bundled ones leave out: the other elementwise maps, a
#: fixed scale_shift, actnorm and lu_linear on a multi-axis event, and conditioning
#: through a context input (couplings and a conditional base).
INLINE = {
    "image_parts": """
flowspec: "1"
name: image-parts
inputs:
  x: {shape: [4, 2, 2]}
  c: {shape: [2], context: true}
nodes:
  fine: {kind: unsqueeze, in: x}
  board: {kind: coupling, mask: checkerboard, in: fine, context: c, conditioner: {kind: conv, channels: 4}}
  back: {kind: squeeze, in: board}
  chan: {kind: coupling, mask: channel_flipped, in: back, conditioner: {kind: resnet, channels: 4, blocks: 1}}
  mix: {kind: invconv1x1, in: chan}
  prior: {kind: standard_normal, in: mix}
""",
    "elementwise_and_grid": """
flowspec: "1"
name: elementwise-and-grid
inputs:
  x: {shape: [4]}
nodes:
  fixed: {kind: elementwise, fn: scale_shift, scale: -2.0, shift: 0.1, in: x}
  squash: {kind: elementwise, fn: tanh, in: fixed}
  unit: {kind: elementwise, fn: scale_shift, scale: 0.5, shift: 0.5, in: squash}
  real: {kind: elementwise, fn: logit, in: unit}
  positive: {kind: elementwise, fn: softplus, in: real}
  back: {kind: elementwise, fn: log, in: positive}
  grid: {kind: reshape, shape: [2, 2], in: back}
  norm: {kind: actnorm, in: grid}
  mix: {kind: lu_linear, in: norm}
  flat: {kind: flatten, in: mix}
  prior: {kind: diagonal_normal, in: flat}
""",
    "conditional": """
flowspec: "1"
name: conditional
inputs:
  x: {shape: [3]}
  c: {shape: [2], context: true}
nodes:
  affine: {kind: affine_coupling, in: x, context: c, net: {kind: mlp, hidden: [8]}}
  additive: {kind: additive_coupling, mask: alternate, in: affine, context: c}
  generic: {kind: coupling, mask: [0, 1, 0], in: additive, context: c, conditioner: {hidden: [8]}}
  iaf: {kind: autoregressive, direction: iaf, in: generic, context: c, conditioner: {hidden: [8]}}
  prior: {kind: conditional_normal, in: iaf, context: c}
""",
    # The autoregressive conditioners beyond MADE.
    "ar_conditioners": """
flowspec: "1"
name: ar-conditioners
inputs:
  x: {shape: [1, 1, 2]}
nodes:
  pixel: {kind: autoregressive, conditioner: {kind: masked_conv, hidden: 4, layers: 2}, in: x}
  flat: {kind: flatten, in: pixel}
  gru: {kind: autoregressive, direction: iaf, conditioner: {kind: rnn, hidden: 4}, in: flat}
  attend: {kind: autoregressive, conditioner: {kind: causal_transformer, dim: 4, heads: 2, layers: 1}, in: gru}
  sequence: {kind: reshape, shape: [1, 2], in: attend}
  dilated: {kind: autoregressive, conditioner: {kind: wavenet, hidden: 4, layers: 2}, in: sequence}
  out: {kind: flatten, in: dilated}
  prior: {kind: standard_normal, in: out}
""",
    # Transformers inverted by bisection: a fixed number of halvings, unrolled in one graph.
    "bisection": """
flowspec: "1"
name: bisection
inputs:
  x: {shape: [3]}
nodes:
  mixture:
    kind: coupling
    transformer: {kind: logistic_mixture, components: 3, inverse: {max_iter: 8}}
    conditioner: {hidden: [8]}
    in: x
  naf:
    kind: coupling
    mask: alternate
    transformer: {kind: naf, hidden: 3, inverse: {max_iter: 8}}
    conditioner: {hidden: [8]}
    in: mixture
  prior: {kind: standard_normal, in: naf}
""",
}

# Transformers applied elementwise with free per-feature parameters (a bisection one among
# them), linear ones the optimizer composes, and a fixed map given as a transformer.
INLINE["learned_elementwise"] = """
flowspec: "1"
name: learned-elementwise
inputs:
  x: {shape: [3]}
nodes:
  spline: {kind: elementwise, transformer: {kind: rq_spline, bins: 4, bound: 3.0}, in: x}
  scale: {kind: elementwise, transformer: {kind: affine}, in: spline}
  fixed: {kind: elementwise, fn: scale_shift, scale: 0.5, in: scale}
  mono: {kind: elementwise, transformer: {kind: naf, hidden: 3, inverse: {max_iter: 8}}, in: fixed}
  positive: {kind: elementwise, transformer: {kind: softplus}, in: mono}
  back: {kind: elementwise, fn: log, in: positive}
  prior: {kind: standard_normal, in: back}
"""

INLINE["radial"] = """
flowspec: "1"
name: radial
inputs:
  x: {shape: [3]}
nodes:
  r1: {kind: radial, in: x}
  r2: {kind: radial, in: r1}
  prior: {kind: standard_normal, in: r2}
"""

#: Bundled specs made of kinds that iterate (NOT_FULLGRAPH): dynamo would unroll their
#: solver loops (tens of seconds) and AOT autograd cannot take the double backward their
#: in-forward log-det gradients need, so they run eagerly and are not compiled here.
ITERATING = {"resflow_moons", "ffjord_moons"}

INLINE["survae_kinds"] = SURVAE_KINDS
CASES = sorted(set(DATA) - ITERATING - UNROLLED) + sorted(INLINE)


@pytest.fixture(autouse=True)
def fresh_dynamo():
    """Each model compiles from scratch, and no compiled code outlives this file."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def build(case: str) -> FlowModel:
    return flowspec.compile(INLINE[case] if case in INLINE else SPECS / f"{case}.yaml")


def values(info: PortInfo, batch: int, generator: torch.Generator) -> torch.Tensor:
    """Valid values for an input port: integers for discrete ones, else normal draws."""
    shape = (batch, *info.shape)
    support = info.support
    if support.levels is not None:
        return torch.randint(0, support.levels, shape, generator=generator).float()
    assert support.is_real_line, "add a case for bounded inputs here"
    return torch.randn(shape, generator=generator)


def inputs(model: FlowModel, batch: int) -> tuple[list[torch.Tensor], dict[str, torch.Tensor]]:
    """Data inputs (positional) and context inputs (by name) for ``model``."""
    graph = model.checked.graph
    generator = torch.Generator().manual_seed(0)
    data = [values(graph.nodes[n].output_info[0], batch, generator) for n in graph.data_inputs]
    context = {
        n: values(graph.nodes[n].output_info[0], batch, generator) for n in graph.context_inputs
    }
    return data, context


def seeded(fn, *args, **kwargs):
    torch.manual_seed(1234)
    return fn(*args, **kwargs)


def kinds_of(model: FlowModel) -> set[str]:
    return {node.kind for node in model.checked.graph.layers}


def test_the_cases_cover_every_fullgraph_kind():
    assert set(NOT_FULLGRAPH) <= set(node_kinds())
    assert all(reason.strip() for reason in NOT_FULLGRAPH.values())
    covered = set().union(*(kinds_of(build(case)) for case in CASES))
    assert set(node_kinds()) - set(NOT_FULLGRAPH) <= covered


@pytest.mark.parametrize("case", CASES)
def test_compiled_log_prob_and_sample_match_eager(case):
    model = build(case)
    fullgraph = not kinds_of(model) & set(NOT_FULLGRAPH)  # iterating kinds may break graphs
    data, context = inputs(model, BATCH)
    model.initialize(*data, **context)  # layers set from data, eagerly
    randomize_(model, scale=0.2)

    log_prob = torch.compile(model.log_prob, fullgraph=fullgraph, backend=BACKEND)
    compiled = seeded(log_prob, *data, **context)
    eager = seeded(model.log_prob, *data, **context)
    assert compiled.shape == (BATCH,) and torch.isfinite(eager).all()
    torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-5)
    parameters = [p for p in model.parameters() if p.requires_grad]
    compiled_grads = torch.autograd.grad(compiled.sum(), parameters, allow_unused=True)
    eager_grads = torch.autograd.grad(eager.sum(), parameters, allow_unused=True)
    torch.testing.assert_close(compiled_grads, eager_grads, rtol=1e-4, atol=1e-5)

    with torch.no_grad():  # how sampling is used; AOT then traces no backward graph
        sample = torch.compile(model.sample, fullgraph=fullgraph, backend=BACKEND)
        drawn = seeded(sample, BATCH, **context)
        expected = seeded(model.sample, BATCH, **context)
    torch.testing.assert_close(drawn, expected, rtol=1e-5, atol=1e-5, equal_nan=True)


def test_actnorm_initialises_inside_the_first_compiled_call():
    """A fresh model whose first call is compiled initialises actnorm from that batch, as
    eager does, then recompiles once for the initialised branch and stays compiled."""
    compiled_model, eager_model = build("elementwise_and_grid"), build("elementwise_and_grid")
    eager_model.load_state_dict(compiled_model.state_dict())
    data, context = inputs(compiled_model, BATCH)
    counter = CompileCounterWithBackend(BACKEND)
    log_prob = torch.compile(compiled_model.log_prob, fullgraph=True, backend=counter)

    first = seeded(log_prob, *data, **context)
    torch.testing.assert_close(first, seeded(eager_model.log_prob, *data, **context))
    torch.testing.assert_close(compiled_model.state_dict(), eager_model.state_dict())
    actnorms = [m for m in compiled_model.modules() if hasattr(m, "is_initialized")]
    assert actnorms and all(m.is_initialized for m in actnorms)

    for _ in range(2):
        again = seeded(log_prob, *data, **context)
        torch.testing.assert_close(again, seeded(eager_model.log_prob, *data, **context))
    assert counter.frame_count == 2
