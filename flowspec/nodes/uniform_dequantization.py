"""Uniform dequantization: turn integers into continuous values in (0, 1).

Theis, van den Oord and Bethge 2016, "A note on the evaluation of generative models",
arXiv:1511.01844; used throughout flows, e.g. Ho et al. 2019, Flow++, arXiv:1902.00275.
Inference draws ``u ~ U(0, 1)`` elementwise and passes on

    z = (x + u) / K

for integer data ``x`` in ``{0..K-1}``; generation takes ``x = floor(z * K)`` (clamped to
``0..K-1``). The contribution is the constant ``-D log K`` with ``D = numel(event)``.
Derivation: the discrete probability of ``x`` is the mass a continuous density ``p_y``
puts on the unit cell ``x + [0, 1)^D``; with ``y = K z``, ``p_y(y) = p(z) K^-D``, and the
uniform ``q(u) = 1`` on the cell, so by Jensen

    log P(x) = log E_q[p_y(x + u) / q(u)] >= E_q[log p(z) - D log K].

One draw of ``u`` gives an unbiased estimate of this lower bound.

``u`` is clamped to ``[m, 1 - m]`` with ``m = max(1e-6, 4 K eps(dtype))`` (1e-6 in
float64, about 1.2e-4 in float32 for K = 256): then ``x + u`` cannot round to ``x + 1`` or
to ``x``, so ``z`` is strictly inside (0, 1) (a following logit stays finite) and
``floor(z * K)`` recovers ``x`` exactly, in float32 as well. The clamp moves a probability
of ``2 m`` per element to the edges of the cell and is ignored in the contribution. (In
float32, K much above 2^16 leaves too few representable values per cell, which is why an
input declares at most 2^16 levels.)

Example::

    pixels: {kind: uniform_dequantization, in: image}   # image declares levels: 256
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo, Support

if TYPE_CHECKING:
    from flowspec.layers.uniform_dequantization import UniformDequantization

__all__ = ["UniformDequantizationSpec"]


class UniformDequantizationSpec(NodeSpec):
    """Uniform dequantization of integers 0..K-1 into (0, 1): z = (x + u) / K."""

    kind: Literal["uniform_dequantization"] = "uniform_dequantization"
    summary = "uniform dequantization: z = (x + u) / K, u ~ U(0, 1)"
    reference = (
        "Theis et al. 2016, A note on the evaluation of generative models, arXiv:1511.01844; "
        "Ho et al. 2019, Flow++, arXiv:1902.00275"
    )
    contribution = "-D log K"
    bijective = False
    stochastic_forward = True
    has_parameters = False

    examples = (Example({}, (PortInfo((3,), Support(levels=4)),)),)

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if x.support.levels is None:
            check.error(
                "E480",
                f"uniform_dequantization needs discrete input values 0..K-1, but the input "
                f"lives in {x.support}",
                "in",
                hint="declare the number of levels on the input, e.g. {shape: [784], levels: 256}",
            )
            return None
        return (PortInfo(x.shape, Support(0.0, 1.0)),)

    def build(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None
    ) -> UniformDequantization:
        from flowspec.layers.uniform_dequantization import UniformDequantization

        x = inputs[0]
        assert x.support.levels is not None
        return UniformDequantization(x.support.levels, x.numel)
