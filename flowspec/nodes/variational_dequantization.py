"""Variational dequantization: ``z = (x + u) / K`` with a learned ``q(u | x)``.

Ho et al. 2019, "Flow++: Improving Flow-Based Generative Models with Variational
Dequantization and Architecture Design", arXiv:1902.00275, section 3.1; the rounding
surjection of SurVAE flows (Nielsen et al. 2020, arXiv:2007.02731). The uniform noise of
``uniform_dequantization`` is replaced by ``u = sigmoid(v)``, ``v ~ q(v | x)``, so the
bound ``log P(x) >= E_q[log p(z) - D log K - log q(u | x)]`` can tighten: the
contribution is ``-D log K - log q(u | x)`` (see :mod:`flowspec.nodes.rounding` for
``log q(u | x)``). Generation is ``x = floor(K z)``.

Example::

    pixels: {kind: variational_dequantization, in: image, dequantizer: {kind: gaussian, net: {kind: mlp, hidden: [128]}}}
"""

from __future__ import annotations

from typing import Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo, Support
from flowspec.nodes.rounding import RoundingSpec

__all__ = ["VariationalDequantizationSpec"]


class VariationalDequantizationSpec(RoundingSpec):
    """Flow++ dequantization of integers 0..K-1 into (0, 1): z = (x + u) / K, u ~ q(u | x)."""

    kind: Literal["variational_dequantization"] = "variational_dequantization"  # type: ignore[assignment]  # a variant kind
    summary = "variational dequantization: z = (x + u) / K, u ~ q(u | x)"
    reference = "Ho et al. 2019, Flow++, arXiv:1902.00275"
    contribution = "-D log K - log q(u | x)"
    rescale = True
    examples = (
        Example(
            {"dequantizer": {"net": {"hidden": [4]}}}, (PortInfo((1, 2, 2), Support(levels=4)),)
        ),
    )
