"""The four 2-D energies of Rezende and Mohamed (2015), "Variational Inference with
Normalizing Flows", ICML, arXiv:1505.05770, Table 1 and Figure 3: unnormalized densities
``p(z) ∝ exp(-U(z))`` on the plane, the targets of ``flowspec train --target U1``.

With ``z = (z1, z2)``::

    w1(z) = sin(2 pi z1 / 4)
    w2(z) = 3 exp(-1/2 ((z1 - 1) / 0.6)^2)
    w3(z) = 3 sigmoid((z1 - 1) / 0.3)

    U1(z) = 1/2 ((|z| - 2) / 0.4)^2
            - ln(exp(-1/2 ((z1 - 2) / 0.6)^2) + exp(-1/2 ((z1 + 2) / 0.6)^2))
    U2(z) = 1/2 ((z2 - w1(z)) / 0.4)^2
    U3(z) = -ln(exp(-1/2 ((z2 - w1(z)) / 0.35)^2) + exp(-1/2 ((z2 - w1(z) + w2(z)) / 0.35)^2))
    U4(z) = -ln(exp(-1/2 ((z2 - w1(z)) / 0.4)^2) + exp(-1/2 ((z2 - w1(z) + w3(z)) / 0.35)^2))

U2, U3 and U4 as printed depend on ``z1`` only through the bounded ``w_i``: ``exp(-U)`` has
infinite mass along ``z1``, so it has no normalising constant, and the reverse KL to it is
unbounded below (a flow lowers it without end by spreading along ``z1``). The paper draws
them on the window ``[-4, 4]^2``; here they are confined to that window in ``z1`` by a
quadratic wall outside it, ``+ 1/2 ((|z1| - 4)_+ / 0.4)^2`` (the ridges' own width): the
energies are the paper's inside the window, and their mass outside it falls like a
Gaussian of standard deviation 0.4. U1 has finite mass as printed and is left alone.

Every energy has all but ``exp(-25)`` of its density's peak value inside the box
``[-7, 7]^2`` (:data:`BOX`), where :func:`flowspec.train.target.log_normalizer` integrates
it on a grid.

    >>> import torch
    >>> z = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    >>> [round(float(v), 4) for v in ENERGIES["U1"].log_density(z)]   # -U1(z)
    [0.0, -17.3624]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

__all__ = ["BOX", "Energy", "ENERGIES", "WALL", "WINDOW"]

BOX = (-7.0, 7.0)
"""The square (both axes) holding all the energies' mass, for log Z on a grid."""
WINDOW = 4.0
"""Half the width of the paper's figure window ``[-4, 4]^2``, where U2-U4 are walled in z1."""
WALL = 0.4
"""The width of the wall outside the window (the ridges' standard deviation)."""


@dataclass(frozen=True)
class Energy:
    """A bundled energy: its name, what it looks like, and ``log p~(z) = -U(z)``."""

    name: str
    description: str
    log_density: Callable[[torch.Tensor], torch.Tensor]


def _w1(z1: torch.Tensor) -> torch.Tensor:
    return torch.sin(2 * math.pi * z1 / 4)


def _w2(z1: torch.Tensor) -> torch.Tensor:
    return 3 * torch.exp(-0.5 * ((z1 - 1) / 0.6) ** 2)


def _w3(z1: torch.Tensor) -> torch.Tensor:
    return 3 * torch.sigmoid((z1 - 1) / 0.3)


def _log_gaussian_bump(offset: torch.Tensor, width: float) -> torch.Tensor:
    """``-1/2 (offset / width)^2``: the log of an unnormalized Gaussian bump."""
    return -0.5 * (offset / width) ** 2


def _wall(z1: torch.Tensor) -> torch.Tensor:
    """The confining energy ``1/2 ((|z1| - 4)_+ / 0.4)^2`` (zero inside the window)."""
    return 0.5 * (F.relu(z1.abs() - WINDOW) / WALL) ** 2


def _u1(z: torch.Tensor) -> torch.Tensor:
    z1 = z[:, 0]
    ring = 0.5 * ((z.norm(dim=1) - 2) / 0.4) ** 2
    modes = torch.logaddexp(_log_gaussian_bump(z1 - 2, 0.6), _log_gaussian_bump(z1 + 2, 0.6))
    return -(ring - modes)


def _u2(z: torch.Tensor) -> torch.Tensor:
    z1, z2 = z[:, 0], z[:, 1]
    return _log_gaussian_bump(z2 - _w1(z1), 0.4) - _wall(z1)


def _split_ridge(
    z: torch.Tensor, shift: Callable[[torch.Tensor], torch.Tensor], width: float
) -> torch.Tensor:
    """``log(exp(-1/2 (r / width)^2) + exp(-1/2 ((r + shift(z1)) / 0.35)^2))`` with
    ``r = z2 - w1(z1)``, walled in ``z1``: ``-U3`` (``w2``, 0.35) and ``-U4`` (``w3``, 0.4)."""
    z1, z2 = z[:, 0], z[:, 1]
    ridge = z2 - _w1(z1)
    split = torch.logaddexp(
        _log_gaussian_bump(ridge, width), _log_gaussian_bump(ridge + shift(z1), 0.35)
    )
    return split - _wall(z1)


def _u3(z: torch.Tensor) -> torch.Tensor:
    return _split_ridge(z, _w2, 0.35)


def _u4(z: torch.Tensor) -> torch.Tensor:
    return _split_ridge(z, _w3, 0.4)


ENERGIES: dict[str, Energy] = {
    energy.name: energy
    for energy in (
        Energy("U1", "a ring with two modes on the z1 axis", _u1),
        Energy("U2", "a sine ridge, walled at |z1| = 4", _u2),
        Energy("U3", "a sine ridge splitting in two around z1 = 1, walled at |z1| = 4", _u3),
        Energy("U4", "a sine ridge stepping down beyond z1 = 1, walled at |z1| = 4", _u4),
    )
}
"""The bundled energies by name (``flowspec.spec.training.ENERGIES`` lists the names)."""
