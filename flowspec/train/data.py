"""Bundled data sets: 2-D and 3-D toys generated locally, and sklearn's 8x8 digits.

Nothing is downloaded. The toys are drawn from seeded numpy generators (``moons`` and
``s_curve`` through sklearn's generators) and standardised with constants computed once
from a fixed reference draw, so every seed and every size samples the same distribution
and train and test splits are independent draws from it. ``digits`` ships with
scikit-learn: 1797 images of 8x8 pixels with values 0..16, kept as integer-valued floats
of shape ``[64]`` (17 levels), split by a seeded permutation into at most 1500 training
and 297 test images; ``digits_image`` holds the same images shaped ``[1, 8, 8]``.

Example::

    >>> data = load_dataset("moons", n_train=1000, n_test=200, seed=1)
    >>> data.train.shape, data.levels
    (torch.Size([1000, 2]), None)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np
import torch
from sklearn.datasets import load_digits, make_moons, make_s_curve

from flowspec.diagnostics import did_you_mean
from flowspec.emit.runtime import FlowModel

__all__ = ["DATASETS", "Dataset", "DatasetInfo", "check_compatible", "load_dataset"]

#: Draws ``n`` raw (unstandardised) points of a toy distribution, shape ``[n, D]``.
Sampler = Callable[[int, np.random.Generator], np.ndarray]
#: Makes the ``(train, test)`` arrays of a data set from ``(n_train, n_test, seed)``.
Maker = Callable[[int, int, int], tuple[np.ndarray, np.ndarray]]

_REFERENCE_SEED = 7_919
_REFERENCE_SIZE = 50_000
DIGITS_TRAIN = 1500
"""Most training images of ``digits``; the remaining 297 are the most test images."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a bundled data set is: its event shape and, for discrete data, its levels."""

    name: str
    description: str
    shape: tuple[int, ...]
    levels: int | None
    make: Maker = field(repr=False, compare=False)


@dataclass
class Dataset:
    """Train and test splits, ``[n, *shape]`` float32 tensors (integer-valued when
    ``levels`` is set: values ``0 .. levels-1``)."""

    name: str
    train: torch.Tensor
    test: torch.Tensor
    shape: tuple[int, ...]
    levels: int | None


def _seed_of(rng: np.random.Generator) -> int:
    """A seed for sklearn generators, drawn from ``rng``."""
    return int(rng.integers(2**31 - 1))


def _moons(n: int, rng: np.random.Generator) -> np.ndarray:
    return make_moons(n_samples=n, noise=0.05, random_state=_seed_of(rng))[0]


def _circles(n: int, rng: np.random.Generator) -> np.ndarray:
    radius = np.where(rng.integers(2, size=n) == 1, 1.0, 0.5)
    angle = rng.uniform(0.0, 2.0 * math.pi, size=n)
    ring = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return ring + 0.05 * rng.standard_normal((n, 2))


def _eight_gaussians(n: int, rng: np.random.Generator) -> np.ndarray:
    angle = rng.integers(8, size=n) * (math.pi / 4.0)
    centre = 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return centre + 0.2 * rng.standard_normal((n, 2))


def _checkerboard(n: int, rng: np.random.Generator) -> np.ndarray:
    # The 8 dark cells of a 4x4 board on [-2, 2]^2: those whose row + column is even.
    cells = np.array([(i, j) for i in range(4) for j in range(4) if (i + j) % 2 == 0])
    corner = cells[rng.integers(len(cells), size=n)] - 2.0
    return corner + rng.uniform(0.0, 1.0, size=(n, 2))


def _pinwheel(n: int, rng: np.random.Generator) -> np.ndarray:
    # Five elongated Gaussian arms, each bent by an angle growing with its radius.
    arms, radial_std, tangential_std, rate = 5, 0.3, 0.05, 0.25
    local = rng.standard_normal((n, 2)) * [radial_std, tangential_std] + [1.0, 0.0]
    angle = rng.integers(arms, size=n) * (2.0 * math.pi / arms) + rate * np.exp(local[:, 0])
    cos, sin = np.cos(angle), np.sin(angle)
    radial, tangential = local[:, 0], local[:, 1]
    return np.stack([cos * radial - sin * tangential, sin * radial + cos * tangential], axis=1)


def _spirals(n: int, rng: np.random.Generator) -> np.ndarray:
    # Two interleaved Archimedean spirals r = t; sqrt spreads points evenly along the arc.
    t = np.sqrt(rng.uniform(0.0, 1.0, size=n)) * 3.0 * math.pi
    sign = np.where(rng.integers(2, size=n) == 1, 1.0, -1.0)
    curve = (sign * t)[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)
    return curve + 0.3 * rng.standard_normal((n, 2))


def _s_curve(n: int, rng: np.random.Generator) -> np.ndarray:
    return make_s_curve(n_samples=n, noise=0.05, random_state=_seed_of(rng))[0]


