"""Bundled data sets: 2-D and 3-D toys generated locally, and sklearn's 8x8 digits.

Nothing is downloaded. The toys are drawn from seeded numpy generators (``moons`` and
``s_curve`` through sklearn's generators), in their generators' own units: nothing is
standardised, so an NLL is that of the distribution each description states (``moons`` is
``make_moons(noise=0.05)`` as sklearn returns it) and compares with any other code fitting
the same generator. Preprocessing belongs to the model, where its log-det is counted (the
``standardize`` node kind). Every seed and every size samples the same distribution; the
train, validation and test splits are independent draws from it. ``moons`` also carries
each point's half-moon label (0 or 1, shape ``[1]``) as context, used when the model is
conditional.

``digits`` ships with scikit-learn: 1797 images of 8x8 pixels with values 0..16, split by a
seeded permutation into at most 1350 training, 150 validation and 297 test images; it comes
as 64 discrete values (``digits``, 17 levels), as a ``[1, 8, 8]`` image (``digits_image``)
or binarised at 8 (``digits_binary``, 2 levels).

Example::

    >>> data = load_dataset("moons", n_train=1000, n_test=200, seed=1, n_val=100)
    >>> data.train.shape, data.split("train").context.shape, data.levels
    (torch.Size([1000, 2]), torch.Size([1000, 1]), None)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from flowspec.diagnostics import did_you_mean

__all__ = ["DATASETS", "DIGITS_TRAIN", "SPLITS", "Dataset", "DatasetInfo", "Split", "load_dataset"]

#: Draws ``n`` points of a toy (in its own units) and their labels (or None).
Sampler = Callable[[int, np.random.Generator], tuple[np.ndarray, "np.ndarray | None"]]
#: Makes the ``(train, val, test)`` splits as ``(values, labels or None)`` from sizes and seed.
Arrays = tuple[np.ndarray, "np.ndarray | None"]
Maker = Callable[[int, int, int, int], tuple[Arrays, Arrays, Arrays]]

DIGITS_TRAIN = 1350
"""Most training images of the digits sets; then 150 validation and 297 test images."""
_DIGITS_VAL_END = 1500


@dataclass(frozen=True)
class DatasetInfo:
    """What a bundled data set is: its event shape, levels (discrete data) and context."""

    name: str
    description: str
    shape: tuple[int, ...]
    levels: int | None
    make: Maker = field(repr=False, compare=False)
    context_shape: tuple[int, ...] | None = None


@dataclass
class Split:
    """Examples ``x`` of shape ``[n, *shape]`` (float32, integer-valued for discrete data)
    and, for data with context, ``context`` of shape ``[n, *context_shape]``."""

    x: torch.Tensor
    context: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.x)

    def inputs(self, index: torch.Tensor | slice | None = None) -> tuple[torch.Tensor, ...]:
        """The model's positional inputs (data, then context if any), optionally indexed."""
        parts = (self.x,) if self.context is None else (self.x, self.context)
        return parts if index is None else tuple(part[index] for part in parts)

    def to(self, **kwargs: Any) -> Split:
        """Both tensors moved/cast (the context keeps its values, e.g. labels)."""
        context = None if self.context is None else self.context.to(**kwargs)
        return Split(self.x.to(**kwargs), context)


SPLITS = ("train", "val", "test")


@dataclass
class Dataset:
    """Train, validation and test examples of one data set, ``[n, *shape]`` tensors, and
    for data with context, each split's context under its name in ``context``."""

    name: str
    train: torch.Tensor
    test: torch.Tensor
    shape: tuple[int, ...]
    levels: int | None
    val: torch.Tensor | None = None
    context: dict[str, torch.Tensor] = field(default_factory=dict)
    context_shape: tuple[int, ...] | None = None

    def split(self, which: str) -> Split:
        """``train``, ``val`` or ``test`` with its context."""
        x = getattr(self, which)
        if x is None:
            raise ValueError(f"data set '{self.name}' has no {which} split")
        return Split(x, self.context.get(which))

    @classmethod
    def from_splits(
        cls,
        name: str,
        splits: tuple[Split, Split, Split],
        shape: tuple[int, ...],
        levels: int | None,
        context_shape: tuple[int, ...] | None = None,
    ) -> Dataset:
        """A data set from its train, validation and test splits."""
        train, val, test = splits
        context = {
            which: split.context
            for which, split in zip(SPLITS, splits, strict=True)
            if split.context is not None
        }
        return cls(
            name, train.x, test.x, shape, levels, val.x, context, context_shape if context else None
        )


def _seed_of(rng: np.random.Generator) -> int:
    """A seed for sklearn generators, drawn from ``rng``."""
    return int(rng.integers(2**31 - 1))


def _moons(n: int, rng: np.random.Generator) -> Arrays:
    from sklearn.datasets import make_moons

    points, labels = make_moons(n_samples=n, noise=0.05, random_state=_seed_of(rng))
    return points, labels[:, None].astype(np.float64)


