"""A run you can look at: the TensorBoard event files of a short ``flowspec train`` hold,
at each validation, samples, the density map, the drawing, each node's term of log p(x)
and latent histograms, and at the end the HParams view with the final figures; read back
with tensorboard's own event reader. Drawing them changes no training draw."""

from __future__ import annotations

import re

import pytest
from bundled import SPECS
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.train.metrics import read_metrics

RUN = ["--data", "moons", "--steps", "20", "--val-every", "10", "--batch-size", "64"]


def _train(folder, *extra):
    out = folder / "v.safetensors"
    spec = str(SPECS / "vflow_moons.yaml")
    result = CliRunner().invoke(app, ["train", spec, *RUN, "--no-progress", "-o", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result, out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    result, out = _train(tmp_path_factory.mktemp("board"), "--tensorboard")
    events = EventAccumulator(
        str(out.with_name("v.tensorboard")),
        size_guidance={"images": 0, "histograms": 0, "scalars": 0, "tensors": 0},
    )
    events.Reload()
    return result, out, events


def test_each_validation_writes_pictures_terms_and_latents(run):
    _, _, events = run
    tags = events.Tags()
    assert {"lr", "train_loss", "val_nll"} <= set(tags["scalars"])
    best = int(re.search(r"best validation -ELBO at step (\d+)", run[0].output).group(1))
    for image in ("samples", "density", "graph"):
        shown = events.Images(image) + events.Images(f"best/{image}")
        assert [i.step for i in shown] == [10, best]  # validation 1 (of 1, 4, 16, ...), best
        assert all(i.width > 100 and i.height > 100 for i in shown)
    assert [h.step for h in events.Histograms("latent/prior")] == [10, 20]
    assert events.Histograms("latent/prior")[0].histogram_value.num == 2000 * 4  # val x [4]
    layers = [n.id for n in flowspec.check(SPECS / "vflow_moons.yaml").graph.layers]
    for node in layers:
        assert [s.step for s in events.Scalars(f"log_p_by_node_nats/{node}")] == [10, 20]
    assert [s.step for s in events.Scalars("minus_log_q_nats/pad")] == [10, 20]
    # The terms sum to the validation figure: the same split, the same draws.
    val = {s.step: s.value for s in events.Scalars("val_nll")}
    for total in events.Scalars("log_p_by_node_nats/total"):
        assert abs(total.value + val[total.step]) < 1e-4
        summed = sum(
            events.Scalars(f"log_p_by_node_nats/{n}")[total.step // 10 - 1].value for n in layers
        )
        assert abs(summed - total.value) < 1e-4


def test_hparams_hold_the_settings_and_the_final_figures(run):
    result, _, events = run
    content = events.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = start.session_start_info.hparams
    assert hparams["lr"].number_value > 0 and hparams["batch_size"].number_value == 64
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"])
    metrics = {m.name.tag for m in experiment.experiment.metric_infos}
    assert "hparam/test_minus_ELBO_nats" in metrics
    printed = float(re.search(r"test -ELBO:\s+([0-9.]+) nats", result.output).group(1))
    final = events.Scalars("hparam/test_minus_ELBO_nats")[-1].value
    assert abs(final - printed) < 1e-4


def test_the_view_changes_no_training_draw_and_is_off_by_default(run, tmp_path):
    _, out, _ = run
    _, plain = _train(tmp_path)
    assert not plain.with_name("v.tensorboard").exists()
    shown = read_metrics(out.with_name("v.metrics.csv"))
    quiet = read_metrics(plain.with_name("v.metrics.csv"))
    assert [r["train_loss"] for r in shown] == [r["train_loss"] for r in quiet]
    assert [r["val_nll"] for r in shown] == [r["val_nll"] for r in quiet]
