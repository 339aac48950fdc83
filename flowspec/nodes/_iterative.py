"""What the determinant-identity, residual and continuous-time kinds share: the settings of
an iterative inverse and the check that their input is made of real values.

Planar and Sylvester flows (Rezende and Mohamed 2015, arXiv:1505.05770; van den Berg et al.
2018, arXiv:1803.05649) are written, like their papers, as generation maps ``x = f(z)``
with a closed-form log-determinant; inference (data -> latent, what ``log_prob`` runs)
has no closed form. i-ResNet blocks (Behrmann et al. 2019, arXiv:1811.00995) are the other
way round: inference is one pass, generation a fixed-point iteration.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import check_continuous

__all__ = [
    "RootFinding",
    "FixedPoint",
    "real_map",
    "check_deterministic_net",
    "check_conv_input",
    "MAX_ITER",
    "EXACT_DIMS",
]

#: The most iterations a spec may ask of one solve.
MAX_ITER = 10_000
#: Above this many features an exact log-determinant or trace (one backward pass per
#: feature) is reported as slow (a warning).
EXACT_DIMS = 16


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class RootFinding(_Settings):
    """Inference by scalar root finding of a strictly increasing function of one number per
    sample (the planar flow's ``w.z``), bracketed so that bisection always converges."""

    method: Literal["bisection", "newton"] = Field(
        default="bisection",
        description="bisection (halves the bracket each step) or newton (safeguarded by the "
        "bracket: a Newton step that leaves it is replaced by bisection).",
    )
    tol: PositiveFloat = Field(
        default=1e-6, description="Stop when the root is known to within tol."
    )
    max_iter: int = Field(default=100, ge=1, le=MAX_ITER, description="At most this many steps.")


class FixedPoint(_Settings):
    """Generation by the fixed-point iteration ``x <- z - g(x)``, a contraction when
    ``Lip(g) < 1`` (Banach), so it converges geometrically from any start."""

    tol: PositiveFloat = Field(
        default=1e-6, description="Stop when no element moved by more than tol in one step."
    )
    max_iter: int = Field(default=200, ge=1, le=MAX_ITER, description="At most this many steps.")


def real_map(kind: str, inputs: tuple[PortInfo, ...], check: NodeCheck) -> tuple[PortInfo] | None:
    """The shape rule of a learned bijection of continuous values of any event shape (the
    layer sees each example flattened, or as an image for convolutional nets): it moves
    values anywhere on the real line, but bounded or sorted values still do not fill it
    (:meth:`Support.moved`)."""
    (x,) = inputs
    if not check_continuous(x, kind, check):
        return None
    return (PortInfo(x.shape, x.support.moved()),)


def check_conv_input(shape: tuple[int, ...], check: NodeCheck) -> bool:
    """A convolutional residual branch or vector field (``net: {kind: conv}``) needs
    images ``[C, H, W]`` (E761)."""
    if len(shape) == 3:
        return True
    check.error(
        "E761",
        f"a convolutional net (kind: conv) needs images [C, H, W], got {list(shape)}",
        "net",
        "kind",
        hint="reshape the input to [C, H, W], or use net: {kind: mlp}, which flattens",
    )
    return False


def check_deterministic_net(net: BaseModel, what: str, why: str, check: NodeCheck) -> None:
    """A network that must be one fixed function of its input (a residual branch, a CNF's
    vector field) takes no dropout (E760): while training, dropout draws another network
    on every call, ``why`` breaks."""
    dropout = getattr(net, "dropout", 0.0)
    if dropout:
        check.error(
            "E760",
            f"dropout {dropout:g} makes {what} a random function while training: {why}",
            "net",
            "dropout",
            hint="remove dropout from this net (regularise with weight_decay in the train "
            "settings instead)",
        )
