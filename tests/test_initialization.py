"""Layers set from data: the ``standardize`` kind (the data's preprocessing inside the model)
and actnorm, both set by ``model.initialize(x)``; an unset model says so instead of fixing
its numbers on a probe."""

from __future__ import annotations

import math

import pytest
import torch
from oracles import assert_logdet_matches, make_node
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.emit.runtime import UninitializedError
from flowspec.graph.bookkeeping import spec_bookkeeping
from flowspec.render.graphviz import render
from flowspec.train.checkpoint import load_checkpoint, save_checkpoint
from flowspec.train.data import Dataset, Split
from flowspec.train.loop import RunFiles, fit

F64 = torch.float64


def spec(nodes: str, shape: str = "[2]") -> str:
    return f'flowspec: "1"\nname: t\ninputs:\n  x: {{shape: {shape}}}\nnodes:\n{nodes}'


STANDARDIZED = spec(
    "  pre: {kind: standardize, in: x}\n"
    "  norm: {kind: actnorm, in: pre}\n"
    "  c: {kind: affine_coupling, in: norm, net: {hidden: [8]}}\n"
    "  p: {kind: standard_normal, in: c}\n"
)
ACTNORM = spec("  norm: {kind: actnorm, in: x}\n  p: {kind: standard_normal, in: norm}\n")


def raw_data(n: int, seed: int = 0) -> torch.Tensor:
    """Far from standardised: means 50 and -3, stds 20 and 0.1."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=generator, dtype=F64)
    return x * torch.tensor([20.0, 0.1], dtype=F64) + torch.tensor([50.0, -3.0], dtype=F64)


# --- the standardize layer -------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (3, 2, 2)])
def test_standardize_round_trip_and_logdet_against_autograd(shape):
    _, layer, (out,) = make_node({"kind": "standardize"}, shape)
    assert out.shape == shape and sum(p.numel() for p in layer.parameters()) == 0
    view = (1, 3) + (1,) * (len(shape) - 1)
    with torch.no_grad():
        layer.set_from(torch.tensor([1.0, -2.0, 30.0]), torch.tensor([0.5, 2.0, 10.0]))
    layer.mark_initialized()
    x = torch.randn(6, *shape, dtype=F64) * 3
    z, contribution = layer(x)
    mean = torch.tensor([1.0, -2.0, 30.0], dtype=F64).view(view)
    std = torch.tensor([0.5, 2.0, 10.0], dtype=F64).view(view)
    torch.testing.assert_close(z, (x - mean) / std)
    torch.testing.assert_close(layer.inverse(z), x)
    positions = math.prod(shape[1:])
    expected = -positions * math.log(0.5 * 2.0 * 10.0)
    torch.testing.assert_close(contribution, torch.full((6,), expected, dtype=F64))
    assert_logdet_matches(layer, x)


def test_standardize_needs_continuous_values_with_a_feature_axis():
    with pytest.raises(flowspec.SpecError) as error:
        flowspec.check(
            'flowspec: "1"\nname: t\ninputs:\n  x: {shape: [2], levels: 4}\nnodes:\n'
            "  pre: {kind: standardize, in: x}\n  p: {kind: standard_normal, in: pre}\n"
        )
    (diagnostic,) = [d for d in error.value.diagnostics if d.severity == "error"]
    assert diagnostic.code == "E410" and diagnostic.node == "pre" and diagnostic.location


def test_standardize_is_listed_by_validate_and_drawn_by_render(tmp_path):
    checked = flowspec.check(STANDARDIZED)
    (row,) = [r for r in spec_bookkeeping(checked).rows if r.id == "pre"]
    assert (row.kind, row.params, row.contribution) == (
        "standardize",
        0,
        "-positions * sum(log std)",
    )
    assert row.category == "bijective" and row.likelihood == "exact"
    drawing = render(checked.graph, tmp_path / "g.gv").written.read_text()
    assert "standardize" in drawing


# --- model.initialize ------------------------------------------------------------------------


def test_initialize_sets_each_layer_from_what_reaches_it_over_all_rows():
    """Exact statistics of all 10,000 rows (three chunks), each layer set after the ones
    before it: the actnorm behind a standardize sees standardised values."""
    model = flowspec.compile(STANDARDIZED).double()
    x = raw_data(10_000)
    assert model.uninitialized() == ["pre", "norm"]
    assert model.initialize(x) == ["pre", "norm"] and model.uninitialized() == []
    pre, norm = model.nodes["pre"], model.nodes["norm"]
    torch.testing.assert_close(pre.mean, x.mean(0))
    torch.testing.assert_close(pre.std, x.std(0, correction=0))
    torch.testing.assert_close(norm.bias.detach(), torch.zeros(2, dtype=F64), atol=1e-9, rtol=0)
    torch.testing.assert_close(
        norm.log_scale.detach(), torch.zeros(2, dtype=F64), atol=1e-6, rtol=0
    )
    # log p(x) is in the data's units: the standardisation's log-det is counted
    z = (x - x.mean(0)) / x.std(0, correction=0)
    literal = flowspec.compile(STANDARDIZED, optimize=False).double()
    literal.load_state_dict(model.state_dict())
    trace = literal.trace(x[:5])
    torch.testing.assert_close(trace.values["pre"], z[:5])
    torch.testing.assert_close(
        trace.contributions["pre"], -x.std(0, correction=0).log().sum().expand(5)
    )
    torch.testing.assert_close(model.log_prob(x[:64]), literal.log_prob(x[:64]))


def test_the_literal_and_the_optimized_model_initialise_alike():
    optimized = flowspec.compile(STANDARDIZED).double()
    literal = flowspec.compile(STANDARDIZED, optimize=False).double()
    literal.load_state_dict(optimized.state_dict())
    x = raw_data(500)
    optimized.initialize(x)
    literal.initialize(x)
    ours_and_theirs = zip(
        optimized.state_dict().items(), literal.state_dict().values(), strict=True
    )
    for (key, ours), theirs in ours_and_theirs:
        torch.testing.assert_close(ours, theirs, msg=key)
    torch.testing.assert_close(optimized.log_prob(x), literal.log_prob(x))


def test_a_probe_in_eval_mode_does_not_initialise_actnorm():
    """``model.log_prob(torch.randn(3, 2) * 100 + 50)`` used to fix actnorm's bias at about
    -50 for good (in eval mode, under no_grad, on three points)."""
    model = flowspec.compile(ACTNORM).eval()
    with torch.no_grad(), pytest.raises(UninitializedError, match=r"'norm' \(ActNorm\)"):
        model.log_prob(torch.randn(3, 2) * 100 + 50)
    assert torch.equal(model.nodes["norm"].bias.detach(), torch.zeros(2))
    assert model.uninitialized() == ["norm"]
    model.sample(4)  # generation before it is set is the identity: allowed
    model.initialize(raw_data(200).float())
    assert torch.isfinite(model.log_prob(torch.randn(3, 2) * 100 + 50)).all()


def test_actnorm_in_training_mode_still_sets_itself_from_its_first_batch():
    """Glow's initialisation, for plain torch loops."""
    model = flowspec.compile(ACTNORM).train()
    x = raw_data(256).float()
    model.log_prob(x)
    torch.testing.assert_close(model.nodes["norm"].bias.detach(), -x.mean(0))
    assert model.uninitialized() == []


