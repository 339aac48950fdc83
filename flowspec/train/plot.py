"""Pictures of samples and densities, written straight to image files.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, no display and no
change to the global backend), so this works on headless machines and inside notebooks
alike. The file format follows the path's suffix (``.png``, ``.pdf``, ``.svg``, ...).

Example::

    >>> import flowspec, tempfile
    >>> from pathlib import Path
    >>> from flowspec.train import load_dataset
    >>> model = flowspec.compile("specs/realnvp_moons.yaml")
    >>> data = load_dataset("moons", n_test=500)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     pictures = [
    ...         plot_samples(model.sample(500), Path(folder) / "samples.png", data=data.test),
    ...         plot_density(model, Path(folder) / "density.svg", resolution=50),
    ...     ]
    ...     [(p.suffix, p.stat().st_size > 1000) for p in pictures]
    [('.png', True), ('.svg', True)]
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from torch import nn

from flowspec.graph.verdict import with_article
from flowspec.train.canvas import new_figure as _figure
from flowspec.train.canvas import save_figure as _save

if TYPE_CHECKING:
    from flowspec.emit.runtime import FlowModel

__all__ = [
    "MAX_IMAGES",
    "curve_figure",
    "density_figure",
    "plot_curve",
    "plot_density",
    "plot_samples",
    "samples_figure",
]

MAX_IMAGES = 64
"""Most samples drawn as images in one grid."""
_MIN_IMAGE_SIDE = 4  # flat events of at least 4x4 values are drawn as square images
_POINT_STYLE: dict[str, Any] = {"s": 3, "alpha": 0.6, "linewidths": 0}
_DATA_COLOUR = "0.35"
#: Images per labelled row when samples come in groups (one row per context value).
_ROW_IMAGES = 8
_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def _flat(values: torch.Tensor) -> np.ndarray:
    """``[n, *event]`` as a float64 array ``[n, D]``."""
    if not isinstance(values, torch.Tensor):
        raise TypeError(
            f"expected a tensor of samples, got {type(values).__name__} (a model with several "
            "data inputs samples a dict: plot one entry at a time)"
        )
    if values.dim() < 2:
        raise ValueError(f"expected samples of shape [n, *event], got {list(values.shape)}")
    return values.detach().cpu().double().reshape(len(values), -1).numpy()


def _limits(values: np.ndarray) -> tuple[float, float]:
    """A padded range covering the bulk of ``values`` (outliers may fall outside)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return -1.0, 1.0
    low, high = np.percentile(finite, [0.5, 99.5])
    pad = 0.1 * (high - low) or 1.0
    return float(low - pad), float(high + pad)


def _scatter(
    axes: Axes,
    groups: dict[str, np.ndarray],
    colours: tuple[str, ...],
    reference: np.ndarray,
    i: int,
    j: int,
    variable: str = "x",
) -> None:
    """Each group in its colour on dimensions ``i`` and ``j`` (of ``variable``), over
    ``reference``'s range, with a legend."""
    for (label, points), colour in zip(groups.items(), colours, strict=False):
        axes.scatter(points[:, i], points[:, j], label=label, color=colour, **_POINT_STYLE)
    axes.set_xlim(*_limits(reference[:, i]))
    axes.set_ylim(*_limits(reference[:, j]))
    axes.set_xlabel(f"{variable}[{i}]")
    axes.set_ylabel(f"{variable}[{j}]")
    axes.legend(loc="upper right", markerscale=3, fontsize="small")


def _side_by_side(
    figure: Figure,
    groups: dict[str, np.ndarray],
    data: np.ndarray | None,
    data_label: str,
    pairs: list[tuple[int, int]],
    variable: str = "x",
) -> list[Axes]:
    """The data's panels beside (one pair of dimensions) or above (several) the samples',
    on the same ranges, so neither hides the other; the panels, data first."""
    reference = data if data is not None else np.concatenate(list(groups.values()))
    rows: list[tuple[dict[str, np.ndarray], tuple[str, ...]]] = []
    if data is not None:
        rows.append(({data_label: data}, (_DATA_COLOUR,)))
    rows.append((groups, _COLOURS * len(groups)))
    shape = (1, len(rows)) if len(pairs) == 1 else (len(rows), len(pairs))
    panels = []
    for row, (shown, colours) in enumerate(rows):
        for column, (i, j) in enumerate(pairs):
            axes = figure.add_subplot(*shape, row * len(pairs) + column + 1)
            _scatter(axes, shown, colours, reference, i, j, variable)
            panels.append(axes)
    return panels


