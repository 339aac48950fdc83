"""Categorical base distribution over discrete latents ``0..K-1``.

The base of discrete flows (Tran et al. 2019, "Discrete Flows: Invertible Generative
Models of Discrete Data", arXiv:1905.10347): an independent categorical per element with
learned logits (or logits from a context port). With only exact nodes and discrete
bijections before it, ``log_prob`` is an exact log-pmf.

Example::

    prior: {kind: categorical, in: body}
"""

from __future__ import annotations

from typing import Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo, Support
from flowspec.densities.categorical import CategoricalSpec
from flowspec.nodes._density_as_base import DensityDistributionSpec

__all__ = ["CategoricalBaseSpec"]


class CategoricalBaseSpec(DensityDistributionSpec, CategoricalSpec):  # type: ignore[misc]  # NodeSpec.describe wins
    """Independent categorical over the K levels of each element (learned logits)."""

    kind: Literal["categorical"] = "categorical"
    summary = "categorical base distribution over 0..K-1 per element"
    reference = "Tran et al. 2019, Discrete Flows, arXiv:1905.10347"
    contribution = "log Cat(z; softmax(l))"
    has_parameters = True
    examples = (
        Example({}, (PortInfo((3,), Support(levels=4)),), label="learned"),
        Example(
            {"net": {"hidden": [4]}},
            (PortInfo((2,), Support(levels=3)),),
            PortInfo((2,)),
            label="context",
        ),
    )
