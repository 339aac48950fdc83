"""WaveNet's dilated causal convolutions as an autoregressive conditioner for sequences.

van den Oord et al. 2016, "WaveNet: A Generative Model for Raw Audio", arXiv:1609.03499.

For an input ``[C, L]`` (or ``[L]``, one channel) the order is time: the parameters of every
channel at step ``t`` depend only on the steps before ``t`` (the channels of one step are
transformed independently given the past). The input is shifted one step right, then
``layers`` gated residual blocks of causal convolutions with dilations 1, 2, 4, ... widen
the receptive field; a flat context is added to every block's gate input. A 1x1 read-out
that starts at zero gives the parameters.

Example::

    conditioner: {kind: wavenet, hidden: 32, layers: 4, kernel: 2}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners.base import ConditionerSpec
from flowspec.conditioners.mlp import MAX_WIDTH, dense_parameter_count
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.conditioners.wavenet import WaveNet

__all__ = ["WaveNetSpec"]


class WaveNetSpec(ConditionerSpec):
    """Gated residual blocks of dilated causal 1-D convolutions over ``[C, L]``."""

    kind: Literal["wavenet"] = "wavenet"
    hidden: int = Field(default=32, gt=0, le=MAX_WIDTH, description="Residual channels.")
    layers: int = Field(
        default=4, ge=1, le=16, description="Blocks, with dilations 1, 2, 4, ... (1 .. 16)."
    )
    kernel: int = Field(default=2, ge=1, le=16, description="Kernel size (1 .. 16).")
    roles = frozenset({"autoregressive"})
    summary = "gated dilated causal convolutions over time, the channels of a step independent"
    reference = "van den Oord et al. 2016, WaveNet, arXiv:1609.03499"
    examples = (
        Example(
            {"hidden": 8, "layers": 3}, (PortInfo((2, 4)),), role="autoregressive", label="channels"
        ),
        Example(
            {"hidden": 8, "layers": 2, "kernel": 3},
            (PortInfo((6,)),),
            PortInfo((2,)),
            role="autoregressive",
            label="flat",
        ),
    )

    def check_autoregressive(
        self, x: PortInfo, context: PortInfo | None, check: NodeCheck, *field: str | int
    ) -> bool:
        ok = self.check_flat_context(context, check)
        if len(x.shape) not in (1, 2):
            check.error(
                "E713",
                f"a wavenet conditioner needs a sequence [C, L] or [L], got {x}",
                "in",
                hint="reshape the input to [C, L]",
            )
            ok = False
        return ok

    def autoregressive_ranks(self, shape: tuple[int, ...]) -> list[int]:
        """Time order: every channel of step ``t`` has rank ``t``."""
        steps = shape[-1]
        return [index % steps for index in range(PortInfo(shape).numel)]

    def autoregressive_parameter_count(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> int:
        """The 1x1 input and read-out convolutions and, per block, the dilated gate
        convolution, the context's map to the gates and the 1x1 mix."""
        channels = shape[0] if len(shape) == 2 else 1
        hidden, context = self.hidden, PortInfo(context_shape).numel if context_shape else 0
        block = (
            (hidden * self.kernel + 1) * 2 * hidden
            + (dense_parameter_count([context, 2 * hidden]) if context else 0)
            + dense_parameter_count([hidden, hidden])
        )
        ends = dense_parameter_count([channels, hidden]) + dense_parameter_count(
            [hidden, channels * params]
        )
        return ends + self.layers * block

    def build_autoregressive(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> WaveNet:
        from flowspec.layers.conditioners.wavenet import WaveNet

        context = PortInfo(context_shape).numel if context_shape else 0
        return WaveNet(list(shape), self.hidden, self.layers, self.kernel, params, context)

    def describe(self) -> str:
        return f"wavenet {self.layers}x{self.hidden} k{self.kernel}"
