"""Figures of a study: validation NLL against each parameter, and against the model's
size and training time.

Against a parameter, the configurations are split by the parameter that interacts with it
most (:func:`strongest_partner`), one line or colour per value of that partner, so that a
panel of ``body.repeat`` shows the spline and the affine couplings apart instead of an
average no run reached. Each point is a configuration's mean validation NLL over its seeds
with the standard deviation as an error bar; where a panel cell holds several
configurations (more than two parameters), the line goes through the best one and the
others are drawn as faint points. Values that are not numbers (names, lists, mappings)
are categories: evenly spaced, never joined by lines, labelled by what differs between
them (``kind: rq_spline`` / ``kind: affine`` rather than the whole mapping), and replaced
by letters with a key under the axis when the labels would still overlap. Numbers of a
``--set`` grid are joined by lines; numbers drawn from a ``--search`` range are a scatter
(log-scaled for log ranges). Pruned trials are hollow markers (their NLL when stopped).

Against size and time: every configuration, and the frontier of the best validation NLL
reached at most at that size or time.
"""

from __future__ import annotations

import math
import string
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from flowspec.study.results import Row, figure_name
from flowspec.study.space import Axis, short
from flowspec.train.canvas import new_figure

__all__ = [
    "cost_figure",
    "is_categorical",
    "number",
    "parameter_figure",
    "strongest_partner",
    "value_labels",
]


def _units(rows: list[Row]) -> str:
    """The y axis: the validation figure by what the runs' NLLs are ("NLL", "-ELBO")."""
    return f"validation {figure_name(rows)} (nats per example)"


_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
_BINS = 3  # groups a partner drawn from a range is cut into
_SHORT_LABEL = 24  # longer legend labels put the legend under the panel


def number(value: Any) -> str:
    """A parameter's value for a label: floats to 3 significant digits."""
    return f"{value:.3g}" if isinstance(value, float) else short(value)


def is_categorical(axis: Axis) -> bool:
    """Whether the axis's values are categories (not all numbers)."""
    if axis.is_range:
        return False
    return not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in axis.choices)


def value_labels(values: list[Any]) -> list[str]:
    """Short labels of values: for mappings only the keys whose values differ between
    them, one per line; any other value as one line of YAML."""
    if values and all(isinstance(v, dict) for v in values):
        keys = list(dict.fromkeys(k for v in values for k in v))
        differing = [k for k in keys if len({short(v.get(k)) for v in values}) > 1]
        return [
            "\n".join(f"{k}: {short(v[k])}" for k in differing if k in v) or short(v)
            for v in values
        ]
    return [short(v) for v in values]


def _finished(rows: Iterable[Row]) -> list[Row]:
    return [r for r in rows if r.finished and math.isfinite(r.val[0])]


