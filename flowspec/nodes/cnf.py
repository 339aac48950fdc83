"""Continuous normalizing flow (FFJORD).

Chen, Rubanova, Bettencourt and Duvenaud, "Neural Ordinary Differential Equations",
NeurIPS 2018, arXiv:1806.07366; Grathwohl, Chen, Bettencourt, Sutskever and Duvenaud,
"FFJORD: Free-form Continuous Dynamics for Scalable Reversible Generative Models", ICLR
2019, arXiv:1810.01367.

Inference (data -> latent) integrates ``dy/dt = f(t, y)`` from ``y(0) = x`` to
``z = y(time)``, together with ``d a/dt = tr(df/dy)``, so that
``log|det dz/dx| = a(time)`` (the instantaneous change of variables). Generation integrates
``f`` back from ``time`` to 0. ``f`` is an MLP of ``(t, y)`` on the example flattened (any
event shape) or, on images ``[C, H, W]``, FFJORD's convolutional field with the time as an
extra channel of every layer (``net: {kind: conv}``, :mod:`flowspec.nodes._vector_field`;
E761 on other shapes); multi-scale FFJORD is written with ``squeeze`` and ``split`` between
CNFs (``specs/zoo/ffjord_mnist.yaml``). The solver is torchdiffeq's
``odeint`` (or ``odeint_adjoint`` with ``adjoint: true``: memory constant in the number of
solver steps, at the price of a second solve in the backward pass). An adaptive method's
first trial step is the whole integration time (``first_step: whole``, as zuko's solver
does; every step is error-controlled, so this keeps the tolerance): torchdiffeq's own guess
(``first_step: estimate``) is 1e-6 on the zero field a CNF starts at and then takes 7 steps
to grow, 44 evaluations per solve where the whole step takes 7.

``trace``: ``exact`` (``log_prob`` is exact up to the solver's tolerance; an ``mlp``
field's trace has a closed form computed along its forward pass,
:mod:`flowspec.layers._mlp_trace`, any other field's takes D backward passes per function
evaluation) or ``hutchinson`` (``e^T (df/dy) e`` with one Gaussian ``e`` per
solve, FFJORD's estimator: ``log_prob`` is an unbiased estimate, to the tolerance).
Both directions iterate (an ODE solve), so ``torch.compile`` cannot capture the kind as one
graph (``not_fullgraph``).

Given a flat ``context`` ``c`` (E406 otherwise), the dynamics are ``f(t, y; c)``: a
conditional CNF, one flow per context (the amortized posteriors of FFJORD's VAE
experiments, Grathwohl et al. 2019, Sec. 4.2). The context rides along in the ODE state
with zero velocity, so the adjoint method returns its gradient too.

Example::

    - {kind: cnf, net: {kind: mlp, hidden: [64, 64], activation: tanh}, time: 1.0,
       trace: hutchinson, solver: {method: dopri5, rtol: 1.0e-5, atol: 1.0e-5}}
    - {kind: cnf, in: x, context: c, net: {kind: mlp, hidden: [64], activation: tanh},
       trace: exact}

On images, FFJORD's MNIST field is
``net: {kind: conv, channels: [64, 64, 64], kernel: 3, activation: softplus}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

from flowspec.conditioners.base import check_flat_context, context_width
from flowspec.conditioners.mlp import MLPSpec
from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Costs, Likelihood
from flowspec.nodes._checks import check_unused_settings
from flowspec.nodes._iterative import (
    EXACT_DIMS,
    check_deterministic_net,
    real_map,
)
from flowspec.nodes._vector_field import ConcatConvFieldSpec, VectorField

if TYPE_CHECKING:
    from flowspec.layers.cnf import CNF

__all__ = ["CNFSpec", "ODESolver", "FIXED_STEP"]

#: torchdiffeq's fixed-grid methods: they need a step size.
FIXED_STEP = ("euler", "midpoint", "rk4", "explicit_adams", "implicit_adams")
#: The fixed-step methods that use no tolerance (implicit_adams' corrector iterates to
#: rtol and atol; these ignore them).
TOLERANCE_FREE = ("euler", "midpoint", "rk4", "explicit_adams")
#: Activations without a continuous derivative: adaptive solvers slow down at their kinks.
NOT_SMOOTH = ("relu", "leaky_relu")

#: The most steps a fixed-step solver may take over the integration time (each step holds
#: the batch's states for the backward pass: 1e12 steps asked for terabytes).
MAX_FIXED_STEPS = 10_000

#: The smallest rtol/atol (float64 gradient checks use 1e-10): below it float32 cannot meet
#: the tolerance (1e-12 ran for minutes on two features) and the adaptive
#: solver shrinks its step until it hangs or stops with "underflow in dt".
MIN_TOLERANCE = 1e-10


class ODESolver(BaseModel):
    """torchdiffeq's solver settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    method: Literal[
        "dopri5",
        "dopri8",
        "bosh3",
        "fehlberg2",
        "adaptive_heun",
        "euler",
        "midpoint",
        "rk4",
        "explicit_adams",
        "implicit_adams",
    ] = Field(default="dopri5", description="torchdiffeq's method name.")
    rtol: PositiveFloat = Field(default=1e-5, description="Relative tolerance (adaptive methods).")
    atol: PositiveFloat = Field(default=1e-5, description="Absolute tolerance (adaptive methods).")
    step_size: PositiveFloat | None = Field(
        default=None,
        description=f"Step size: required by the fixed-grid methods ({', '.join(FIXED_STEP)}).",
    )
    first_step: Literal["whole", "estimate"] | PositiveFloat = Field(
        default="whole",
        description="The first step an adaptive method tries, shrunk until its error is "
        "within rtol and atol like every later step: whole (the integration time, as zuko "
        "does), estimate (torchdiffeq's guess from the field at the start: 1e-6 where the "
        "field is zero there, as a CNF's is at initialisation, which then costs 7 steps "
        "growing tenfold), or a number.",
    )

    def torchdiffeq_options(self, time: float) -> dict[str, float]:
        """The ``options`` torchdiffeq's ``odeint`` takes for these settings over an
        integration of length ``time``."""
        if self.method in FIXED_STEP:
            return {"step_size": self.step_size} if self.step_size is not None else {}
        if self.first_step == "estimate":
            return {}
        return {"first_step": time if self.first_step == "whole" else self.first_step}


