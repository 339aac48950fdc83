"""A run you can look at: what TensorBoard receives at each validation of a fit.

:class:`RunView` is an ``on_validation`` callback of :func:`flowspec.train.loop.fit` (the
hook a study's pruner uses too) that writes, beside the metrics log's ``lr``,
``train_loss`` and ``val_nll`` scalars, in the same TensorBoard folder:

- ``log_p_by_node_nats/NODE``: each node's mean term of log p(x) on the validation
  split, in nats per example (:mod:`flowspec.train.by_node`), ``.../total`` their sum
  (the validation figure negated: the same draws), and for bounds ``minus_log_q_nats/NODE``;
- ``latent/NODE``: histograms of each distribution node's latents of the validation data;
- pictures, at validations 1, 4, 16, 64, ... (drawing costs more than scoring: 4 sets in a
  run of 40 validations; early training changes fastest) and of the best weights at the end (``best/...``):
  ``samples``, drawn as ``flowspec sample`` draws them (a scatter beside the validation
  data for 2-D, projections for 3-D, image grids for images), ``density``, the density
  heat map of a 2-D model titled by what it shows, and ``graph``, the drawing with each
  node filled by its term (``flowspec render --weights``);
- at the end (:meth:`RunView.finish`), the HParams view: the training settings with the
  final train, validation and test figures, so the runs of a sweep compare.

Everything is drawn in eval mode on generators seeded afresh (:func:`seeded`) and restored,
so a run draws the same training noise with or without the view (resume stays exact).
Scoring uses the exact options of estimators, as validation does.
"""

from __future__ import annotations

import math
import shutil
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from matplotlib.figure import Figure

from flowspec.emit.runtime import FlowModel
from flowspec.spec.training import EVAL_SEED, TrainSettings
from flowspec.train.by_node import NodeTerms, by_node
from flowspec.train.data import Dataset
from flowspec.train.evaluate import for_evaluation, model_figure
from flowspec.train.nll import model_dtype_device
from flowspec.train.plot import density_figure, samples_figure
from flowspec.train.state import seeded

if TYPE_CHECKING:
    from flowspec.train.loop import FitResult

__all__ = ["RunView"]

#: Samples drawn at each validation.
SAMPLES = 256
#: Grid points per axis of the density map.
RESOLUTION = 64
#: Importance samples per grid point of a bound's density map (``flowspec sample
#: --density`` takes more: this one is drawn at every validation).
DENSITY_DRAWS = 16


def _pixels(drawn: Figure) -> np.ndarray:
    """A matplotlib figure as an ``[H, W, 3]`` uint8 image."""
    drawn.canvas.draw()
    return np.asarray(drawn.canvas.buffer_rgba())[..., :3].copy()  # type: ignore[attr-defined]


def _when(step: int, prefix: str) -> str:
    return f"best weights (step {step})" if prefix else f"step {step}"


