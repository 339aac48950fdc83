"""A study's results and figures, from hand-made rows: replicates aggregated as mean and
standard deviation, convergence, the strongest interacting parameter drawn as separate
lines (not averaged over), categories never joined by lines, labels of mapping values
that do not overlap, NLL against size and time. The figures' objects are inspected, not
their pixels."""

from __future__ import annotations

import csv
import io
import itertools
import math
import statistics

import pytest
from matplotlib.lines import Line2D

from flowspec.study.figures import (
    cost_figure,
    parameter_figure,
    strongest_partner,
    value_labels,
)
from flowspec.study.results import Row, mean_and_std, results_csv
from flowspec.study.space import Axis
from flowspec.study.storage import Plan

AFFINE = {"kind": "affine", "scale_bound": 3.0}
SPLINE = {"kind": "rq_spline", "bins": 8, "scale_bound": 3.0}
TRANSFORMER = Axis(("step", "transformer"), (AFFINE, SPLINE))
REPEAT = Axis(("body", "repeat"), (2, 4, 8))
LR = Axis(("lr",), (1e-3, 3e-3))


def run(val: float, test: float, seed: int = 0, best: int = 900, steps: int = 1000) -> dict:
    return {
        "seed": seed,
        "val_nll": val,
        "test_nll": test,
        "bits_per_dim": None,
        "steps": steps,
        "best_step": best,
        "seconds": 2.0 + val,
        "stop_reason": "steps",
        "checkpoint": f"trial.seed{seed}.safetensors",
    }


def nll(transformer: dict, repeat: int, lr: float) -> float:
    """Splines improve with depth, affine couplings get worse: a strong interaction;
    the learning rate adds a small constant."""
    slope = -0.1 if transformer is SPLINE else 0.05
    return 1.5 + slope * math.log2(repeat) + (0.01 if lr == 1e-3 else 0.0)


@pytest.fixture
def rows() -> list[Row]:
    grid = itertools.product(TRANSFORMER.choices, REPEAT.choices, LR.choices)
    return [
        Row(
            number,
            "complete",
            {"step.transformer": t, "body.repeat": r, "lr": lr},
            parameters=1000 * r * (2 if t is SPLINE else 1),
            replicates=[run(nll(t, r, lr), nll(t, r, lr) + 0.01)],
        )
        for number, (t, r, lr) in enumerate(grid)
    ]


def panel_lines(axes) -> list[Line2D]:
    """The data lines of a panel: of each error-bar plot, then the other lines."""
    data = [container.lines[0] for container in axes.containers]
    caps = {id(line) for c in axes.containers for line in c.lines[1] or ()}
    rest = [line for line in axes.get_lines() if line not in data and id(line) not in caps]
    return data + rest


def test_replicates_are_aggregated_as_mean_and_sample_standard_deviation():
    row = Row(0, "complete", {}, 10, [run(1.0, 1.1, 0), run(1.2, 1.4, 1, best=1000)])
    assert row.val == pytest.approx((1.1, statistics.stdev([1.0, 1.2])))
    assert row.test == pytest.approx((1.25, statistics.stdev([1.1, 1.4])))
    assert row.converged == [True, False]  # best step = last step: still improving
    mean, spread = mean_and_std([1.0])
    assert mean == 1.0 and math.isnan(spread)  # one seed has no spread
    plan = Plan("grid", "grid", "s.yaml", "", (REPEAT,), {}, 2, "none")
    written = next(csv.DictReader(io.StringIO(results_csv([row], plan))))
    assert float(written["val_nll_mean"]) == pytest.approx(1.1)
    assert written["converged"] == "1" and written["seeds"] == "2"
    assert written["best_step"] == "[900, 1000]" and written["steps"] == "[1000, 1000]"


def test_the_strongest_interacting_parameter_is_found(rows):
    axes = [TRANSFORMER, REPEAT, LR]
    assert strongest_partner(axes, rows, REPEAT).name == "step.transformer"
    assert strongest_partner(axes, rows, TRANSFORMER).name == "body.repeat"
    assert strongest_partner([REPEAT], rows, REPEAT) is None


