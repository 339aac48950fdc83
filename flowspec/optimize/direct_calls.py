"""Pass: call every remaining layer's ``forward`` directly, and a split coupling's
conditioner and transformer too.

Profile (realnvp_moons, log_prob without gradients): ``nn.Module.__call__`` per node
(hook bookkeeping, forward-pre/post dispatch) is a visible share of a small model's step.
After the node's own call, a coupling still paid two: its conditioner and its transformer
are modules of their own, where the hand-written coupling is one module calling its
``nn.Sequential``: split couplings (:class:`Couple`) and those left whole (checkerboard
masks, ``Call.parts_direct``) call them as methods. Hooks registered on any module whose call is skipped still run: the
emitted code switches to the literal per-node calls whenever one is registered
(:mod:`flowspec.emit.fast_path`), and ``trace`` always runs the literal code.
"""

from __future__ import annotations

from flowspec.nodes._coupling import CouplingBase
from flowspec.optimize.program import Call, Couple, Program

__all__ = ["call_directly"]


def call_directly(program: Program) -> None:
    for op in program.ops:
        if isinstance(op, (Call, Couple)):
            op.direct = True
    # Couplings left whole (checkerboard masks) skip their parts' __call__ too.
    for op in program.calls_of(CouplingBase):
        op.parts_direct = True
