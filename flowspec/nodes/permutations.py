"""Fixed permutations of the feature axis: ``reverse`` and ``shuffle``.

Stacked coupling layers must alternate which features they transform; NICE and RealNVP
(Dinh et al. 2014, arXiv:1410.8516; Dinh et al. 2016, arXiv:1605.08803) reverse the
feature order between layers, and Glow (Kingma and Dhariwal 2018, arXiv:1807.03039)
compares reversing with a fixed random shuffle. A permutation has ``|det| = 1``, so its
contribution is zero. It acts on event axis 0 (features of ``[D]``, channels of
``[C, H, W]``), whatever the event shape.

Example::

    - {kind: reverse}
    - {kind: shuffle, seed: 3}
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import MAX_SEED, NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import check_feature_axis

if TYPE_CHECKING:
    from flowspec.layers.permutations import Permutation, Reverse

__all__ = ["ReverseSpec", "ShuffleSpec", "shuffle_order", "IDENTITY_CHECKED"]

#: Up to how many features a shuffle's order is drawn to warn that it changes nothing.
IDENTITY_CHECKED = 20


def shuffle_order(features: int, seed: int) -> list[int]:
    """The fixed random order of ``shuffle``, reproducible from the seed: drawn with
    Python's own Mersenne Twister, so it is the same on every device and torch version,
    and checking a spec needs no torch."""
    order = list(range(features))
    random.Random(seed).shuffle(order)
    return order


class _PermutationSpec(NodeSpec):
    """What both permutation kinds share: the feature-axis checks and the module."""

    contribution = "0"
    volume_preserving = True
    has_parameters = False

    def order(self, features: int) -> list[int]:
        raise NotImplementedError

    def is_identity(self, features: int) -> bool:
        """Whether the order of ``features`` features is left unchanged."""
        raise NotImplementedError

    def _identity_hint(self) -> str:
        raise NotImplementedError

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if not check_feature_axis(x, self.kind, check):
            return None
        features = x.shape[0]
        if self.is_identity(features):
            check.warning(
                "W410",
                f"{self.kind} of {features} feature{'s' if features != 1 else ''} leaves "
                "the order unchanged, so this node does nothing",
                *(("seed",) if features > 1 else ("in",)),
                hint=self._identity_hint(),
            )
        return (x.with_shape(x.shape),)  # reordered: a sort's layout is gone


class ReverseSpec(_PermutationSpec):
    """Reverses the order of the features (event axis 0)."""

    kind: Literal["reverse"] = "reverse"
    summary = "reverse the feature axis (event axis 0), volume preserving"
    reference = (
        "Dinh et al. 2014, NICE: Non-linear Independent Components Estimation, arXiv:1410.8516"
    )

    examples = (
        Example({}, (PortInfo((3,)),), label="flat"),
        Example({}, (PortInfo((2, 2, 2)),), label="image"),
    )

    def order(self, features: int) -> list[int]:
        return list(range(features - 1, -1, -1))

    def is_identity(self, features: int) -> bool:
        return features <= 1

    def _identity_hint(self) -> str:
        return "remove it: a single feature cannot be reordered"

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Reverse:
        from flowspec.layers.permutations import Reverse

        return Reverse()


class ShuffleSpec(_PermutationSpec):
    """A fixed random permutation of the features (event axis 0), drawn from ``seed``."""

    kind: Literal["shuffle"] = "shuffle"
    seed: int = Field(
        default=0,
        ge=0,
        le=MAX_SEED,
        description="Seed of the random permutation (reproducible, and saved), 0 .. 2^63 - 1. "
        "In a block use, repetition r uses seed + r, so the repetitions differ.",
    )
    summary = "fixed random permutation of the feature axis (event axis 0), from a seed"
    reference = (
        "Kingma and Dhariwal 2018, Glow: Generative Flow with Invertible 1x1 Convolutions, "
        "arXiv:1807.03039"
    )

    examples = (Example({"seed": 3}, (PortInfo((5,)),)),)

    def order(self, features: int) -> list[int]:
        return shuffle_order(features, self.seed)

    def for_repetition(self, repetition: int) -> ShuffleSpec:
        return self.model_copy(update={"seed": (self.seed + repetition) % (MAX_SEED + 1)})

    def is_identity(self, features: int) -> bool:
        # A seed draws one of features! orders: past IDENTITY_CHECKED features the chance
        # of the identity (1/21! < 2e-20) is not worth drawing a long order in a check.
        return features <= IDENTITY_CHECKED and self.order(features) == list(range(features))

    def _identity_hint(self) -> str:
        return "choose another seed, or use {kind: reverse}"

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Permutation:
        # Saved in state_dict: a model must keep its permutation even if a later torch
        # draws a different one from the same seed.
        from flowspec.layers.permutations import Permutation

        return Permutation(self.order(inputs[0].shape[0]), persistent=True)
