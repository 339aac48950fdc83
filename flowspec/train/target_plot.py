"""The figure of a reverse-KL fit: for each fitted model, the target density, the model's
density and its samples side by side, on one window and colour scale per row.

The target is drawn as ``p~(x) / Z`` where ``log Z`` is known (the bundled energies, on
their grid: :func:`flowspec.train.target.log_normalizer`), else as ``p~(x)`` scaled to
peak at 1, and labelled so. The model's density is ``exp(log_prob)`` on the grid when the
model has an inference direction, else a histogram of its draws (planar without
``inverse:``, Sylvester), labelled so.

    >>> import flowspec, tempfile
    >>> from pathlib import Path
    >>> from flowspec.train.target import resolve_target
    >>> model = flowspec.compile("specs/planar_energy.yaml")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = plot_target_fit([FitPanel("U1", model, resolve_target("U1"))],
    ...                            Path(folder) / "fit.png", resolution=40, draws=500)
    ...     path.stat().st_size > 1000
    True
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from flowspec.emit.runtime import FlowModel
from flowspec.train.canvas import new_figure, save_figure
from flowspec.train.state import seeded
from flowspec.train.target import Target, log_normalizer

__all__ = ["FitPanel", "plot_target_fit"]

#: The window of the figures: the paper's Figure 3 shows [-4, 4]^2.
WINDOW = (-4.0, 4.0)
_HISTOGRAM_DRAWS = 1 << 16


@dataclass(frozen=True)
class FitPanel:
    """One row of the figure: its label, the fitted model, its target and a note (e.g.
    the KL and ESS) shown under the label."""

    label: str
    model: FlowModel
    target: Target
    note: str = ""


@torch.no_grad()
def plot_target_fit(
    rows: list[FitPanel],
    path: str | os.PathLike[str],
    *,
    bounds: tuple[float, float] = WINDOW,
    resolution: int = 200,
    draws: int = 2000,
    seed: int = 0,
) -> Path:
    """Draw each row's target density, model density and ``draws`` samples (seeded by
    ``seed``) over ``bounds`` (both axes) on a ``resolution x resolution`` grid; returns
    the path."""
    low, high = bounds
    figure = new_figure(11, 0.4 + 3.4 * len(rows))
    for index, row in enumerate(rows):
        dtype = next(row.model.parameters()).dtype
        axis = torch.linspace(low, high, resolution, dtype=torch.float64)
        grid_y, grid_x = torch.meshgrid(axis, axis, indexing="ij")
        points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
        target, target_label = _target_density(row.target, points)
        fitted, fitted_label = _model_density(row.model, points.to(dtype), bounds, resolution)
        with seeded(seed):
            samples = row.model.sample(draws).double().cpu().numpy()
        # One colour scale when both are normalized densities, else each its own.
        top = max(float(target.max()), float(fitted.max())) if row.target.box else None
        for column, (values, title) in enumerate(((target, target_label), (fitted, fitted_label))):
            axes = figure.add_subplot(len(rows), 3, 3 * index + column + 1)
            axes.imshow(
                values.reshape(resolution, resolution).numpy(),
                origin="lower",
                extent=(low, high, low, high),
                cmap="viridis",
                vmin=0.0,
                vmax=top,
            )
            axes.set_title(f"{row.label}: {title}" if column == 0 else title, fontsize=9)
            axes.set_xticks([])
            axes.set_yticks([])
        axes = figure.add_subplot(len(rows), 3, 3 * index + 3)
        axes.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, linewidths=0)
        axes.set_xlim(low, high)
        axes.set_ylim(low, high)
        axes.set_aspect("equal")
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(f"{draws} samples" + (f"\n{row.note}" if row.note else ""), fontsize=9)
    return save_figure(figure, path)


def _target_density(target: Target, points: torch.Tensor) -> tuple[torch.Tensor, str]:
    log_p = torch.cat([target.log_density(chunk) for chunk in points.split(1 << 16)])
    if target.box is not None:
        return (log_p - log_normalizer(target)).exp(), "target p(x) = p~(x) / Z"
    return (log_p - log_p.max()).exp(), "target p~(x), scaled to peak 1 (Z unknown)"


def _model_density(
    model: FlowModel, points: torch.Tensor, bounds: tuple[float, float], resolution: int
) -> tuple[torch.Tensor, str]:
    """``q`` on the grid: ``exp(log_prob)``, or a histogram of draws without inference."""
    was_training = model.training
    model.eval()
    try:
        if not model.checked.graph.unavailable_log_prob():
            log_q = torch.cat([model.log_prob(chunk) for chunk in points.split(1 << 13)])
            values = torch.nan_to_num(log_q.double().exp(), nan=0.0, posinf=0.0)
            return values, "fitted q(x)"
        with seeded(1):
            drawn = model.sample(_HISTOGRAM_DRAWS).double().cpu().numpy()
    finally:
        model.train(was_training)
    low, high = bounds
    counts, _, _ = np.histogram2d(
        drawn[:, 1], drawn[:, 0], bins=resolution, range=[[low, high], [low, high]]
    )
    cell = ((high - low) / resolution) ** 2
    density = torch.from_numpy(counts / (_HISTOGRAM_DRAWS * cell)).reshape(-1)
    return density, f"fitted q(x), histogram of {_HISTOGRAM_DRAWS} draws"