def test_unset_standardize_refuses_every_use_naming_the_node():
    model = flowspec.compile(STANDARDIZED)
    for call in (
        lambda: model.train().log_prob(torch.randn(8, 2)),
        lambda: model.eval().log_prob(torch.randn(8, 2)),
        lambda: model.sample(4),
        lambda: model.sample_and_log_prob(4),
    ):
        with pytest.raises(UninitializedError, match=r"'pre' \(Standardize\).*initialize"):
            call()
    assert torch.equal(model.nodes["pre"].mean, torch.zeros(2))


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (torch.tensor([[1.0, 2.0], [1.0, 3.0], [1.0, 5.0]]), "feature.s. 0 have the same value"),
        (torch.tensor([[1.0, 2.0], [math.inf, 3.0]]), "non-finite"),
    ],
)
def test_data_that_cannot_set_a_layer_is_an_error_naming_the_node(x, message):
    model = flowspec.compile(STANDARDIZED)
    with pytest.raises(ValueError, match=rf"node 'pre' cannot be set.*{message}"):
        model.initialize(x)
    assert model.uninitialized() == ["pre", "norm"]


def test_layers_inside_a_density_are_set_too():
    """An actnorm inside a slice's flow decoder is reached by inference and set from the
    dropped feature (mean -3, std 0.1)."""
    model = flowspec.compile(
        spec(
            "  s: {kind: slice, keep: 1, in: x, decoder: {kind: flow, net: {hidden: [8]}, "
            "layers: [{kind: actnorm}]}}\n"
            "  p: {kind: standard_normal, in: s}\n"
        )
    ).double()
    assert model.uninitialized() == ["s.decoder.layers.0"]
    x = raw_data(300)
    model.initialize(x)
    assert model.uninitialized() == []
    nested = model.nodes["s"].decoder.layers[0]
    torch.testing.assert_close(nested.bias.detach(), -x[:, 1:].mean(0))
    torch.testing.assert_close(
        nested.log_scale.detach(), -(x[:, 1:].std(0, correction=0) + 1e-6).log()
    )
    assert torch.isfinite(model.eval().log_prob(raw_data(5))).all()