def test_lines_follow_the_interacting_parameter_through_values_runs_reached(rows):
    figure = parameter_figure([TRANSFORMER, REPEAT, LR], rows, "t", seeds=1)
    repeat_panel = figure.axes[1]
    lines = panel_lines(repeat_panel)
    legend = [text.get_text() for text in repeat_panel.get_legend().get_texts()]
    assert repeat_panel.get_legend().get_title().get_text() == "step.transformer"
    assert legend == ["kind: affine", "kind: rq_spline\nbins: 8".replace("\n", ", ")]
    assert len(lines) == 2  # one line per transformer, not one mean line
    reached = {r.val[0] for r in rows}
    for line, transformer in zip(lines, (AFFINE, SPLINE), strict=False):
        assert list(line.get_xdata()) == [2, 4, 8]
        # each point is the best configuration of its cell (over lr): a value a run reached
        expected = [nll(transformer, r, 3e-3) for r in (2, 4, 8)]
        assert list(line.get_ydata()) == pytest.approx(expected)
        assert all(y in reached for y in line.get_ydata())
    spline, affine = lines[1].get_ydata(), lines[0].get_ydata()
    assert spline[-1] < spline[0] and affine[-1] > affine[0]  # the interaction is visible


def test_categorical_axes_are_categories_never_joined_by_lines(rows):
    figure = parameter_figure([TRANSFORMER, REPEAT], rows, "t", seeds=1)
    transformer_panel = figure.axes[0]
    for line in panel_lines(transformer_panel):
        assert line.get_linestyle() == "None"
    ticks = [t.get_text() for t in transformer_panel.get_xticklabels()]
    assert ticks == ["kind: affine", "kind: rq_spline\nbins: 8"]  # what differs, not all keys
    assert list(transformer_panel.get_xticks()) == [0, 1]


def test_labels_of_mapping_values_never_overlap():
    values = [
        {"kind": "rq_spline", "bins": 8, "bound": 3.0, "min_width": 0.001},
        {"kind": "rq_spline", "bins": 16, "bound": 5.0, "min_width": 0.001},
        {"kind": "logistic_mixture", "components": 8, "affine": True},
        {"kind": "naf", "hidden": 16, "layers": 2},
        {"kind": "affine", "scale_bound": 3.0},
    ]
    assert value_labels(values[:2]) == ["bins: 8\nbound: 3.0", "bins: 16\nbound: 5.0"]
    axis = Axis(("step", "transformer"), tuple(values))
    rows = [
        Row(i, "complete", {"step.transformer": v}, 10, [run(1.0 + i / 10, 1.0)])
        for i, v in enumerate(values)
    ]
    figure = parameter_figure([axis], rows, "t", seeds=1)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    panel = figure.axes[0]
    boxes = [t.get_window_extent(renderer) for t in panel.get_xticklabels() if t.get_text()]
    assert len(boxes) == len(values)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    assert not panel.xaxis.label.get_window_extent(renderer).overlaps(boxes[0])
    described = panel.get_xlabel()
    if [t.get_text() for t in panel.get_xticklabels()] == list("ABCDE"):  # a key below
        assert all(f"{letter}: " in described for letter in "ABCDE")
        assert "kind: naf, hidden: 16, layers: 2" in described


def test_nll_against_size_and_time_with_the_frontier(rows):
    pruned = Row(99, "pruned", rows[0].values, 5, [run(9.0, 9.0, best=100, steps=100)])
    figure = cost_figure([*rows, pruned], "t", seeds=1)
    size, time = figure.axes
    assert size.get_xscale() == "log" and "parameters" in size.get_xlabel()
    assert "seconds" in time.get_xlabel() and "nats" in size.get_ylabel()
    points, frontier = panel_lines(size)[0], panel_lines(size)[1]
    assert sorted(points.get_xdata()) == sorted(r.parameters for r in rows)  # no pruned trial
    assert list(frontier.get_ydata()) == sorted(frontier.get_ydata(), reverse=True)
    assert min(frontier.get_ydata()) == min(r.val[0] for r in rows)


def test_pruned_trials_are_hollow_and_stay_out_of_the_lines(rows):
    pruned = Row(99, "pruned", dict(rows[0].values), 5, [run(0.5, 0.5, best=100, steps=100)])
    figure = parameter_figure([TRANSFORMER, REPEAT], [*rows, pruned], "t", seeds=1)
    repeat_panel = figure.axes[1]
    assert all(0.5 not in line.get_ydata() for line in panel_lines(repeat_panel))
    hollow = [c for c in repeat_panel.collections if c.get_label().startswith("pruned")]
    assert len(hollow) == 1 and list(hollow[0].get_offsets()[0]) == [2, 0.5]