def _images(
    figure: Figure | SubFigure,
    values: np.ndarray,
    scale: tuple[float, float],
    side: int,
    columns: int,
) -> None:
    """The first values as a grid of grayscale ``side x side`` images, ``columns`` wide."""
    count = min(len(values), MAX_IMAGES)
    rows = math.ceil(count / columns)
    for index in range(count):
        axes = figure.add_subplot(rows, columns, index + 1)
        axes.imshow(
            values[index].reshape(side, side),
            cmap="gray",
            vmin=scale[0],
            vmax=scale[1],
            interpolation="nearest",
        )
        axes.set_axis_off()


def _image_grids(
    groups: dict[str, np.ndarray], data: np.ndarray | None, data_label: str, side: int
) -> Figure:
    """The data's images beside the samples' (one group), or one labelled row of images per
    group under the data's row (several groups: one per context value); one grey scale."""
    scale_from = data if data is not None else np.concatenate(list(groups.values()))
    finite = scale_from[np.isfinite(scale_from)]
    scale = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    parts = ([(data_label, data)] if data is not None else []) + list(groups.items())
    if len(groups) == 1:
        figure = _figure(5 * len(parts), 5.4)
        panels = figure.subfigures(1, len(parts), squeeze=False)[0]
        for panel, (label, values) in zip(panels, parts, strict=True):
            count = min(len(values), MAX_IMAGES)
            _images(panel, values, scale, side, math.ceil(math.sqrt(count)))
            panel.suptitle(label)
        return figure
    figure = _figure(_ROW_IMAGES * 0.9, 1.1 * len(parts) + 0.5)
    for panel, (label, values) in zip(
        figure.subfigures(len(parts), 1, squeeze=False)[:, 0], parts, strict=True
    ):
        _images(panel, values[:_ROW_IMAGES], scale, side, _ROW_IMAGES)
        panel.suptitle(label, fontsize="small")
    return figure


def plot_samples(
    samples: torch.Tensor | dict[str, torch.Tensor],
    path: str | os.PathLike[str],
    *,
    data: torch.Tensor | None = None,
    title: str | None = None,
    data_label: str = "data",
) -> Path:
    """Draw samples ``[n, *event]`` to ``path`` (:func:`samples_figure`) and return the
    path."""
    return _save(samples_figure(samples, data=data, title=title, data_label=data_label), path)


def samples_figure(
    samples: torch.Tensor | dict[str, torch.Tensor],
    *,
    data: torch.Tensor | None = None,
    title: str | None = None,
    data_label: str = "data",
    variable: str = "x",
) -> Figure:
    """The figure of samples ``[n, *event]``; ``samples`` may be a dict of labelled groups
    (e.g. one per context value), drawn in different colours; axes are named after
    ``variable`` (``x[0]``; ``z[0]`` in latent space).

    The ``data`` (named by ``data_label``), when given, is drawn beside the samples on the
    same ranges, never under them. 2-D events: a scatter of the data beside one of the
    samples, with legends; 3-D: the three pairwise projections, the data's row above the
    samples'; ``s*s`` values with ``s >= 4`` (e.g. 8x8 digits, or 1x8x8 images): grids of
    the first 64 data and sample images side by side (one labelled row per group when there
    are several), on the data's grey scale; 1-D: a histogram of the samples' outline over
    the data's; any other size: the first two dimensions, as for 2-D.
    """
    groups = {
        k: _flat(v)
        for k, v in (samples if isinstance(samples, dict) else {"samples": samples}).items()
    }
    points = np.concatenate(list(groups.values()))
    reference = _flat(data) if data is not None else None
    if reference is not None and reference.shape[1] != points.shape[1]:
        raise ValueError(
            f"samples have {points.shape[1]} values per example but data has {reference.shape[1]}"
        )
    dims = points.shape[1]
    side = math.isqrt(dims)
    panels = 1 if reference is None else 2
    note = None
    if dims == 2:
        # Equal axes in the data's units: each panel takes the shape of the data's range.
        shown = reference if reference is not None else points
        (left, right), (bottom, top) = _limits(shown[:, 0]), _limits(shown[:, 1])
        height = 1 + 4 * min(max((top - bottom) / (right - left), 0.5), 1.5)
        figure = _figure(0.5 + 4.5 * panels, height)
        for axes in _side_by_side(figure, groups, reference, data_label, [(0, 1)], variable):
            axes.set_aspect("equal", adjustable="box")
    elif dims == 3:
        figure = _figure(13, 4.5 * panels)
        _side_by_side(figure, groups, reference, data_label, [(0, 1), (0, 2), (1, 2)], variable)
    elif side * side == dims and side >= _MIN_IMAGE_SIDE:
        figure = _image_grids(groups, reference, data_label, side)
        first = min(max(len(g) for g in groups.values()), MAX_IMAGES)
        note = f"first {first} samples as {side}x{side} images"
        if len(groups) > 1:
            note = f"first {_ROW_IMAGES} samples per row as {side}x{side} images"
    elif dims == 1:
        figure = _figure(6, 4)
        axes = figure.add_subplot()
        edges = np.linspace(*_limits(points if reference is None else reference), 61)
        if reference is not None:
            axes.hist(
                reference[:, 0], bins=edges.tolist(), density=True, color="0.7", label=data_label
            )
        axes.hist(points[:, 0], bins=edges.tolist(), density=True, histtype="step", label="samples")
        axes.legend()
    else:
        figure = _figure(0.5 + 4.5 * panels, 5)
        _side_by_side(figure, groups, reference, data_label, [(0, 1)], variable)
        note = f"first 2 of {dims} dimensions"
    heading = ", ".join(part for part in (title, note) if part)
    if heading:
        figure.suptitle(heading)
    return figure


