"""Training compiled flows: data sets and files, a fit loop with validation, early
stopping and exact resumption, checkpoints, evaluation, sampling and plots.

>>> import flowspec
>>> from flowspec.train import fit, load_dataset
>>> model = flowspec.compile("specs/realnvp_moons.yaml")
>>> data = load_dataset("moons", n_train=512, n_val=128, n_test=128)
>>> result = fit(model, data, steps=50, batch_size=64, progress=False)
>>> result.steps, result.stop_reason, result.test_nll < 3.0   # nats per example
(50, 'steps', True)

``fit(..., files=RunFiles.beside("runs/moons.safetensors"))`` also writes the best and last
checkpoints and the metrics logs (:class:`RunFiles`).
"""

from flowspec.spec.training import TrainSettings
from flowspec.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from flowspec.train.compat import check_compatible, resolve_data
from flowspec.train.data import DATASETS, Dataset, DatasetInfo, Split, load_dataset
from flowspec.train.files import DataError, load_data_file
from flowspec.train.loop import (
    FitResult,
    RunFiles,
    TrainingDiverged,
    TrainingInterrupted,
    evaluate_nll,
    fit,
)
from flowspec.train.plot import plot_density, plot_samples

__all__ = [
    "DATASETS",
    "CheckpointError",
    "DataError",
    "Dataset",
    "DatasetInfo",
    "FitResult",
    "RunFiles",
    "Split",
    "TrainSettings",
    "TrainingDiverged",
    "TrainingInterrupted",
    "check_compatible",
    "evaluate_nll",
    "fit",
    "load_checkpoint",
    "load_data_file",
    "load_dataset",
    "plot_density",
    "plot_samples",
    "resolve_data",
    "save_checkpoint",
]
