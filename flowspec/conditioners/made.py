"""MADE: a masked autoencoder as an autoregressive conditioner.

Germain, Gregor, Murray and Larochelle 2015, "MADE: Masked Autoencoder for Distribution
Estimation", arXiv:1502.03509.

Every weight matrix of an MLP is masked so that the parameters of feature ``i`` depend only
on the features before it in ``order`` (and on the context, which reaches every hidden
unit). One pass gives the parameters of every feature, which makes MAF's density and IAF's
sampling one pass. The masks are checked in the tests by the zero pattern of the Jacobian.

Example::

    conditioner: {kind: made, hidden: [64, 64], order: reversed}
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, NonNegativeInt

from flowspec.conditioners.base import ConditionerSpec
from flowspec.conditioners.mlp import MAX_WIDTH, Activation, dense_parameter_count
from flowspec.core.example import Example
from flowspec.core.node import MAX_SEED, NodeCheck
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import check_unused_settings

if TYPE_CHECKING:
    from flowspec.layers.conditioners.made import MADE

__all__ = ["MADESpec"]


class MADESpec(ConditionerSpec):
    """A masked MLP: feature i's parameters see only the features before it in ``order``."""

    kind: Literal["made"] = "made"
    hidden: list[Annotated[int, Field(gt=0, le=MAX_WIDTH)]] = Field(
        default=[64, 64],
        min_length=1,
        description=f"Hidden layer sizes (each 1 .. {MAX_WIDTH}); at least one layer.",
    )
    activation: Activation = Field(default="relu", description="Activation between layers.")
    order: Literal["natural", "reversed", "random"] | list[NonNegativeInt] = Field(
        default="natural",
        description="The autoregressive order: natural (feature 0 first), reversed, random "
        "(drawn from seed, a new one in each repetition of a block), or an explicit "
        "permutation of 0 .. D-1 giving each feature's position.",
    )
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="Seed of a random order.")
    roles = frozenset({"autoregressive"})
    summary = "masked MLP: feature i's parameters see the features before it in the order"
    reference = "Germain et al. 2015, MADE, arXiv:1502.03509"
    examples = (
        Example(
            {"hidden": [16, 16], "activation": "tanh"},
            (PortInfo((5,)),),
            role="autoregressive",
            label="natural",
        ),
        Example(
            {"hidden": [16], "activation": "tanh", "order": "reversed"},
            (PortInfo((4,)),),
            PortInfo((2,)),
            role="autoregressive",
            label="reversed",
        ),
        Example(
            {"hidden": [16], "activation": "tanh", "order": "random", "seed": 3},
            (PortInfo((5,)),),
            role="autoregressive",
            label="random",
        ),
        Example(
            {"hidden": [16], "activation": "tanh", "order": [2, 0, 4, 1, 3]},
            (PortInfo((5,)),),
            role="autoregressive",
            label="explicit",
        ),
        Example(
            {"hidden": [16], "activation": "tanh"},
            (PortInfo((1, 2, 2)),),
            role="autoregressive",
            label="image",
        ),
    )

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        if self.order != "random":
            check_unused_settings(
                self,
                ("seed",),
                f"it draws a random order, and the order is {self.describe_order()}",
                check,
                *field,
                hint="remove 'seed', or set order: random",
            )

    def check_autoregressive(
        self, x: PortInfo, context: PortInfo | None, check: NodeCheck, *field: str | int
    ) -> bool:
        ok = self.check_flat_context(context, check)
        narrowest = min(self.hidden)
        if narrowest < x.numel - 1:
            check.warning(
                "W603",
                f"a hidden layer of {narrowest} units is narrower than D - 1 = {x.numel - 1} "
                f"for the {x.numel} features of {x}: MADE gives hidden units the degrees "
                f"1, 2, ... in turn, so only the first {narrowest} features in the order reach "
                "any hidden unit, and the later ones condition nothing",
                *field,
                "hidden",
                hint=f"make every hidden layer at least {x.numel - 1} units wide",
            )
        if isinstance(self.order, list) and sorted(self.order) != list(range(x.numel)):
            check.error(
                "E602",
                f"order must be a permutation of 0 .. {x.numel - 1} (one position per "
                f"feature of {x}), got {self.order}",
                *field,
                "order",
            )
            ok = False
        return ok

    def ranks(self, features: int) -> list[int]:
        """Each feature's position in the autoregressive order."""
        if self.order == "natural":
            return list(range(features))
        if self.order == "reversed":
            return list(range(features))[::-1]
        if self.order == "random":
            ranks = list(range(features))
            random.Random(self.seed).shuffle(ranks)
            return ranks
        return list(self.order)

    def autoregressive_ranks(self, shape: tuple[int, ...]) -> list[int]:
        return self.ranks(PortInfo(shape).numel)

    def for_repetition(self, repetition: int) -> MADESpec:
        if self.order != "random" or repetition == 0:
            return self
        return self.model_copy(update={"seed": (self.seed + repetition) % (MAX_SEED + 1)})

    def autoregressive_parameter_count(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> int:
        """The masked layers hold full weight matrices (the masks are buffers)."""
        features = PortInfo(shape).numel
        context = PortInfo(context_shape).numel if context_shape else 0
        return dense_parameter_count([features + context, *self.hidden, features * params])

    def build_autoregressive(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> MADE:
        from flowspec.layers.conditioners.made import MADE

        features = PortInfo(shape).numel
        context = PortInfo(context_shape).numel if context_shape else 0
        return MADE(
            list(shape),
            self.ranks(features),
            list(self.hidden),
            params,
            context,
            self.activation,
        )

    def describe_order(self) -> str:
        return self.order if isinstance(self.order, str) else "explicit"

    def describe(self) -> str:
        widths = "x".join(map(str, self.hidden))
        return f"made {widths} {self.activation}, {self.describe_order()} order"
