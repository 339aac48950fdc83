"""``train: {memory: invertible | checkpoint}``: gradients equal the stored-activation
gradients (float64, every bundled spec, random specs), unsafe reconstruction is refused with
a location (E915) or, for learned values, at run time naming the node; gradient
accumulation adds micro-batches up to the whole batch; a resumed run continues exactly."""

from __future__ import annotations

import pytest
import torch
from bundled import DATA, SPECS
from oracles import randomize_
from random_specs import random_spec
from test_zoo import CITED
from train_specs import MOONS, TINY_MOONS
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.diagnostics import SpecError
from flowspec.emit.memory import ReconstructionError, low_memory
from flowspec.spec.training import TrainSettings
from flowspec.train import RunFiles, TrainingInterrupted, fit, load_dataset
from flowspec.train.compat import drop_unused_context

#: Bundled specs refused under memory: invertible, and the node named (a logit without
#: alpha on dequantized values, or exp and sigmoid on the whole real line).
REFUSED = {
    "digits_dequant": "to_real",
    "maxpool_digits": "to_real",
    "nsf_digits": "to_real",
    "vardeq_digits": "to_real",
    "ports_checkerboard": "left",
}


def gradients(network, model, inputs) -> dict[str, torch.Tensor]:
    model.zero_grad()
    torch.manual_seed(1)  # the same draws for stochastic nodes on both paths
    network(*inputs).mean().backward()
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def assert_same_gradients(model, inputs, memory: str, rtol: float) -> None:
    """Stored-activation gradients against ``memory``'s, from the same weights and state
    (a spectral norm's power iteration moves its buffers on every training pass). The
    stored pass is ``trace``, which runs the nodes in the order the memory option runs
    them, so nodes that draw (dropout, dequantization) draw the same numbers."""
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    stored = gradients(lambda *x: model.trace(*x).log_prob, model, inputs)
    model.load_state_dict(state)
    rebuilt = gradients(low_memory(model, memory), model, inputs)
    assert set(stored) == set(rebuilt) and stored
    # A parameter whose gradient is zero but for round-off (a convolution's bias before a
    # batch norm) is compared on the scale of the largest gradient.
    floor = 1e-6 * max(float(grad.abs().max()) for grad in stored.values())
    for name, grad in stored.items():
        scale = grad.abs().max().clamp_min(max(floor, 1e-12))
        assert float((rebuilt[name] - grad).abs().max() / scale) <= rtol, name


@pytest.mark.parametrize("name", sorted(DATA))
def test_bundled_gradients_equal_the_stored_ones_in_float64(name):
    """Under checkpoint, which also recomputes the nodes that invertible refuses."""
    torch.manual_seed(0)
    model = flowspec.compile(SPECS / f"{name}.yaml").double()
    data = drop_unused_context(model, load_dataset(DATA[name], n_train=8, n_test=4, seed=0))
    inputs = tuple(x.double() for x in data.split("train").inputs())
    model.initialize(*inputs)
    randomize_(model, scale=0.05)
    assert_same_gradients(model, inputs, "checkpoint", rtol=1e-10)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_bundled_specs_with_unsafe_inverses_are_refused_naming_the_node(name):
    model = flowspec.compile(SPECS / f"{name}.yaml")
    with pytest.raises(SpecError) as refused:
        low_memory(model, "invertible")
    first = refused.value.diagnostics[0]
    assert (first.code, first.node) == ("E915", REFUSED[name])
    assert first.location is not None and "bound 0.0001" in first.message


@pytest.fixture(scope="module")
def small_moons():
    return load_dataset("moons", n_train=128, n_val=32, n_test=32, seed=0)


@pytest.mark.parametrize("seed", [0, 1, 9, 31, 41, 69, 71])  # exact_2d, image, conditional
def test_random_spec_gradients_equal_the_stored_ones(seed):
    spec = random_spec(seed)
    torch.manual_seed(seed)
    model = flowspec.compile(spec.text).double()
    context = {n: torch.randn(16, *model.INPUT_SHAPES[n]).double() for n in model.CONTEXT_INPUTS}
    with torch.no_grad():
        drawn = model.sample(16, **context)
    inputs = (drawn, *context.values())
    if model.uninitialized():
        model.initialize(*inputs)
    assert_same_gradients(model, inputs, "invertible", rtol=1e-9)


def test_validate_names_each_segment_and_its_treatment(tmp_path):
    spec = tmp_path / "m.yaml"
    spec.write_text(MOONS + "train: {memory: invertible}\n")
    result = CliRunner().invoke(app, ["validate", str(spec)])
    assert result.exit_code == 0, result.output
    assert "memory: invertible: 9 of 10 layers rebuilt" in result.output
    assert "rebuilt: scale .. body_3_1 (9 nodes)" in result.output
    assert "stored: prior: a distribution" in result.output


