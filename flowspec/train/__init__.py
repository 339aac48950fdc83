"""Training compiled flows: bundled data sets, a fit loop, checkpoints and plots.

>>> from flowspec.train import fit, load_dataset, save_checkpoint   # doctest: +SKIP
>>> model = flowspec.compile("specs/realnvp_moons.yaml")              # doctest: +SKIP
>>> result = fit(model, load_dataset("moons"), steps=2000)           # doctest: +SKIP
>>> save_checkpoint("moons.safetensors", model, meta={"dataset": "moons"})  # doctest: +SKIP
"""

from flowspec.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from flowspec.train.data import DATASETS, Dataset, DatasetInfo, check_compatible, load_dataset
from flowspec.train.loop import FitResult, TrainingDiverged, evaluate_nll, fit
from flowspec.train.plot import plot_density, plot_samples

__all__ = [
    "DATASETS",
    "CheckpointError",
    "Dataset",
    "DatasetInfo",
    "FitResult",
    "TrainingDiverged",
    "check_compatible",
    "evaluate_nll",
    "fit",
    "load_checkpoint",
    "load_dataset",
    "plot_density",
    "plot_samples",
    "save_checkpoint",
]
