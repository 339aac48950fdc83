"""``export_programs`` writes torch.export programs that reproduce ``log_prob`` and
``sample`` of the model, for any batch size, and refuses models it cannot export."""

import warnings

import pytest
import torch
from bundled import DATA, RANDOMIZE_AT_MOST, SPECS, UNROLLED
from oracles import randomize_

import flowspec
from flowspec.emit.export import ExportError, example_batch, export_programs, program_paths
from flowspec.emit.runtime import FlowModel

EXAMPLE = 32  # the traced batch; the programs are then run on other sizes

ACTNORM = """
flowspec: "1"
name: actnorm-only
inputs:
  x: {shape: [2]}
nodes:
  norm: {kind: actnorm, in: x}
  prior: {kind: standard_normal, in: norm}
"""


def seeded(fn, *args):
    torch.manual_seed(99)
    return fn(*args)


def load_programs(model: FlowModel, tmp_path, **kwargs):
    paths = export_programs(model, tmp_path / "model.pt2", **kwargs)
    assert paths == list(program_paths(tmp_path / "model.pt2"))
    assert [p.name for p in paths] == ["model.log_prob.pt2", "model.sample.pt2"]
    return [torch.export.load(p).module() for p in paths]


#: Bundled specs whose kinds iterate (NOT_FULLGRAPH) cannot be exported (tested below).
ITERATING = {"resflow_moons": "residual", "ffjord_moons": "cnf"}


@pytest.mark.parametrize("name", sorted(set(DATA) - set(ITERATING) - UNROLLED))
def test_programs_reproduce_the_model(name, tmp_path):
    model = flowspec.compile(SPECS / f"{name}.yaml")
    x = example_batch(model, EXAMPLE)
    model.initialize(x)  # layers set from data (actnorm, standardize), as in training
    # small enough that every sample stays finite
    randomize_(model, scale=min(0.1, RANDOMIZE_AT_MOST.get(name, 0.1)))
    log_prob, sample = load_programs(model, tmp_path, batch=EXAMPLE)
    assert model.training  # the mode is restored after tracing in eval mode
    model.eval()  # the programs are the evaluation-mode model (no dropout)

    for batch in (EXAMPLE, 5, 1):  # the batch dimension is dynamic
        exported = seeded(log_prob, x[:batch])
        torch.testing.assert_close(exported, seeded(model.log_prob, x[:batch]))
        assert exported.shape == (batch,) and torch.isfinite(exported).all()

    event = model.checked.graph.nodes[model.checked.graph.data_inputs[0]].input_spec.shape
    for count in (EXAMPLE, 7):
        drawn = seeded(sample, torch.empty(count))
        assert drawn.shape == (count, *event) and torch.isfinite(drawn).all()
        torch.testing.assert_close(drawn, seeded(model.sample, count))


def test_uninitialised_actnorm_is_exported_as_it_is(tmp_path, monkeypatch):
    """Tracing must not bake actnorm's data-dependent initialisation into the program
    (that would re-normalise every batch): the current parameters are exported, with a
    warning, and the model is left uninitialised. Every file torch writes ends in .pt2
    (torch logs a warning for any other name, which leaked into the CLI's output)."""
    model = flowspec.compile(ACTNORM)
    saved: list[str] = []
    real_save = torch.export.save

    def recording_save(program, path, *args, **kwargs):
        saved.append(str(path))
        return real_save(program, path, *args, **kwargs)

    monkeypatch.setattr(torch.export, "save", recording_save)
    with pytest.warns(UserWarning, match="not yet initialised from data .*norm"):
        log_prob, _ = load_programs(model, tmp_path)
    assert len(saved) == 2 and all(path.endswith(".pt2") for path in saved), saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.log_prob.pt2", "model.sample.pt2"]
    norm = model.nodes["norm"]
    assert not norm.is_initialized and not norm.initialized
    x = 3.0 + 2.0 * torch.randn(8, 2)
    identity = flowspec.compile(ACTNORM)
    identity.nodes["norm"].is_initialized = True
    torch.testing.assert_close(log_prob(x), identity.log_prob(x))
    torch.testing.assert_close(log_prob(x[:2]), identity.log_prob(x[:2]))

    model.log_prob(x)  # now initialised: no warning, and the fitted parameters go along
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log_prob, _ = load_programs(model, tmp_path)
    torch.testing.assert_close(log_prob(x), model.log_prob(x))


