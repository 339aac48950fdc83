"""Pass: call every remaining layer's ``forward`` directly.

Profile (realnvp_moons, log_prob without gradients): ``nn.Module.__call__`` per node
(hook bookkeeping, forward-pre/post dispatch) is a visible share of a small model's step.
Hooks registered on a node's module still run: the emitted code switches to the literal
per-node calls whenever any is registered (:mod:`flowspec.emit.fast_path`), and ``trace``
always runs the literal code.
"""

from __future__ import annotations

from flowspec.optimize.program import Call, Program

__all__ = ["call_directly"]


def call_directly(program: Program) -> None:
    for op in program.ops:
        if isinstance(op, Call):
            op.direct = True