def _two_dimensional_input(model: nn.Module, conditional: bool) -> None:
    """Raise ValueError unless the model has one continuous data input of shape [2], and
    context values are given exactly when it has context inputs."""
    inputs: tuple[str, ...] = getattr(model, "DATA_INPUTS", ())
    checked = getattr(model, "checked", None)
    if len(inputs) != 1 or checked is None:
        raise ValueError("plot_density needs a compiled model with a single data input")
    spec = checked.graph.nodes[inputs[0]].input_spec
    if list(spec.shape) != [2] or spec.levels is not None:
        raise ValueError(
            f"a density map needs continuous 2-D data, but input '{inputs[0]}' has shape "
            f"{list(spec.shape)}"
            + (f" and levels {spec.levels}" if spec.levels is not None else "")
        )
    context_inputs = getattr(model, "CONTEXT_INPUTS", ())
    if context_inputs and not conditional:
        raise ValueError(
            f"the model is conditional on '{context_inputs[0]}': give the context values to "
            "draw (one map per value), e.g. contexts={'label=0': torch.tensor([0.0])}"
        )
    if conditional and not context_inputs:
        raise ValueError("the model is unconditional: it takes no context values")


#: Importance samples per grid point of a density map of a lower-bound model.
DENSITY_DRAWS = 64


