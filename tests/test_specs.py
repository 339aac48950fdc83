"""Every bundled spec validates, renders, compiles to valid source, trains, and satisfies
the likelihood oracles of ``tests/oracles.py`` (densities integrate to one, bounds tighten, gradients
reach every parameter, save/load and train/eval agree)."""

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import torch
from bundled import CONDITIONAL, DATA, SPECS, TARGETS
from oracles import randomize_

import flowspec
from flowspec.render.graphviz import render
from flowspec.train.data import load_dataset
from flowspec.train.loop import evaluate_nll, fit
from flowspec.train.settings import merge_settings

EXACT_2D = ["realnvp_moons", "nice_moons", "ports_checkerboard", "nsf_moons"]


def spec_path(name: str) -> Path:
    return SPECS / f"{name}.yaml"


def test_every_bundled_spec_has_a_data_set_or_a_target():
    assert sorted(p.stem for p in SPECS.glob("*.yaml")) == sorted(
        {**DATA, **CONDITIONAL, **TARGETS}
    )


#: The header lines every bundled spec carries (benchmarks/suites/bench_specs.py writes the
#: measured ones): its data set, its budget, the baseline and the figure it reaches.
HEADER = re.compile(
    r"^# data: (?P<data>\w+)\n"
    r"# budget: (?P<steps>\d+) steps(, stopped early at step \d+)?, \d+ CPU s \(.+\)\n"
    r"# baseline: (?P<baseline>-?\d+\.\d{4}) (?P<units>nats|bits/dim), test NLL of "
    r"(full-covariance Gaussian|per-dimension categoricals) fitted on the training split\n"
    r"# reaches: (?P<result>-?\d+\.\d{4}) (?P=units), test (NLL|-ELBO|NLL upper bound) \(.+\)\n"
    r"# flowspec train specs/(?P<file>\w+)\.yaml\n",
    re.MULTILINE,
)


@pytest.mark.parametrize("name", sorted({**DATA, **CONDITIONAL}))
def test_every_spec_header_states_its_data_budget_baseline_and_result(name):
    text = spec_path(name).read_text()
    header = HEADER.search(text)
    assert header is not None, f"{name}.yaml lacks the data/budget/baseline/reaches header"
    assert header.start() < text.index("\nflowspec:") and header["file"] == name
    train = flowspec.check(text).graph.header.train
    assert header["data"] == train.data == {**DATA, **CONDITIONAL}[name]
    assert int(header["steps"]) == train.steps
    discrete = any("levels" in i for i in flowspec.load(text).data["inputs"].values())
    assert header["units"] == ("bits/dim" if discrete else "nats")
    assert float(header["result"]) < float(header["baseline"])


#: Warnings a bundled spec accepts on purpose. digits_maf uses RealNVP's logit with
#: alpha = 0.05, which maps (0, 1) onto a bounded interval, so the Gaussian base also
#: covers values no data reaches: log_prob is sub-normalized there (still a lower bound of
#: the discrete likelihood); W501 says so, once. glow_digits does the same before its two
#: bases (the factored-out half's and the last scale's: one cause, one warning);
#: digits_dequant uses the plain logit. idf_digits's base is a pmf over all integers, which
#: the 17-level data moved by integer flows does not fill (as in Hoogeboom et al. 2019).
#: Each accepts W501 with a reason (``accept:``).
ACCEPTED_WARNINGS = {"digits_maf": ["W501"], "glow_digits": ["W501"], "idf_digits": ["W501"]}


#: Bundled specs that beat their baseline clearly at a tenth of their header's budget, one
#: per likelihood class (exact, an estimator scored exactly, a bound on a pmf): trained at
#: their train: settings for this many steps on a fifth of the data (2000 training, 500
#: validation and 500 test examples). benchmarks/suites/bench_specs.py checks every spec at
#: its full budget.
QUICK_LEARNERS = {"realnvp_moons": 150, "resflow_moons": 150, "argmax_categorical": 150}


@pytest.mark.parametrize("name", sorted(QUICK_LEARNERS))
def test_bundled_spec_beats_its_baseline_at_a_reduced_budget(name):
    checked = flowspec.check(spec_path(name))
    steps = QUICK_LEARNERS[name]
    settings = merge_settings(checked.graph.header.train, {"steps": steps, "val_every": 50})
    torch.manual_seed(settings.seed)
    model = checked.build_model()
    data = load_dataset(settings.data, n_train=2000, n_val=500, n_test=500)
    result = fit(model, data, settings, progress=False)
    assert result.baseline.beaten_by(result.test_nll), (result.test_nll, result.baseline)
    assert not any("baseline" in warning for warning in result.warnings)


