"""What the sample plots show, read from matplotlib's figure objects (not pixels): the data
beside the samples, never under them, on the same ranges; image grids of the data and the
samples side by side, and one labelled row per context value; the data pushed to latent
space beside the base distribution's draws (``flowspec sample --latent``); drawings count
every node's and block use's parameters."""

import re

import numpy as np
import pytest
import torch
from bundled import SPECS
from oracles import randomize_
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.render.graphviz import to_dot
from flowspec.train.checkpoint import save_checkpoint
from flowspec.train.data import load_dataset
from flowspec.train.latent import latent_figure
from flowspec.train.plot import curve_figure, samples_figure


def _points(axes):
    return [np.asarray(c.get_offsets()) for c in axes.collections]


def test_two_dimensional_data_and_samples_are_side_by_side_on_one_range():
    data, samples = torch.randn(300, 2) + 3, torch.randn(200, 2)
    figure = samples_figure(samples, data=data, data_label="moons (test split)")
    left, right = figure.axes
    assert [len(p) for p in _points(left)] == [300] and [len(p) for p in _points(right)] == [200]
    np.testing.assert_allclose(_points(left)[0], data.numpy())
    assert left.get_legend().get_texts()[0].get_text() == "moons (test split)"
    assert right.get_legend().get_texts()[0].get_text() == "samples"
    assert left.get_xlim() == right.get_xlim() and left.get_ylim() == right.get_ylim()
    groups = {"samples | label=0": torch.randn(50, 2), "samples | label=1": torch.randn(60, 2)}
    _, grouped = samples_figure(groups, data=data).axes
    assert [len(p) for p in _points(grouped)] == [50, 60]
    assert [t.get_text() for t in grouped.get_legend().get_texts()] == list(groups)


def test_three_dimensional_projections_put_the_data_row_above_the_samples():
    figure = samples_figure(torch.randn(40, 3), data=torch.randn(70, 3))
    assert [len(_points(a)[0]) for a in figure.axes] == [70, 70, 70, 40, 40, 40]
    assert [a.get_xlabel() + a.get_ylabel() for a in figure.axes[:3]] == [
        "x[0]x[1]",
        "x[0]x[2]",
        "x[1]x[2]",
    ]
    alone = samples_figure(torch.randn(40, 3))
    assert len(alone.axes) == 3  # no data: the samples' row only


def test_image_grids_side_by_side_and_one_labelled_row_per_context_value():
    data, samples = torch.rand(30, 64), torch.rand(20, 64)
    figure = samples_figure(samples, data=data, data_label="digits (test split)")
    assert [s._suptitle.get_text() for s in figure.subfigs] == ["digits (test split)", "samples"]
    assert [len(s.axes) for s in figure.subfigs] == [30, 20]
    first = figure.subfigs[0].axes[0].get_images()[0]
    np.testing.assert_allclose(first.get_array(), data[0].reshape(8, 8).numpy())
    groups = {f"samples | label={k}": torch.rand(20, 64) for k in range(3)}
    rows = samples_figure(groups, data=data, title="t")
    assert [s._suptitle.get_text() for s in rows.subfigs] == ["data", *groups]
    assert [len(s.axes) for s in rows.subfigs] == [8, 8, 8, 8]
    assert rows._suptitle.get_text() == "t, first 8 samples per row as 8x8 images"