def _density_values(
    model: FlowModel,
    points: torch.Tensor,
    chunk: int,
    k: int,
    context: torch.Tensor | None = None,
) -> tuple[torch.Tensor, str, str]:
    """What a density map of ``model`` shows at ``points``, by its likelihood class, with
    the map's heading and the colour bar's label: ``exp(log_prob)`` of an exact model (or
    exact to a tolerance); for a lower-bound model that draws noise the mean of ``k``
    importance weights ``exp(IWBO_k)``, an unbiased estimate of p(x) (Burda et al. 2016,
    arXiv:1509.00519), and for one that draws nothing (W501, W800) ``exp`` of its bound;
    for an estimate of log p(x), the exp of that estimate, named so. Noise is drawn on
    generators seeded for the map (:func:`flowspec.train.state.seeded`). ``context``: one
    context row of a conditional model (None: unconditional)."""
    from flowspec.spec.training import EVAL_SEED
    from flowspec.train.state import seeded

    def given(batch: torch.Tensor) -> dict[str, torch.Tensor]:
        if context is None:
            return {}
        row = context.to(device=batch.device, dtype=batch.dtype)
        return {model.CONTEXT_INPUTS[0]: row.expand(len(batch), *row.shape)}

    likelihood = model.likelihood
    with seeded(EVAL_SEED):
        if likelihood == "lower bound" and model.draws_noise:
            rows = max(1, chunk // k)
            log_p = torch.cat(
                [model.iwbo(batch, k=k, **given(batch)) for batch in points.split(rows)]
            )
            what = f"p(x), importance-sampling estimate ({k} draws per point)"
            return log_p, what, "p(x), unbiased estimate"
        log_p = torch.cat([model.log_prob(batch, **given(batch)) for batch in points.split(chunk)])
    if likelihood == "exact":
        return log_p, "density p(x)", "p(x)"
    if likelihood == "exact to a tolerance":
        return log_p, "density p(x), exact to a solver tolerance", "p(x)"
    return log_p, f"exp of {with_article(likelihood)} of log p(x)", f"exp({likelihood} of log p(x))"


def plot_density(model: FlowModel, path: str | os.PathLike[str], **options: Any) -> Path:
    """Draw the density of a 2-D model to ``path`` (:func:`density_figure`, which takes
    the keyword ``options``); returns the path."""
    return _save(density_figure(model, **options), path)


@torch.no_grad()
def density_figure(
    model: FlowModel,
    *,
    bounds: tuple[float, float] = (-4.0, 4.0),
    resolution: int = 200,
    chunk: int = 8192,
    title: str | None = None,
    k: int = DENSITY_DRAWS,
    contexts: dict[str, torch.Tensor] | None = None,
) -> Figure:
    """The density of a 2-D model on a ``resolution x resolution`` grid over ``bounds``
    (the same for both axes, in the data's units) as a heatmap. What is drawn, and the
    title and colour bar, follow the model's likelihood class (see
    :func:`_density_values`); score a model with its exact options first
    (:func:`flowspec.train.evaluate.for_evaluation`). A conditional model gets one map per
    context value (``contexts``: a label and one context row each), on one colour scale."""
    _two_dimensional_input(model, bool(contexts))
    low, high = bounds
    if not low < high or resolution < 2:
        raise ValueError(f"need bounds low < high and resolution >= 2, got {bounds}, {resolution}")
    parameter = next(model.parameters(), None)
    dtype = parameter.dtype if parameter is not None else torch.get_default_dtype()
    device = parameter.device if parameter is not None else torch.device("cpu")
    axis = torch.linspace(low, high, resolution, dtype=dtype, device=device)
    grid_y, grid_x = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
    maps = {}
    was_training = model.training
    model.eval()
    try:
        groups: dict[str, torch.Tensor | None] = dict(contexts) if contexts else {"": None}
        for name, row in groups.items():
            log_prob, heading, label = _density_values(model, points, chunk, k, row)
            values = torch.nan_to_num(log_prob.exp(), nan=0.0, posinf=0.0)
            maps[name] = values.reshape(resolution, resolution).cpu().numpy()
    finally:
        model.train(was_training)
    heading = f"{title}\n{heading}" if title else heading
    figure = _figure(1 + 4.5 * len(maps), 5)
    top = max(float(grid.max()) for grid in maps.values()) or 1.0
    panels = []
    for index, (name, grid) in enumerate(maps.items()):
        axes = figure.add_subplot(1, len(maps), index + 1)
        shown = axes.imshow(
            grid,
            origin="lower",
            extent=(low, high, low, high),
            cmap="viridis",
            interpolation="nearest",
            vmin=0.0,
            vmax=top,
        )
        axes.set_xlabel("x[0]")
        axes.set_ylabel("x[1]")
        axes.set_title(name if len(maps) > 1 else heading)
        panels.append(axes)
    figure.colorbar(shown, ax=panels, label=label)
    if len(maps) > 1:
        figure.suptitle(f"{heading}, one map per context value")
    return figure


def _column(rows: list[dict[str, float | str | None]], name: str) -> list[tuple[float, float]]:
    """``(step, value)`` of every row that has a value in the numeric column ``name``."""
    return [
        (float(step), float(value))
        for step, value in ((r.get("step"), r.get(name)) for r in rows)
        if step is not None and value is not None
    ]


def plot_curve(
    rows: list[dict[str, float | str | None]], path: str | os.PathLike[str], **options: Any
) -> Path:
    """Draw the training curve of a metrics log to ``path`` (:func:`curve_figure`, which
    takes the keyword ``options``); returns the path."""
    return _save(curve_figure(rows, **options), path)


def curve_figure(
    rows: list[dict[str, float | str | None]],
    *,
    title: str | None = None,
    dims: int | None = None,
) -> Figure:
    """The training curve of a metrics log (see :mod:`flowspec.train.metrics`): training
    loss and validation NLL against the step, the best validation marked; the legend says
    what the validation figure is (the log's ``val_figure``: "-ELBO (an upper bound on the
    NLL; ...)"). In nats per example, or with ``dims`` (discrete data of ``dims`` values per
    example) in bits per dimension, the units ``flowspec train`` reports it in."""
    scale, units = 1.0, "nats per example"
    if dims is not None:
        scale, units = 1.0 / (dims * math.log(2.0)), f"bits/dim (nats / (D ln 2), D = {dims})"
    train = [(step, value * scale) for step, value in _column(rows, "train_loss")]
    val = [(step, value * scale) for step, value in _column(rows, "val_nll")]
    what = next((str(r["val_figure"]) for r in rows if r.get("val_figure")), "NLL")
    if not train and not val:
        raise ValueError("the metrics log has no rows to plot")
    figure = _figure(6.5, 4)
    axes = figure.add_subplot()
    if train:
        axes.plot(*zip(*train, strict=True), color="tab:blue", alpha=0.7, label="train loss")
    if val:
        axes.plot(
            *zip(*val, strict=True),
            color="tab:orange",
            marker="o",
            markersize=3,
            label=f"validation {what}",
        )
        step, best = min(val, key=lambda item: item[1])
        axes.scatter(
            [step],
            [best],
            color="tab:red",
            zorder=3,
            label=f"best {best:.4f} {units.split(' ')[0]} (step {step:g})",
        )
    values = [v for _, v in train + val]
    low, high = np.percentile(values, [0, 95])
    axes.set_ylim(low - 0.05 * (high - low + 1e-9), high + 0.1 * (high - low + 1e-9))
    axes.set_xlabel("step")
    axes.set_ylabel(units)
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    if title:
        axes.set_title(title)
    return figure
