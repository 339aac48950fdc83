"""``flowspec sweep``: --set parsing, where values land in the spec, and a small study."""

from __future__ import annotations

import csv

import pytest
import yaml
from train_specs import TINY_MOONS
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.train.sweep import SweepError, apply_values, combinations, parse_assignment

BLOCKS = """\
flowspec: "1"
name: sweepable
inputs:
  x: {shape: [2]}
blocks:
  step:
    - {kind: affine_coupling, net: {hidden: [16]}}
    - {kind: reverse}
nodes:
  first: {kind: affine_coupling, in: x, net: {hidden: [8]}}
  body: {block: step, repeat: 2, in: first}
  prior: {kind: standard_normal, in: body}
"""


def test_parse_assignment_splits_values_outside_brackets():
    axis = parse_assignment("net.hidden=[32],[64, 64],[]")
    assert axis.path == ("net", "hidden") and axis.values == ([32], [64, 64], [])
    assert parse_assignment("train.lr=1e-3,3e-3").values == (0.001, 0.003)
    for bad in ("net.hidden", "=3", "a..b=1", "body.repeat=4,", "x=[1"):
        with pytest.raises(SweepError):
            parse_assignment(bad)


def test_values_land_on_nodes_blocks_fields_and_train_settings():
    data = yaml.safe_load(BLOCKS)
    everywhere = apply_values(data, parse_assignment("net.hidden=[4]"), [4])
    assert everywhere["nodes"]["first"]["net"]["hidden"] == [4]
    assert everywhere["blocks"]["step"][0]["net"]["hidden"] == [4]
    one_node = apply_values(data, parse_assignment("first.net.hidden=[4]"), [4])
    assert one_node["nodes"]["first"]["net"]["hidden"] == [4]
    assert one_node["blocks"]["step"][0]["net"]["hidden"] == [16]
    block = apply_values(data, parse_assignment("step.net.hidden=[4]"), [4])
    assert block["blocks"]["step"][0]["net"]["hidden"] == [4] and block["nodes"]["first"]["net"][
        "hidden"
    ] == [8]
    repeat = apply_values(data, parse_assignment("body.repeat=3"), 3)
    assert repeat["nodes"]["body"]["repeat"] == 3 and data["nodes"]["body"]["repeat"] == 2
    assert apply_values(data, parse_assignment("train.lr=0.1"), 0.1)["train"] == {"lr": 0.1}
    with pytest.raises(SweepError, match="no node id, block or node field 'width'"):
        apply_values(data, parse_assignment("width=3"), 3)


def test_combinations_are_checked_specs():
    data = yaml.safe_load(BLOCKS)
    trials = combinations(
        data, [parse_assignment("net.hidden=[4],[8]"), parse_assignment("body.repeat=1,3")]
    )
    assert [values for values, _ in trials] == [
        {"net.hidden": [4], "body.repeat": 1},
        {"net.hidden": [4], "body.repeat": 3},
        {"net.hidden": [8], "body.repeat": 1},
        {"net.hidden": [8], "body.repeat": 3},
    ]
    sizes = [sum(p.numel() for p in flowspec.compile(text).parameters()) for _, text in trials]
    assert sizes[0] < sizes[1] and sizes[0] < sizes[2] < sizes[3]
    assert "net.hidden=[4], body.repeat=1" in yaml.safe_load(trials[0][1])["name"]


def test_sweep_trains_every_combination_and_writes_table_and_figure(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(TINY_MOONS)
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            str(spec),
            "-d",
            "moons",
            "--steps",
            "20",
            "--workers",
            "1",
            "-o",
            str(tmp_path / "out"),
            "--set",
            "net.hidden=[16]",
            "--set",
            "train.lr=0.001,0.01",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((tmp_path / "out" / "sweep.csv").open()))
    assert [(r["net.hidden"], r["train.lr"]) for r in rows] == [("[16]", "0.001"), ("[16]", "0.01")]
    assert all(float(r["val_nll"]) > 0 for r in rows)
    nll = {(r["net.hidden"], r["train.lr"]): float(r["test_nll"]) for r in rows}
    assert nll[("[16]", "0.01")] < nll[("[16]", "0.001")]  # 20 steps: the larger rate learns more
    assert (tmp_path / "out" / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "out" / "trial001.safetensors").is_file()
    # what the figures are, per trial (a swept setting may change the class) and in words
    assert {r["figure"] for r in rows} == {"NLL"} and {r["figure_is"] for r in rows} == {"exact"}
    assert "NLL: exact" in result.stdout


def test_sweep_errors_are_reported(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(TINY_MOONS)
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", str(spec), "-d", "moons", "--set", "width=3"])
    assert result.exit_code == 1 and "no node id, block or node field 'width'" in result.stderr
    result = runner.invoke(app, ["sweep", str(spec), "-d", "moons", "--set", "body.repeat=0"])
    assert result.exit_code == 1 and "body.repeat=0" in result.stderr and "E1" in result.stderr