def test_latent_plot_shows_the_data_pushed_forward_beside_base_draws(tmp_path):
    """The right panel holds the test data's latents (generation maps them back onto the
    data: a bijective flow), the left as many draws of the standard-normal base."""
    torch.manual_seed(0)
    model = flowspec.compile(SPECS / "realnvp_moons.yaml").double()
    data = load_dataset("moons", n_train=64, n_val=8, n_test=1000, seed=0)
    randomize_(model, scale=0.05)
    split = data.split("test").to(dtype=torch.float64)
    figure = latent_figure(model, split, "prior", title="t")
    base, pushed = figure.axes
    latents = torch.from_numpy(_points(pushed)[0])
    with torch.no_grad():
        torch.testing.assert_close(model.inverse(latents), split.x)
    draws = _points(base)[0]
    assert abs(draws.mean()) < 0.1 and abs(draws.std() - 1) < 0.1
    assert base.get_xlabel() == "z[0]" and pushed.get_ylabel() == "z[1]"
    assert base.get_legend().get_texts()[0].get_text() == "draws of 'prior' (standard_normal)"
    save_checkpoint(tmp_path / "m.safetensors", model.float(), meta={"data": "moons"})
    out = tmp_path / "latent.png"
    result = CliRunner().invoke(
        app, ["sample", str(tmp_path / "m.safetensors"), "--latent", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("name", ["vflow_moons", "glow_digits"])
def test_drawings_count_each_nodes_and_each_block_uses_parameters(name):
    """Boxes, block-use clusters (nested ones inside their parents') and the title count
    the parameters the compiled modules hold."""
    checked = flowspec.check(SPECS / f"{name}.yaml")
    model = flowspec.compile(SPECS / f"{name}.yaml")
    held = {
        node: sum(p.numel() for p in module.parameters()) for node, module in model.nodes.items()
    }
    source = to_dot(checked.graph, expand=True).source
    for node in checked.graph.layers:
        line = next(l for l in source.splitlines() if l.strip().startswith(f"{node.id} [label="))
        shown = re.search(r"([\d,]+) parameters?<", line)
        assert (int(shown.group(1).replace(",", "")) if shown else 0) == held[node.id]
    for use in {n.use for n in checked.graph.layers if n.use}:
        inside = [n.id for n in checked.graph.layers if any(s.group == use for s in n.scopes)]
        label = re.search(rf"label=<{use}: block \w+(?: × \d+)? · ([\d,]+) parameters>", source)
        assert int(label.group(1).replace(",", "")) == sum(held[n] for n in inside)
    total = re.search(r"log_prob is [a-z ]+ · ([\d,]+) parameters>", source)
    assert int(total.group(1).replace(",", "")) == sum(held.values())
    folded = to_dot(checked.graph).source
    assert re.search(r"parameters each, [\d,]+ in all<", folded)


@pytest.mark.parametrize(
    ("name", "host", "field", "kinds"),
    [
        ("vae_flow_digits", "vae", "encoder", ["affine_coupling", "reverse"]),
        ("vardeq_digits", "dequant", "dequantizer", ["affine_coupling", "reverse"]),
    ],
)
def test_a_flow_density_is_drawn_as_nodes_beside_its_host(name, host, field, kinds):
    source = to_dot(flowspec.check(SPECS / f"{name}.yaml").graph).source
    lines = source.splitlines()
    prefix = f"{host}__{field}"
    assert f"subgraph cluster_{prefix} {{" in source
    drawn = [f"{prefix}__base", *(f"{prefix}__{i}" for i in range(len(kinds)))]
    for box, kind in zip(drawn, ["gaussian base", *kinds], strict=True):
        line = next(l for l in lines if l.strip().startswith(f"{box} [label="))
        assert f"<I>{kind}</I>" in line
    chain = [*drawn, host]
    for source_box, target in zip(chain, chain[1:], strict=False):
        assert any(l.strip().startswith(f"{source_box} -> {target}") for l in lines)
    label = next(l for l in lines if l.strip().startswith(f"{host} [label="))
    label = label.split("tooltip=")[0]
    assert "&#x27;kind&#x27;" not in label and f"{field}: flow of 2 layers" in label


def test_curves_use_the_summarys_units():
    """A discrete model's curve is in bits/dim, as train's summary reports it; a continuous
    one's in nats per example."""
    rows = [
        {"step": 10.0, "train_loss": 90.0, "val_nll": None, "val_figure": None},
        {"step": 20.0, "train_loss": 80.0, "val_nll": 85.0, "val_figure": "-ELBO (a bound)"},
    ]
    axes = curve_figure(rows, dims=64).axes[0]
    train, val = (line.get_ydata() for line in axes.get_lines())
    np.testing.assert_allclose(train, np.array([90.0, 80.0]) / (64 * np.log(2)))
    np.testing.assert_allclose(val, [85.0 / (64 * np.log(2))])
    assert axes.get_ylabel() == "bits/dim (nats / (D ln 2), D = 64)"
    labels = [t.get_text() for t in axes.get_legend().get_texts()]
    assert f"best {85.0 / (64 * np.log(2)):.4f} bits/dim (step 20)" in labels
    assert "validation -ELBO (a bound)" in labels
    nats = curve_figure(rows).axes[0]
    assert nats.get_ylabel() == "nats per example"
    np.testing.assert_allclose(nats.get_lines()[0].get_ydata(), [90.0, 80.0])
