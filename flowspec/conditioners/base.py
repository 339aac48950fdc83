"""The base of conditioner network specs."""

from __future__ import annotations

from abc import abstractmethod

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # torch is imported where networks are built
    from torch import nn

__all__ = ["NetSpec"]


class NetSpec(BaseModel):
    """A network from ``in_features`` to ``out_features`` features.

    Subclasses declare ``kind: Literal["name"] = "name"``.
    """

    # No inf or NaN in any number field of a network spec.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: str

    @abstractmethod
    def build(self, in_features: int, out_features: int, *, zero_init: bool = True) -> "nn.Module":
        """The network; with ``zero_init`` its last layer starts at zero, so the layer it
        parameterizes starts at the identity."""