@pytest.mark.parametrize("name", sorted(DATA))
def test_spec_validates_renders_and_emits(name, tmp_path):
    checked = flowspec.check(spec_path(name))
    assert checked.warnings == []
    assert [w.code for w in checked.accepted] == ACCEPTED_WARNINGS.get(name, [])
    result = render(checked.graph, tmp_path / f"{name}.svg")
    root = ET.parse(result.written).getroot()
    assert root.tag.endswith("svg")
    source = checked.source()
    compile(source, f"{name}.py", "exec")
    for node in checked.graph.layers:
        assert f"# {node.id}: {node.kind}" in source


@pytest.mark.parametrize("name", sorted(DATA))
def test_spec_trains(name):
    torch.manual_seed(0)
    model = flowspec.compile(spec_path(name))
    data = load_dataset(DATA[name], n_train=2000, n_test=500, seed=0)
    model.initialize(data.train)  # what fit does first: layers set from data
    before = evaluate_nll(model, data.test)
    result = fit(model, data, steps=150, batch_size=128, lr=2e-3, progress=False)
    assert math.isfinite(result.test_nll)
    assert result.test_nll < before - 0.1, (before, result.test_nll)
    samples = model.sample(16)
    assert samples.shape == (16, *data.shape)
    assert torch.isfinite(samples).all()


@pytest.mark.parametrize("name", EXACT_2D)
def test_exact_2d_density_integrates_to_one(name):
    torch.manual_seed(0)
    model = flowspec.compile(spec_path(name)).double()
    randomize_(model, scale=0.1)
    assert model.likelihood == "exact"
    # Set the layers that take their numbers from data before integrating.
    model.initialize(torch.randn(256, 2, dtype=torch.float64))
    model.eval()
    lim, n = 9.0, 600
    axis = torch.linspace(-lim, lim, n, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    with torch.no_grad():
        density = torch.cat([model.log_prob(chunk).exp() for chunk in grid.split(40_000)])
    cell = (axis[1] - axis[0]) ** 2
    assert density.sum().item() * cell.item() == pytest.approx(1.0, abs=0.02)


def test_augmented_bounds_tighten_with_more_importance_samples():
    torch.manual_seed(0)
    model = flowspec.compile(spec_path("vflow_moons")).double()
    assert model.likelihood != "exact"
    x = load_dataset("moons", n_train=10, n_test=256, seed=1).test.double()
    model.initialize(x)
    randomize_(model, scale=0.3)
    model.eval()
    with torch.no_grad():
        bounds = [model.iwbo(x, k=k).mean().item() for k in (1, 8, 64)]
    assert bounds[0] < bounds[1] < bounds[2], bounds


@pytest.mark.parametrize("name", sorted(DATA))
def test_gradients_reach_every_parameter(name):
    torch.manual_seed(0)
    model = flowspec.compile(spec_path(name))
    data = load_dataset(DATA[name], n_train=64, n_test=10, seed=0)
    model.initialize(data.train)
    randomize_(model, scale=0.05)
    model.log_prob(data.train).mean().backward()
    missing = [
        n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0
    ]
    assert missing == []


@pytest.mark.parametrize("name", sorted(DATA))
def test_save_load_and_train_eval_agree(name):
    torch.manual_seed(0)
    model = flowspec.compile(spec_path(name))
    data = load_dataset(DATA[name], n_train=64, n_test=32, seed=0)
    model.initialize(data.train)  # layers set from data (actnorm, standardize)
    randomize_(model, scale=0.05)
    fresh = flowspec.compile(spec_path(name))
    fresh.load_state_dict(model.state_dict())
    dropout = any(isinstance(m, torch.nn.Dropout) for m in model.modules())
    for mode in (True, False):
        model.train(mode)
        fresh.train(False)
        torch.manual_seed(1)
        expected = model.log_prob(data.test)
        torch.manual_seed(1)
        if mode and dropout:  # dropout is on while training only
            assert not torch.allclose(fresh.log_prob(data.test), expected)
        else:
            torch.testing.assert_close(fresh.log_prob(data.test), expected)
    torch.manual_seed(2)
    a = model.sample(8)
    torch.manual_seed(2)
    torch.testing.assert_close(fresh.sample(8), a)


def test_trained_realnvp_samples_match_the_data_moments():
    torch.manual_seed(0)
    model = flowspec.compile(spec_path("realnvp_moons"))
    data = load_dataset("moons", n_train=4000, n_test=1000, seed=0)
    fit(model, data, steps=600, batch_size=256, lr=2e-3, progress=False)
    with torch.no_grad():
        samples = model.sample(4000)
    torch.testing.assert_close(samples.mean(0), data.test.mean(0), atol=0.15, rtol=0)
    torch.testing.assert_close(samples.std(0), data.test.std(0), atol=0.15, rtol=0)