def _groups(axis: Axis, rows: list[Row]) -> tuple[dict[str, str], dict[int, str]]:
    """The groups of ``axis`` (key -> legend label) and each row's group key (by row
    number): its values, or for a range up to three quantile bins."""
    if not axis.is_range:
        shown = [label.replace("\n", ", ") for label in value_labels(list(axis.choices))]
        groups = dict(zip((short(v) for v in axis.choices), shown, strict=False))
        return groups, {r.number: short(r.values[axis.name]) for r in rows}
    ordered = sorted(rows, key=lambda r: r.values[axis.name])
    count = min(_BINS, len(ordered)) or 1
    bins = [
        ordered[i * len(ordered) // count : (i + 1) * len(ordered) // count] for i in range(count)
    ]
    bins = [b for b in bins if b]
    names = [f"{number(b[0].values[axis.name])} to {number(b[-1].values[axis.name])}" for b in bins]
    member = {r.number: names[i] for i, b in enumerate(bins) for r in b}
    return {name: name for name in names}, member


def _key(axis: Axis, rows: list[Row]) -> dict[int, str]:
    return _groups(axis, rows)[1]


def strongest_partner(axes: list[Axis], rows: list[Row], of: Axis) -> Axis | None:
    """The other parameter whose interaction with ``of`` explains most of the validation
    NLL's variance: the largest sum over cells of ``n (cell - row - column + grand)^2``
    (the interaction sum of squares of a two-way layout); None without another one."""
    finished = _finished(rows)
    others = [a for a in axes if a.name != of.name]
    if not others or not finished:
        return others[0] if others else None
    mine = _key(of, finished)
    y = {r.number: r.val[0] for r in finished}
    grand = sum(y.values()) / len(y)

    def means(key: dict[int, Any]) -> dict[Any, float]:
        sums: dict[Any, list[float]] = defaultdict(list)
        for number, group in key.items():
            sums[group].append(y[number])
        return {group: sum(v) / len(v) for group, v in sums.items()}

    def interaction(other: Axis) -> float:
        theirs = _key(other, finished)
        cells = means({n: (mine[n], theirs[n]) for n in y})
        rows_mean, columns_mean = means(mine), means(theirs)
        counts: dict[Any, int] = defaultdict(int)
        for n in y:
            counts[(mine[n], theirs[n])] += 1
        return sum(
            counts[cell] * (m - rows_mean[cell[0]] - columns_mean[cell[1]] + grand) ** 2
            for cell, m in cells.items()
        )

    return max(others, key=interaction)


def _positions(axis: Axis, rows: list[Row]) -> tuple[dict[int, float], list[str] | None]:
    """Each row's x (by row number) and, for categories, the tick labels."""
    if is_categorical(axis):
        codes = [short(v) for v in axis.choices]
        return {
            r.number: float(codes.index(short(r.values[axis.name]))) for r in rows
        }, value_labels(list(axis.choices))
    return {r.number: float(r.values[axis.name]) for r in rows}, None


def _panel(axes_: Axes, axis: Axis, partner: Axis | None, rows: list[Row]) -> None:
    finished = _finished(rows)
    x, ticks = _positions(axis, rows)
    categorical = ticks is not None
    if partner is not None:
        groups, member = _groups(partner, finished)
    else:
        groups, member = {"all": "all"}, {r.number: "all" for r in finished}
    width = 0.6 / max(len(groups), 1)
    for index, (group, colour) in enumerate(zip(groups, _COLOURS * len(groups), strict=False)):
        chosen = [r for r in finished if member[r.number] == group]
        if not chosen:
            continue
        shift = (index - (len(groups) - 1) / 2) * width if categorical else 0.0
        best: dict[float, Row] = {}
        for row in chosen:
            here = x[row.number]
            if here not in best or row.val[0] < best[here].val[0]:
                best[here] = row
        others = [r for r in chosen if best[x[r.number]] is not r]
        if others:
            axes_.scatter(
                [x[r.number] + shift for r in others],
                [r.val[0] for r in others],
                color=colour,
                alpha=0.3,
                s=12,
            )
        points = sorted(best.items())
        joined = not categorical and not axis.is_range
        axes_.errorbar(
            [p + shift for p, _ in points],
            [r.val[0] for _, r in points],
            yerr=[0.0 if math.isnan(r.val[1]) else r.val[1] for _, r in points],
            color=colour,
            marker="o",
            markersize=5,
            capsize=3,
            linestyle="-" if joined else "none",
            label=groups[group] if partner else None,
        )
    pruned = [r for r in rows if r.state == "pruned" and r.replicates]
    if pruned:
        axes_.scatter(
            [x[r.number] for r in pruned],
            [r.val[0] for r in pruned],
            facecolors="none",
            edgecolors="0.5",
            marker="o",
            label="pruned (NLL when stopped)",
        )
    axes_.set_xlabel(axis.name)
    if axis.log:
        axes_.set_xscale("log")
        axes_.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axes_.xaxis.set_major_formatter(FuncFormatter(lambda value, _: number(value)))
        axes_.xaxis.set_minor_formatter(NullFormatter())
    if ticks is not None:
        axes_.set_xticks(range(len(ticks)), ticks, fontsize="small")
        axes_.set_xlim(-0.5, len(ticks) - 0.5)
    elif not axis.is_range:
        axes_.set_xticks(
            sorted({float(v) for v in axis.choices}), [short(v) for v in sorted(axis.choices)]
        )
    axes_.set_ylabel(_units(rows))
    axes_.grid(alpha=0.3)
    if partner or pruned:
        long = any(len(text) > _SHORT_LABEL for text in groups.values())
        title = partner.name if partner else None
        if long:
            axes_.legend(
                title=title, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15)
            )
        else:
            axes_.legend(title=title, fontsize="small")