class RunView:
    """Writes the pictures and per-node figures of a run to the TensorBoard ``folder`` at
    each validation (call it as ``fit(..., on_validation=view)``; it never stops a run),
    and the HParams view at :meth:`finish`."""

    def __init__(
        self, folder: Path, model: FlowModel, dataset: Dataset, settings: TrainSettings
    ) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(folder))
        self.model, self.settings = model, settings
        self.scorer, _ = for_evaluation(model)
        dtype, device = model_dtype_device(model)
        self.val = dataset.split("val").to(device=device, dtype=dtype)
        self.levels = dataset.levels
        self.figure = model_figure(self.scorer).name
        self.validations = 0

    def __call__(self, step: int, val_nll: float) -> None:
        self.validations += 1
        count = self.validations
        pictures = count & (count - 1) == 0 and count.bit_length() % 2 == 1  # 1, 4, 16, ...
        self._show(step, pictures=pictures, prefix="")

    def _show(self, step: int, *, pictures: bool, prefix: str) -> None:
        if self.scorer is not self.model:
            self.scorer.load_state_dict(self.model.state_dict())
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad(), seeded(EVAL_SEED):
                terms = by_node(self.scorer, self.val)
                if not prefix:
                    self._terms(step, terms)
                    self._latents(step)
                if pictures:
                    self._graph(step, terms, prefix)
                    self._samples(step, prefix)
            if pictures:
                self._density(step, prefix)
        finally:
            self.model.train(was_training)
        self.writer.flush()

    def _terms(self, step: int, terms: NodeTerms) -> None:
        for row in terms.rows:
            self.writer.add_scalar(f"log_p_by_node_nats/{row.node}", row.mean, step)
        self.writer.add_scalar("log_p_by_node_nats/total", terms.total, step)
        for row in terms.proposals:
            self.writer.add_scalar(f"minus_log_q_nats/{row.node}", row.mean, step)

    def _graph(self, step: int, terms: NodeTerms, prefix: str) -> None:
        """The drawing filled by each node's term: an image where Graphviz is installed,
        else its DOT source as text."""
        from flowspec.render.graphviz import to_dot
        from flowspec.render.shading import Shading

        shading = Shading({row.node: row.mean for row in terms.rows}, terms.dims)
        dot = to_dot(self.model.checked.graph, shading=shading)
        if shutil.which("dot") is None:
            self.writer.add_text(f"{prefix}graph", f"```\n{dot.source}\n```", step)
            return
        from matplotlib.image import imread

        image = imread(BytesIO(dot.pipe(format="png")), format="png")
        self.writer.add_image(f"{prefix}graph", image[..., :3], step, dataformats="HWC")

    def _latents(self, step: int) -> None:
        trace = self.scorer.trace(*self._inputs())
        for name, latent in trace.latents.items():
            self.writer.add_histogram(f"latent/{name}", latent.double().flatten(), step)

    def _inputs(self) -> tuple[torch.Tensor, ...]:
        return self.val.inputs() if self.model.CONTEXT_INPUTS else (self.val.x,)

    def _samples(self, step: int, prefix: str) -> None:
        count = min(SAMPLES, len(self.val))
        context = {}
        if self.model.CONTEXT_INPUTS and self.val.context is not None:
            context = {self.model.CONTEXT_INPUTS[0]: self.val.context[:count]}
        drawn = self.model.sample(count, **context)
        if isinstance(drawn, dict):  # several data inputs: the first, as sample plots do
            drawn = next(iter(drawn.values()))
        title = f"{_when(step, prefix)}: {count} samples"
        shown = samples_figure(drawn.cpu(), data=self.val.x.cpu(), title=title)
        self.writer.add_image(f"{prefix}samples", _pixels(shown), step, dataformats="HWC")

    def _density(self, step: int, prefix: str) -> None:
        graph = self.model.checked.graph
        data = graph.data_inputs
        spec = graph.nodes[data[0]].input_spec if len(data) == 1 else None
        if spec is None or list(spec.shape) != [2] or spec.levels is not None:
            return
        if self.model.CONTEXT_INPUTS:
            return  # a map per context value is flowspec sample --density's
        x = self.val.x
        reach = float(x.abs().max()) * 1.25 if len(x) else 4.0
        drawn = density_figure(
            self.scorer,
            bounds=(-reach, reach),
            resolution=RESOLUTION,
            title=_when(step, prefix),
            k=DENSITY_DRAWS,
        )
        self.writer.add_image(f"{prefix}density", _pixels(drawn), step, dataformats="HWC")

    def finish(self, result: FitResult) -> None:
        """The pictures of the best weights (which ``fit`` loaded back) and the HParams
        view: the settings with the final figures (nats per example, of the best weights,
        as ``train`` prints them); then close the writer."""
        from torch.utils.tensorboard.summary import hparams

        self._show(result.best_step, pictures=True, prefix="best/")
        settings = {
            key: value if isinstance(value, (int, float, str, bool)) else str(value)
            for key, value in self.settings.model_dump().items()
            if value is not None
        }
        name = self.figure.replace("-", "minus_")
        metrics: dict[str, Any] = {
            f"hparam/train_{name}_nats": result.train_nll,
            f"hparam/val_{name}_nats": result.val_nll,
            f"hparam/test_{name}_nats": result.test_nll,
            "hparam/best_step": result.best_step,
        }
        if result.bits_per_dim is not None and math.isfinite(result.bits_per_dim):
            metrics[f"hparam/test_{name}_bits_per_dim"] = result.bits_per_dim
        experiment, start, end = hparams(settings, metrics)
        writer = self.writer.file_writer
        assert writer is not None, "the writer is open until finish"
        for summary in (experiment, start, end):
            writer.add_summary(summary)
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, result.steps)
        self.writer.close()