@lru_cache(maxsize=None)
def _reference_stats(sampler: Sampler) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of a fixed large draw: the standardisation constants of a toy."""
    reference = sampler(_REFERENCE_SIZE, np.random.default_rng(_REFERENCE_SEED))
    return reference.mean(axis=0), reference.std(axis=0)


def _toy(sampler: Sampler) -> Maker:
    """Independent seeded train and test draws of a toy, standardised."""

    def make(n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        mean, std = _reference_stats(sampler)
        train = sampler(n_train, np.random.default_rng([seed, 0]))
        test = sampler(n_test, np.random.default_rng([seed, 1]))
        return (train - mean) / std, (test - mean) / std

    return make


def _digits(n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    images = load_digits().data  # (1797, 64), integer values 0..16
    order = np.random.default_rng(seed).permutation(len(images))
    train = order[: min(n_train, DIGITS_TRAIN)]
    test = order[DIGITS_TRAIN : DIGITS_TRAIN + n_test]
    return images[train], images[test]


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("moons", "two interleaved half circles (sklearn make_moons, noise 0.05)",
                    (2,), None, _toy(_moons)),
        DatasetInfo("circles", "two concentric rings, radii 1 and 0.5", (2,), None,
                    _toy(_circles)),
        DatasetInfo("eight_gaussians", "eight Gaussians evenly spaced on a circle", (2,), None,
                    _toy(_eight_gaussians)),
        DatasetInfo("checkerboard", "uniform on the dark squares of a 4x4 checkerboard", (2,),
                    None, _toy(_checkerboard)),
        DatasetInfo("pinwheel", "five curved Gaussian arms", (2,), None, _toy(_pinwheel)),
        DatasetInfo("spirals", "two interleaved spirals", (2,), None, _toy(_spirals)),
        DatasetInfo("s_curve", "a noisy S-shaped 2-D sheet in 3-D (sklearn make_s_curve)",
                    (3,), None, _toy(_s_curve)),
        DatasetInfo("digits", "sklearn's 8x8 handwritten digits, values 0..16 (1797 images)",
                    (64,), 17, _digits),
        DatasetInfo("digits_image", "the same digits as 1x8x8 images [C, H, W], values 0..16",
                    (1, 8, 8), 17, _digits),
    )
}


def load_dataset(name: str, n_train: int = 10_000, n_test: int = 2_000, seed: int = 0) -> Dataset:
    """Generate (or load) a bundled data set as float32 tensors, deterministically in
    ``seed``. ``digits`` (and ``digits_image``) has at most 1500 training and 297 test
    images."""
    if name not in DATASETS:
        message = f"unknown data set '{name}'; available: {', '.join(DATASETS)}"
        suggestion = did_you_mean(name, DATASETS)
        raise ValueError(f"{message} ({suggestion})" if suggestion else message)
    for label, value in (("n_train", n_train), ("n_test", n_test)):
        if value < 1:
            raise ValueError(f"{label} must be at least 1, got {value}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    info = DATASETS[name]
    train, test = info.make(n_train, n_test, seed)
    return Dataset(
        name,
        torch.as_tensor(train, dtype=torch.float32).reshape(-1, *info.shape),
        torch.as_tensor(test, dtype=torch.float32).reshape(-1, *info.shape),
        info.shape,
        info.levels,
    )


def _shape(shape: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, shape))}]"


def check_compatible(model: FlowModel, dataset: Dataset) -> list[str]:
    """Why ``dataset`` cannot train ``model`` (empty when it can): the model must have a
    single data input whose shape, discreteness, levels and range fit the data."""
    checked = getattr(model, "checked", None)
    if checked is None:
        return ["the model carries no checked spec; build it with flowspec.compile"]
    problems: list[str] = []
    data_inputs = list(model.DATA_INPUTS)
    if len(data_inputs) != 1:
        names = ", ".join(f"'{n}'" for n in data_inputs) or "none"
        problems.append(
            f"training needs a model with exactly one data input, this one has "
            f"{len(data_inputs)} ({names})"
        )
    if model.CONTEXT_INPUTS:
        names = ", ".join(f"'{n}'" for n in model.CONTEXT_INPUTS)
        problems.append(
            f"the model is conditional (context inputs {names}), but data set "
            f"'{dataset.name}' has no context values"
        )
    if len(data_inputs) != 1:
        return problems
    name = data_inputs[0]
    spec = checked.graph.nodes[name].input_spec
    where = f"input '{name}'"
    if tuple(spec.shape) != tuple(dataset.shape):
        problems.append(
            f"shape mismatch: {where} has shape {_shape(tuple(spec.shape))} but data set "
            f"'{dataset.name}' has events of shape {_shape(dataset.shape)}"
        )
    if dataset.levels is not None and spec.levels is None:
        problems.append(
            f"data set '{dataset.name}' is discrete (integers 0..{dataset.levels - 1}) but "
            f"{where} is continuous; declare levels: {dataset.levels} on it and dequantize "
            f"(e.g. {{kind: uniform_dequantization}})"
        )
    elif dataset.levels is None and spec.levels is not None:
        problems.append(
            f"data set '{dataset.name}' is continuous but {where} declares discrete values "
            f"(levels: {spec.levels}); remove levels from the input"
        )
    elif dataset.levels is not None and spec.levels != dataset.levels:
        problems.append(
            f"levels mismatch: {where} declares levels: {spec.levels} but data set "
            f"'{dataset.name}' has {dataset.levels} levels (0..{dataset.levels - 1})"
        )
    if spec.levels is None and dataset.levels is None and dataset.train.numel():
        low, high = float(dataset.train.min()), float(dataset.train.max())
        bottom = -math.inf if spec.low is None else spec.low
        top = math.inf if spec.high is None else spec.high
        if low < bottom or high > top:
            problems.append(
                f"data set '{dataset.name}' has values in [{low:.3g}, {high:.3g}], outside "
                f"the range [{bottom:g}, {top:g}] declared on {where}"
            )
    return problems