def test_a_logit_without_alpha_is_refused_with_its_location(tmp_path):
    text = (
        'flowspec: "1"\nname: t\ninputs:\n  x: {shape: [2], low: 0, high: 1, bounds: open}\n'
        "nodes:\n  to_real: {kind: elementwise, fn: logit, in: x}\n"
        "  prior: {kind: standard_normal, in: to_real}\ntrain: {memory: invertible}\n"
    )
    with pytest.raises(SpecError) as refused:
        flowspec.check(text)
    (diagnostic,) = refused.value.diagnostics
    assert (diagnostic.code, diagnostic.node) == ("E915", "to_real")
    assert diagnostic.location is not None and diagnostic.location.line == 6
    flowspec.check(text.replace("fn: logit,", "fn: logit, alpha: 0.05,").replace("open}", "open}"))


def test_an_actnorm_with_tiny_scales_is_refused_at_run_time_naming_it(small_moons):
    spec = MOONS.replace(
        "  scale: {kind: elementwise, fn: scale_shift, learnable: true, in: x}",
        "  scale: {kind: actnorm, in: x}",
    )
    model = flowspec.compile(spec)
    model.initialize(small_moons.train)
    with torch.no_grad():  # outputs near float32's subnormals: a few bits of the input left
        model.nodes["scale"].log_scale.fill_(-95.0)
    settings = TrainSettings(steps=2, batch_size=32, memory="invertible")
    with pytest.raises(ReconstructionError, match="node 'scale' \\(actnorm\\)"):
        fit(model, small_moons, settings, progress=False)


def test_accumulated_micro_batches_step_as_the_whole_batch(small_moons):
    runs = []
    for batch_size, accumulate in ((64, 1), (32, 2)):
        torch.manual_seed(0)
        model = flowspec.compile(TINY_MOONS)
        settings = TrainSettings(
            steps=3, batch_size=batch_size, accumulate=accumulate, memory="invertible"
        )
        result = fit(model, small_moons, settings, progress=False)
        runs.append((result.history, model.state_dict()))
    (whole, weights), (parts, part_weights) = runs
    assert [s for s, _ in whole] == [s for s, _ in parts] == [1, 2, 3]
    for (_, a), (_, b) in zip(whole, parts, strict=True):
        assert a == pytest.approx(b, rel=1e-5)
    for key, value in weights.items():
        torch.testing.assert_close(part_weights[key], value, atol=1e-5, rtol=1e-5)


def test_a_resumed_run_continues_exactly_under_the_option(small_moons, tmp_path):
    settings = TrainSettings(steps=8, val_every=4, batch_size=32, memory="invertible")
    torch.manual_seed(0)
    whole = fit(flowspec.compile(TINY_MOONS), small_moons, settings, progress=False)

    def stop(step, loss):
        if step == 5:
            raise KeyboardInterrupt

    files = RunFiles.beside(tmp_path / "m.safetensors")
    torch.manual_seed(0)
    with pytest.raises(TrainingInterrupted):
        fit(
            flowspec.compile(TINY_MOONS),
            small_moons,
            settings,
            files=files,
            progress=False,
            on_step=stop,
        )
    resumed = fit(
        flowspec.compile(TINY_MOONS),
        small_moons,
        settings,
        files=files,
        resume=True,
        progress=False,
    )
    assert resumed.history == whole.history[5:]


def test_the_drawing_borders_rebuilt_and_checkpointed_nodes():
    from flowspec.render.graphviz import to_dot

    text = MOONS.replace("  body:", "  bend: {kind: elementwise, fn: tanh, in: scale}\n  body:")
    text = text.replace("repeat: 4, in: scale}", "repeat: 4, in: bend}")
    source = to_dot(flowspec.check(text + "train: {memory: checkpoint}\n").graph).source
    assert "input rebuilt by the inverse" in source and "recomputed in training" in source
    assert 'scale [color="#1a9850"' in source and 'bend [color="#d95f02"' in source
    plain = to_dot(flowspec.check(text).graph).source
    assert "#1a9850" not in plain and "rebuilt" not in plain


ZOO = SPECS / "zoo"
#: Zoo specs at their real data shapes with their widths scaled down (tests/test_zoo.py's).
ZOO_OVERRIDES: dict[str, dict[str, object]] = {name: small for name, (_, small) in CITED.items()}


def test_the_zoo_list_is_every_zoo_spec():
    assert sorted(p.name for p in ZOO.glob("*.yaml")) == sorted(ZOO_OVERRIDES)


@pytest.mark.parametrize("name", sorted(ZOO_OVERRIDES))
def test_zoo_gradients_equal_the_stored_ones_in_float64(name):
    torch.manual_seed(0)
    model = flowspec.compile(ZOO / name, overrides=ZOO_OVERRIDES[name]).double()
    (data,) = model.DATA_INPUTS
    levels = model.checked.loaded.data["inputs"][data].get("levels")
    shape = (2, *model.INPUT_SHAPES[data])
    x = torch.randint(0, levels, shape).double() if levels else torch.randn(shape).double()
    model.train()
    with torch.no_grad():  # actnorms set themselves from this first batch
        model.log_prob(x)
    randomize_(model, scale=0.005)  # larger moves make a random 96-step Glow diverge
    assert_same_gradients(model, (x,), "checkpoint", rtol=1e-9)