# --- fit -------------------------------------------------------------------------------------


def dataset(scale: float = 1.0) -> Dataset:
    splits = tuple(
        Split(raw_data(n, seed).float() * scale) for seed, n in enumerate((600, 100, 100))
    )
    return Dataset.from_splits("raw", splits, (2,), None)


def test_fit_sets_the_statistics_from_the_training_split_and_resume_keeps_them(tmp_path):
    data = dataset()
    files = RunFiles.beside(tmp_path / "m.safetensors")
    torch.manual_seed(0)
    model = flowspec.compile(STANDARDIZED)
    messages: list[str] = []
    fit(model, data, steps=4, batch_size=64, files=files, progress=False, log=messages.append)
    torch.testing.assert_close(model.nodes["pre"].mean, data.train.mean(0))
    torch.testing.assert_close(model.nodes["pre"].std, data.train.std(0, correction=0))
    assert any("set from the training split (600 examples): pre, norm" in m for m in messages)
    saved, _ = load_checkpoint(files.best)  # the statistics are stored with the weights
    torch.testing.assert_close(saved.nodes["pre"].std, data.train.std(0, correction=0))
    torch.testing.assert_close(saved.log_prob(data.test), model.eval().log_prob(data.test))
    # a resumed run keeps the checkpoint's statistics, whatever data it is given now
    fresh = flowspec.compile(STANDARDIZED)
    fit(fresh, dataset(scale=3.0), steps=8, batch_size=64, files=files, resume=True, progress=False)
    torch.testing.assert_close(fresh.nodes["pre"].mean, data.train.mean(0))
    # a model set beforehand keeps its statistics
    mine = flowspec.compile(STANDARDIZED)
    mine.initialize(data.val)
    fit(mine, data, steps=2, batch_size=64, progress=False)
    torch.testing.assert_close(mine.nodes["pre"].mean, data.val.mean(0))


def test_eval_of_a_checkpoint_never_set_from_data_is_a_message(tmp_path):
    path = save_checkpoint(tmp_path / "fresh.safetensors", flowspec.compile(STANDARDIZED))
    result = CliRunner().invoke(app, ["eval", str(path), "--data", "moons"])
    assert result.exit_code == 1 and "never set from data (pre, norm" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- the discretized logistic base over all integers ----------------------------------------

INTEGER_PRIOR = (
    'flowspec: "1"\nname: t\naccept:\n  W501: "a pmf over all integers"\n'
    "inputs:\n  x: {shape: [2], levels: 100}\nnodes:\n"
    "  f: {kind: integer_discrete_flow, in: x, net: {hidden: [4]}}\n"
    "  p: {kind: discretized_logistic, in: f, mixtures: 3}\n"
)


def integer_data(n: int) -> torch.Tensor:
    """Integers around 60 and 20, far from the 0 a prior over all integers starts at."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, generator=generator) * torch.tensor([8.0, 3.0])
    return (x + torch.tensor([60.0, 20.0])).round().clamp(0, 99)


def test_the_integer_prior_starts_at_the_datas_marginal_and_stays_a_pmf():
    """Hoogeboom et al. 2019's prior over all integers was started at 0 with scale 1: on
    data around 60 its means crept there at about the learning rate per step."""
    model = flowspec.compile(INTEGER_PRIOR).eval()
    x = integer_data(500)
    with torch.no_grad(), pytest.raises(UninitializedError, match=r"'p' \(DiscretizedLogistic"):
        model.log_prob(x)
    before = model.nodes["p"].density.log_prob(x).mean()
    assert model.initialize(x) == ["p"]
    prior = model.nodes["p"].density
    with torch.no_grad():
        _, means, _ = prior.params(None, 1)
        # Each element's components are centred on its data's mean (equal weights, symmetric).
        torch.testing.assert_close(means[0].mean(-1), x.mean(0), atol=1e-4, rtol=0)
        # Still a pmf over all integers: the mass of a grid holding its bulk is one.
        axis = torch.arange(-100.0, 200.0)
        grid = torch.cartesian_prod(axis, axis)
        assert abs(float(prior.log_prob(grid).double().exp().sum()) - 1.0) < 1e-4
        # Two elements of std 8 and 3: about -6.7 nats, against far below before.
        assert float(before) < -50.0 < -7.5 < float(prior.log_prob(x).mean())
    fresh = flowspec.compile(INTEGER_PRIOR).train()
    fresh.log_prob(x[:64])  # in training mode, from its first batch (for plain torch loops)
    assert fresh.uninitialized() == []