def _circles(n: int, rng: np.random.Generator) -> Arrays:
    radius = np.where(rng.integers(2, size=n) == 1, 1.0, 0.5)
    angle = rng.uniform(0.0, 2.0 * math.pi, size=n)
    ring = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return ring + 0.05 * rng.standard_normal((n, 2)), None


def _rings(n: int, rng: np.random.Generator) -> Arrays:
    # Four concentric rings, radii 1..4, with points in proportion to their circumference.
    radius = rng.choice(4, size=n, p=np.arange(1, 5) / 10.0) + 1.0
    angle = rng.uniform(0.0, 2.0 * math.pi, size=n)
    ring = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return ring + 0.08 * rng.standard_normal((n, 2)), None


def _eight_gaussians(n: int, rng: np.random.Generator) -> Arrays:
    angle = rng.integers(8, size=n) * (math.pi / 4.0)
    centre = 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return centre + 0.2 * rng.standard_normal((n, 2)), None


def _checkerboard(n: int, rng: np.random.Generator) -> Arrays:
    # The 8 dark cells of a 4x4 board on [-2, 2]^2: those whose row + column is even.
    cells = np.array([(i, j) for i in range(4) for j in range(4) if (i + j) % 2 == 0])
    corner = cells[rng.integers(len(cells), size=n)] - 2.0
    return corner + rng.uniform(0.0, 1.0, size=(n, 2)), None


def _pinwheel(n: int, rng: np.random.Generator) -> Arrays:
    # Five elongated Gaussian arms, each bent by an angle growing with its radius.
    arms, radial_std, tangential_std, rate = 5, 0.3, 0.05, 0.25
    local = rng.standard_normal((n, 2)) * [radial_std, tangential_std] + [1.0, 0.0]
    angle = rng.integers(arms, size=n) * (2.0 * math.pi / arms) + rate * np.exp(local[:, 0])
    cos, sin = np.cos(angle), np.sin(angle)
    radial, tangential = local[:, 0], local[:, 1]
    return np.stack([cos * radial - sin * tangential, sin * radial + cos * tangential], 1), None


def _spirals(n: int, rng: np.random.Generator) -> Arrays:
    # Two interleaved Archimedean spirals r = t; sqrt spreads points evenly along the arc.
    t = np.sqrt(rng.uniform(0.0, 1.0, size=n)) * 3.0 * math.pi
    sign = np.where(rng.integers(2, size=n) == 1, 1.0, -1.0)
    curve = (sign * t)[:, None] * np.stack([np.cos(t), np.sin(t)], axis=1)
    return curve + 0.3 * rng.standard_normal((n, 2)), None


def _s_curve(n: int, rng: np.random.Generator) -> Arrays:
    from sklearn.datasets import make_s_curve

    return make_s_curve(n_samples=n, noise=0.05, random_state=_seed_of(rng))[0], None


def _toy(sampler: Sampler) -> Maker:
    """Independent seeded train, validation and test draws of a toy, in its own units."""

    def make(n_train: int, n_val: int, n_test: int, seed: int) -> tuple[Arrays, Arrays, Arrays]:
        splits = [
            sampler(size, np.random.default_rng([seed, index]))
            for index, size in enumerate((n_train, n_val, n_test))
        ]
        return splits[0], splits[1], splits[2]

    return make


def _digits(transform: Callable[[np.ndarray], np.ndarray]) -> Maker:
    """sklearn's digits, permuted by ``seed``: train, validation and test images."""

    def make(n_train: int, n_val: int, n_test: int, seed: int) -> tuple[Arrays, Arrays, Arrays]:
        from sklearn.datasets import load_digits

        images = transform(load_digits().data)  # (1797, 64), integer values 0..16
        order = np.random.default_rng(seed).permutation(len(images))
        parts = (
            order[: min(n_train, DIGITS_TRAIN)],
            order[DIGITS_TRAIN : DIGITS_TRAIN + min(n_val, _DIGITS_VAL_END - DIGITS_TRAIN)],
            order[_DIGITS_VAL_END : _DIGITS_VAL_END + n_test],
        )
        return (images[parts[0]], None), (images[parts[1]], None), (images[parts[2]], None)

    return make


_DIGITS = "sklearn's 8x8 handwritten digits (1797 images)"


#: Points per set of ``point_sets``.
POINTS = 6


def _point_sets(n: int, rng: np.random.Generator) -> tuple[np.ndarray, None]:
    """Exchangeable sets: POINTS points on a noisy circle of random radius, in random order."""
    radius = rng.uniform(0.5, 1.5, size=(n, 1))
    angle = rng.uniform(0.0, 2.0 * math.pi, size=(n, POINTS))
    points = radius[..., None] * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
    return (points + 0.05 * rng.standard_normal(points.shape)).reshape(n, 2 * POINTS), None


#: Length and categories of ``categorical_sequences``.
SEQUENCE, CATEGORIES = 8, 4