class CNFSpec(NodeSpec):
    """Continuous normalizing flow dy/dt = f(t, y), log-det by the trace integral (FFJORD)."""

    kind: Literal["cnf"] = "cnf"
    net: VectorField = Field(
        default_factory=lambda: MLPSpec(activation="tanh"),
        description="The dynamics f(t, y): an MLP of the time and the state flattened, or "
        "{kind: conv} on images (smooth activations such as tanh or softplus keep adaptive "
        "solvers fast).",
    )
    time: PositiveFloat = Field(default=1.0, description="Integration time T: z = y(T).")
    trace: Literal["exact", "hutchinson"] = Field(
        default="hutchinson",
        description="exact (log_prob exact to the solver's tolerance; an mlp field's trace in "
        "closed form, one forward pass per evaluation, any other field's by D backward "
        "passes) or hutchinson (one backward pass; an unbiased estimate).",
    )
    solver: ODESolver = Field(default_factory=ODESolver, description="ODE solver settings.")
    adjoint: bool = Field(
        default=False,
        description="Backpropagate by the adjoint method (memory O(1) in the "
        "number of steps, a second solve in the backward pass).",
    )
    summary = "FFJORD continuous flow dy/dt = f(t, y), log-det by the trace integral"
    reference = "Grathwohl et al. 2019, FFJORD, arXiv:1810.01367"

    has_parameters = True
    accepts_context = True
    not_fullgraph = "torchdiffeq's adaptive ODE solvers take a data-dependent number of steps"
    examples = (
        Example(
            {
                "net": {"hidden": [8], "activation": "tanh"},
                "trace": "exact",
                "solver": {"rtol": 1.0e-8, "atol": 1.0e-8},
            },
            (PortInfo((2,)),),
            label="exact",
        ),
        Example(
            {
                "net": {"hidden": [4], "activation": "tanh"},
                "time": 0.5,
                "solver": {"rtol": 1.0e-8, "atol": 1.0e-8},
            },
            (PortInfo((2,)),),
            label="hutchinson",
        ),
        Example(
            {
                "net": {"kind": "conv", "channels": [3], "activation": "softplus"},
                "trace": "exact",
                "solver": {"rtol": 1.0e-8, "atol": 1.0e-8},
            },
            (PortInfo((1, 3, 3)),),
            label="conv image",
        ),
        Example(
            {
                "net": {"hidden": [8], "activation": "tanh"},
                "trace": "exact",
                "solver": {"rtol": 1.0e-8, "atol": 1.0e-8},
            },
            (PortInfo((2,)),),
            PortInfo((3,)),
            label="conditional",
        ),
        Example(
            {
                "net": {"kind": "conv", "channels": [2], "activation": "softplus"},
                "trace": "exact",
                "solver": {"rtol": 1.0e-8, "atol": 1.0e-8},
            },
            (PortInfo((1, 2, 2)),),
            PortInfo((3,)),
            label="conditional conv image",
        ),
    )

    @property
    def closed_form_trace(self) -> bool:
        """Whether the exact trace costs one forward pass (an ``mlp`` field:
        :mod:`flowspec.layers._mlp_trace`) rather than one backward pass per feature."""
        return isinstance(self.net, MLPSpec)

    def for_evaluation(self, inputs: tuple[PortInfo, ...]) -> tuple[CNFSpec, str] | None:
        """The exact trace (to the solver's tolerance): for an ``mlp`` field at any D, for
        other fields at small D."""
        if self.trace == "exact" or (inputs[0].numel > EXACT_DIMS and not self.closed_form_trace):
            return None
        return self.model_copy(update={"trace": "exact"}), "trace: exact"

    def likelihood(self) -> Likelihood:
        return Likelihood.TOLERANCE if self.trace == "exact" else Likelihood.ESTIMATE

    def tolerance(self) -> str:
        s = self.solver
        if s.method in FIXED_STEP:
            return f"{s.method} steps of {s.step_size:g}, no error control"
        return f"{s.method}, rtol {s.rtol:g}, atol {s.atol:g}"

    def costs(self) -> Costs:
        return Costs(Cost.ITERATIVE, Cost.ITERATIVE)

    def check_static(self, check: NodeCheck) -> None:
        if isinstance(self.net, ConcatConvFieldSpec):
            self.net.check_static(check)
        else:
            self.net.check_static(check, "net")
        if self.solver.method in FIXED_STEP and self.solver.step_size is None:
            check.error(
                "E754",
                f"solver method {self.solver.method!r} takes fixed steps and needs step_size",
                "solver",
                "method",
                hint=f"add step_size (e.g. {self.time / 8:g}) or use an adaptive method: dopri5",
            )
        step = self.solver.step_size
        if (
            self.solver.method in FIXED_STEP
            and step is not None
            and self.time / step > MAX_FIXED_STEPS
        ):
            check.error(
                "E758",
                f"time {self.time:g} / step_size {step:g} asks for {self.time / step:.3g} solver "
                f"steps per pass, more than {MAX_FIXED_STEPS}",
                "solver",
                "step_size",
                hint=f"use step_size >= {self.time / MAX_FIXED_STEPS:g}, or an adaptive method: dopri5",
            )
        for name in ("rtol", "atol"):
            if getattr(self.solver, name) < MIN_TOLERANCE:
                check.error(
                    "E759",
                    f"solver {name} {getattr(self.solver, name):g} is below {MIN_TOLERANCE:g}, "
                    "which float32 cannot meet: the adaptive solver would shrink its steps "
                    "until it hangs or fails",
                    "solver",
                    name,
                    hint=f"use {name} >= {MIN_TOLERANCE:g} (the default is 1e-5)",
                )
        check_deterministic_net(
            self.net,
            "the vector field f",
            "the ODE solver would integrate a field that changes on every evaluation (an "
            "adaptive solver shrinks its steps until it stalls), and the trace integral "
            "would not be the log-det of any one map",
            check,
        )
        if self.solver.method not in FIXED_STEP:
            check_unused_settings(
                self.solver,
                ("step_size",),
                f"method {self.solver.method!r} chooses its own steps from rtol and atol",
                check,
                "solver",
            )
        else:
            check_unused_settings(
                self.solver,
                ("first_step",),
                f"method {self.solver.method!r} takes fixed steps of step_size",
                check,
                "solver",
            )
        if self.solver.method in TOLERANCE_FREE:
            check_unused_settings(
                self.solver,
                ("rtol", "atol"),
                f"method {self.solver.method!r} takes fixed steps of step_size, with no "
                "error control",
                check,
                "solver",
            )
        activation = getattr(self.net, "activation", None)
        if activation in NOT_SMOOTH:
            check.warning(
                "W757",
                f"activation {activation!r} has kinks, where adaptive ODE solvers take "
                "many small steps",
                "net",
                "activation",
                hint="use a smooth activation: tanh, elu, silu or gelu",
            )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        if isinstance(self.net, ConcatConvFieldSpec) and not self.net.check_shape(
            inputs[0].shape, check
        ):
            return None
        if not check_flat_context("a cnf's vector field", context, check):
            return None
        outputs = real_map(self.kind, inputs, check)
        if (
            outputs is not None
            and self.trace == "exact"
            and outputs[0].numel > EXACT_DIMS
            and not self.closed_form_trace
        ):
            check.warning(
                "W755",
                f"trace: exact takes {outputs[0].numel} backward passes per evaluation",
                "trace",
                hint="use hutchinson (unbiased) for training on many features",
            )
        return outputs

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        width = context_width(context)
        if isinstance(self.net, ConcatConvFieldSpec):
            return self.net.parameter_count(inputs[0].shape, width)
        features = inputs[0].numel
        return self.net.parameter_count(features + 1 + width, features)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> CNF:
        from flowspec.layers.cnf import CNF

        shape, width = inputs[0].shape, context_width(context)
        if isinstance(self.net, ConcatConvFieldSpec):
            net = self.net.build(shape, width)
            image: list[int] | None = list(shape)
        else:
            net = self.net.build(inputs[0].numel + 1 + width, inputs[0].numel, zero_init=True)
            image = None
        s = self.solver
        options = s.torchdiffeq_options(self.time)
        return CNF(
            net, self.time, self.trace, s.method, s.rtol, s.atol, options, self.adjoint, image
        )