def _letters_if_overlapping(figure: Figure, axes_: Axes, axis: Axis) -> None:
    """Replace a categorical axis's tick labels by letters, with a key in the axis label,
    when any two of them overlap once drawn."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]  # Agg canvases have it
    boxes = [t.get_window_extent(renderer) for t in axes_.get_xticklabels() if t.get_text()]
    if not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :]):
        return
    texts = [t.get_text().replace("\n", ", ") for t in axes_.get_xticklabels()]
    letters = list(string.ascii_uppercase[: len(texts)])
    axes_.set_xticks(range(len(texts)), letters)
    key = "\n".join(f"{letter}: {text}" for letter, text in zip(letters, texts, strict=False))
    axes_.set_xlabel(f"{axis.name}\n{key}", fontsize="small", loc="left")


def parameter_figure(axes: list[Axis], rows: list[Row], title: str, seeds: int) -> Figure:
    """Validation NLL against each parameter, one panel each (see the module doc)."""
    columns = 2 if len(axes) == 4 else min(len(axes), 3)
    lines = math.ceil(len(axes) / columns)
    figure = new_figure(4.8 * columns, 4.4 * lines)
    panels = []
    for index, axis in enumerate(axes):
        panel = figure.add_subplot(lines, columns, index + 1)
        _panel(panel, axis, strongest_partner(axes, rows, axis), rows)
        panels.append((panel, axis))
    for panel, axis in panels:
        if is_categorical(axis):
            _letters_if_overlapping(figure, panel, axis)
    spread = f"mean ± standard deviation over {seeds} seeds" if seeds > 1 else "one seed"
    figure.suptitle(
        f"{title}: {_units(rows)}, {spread}; one line per value of the parameter that "
        "interacts most",
        fontsize="medium",
    )
    return figure


def _frontier(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The lowest NLL reached at most at each cost, as steps."""
    found, best = [], math.inf
    for cost, nll in sorted(points):
        if nll < best:
            best = nll
            found.append((cost, nll))
    return found


def cost_figure(rows: list[Row], title: str, seeds: int) -> Figure:
    """Validation NLL against the parameter count and against the training seconds of one
    run, with the frontier of the best NLL at most at that cost."""
    figure = new_figure(10, 4.2)
    finished = _finished(rows)
    for index, (name, cost) in enumerate(
        (
            ("parameters (learned numbers)", lambda r: float(r.parameters or 0)),
            ("training seconds per run", lambda r: r.seconds),
        )
    ):
        panel = figure.add_subplot(1, 2, index + 1)
        if finished:
            panel.errorbar(
                [cost(r) for r in finished],
                [r.val[0] for r in finished],
                yerr=[0.0 if math.isnan(r.val[1]) else r.val[1] for r in finished],
                marker="o",
                linestyle="none",
                capsize=3,
                label="configurations",
            )
            front = _frontier([(cost(r), r.val[0]) for r in finished])
            panel.step(
                *zip(*front, strict=False),
                where="post",
                color="black",
                linestyle="--",
                label="best so far",
            )
        panel.set_xscale("log")
        panel.set_xlabel(name)
        panel.set_ylabel(_units(rows))
        panel.grid(alpha=0.3)
        panel.legend(fontsize="small")
    spread = f"mean ± standard deviation over {seeds} seeds" if seeds > 1 else "one seed"
    figure.suptitle(f"{title}: {_units(rows)} against size and time ({spread})", fontsize="medium")
    return figure