def _categorical_sequences(
    n_train: int, n_val: int, n_test: int, seed: int
) -> tuple[Arrays, Arrays, Arrays]:
    """A sticky Markov chain: stay with probability 0.7, else move one category up."""

    def draw(n: int, rng: np.random.Generator) -> Arrays:
        states = np.empty((n, SEQUENCE), dtype=np.int64)
        states[:, 0] = rng.choice(CATEGORIES, size=n, p=[0.4, 0.3, 0.2, 0.1])
        for t in range(1, SEQUENCE):
            move = rng.uniform(size=n) > 0.7
            states[:, t] = (states[:, t - 1] + move) % CATEGORIES
        return states.astype(np.float64), None

    sizes = (n_train, n_val, n_test)
    splits = [draw(n, np.random.default_rng([seed, index])) for index, n in enumerate(sizes)]
    return splits[0], splits[1], splits[2]


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "moons",
            "two interleaved half circles, sklearn make_moons(noise=0.05) in its own "
            "coordinates (x in about [-1.1, 2.2], y in [-0.7, 1.2]); context: the half-moon "
            "label, shape [1]",
            (2,),
            None,
            _toy(_moons),
            (1,),
        ),
        DatasetInfo(
            "circles",
            "two concentric rings of radii 1 and 0.5, Gaussian noise of std 0.05",
            (2,),
            None,
            _toy(_circles),
        ),
        DatasetInfo(
            "rings",
            "four concentric rings of radii 1 to 4, Gaussian noise of std 0.08",
            (2,),
            None,
            _toy(_rings),
        ),
        DatasetInfo(
            "eight_gaussians",
            "eight Gaussians of std 0.2 evenly spaced on a circle of radius 2",
            (2,),
            None,
            _toy(_eight_gaussians),
        ),
        DatasetInfo(
            "checkerboard",
            "uniform on the 8 dark squares of a 4x4 checkerboard covering [-2, 2]^2",
            (2,),
            None,
            _toy(_checkerboard),
        ),
        DatasetInfo(
            "pinwheel",
            "five curved Gaussian arms around radius 1 (radial std 0.3, tangential 0.05)",
            (2,),
            None,
            _toy(_pinwheel),
        ),
        DatasetInfo(
            "spirals",
            "two interleaved spirals r = t up to t = 3 pi (radius about 9.4), noise std 0.3",
            (2,),
            None,
            _toy(_spirals),
        ),
        DatasetInfo(
            "s_curve",
            "a noisy S-shaped 2-D sheet in 3-D, sklearn make_s_curve(noise=0.05) in its "
            "own coordinates (x in [-1, 1], y in [0, 2], z in [-2, 2])",
            (3,),
            None,
            _toy(_s_curve),
        ),
        DatasetInfo("digits", f"{_DIGITS}, 64 values 0..16", (64,), 17, _digits(lambda a: a)),
        DatasetInfo(
            "digits_image",
            f"{_DIGITS} as [1, 8, 8] images, values 0..16",
            (1, 8, 8),
            17,
            _digits(lambda a: a),
        ),
        DatasetInfo(
            "digits_binary",
            f"{_DIGITS}, 64 pixels binarised (value >= 8 is 1)",
            (64,),
            2,
            _digits(lambda a: (a >= 8).astype(a.dtype)),
        ),
        DatasetInfo(
            "point_sets",
            f"sets of {POINTS} 2-D points on circles of radius 0.5 to 1.5, noise std 0.05 "
            "(exchangeable)",
            (POINTS, 2),
            None,
            _toy(_point_sets),
        ),
        DatasetInfo(
            "categorical_sequences",
            f"sticky Markov chains of {SEQUENCE} values in 0..{CATEGORIES - 1}",
            (SEQUENCE,),
            CATEGORIES,
            _categorical_sequences,
        ),
    )
}


def _split(arrays: Arrays, info: DatasetInfo) -> Split:
    values, labels = arrays
    x = torch.as_tensor(values, dtype=torch.float32).reshape(-1, *info.shape)
    context = None
    if labels is not None and info.context_shape is not None:
        context = torch.as_tensor(labels, dtype=torch.float32).reshape(-1, *info.context_shape)
    return Split(x, context)


def load_dataset(
    name: str, n_train: int = 10_000, n_test: int = 2_000, seed: int = 0, n_val: int = 2_000
) -> Dataset:
    """Generate (or load) a bundled data set as float32 tensors, deterministically in
    ``seed``. The digits sets have at most 1350 training, 150 validation, 297 test images."""
    if name not in DATASETS:
        message = f"unknown data set '{name}'; available: {', '.join(DATASETS)}"
        suggestion = did_you_mean(name, DATASETS)
        raise ValueError(f"{message} ({suggestion})" if suggestion else message)
    for label, value in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test)):
        if value < 1:
            raise ValueError(f"{label} must be at least 1, got {value}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    info = DATASETS[name]
    train, val, test = info.make(n_train, n_val, n_test, seed)
    splits = (_split(train, info), _split(val, info), _split(test, info))
    return Dataset.from_splits(name, splits, info.shape, info.levels, info.context_shape)