STANDARDIZED = ACTNORM.replace(
    "  norm: {kind: actnorm, in: x}",
    "  pre: {kind: standardize, in: x}\n  norm: {kind: actnorm, in: pre}",
)


def test_the_data_statistics_travel_with_the_programs(tmp_path):
    """standardize's mean and std are in the exported programs (log p(x) and samples in the
    data's units); a model without them is refused, not exported with placeholders."""
    model = flowspec.compile(STANDARDIZED)
    with pytest.raises(ExportError, match="pre have no statistics yet"):
        load_programs(model, tmp_path)
    x = torch.randn(300, 2) * torch.tensor([30.0, 0.2]) + torch.tensor([100.0, -5.0])
    model.initialize(x)
    log_prob, sample = load_programs(model, tmp_path)
    model.eval()
    torch.testing.assert_close(log_prob(x[:9]), model.log_prob(x[:9]))
    drawn = seeded(sample, torch.empty(2000))
    torch.testing.assert_close(drawn, seeded(model.sample, 2000))
    assert (drawn.mean(0) - x.mean(0)).abs().max() < 3.0 and drawn.std(0)[0] > 10


def test_example_batch_respects_the_input_support():
    bounded = flowspec.compile("""
flowspec: "1"
name: bounded
inputs:
  x: {shape: [3], low: 0, high: 1, bounds: open}
nodes:
  real: {kind: elementwise, fn: logit, in: x}
  prior: {kind: standard_normal, in: real}
""")
    x = example_batch(bounded, 100)
    assert x.shape == (100, 3) and (x > 0).all() and (x < 1).all()
    assert torch.equal(x, example_batch(bounded, 100))  # reproducible
    digits = flowspec.compile(SPECS / "digits_dequant.yaml")
    levels = example_batch(digits, 50)
    assert levels.dtype == torch.float32 and torch.equal(levels, levels.round())
    assert levels.min() >= 0 and levels.max() <= 16


CONTEXT = """
flowspec: "1"
name: conditional
inputs:
  x: {shape: [2]}
  c: {shape: [3], context: true}
nodes:
  prior: {kind: conditional_normal, in: x, context: c}
"""

TWO_INPUTS = """
flowspec: "1"
name: two-inputs
inputs:
  x: {shape: [2]}
  y: {shape: [3]}
nodes:
  px: {kind: standard_normal, in: x}
  py: {kind: standard_normal, in: y}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [(CONTEXT, "context inputs \\(c\\)"), (TWO_INPUTS, "2 data inputs \\(x, y\\)")],
)
def test_models_export_cannot_take_raise_export_error(text, message, tmp_path):
    with pytest.raises(ExportError, match=message):
        export_programs(flowspec.compile(text), tmp_path / "model.pt2")
    assert list(tmp_path.iterdir()) == []


def test_a_model_without_its_spec_raises_export_error(tmp_path):
    model = flowspec.compile(ACTNORM)
    del model.checked
    with pytest.raises(ExportError, match="no checked spec"):
        export_programs(model, tmp_path / "model.pt2")


@pytest.mark.parametrize("name", sorted(ITERATING))
def test_iterating_kinds_raise_export_error_naming_the_node(name, tmp_path):
    model = flowspec.compile(SPECS / f"{name}.yaml")
    with pytest.raises(ExportError, match=f"node '.*' \\({ITERATING[name]}\\)"):
        export_programs(model, tmp_path / "model.pt2")
    assert not list(tmp_path.iterdir())
