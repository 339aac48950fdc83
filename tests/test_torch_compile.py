"""``torch.compile(fullgraph=True)`` captures every node kind: compiled ``log_prob`` (and
its gradients) and ``sample`` agree with eager, draw for draw under the same seed.

The ``aot_eager`` backend runs dynamo's graph capture and AOT autograd's functionalisation
without C++ code generation, so the test checks that every kind traces as one graph
(``fullgraph=True`` raises on any graph break) and keeps the eager random stream.
"""

import pytest
import torch
from bundled import DATA, RANDOMIZE_AT_MOST, SPECS, UNROLLED
from declared import example_specs, node_cases, spec_text
from oracles import randomize_, values_in
from torch._dynamo.testing import CompileCounterWithBackend

import flowspec
from flowspec.core.ports import PortInfo
from flowspec.core.registry import conditioner_kinds, node_kinds, transformer_kinds
from flowspec.emit.export import NOT_FULLGRAPH
from flowspec.emit.runtime import FlowModel

BACKEND = "aot_eager"
BATCH = 16


#: The declared examples, side by side in one spec per group (one compile each): every
#: node kind's first example, every transformer in an elementwise node, every conditioner
#: in the layer it serves (tests/declared.py). Kinds that iterate (not_fullgraph) are left out.
EXAMPLES = example_specs(lambda node: not node.not_fullgraph)
#: A fresh actnorm, alone: it initialises from the first batch.
ACTNORM = spec_text([c for c in node_cases() if c.kind == "actnorm"][:1], "actnorm")

#: Bundled specs made of kinds that iterate (not_fullgraph): dynamo would unroll their
#: solver loops (tens of seconds) and AOT autograd cannot take the double backward their
#: in-forward log-det gradients need, so they run eagerly and are not compiled here.
ITERATING = {"resflow_moons", "ffjord_moons"}

CASES = sorted(set(DATA) - ITERATING - UNROLLED) + sorted(EXAMPLES)


@pytest.fixture(autouse=True)
def fresh_dynamo():
    """Each model compiles from scratch, and no compiled code outlives this file."""
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def build(case: str) -> FlowModel:
    return flowspec.compile(EXAMPLES[case] if case in EXAMPLES else SPECS / f"{case}.yaml")


def values(info: PortInfo, batch: int, generator: torch.Generator) -> torch.Tensor:
    """Valid values for an input port, in float32."""
    return values_in(info, batch, generator, torch.float32)


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


def test_the_example_specs_cover_every_fullgraph_kind():
    """The example specs use every kind, transformer and conditioner that compiles whole;
    the kinds that do not say why."""
    assert all(reason.strip() for reason in NOT_FULLGRAPH.values())
    nodes = [node.spec for case in EXAMPLES for node in build(case).checked.graph.layers]
    assert {node.kind for node in nodes} >= set(node_kinds()) - set(NOT_FULLGRAPH)
    parts = {
        getattr(node, field).kind
        for node in nodes
        for field in ("transformer", "conditioner")
        if getattr(node, field, None) is not None
    }
    assert parts >= set(transformer_kinds()) | set(conditioner_kinds())


@pytest.mark.parametrize("case", CASES)
def test_compiled_log_prob_and_sample_match_eager(case):
    model = build(case)
    fullgraph = not kinds_of(model) & set(NOT_FULLGRAPH)  # iterating kinds may break graphs
    data, context = inputs(model, BATCH)
    model.initialize(*data, **context)  # layers set from data, eagerly
    randomize_(model, scale=min(0.2, RANDOMIZE_AT_MOST.get(case, 0.2)))

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
    compiled_model, eager_model = flowspec.compile(ACTNORM), flowspec.compile(ACTNORM)
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


def test_train_compile_runs_the_same_steps_and_its_checkpoint_loads_uncompiled(
    tmp_path, monkeypatch
):
    """``flowspec train --compile`` trains through torch.compile (the ``eager`` backend here:
    dynamo's capture without code generation, cheap enough for a test; the benchmark
    measures inductor), reports the first step's compile time, and reaches the eager run's
    weights; weights named the compiled module's way load into an uncompiled model; a model
    with a kind that iterates, or trained with a memory option, trains eagerly, saying why."""
    import json

    from safetensors.torch import load_file
    from train_specs import TINY_MOONS
    from typer.testing import CliRunner

    import flowspec.train.compiled
    from flowspec.cli import app
    from flowspec.train.checkpoint import load_checkpoint, load_weights

    monkeypatch.setattr(flowspec.train.compiled, "BACKEND", "eager")
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY_MOONS)
    common = ["train", str(spec), "--data", "moons", "--steps", "4", "--val-every", "2"]
    common += ["--batch-size", "32", "--no-progress"]
    runs = {}
    for name, flag in (("eager", "--no-compile"), ("compiled", "--compile")):
        out = tmp_path / f"{name}.safetensors"
        result = CliRunner().invoke(app, [*common, flag, "-o", str(out)])
        assert result.exit_code == 0, result.output
        runs[name] = (result.output, out)
    output, checkpoint = runs["compiled"]
    assert "torch.compile: the first step took" in output and "one-off" in output
    summary = json.loads(checkpoint.with_name("compiled.summary.json").read_text())
    assert summary["compile_seconds"] > 0 and summary["compile_cache"]
    assert "torch.compile" not in runs["eager"][0]
    torch.testing.assert_close(load_file(checkpoint), load_file(runs["eager"][1]))

    model, _ = load_checkpoint(checkpoint)
    compiled_names = torch.compile(model, backend="eager").state_dict()
    assert all(name.startswith("_orig_mod.") for name in compiled_names)
    fresh = flowspec.compile(spec)
    load_weights(fresh, compiled_names, "the compiled module's weights")
    x = torch.randn(8, 2)
    torch.testing.assert_close(fresh.log_prob(x), model.log_prob(x))

    iterating = flowspec.compile(SPECS / "resflow_moons.yaml")
    reason = flowspec.train.compiled.eager_reason(iterating)
    first = next(n for n in iterating.checked.graph.layers if n.kind == "residual")
    assert reason is not None and f"node '{first.id}' (residual)" in reason
    rebuilding = flowspec.train.compiled.eager_reason(fresh, "invertible")
    assert rebuilding is not None and "memory: invertible" in rebuilding
    assert flowspec.train.compiled.eager_reason(fresh) is None
