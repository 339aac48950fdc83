"""The base class every node kind derives from, and the torch-side contract.

A node kind is one pydantic model (its spec: the fields a user writes in YAML) that also
knows its ports, its shape rule and how to build its torch module. Everything the
compiler needs is here, so adding a kind means adding one file under ``flowspec/nodes``.

The torch contract (SurVAE flows, Nielsen et al. 2020, arXiv:2007.02731). Inference goes
data -> latent. A flow layer implements::

    forward(*inputs, context=None) -> (output or tuple of outputs, contribution)
    inverse(*outputs, context=None) -> input or tuple of inputs

where ``contribution`` has shape ``(batch,)`` and is added to ``log p(x)``. A
distribution layer (a terminal node) implements::

    forward(z, context=None) -> log p(z), shape (batch,)
    sample(n, context=None) -> z
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo, Support
from flowspec.core.properties import DRAWN_CLASSES, Cost, Costs, Likelihood
from flowspec.diagnostics import Reporter, SpecPath

if TYPE_CHECKING:  # torch is imported where modules are built, never by the spec layer
    from torch import nn

__all__ = [
    "Category",
    "NodeSpec",
    "NodeCheck",
    "Unnormalized",
    "Cost",
    "Costs",
    "Likelihood",
    "PortRefs",
    "MAX_AXIS",
    "MAX_EVENT_NUMEL",
    "MAX_SEED",
]

PortRefs = str | list[str]

# Bounds on the numbers of a spec, so that no check and no build is asked for an absurd
# amount of memory: a bad number gets a located error instead.
#: The largest size of one event axis (an input's shape entry, a reshape's).
MAX_AXIS = 2**24
#: The most elements one event may have (2^27 float32 values are 512 MiB per sample).
MAX_EVENT_NUMEL = 2**27
#: The largest seed: torch generators take 64-bit seeds; kept within a signed int64.
MAX_SEED = 2**63 - 1


class Category(str, Enum):
    """The kind of a node as the likelihood sees it (derived from the flags of its spec)."""

    BIJECTIVE = "bijective"
    SURJECTIVE = "surjective"
    STOCHASTIC = "stochastic"
    DISTRIBUTION = "distribution"


@dataclass(frozen=True)
class Unnormalized:
    """A density of the whole real line fed values that do not fill it: it puts mass where
    no value can be, so the model's total mass is below 1 and ``log_prob`` is at best a
    lower bound. ``code`` is W501 for a distribution node, W800 for a conditional density
    (a decoder); the compiler warns once per ``support.origin`` (one cause)."""

    code: str
    support: Support
    #: Where in the node the density is (``("in",)``, ``("decoder",)``).
    fields: tuple[str | int, ...]
    #: The density in words ("this density", "the gaussian density").
    density: str


@dataclass
class NodeCheck:
    """What a node's checks use to report problems: bound to one node and its path."""

    reporter: Reporter
    node: str
    path: SpecPath
    #: How many errors were reported through this check.
    errors: int = 0
    #: The node's densities that receive values not filling their support (W501, W800):
    #: the model's mass is then below 1 (``GraphNode.unnormalized``). The shape pass
    #: reports them, one warning per cause.
    unnormalized: list[Unnormalized] = field(default_factory=list)

    def error(self, code: str, message: str, *fields: str | int, hint: str | None = None) -> None:
        self.errors += 1
        self.reporter.error(code, message, self.path + fields, node=self.node, hint=hint)

    def warning(self, code: str, message: str, *fields: str | int, hint: str | None = None) -> None:
        self.reporter.warning(code, message, self.path + fields, node=self.node, hint=hint)

    def unnormalized_input(
        self, code: str, support: Support, *fields: str | int, density: str
    ) -> None:
        """Record that a density of the whole real line (at ``fields``) gets values in
        ``support``, which do not fill it (reported by the shape pass, once per cause)."""
        self.unnormalized.append(Unnormalized(code, support, fields, density))


class NodeSpec(BaseModel):
    """Base of every node kind's spec.

    Subclasses declare ``kind: Literal["name"] = "name"`` plus their own fields, set the
    class flags (``has_parameters`` always: it has no default) and ``examples``, and
    implement :meth:`infer` and :meth:`build` (and :meth:`parameter_count` when they hold
    parameters); checks of the settings alone go in :meth:`check_static`.
    """

    # No inf or NaN in any number field: such values only show up later as NaN losses.
    # strict: "8" is not the integer 8, nor true the integer 1, as the schema says.
    # defer_build: a kind's validator is built the first time a spec uses it, so checking
    # a spec does not pay for every registered kind.
    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        populate_by_name=True,
        frozen=True,
        allow_inf_nan=False,
        defer_build=True,
    )

    kind: str
    in_: PortRefs | None = Field(
        default=None,
        alias="in",
        description="Where the input comes from: an input name, a node id, or 'node.port'; "
        "a list for nodes with several inputs. Omitted inside blocks.",
    )
    context: str | None = Field(
        default=None,
        description="A port whose value conditions this node (may be shared by several nodes).",
    )

    # --- class-level description, set by each kind -----------------------------------
    summary: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    contribution: ClassVar[str] = "log|det dz/dx|"
    bijective: ClassVar[bool] = True
    stochastic_forward: ClassVar[bool] = False
    stochastic_inverse: ClassVar[bool] = False
    terminal: ClassVar[bool] = False
    accepts_context: ClassVar[bool] = False
    #: The contribution is always zero (the node moves values without changing volume);
    #: generated ``log_prob`` code leaves it out of the sum.
    volume_preserving: ClassVar[bool] = False
    #: In training mode inference normalises with statistics of the whole batch, which the
    #: inverse (running statistics) does not undo: ``memory: invertible`` keeps its input.
    batch_statistics: ClassVar[bool] = False
    #: Whether the kind's module can hold learned parameters. Every kind states it (there
    #: is no default): kinds with parameters count them in :meth:`parameter_count`, the
    #: others count 0 there without building anything.
    has_parameters: ClassVar[bool]
    #: Why ``torch.compile(model.log_prob, fullgraph=True)`` cannot capture this kind as
    #: one graph (it iterates a data-dependent number of times, or has no log_prob);
    #: empty when it can. Models with such kinds run eagerly and do not export.
    not_fullgraph: ClassVar[str] = ""
    #: Small valid uses of the kind (settings and inputs), which the contract tests run
    #: it on (:mod:`flowspec.core.example`).
    examples: ClassVar[tuple[Example, ...]] = ()

    @classmethod
    def kind_name(cls) -> str:
        return cls.model_fields["kind"].default

    @classmethod
    def category(cls) -> Category:
        if cls.terminal:
            return Category.DISTRIBUTION
        if cls.stochastic_forward and cls.stochastic_inverse:
            return Category.STOCHASTIC
        if cls.stochastic_forward or cls.stochastic_inverse or not cls.bijective:
            return Category.SURJECTIVE
        return Category.BIJECTIVE

    def preserves_volume(self) -> bool:
        """Whether this node's contribution is always zero with these settings (the class
        flag, or, for kinds built from parts, what the parts say)."""
        return self.volume_preserving

    def likelihood(self) -> Likelihood:
        """What this node's contribution to ``log_prob`` is (the model takes the weakest of
        its nodes). Default: a bound when inference draws noise, else exact. Kinds that
        iterate to a tolerance or estimate a log-det override it."""
        return Likelihood.BOUND if self.stochastic_forward else Likelihood.EXACT

    def draws_noise(self) -> bool:
        """Whether this node's contribution to ``log_prob`` draws random numbers, so that
        two calls on the same values differ: a proposal drawn in inference (dequantization,
        augment, a VAE's encoder, argmax) or a stochastic estimator's probes (Hutchinson's
        trace, Russian roulette). A node is a bound or an estimate only through such draws;
        a model can also be a bound without drawing anything, when a density gets values
        that do not fill its support (W501, W800: :attr:`FlowGraph.draws_noise`). Default:
        when inference is random or the contribution is a bound or an estimate."""
        return self.stochastic_forward or self.likelihood() in DRAWN_CLASSES

    def tolerance(self) -> str | None:
        """For a node exact to a tolerance: which tolerance, in words ("dopri5, rtol 1e-05,
        atol 1e-05"), as reports print it. Default: None (nothing to say)."""
        return None

    def costs(self) -> Costs:
        """How each direction is computed: inference (``log_prob``) and generation
        (``sample``). Default: one pass each. Autoregressive, iterative and one-way kinds
        override it."""
        return Costs(Cost.ONE_PASS, Cost.ONE_PASS)

    def rebuild_error(self, inputs: tuple[PortInfo, ...]) -> float:
        """A bound on the relative error, in units of the dtype's resolution, with which
        this node's inverse rebuilds an input from its stored output (and its log-det is
        recomputed there) under ``train: {memory: invertible}``; infinity when unbounded
        (:func:`flowspec.graph.memory.check_memory` refuses above its bound). Default 1:
        what depends on learned values (an actnorm's scales) is measured at run time
        (``memory_check``); kinds whose inverse amplifies round-off on known supports
        (``elementwise`` sigmoid, tanh, logit) compute it."""
        return 1.0

    def scored_sample_cost(self) -> Cost:
        """What ``sample_and_log_prob`` (the density of the model's own samples, what
        reverse-KL fitting runs) pays at this node: its generation, then its contribution
        at the values it generated. Default: the dearer of the two directions (the runtime
        inverts, then runs inference on the result). Kinds whose layer scores its own
        generation (``inverse_and_contribution``: planar, Sylvester, IAF) override it."""
        costs = self.costs()
        return max(costs.inference, costs.generation)

    def scored_sample_likelihood(self) -> Likelihood:
        """What this node's contribution to ``sample_and_log_prob`` is (the model takes the
        weakest). Default: :meth:`likelihood`, the runtime scoring a draw by inference;
        kinds whose layer scores its own closed-form generation (planar, whose inference
        is by root finding) override it."""
        return self.likelihood()

    def inference_remedy(self) -> str:
        """For a node whose inference direction is not available (``costs().inference``
        is ``UNAVAILABLE``): what would give it one, or where the kind still serves, in
        this kind's own terms (the hint of W752 and of ``UnavailableError``)."""
        return "see 'flowspec nodes " + self.kind + "'"

    def modelled_by(self) -> str | None:
        """For kinds that drop, add or propose dimensions: which density models them (shown
        by the bookkeeping table). Default: None (nothing to say)."""
        return None

    def input_ports(self) -> tuple[str, ...]:
        return ("x",)

    def output_ports(self) -> tuple[str, ...]:
        return () if self.terminal else ("z",)

    def check_static(self, check: NodeCheck) -> None:
        """Checks of the settings alone, which need no shapes: an unknown function, a
        split into one part, a mask that transforms nothing, ...

        The compiler runs it once per spec entry (once per block element, however often
        the block is repeated), before and independently of shape inference, so these
        mistakes are reported even where an upstream node has errors. :meth:`infer` is
        only called when it reported no error. Default: nothing to check.
        """

    @abstractmethod
    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        """The shape rule: the output ports' info from the input ports' info.

        Also the place for the kind's invertibility and domain checks that need the
        inputs. Report every problem through ``check`` and return None when the outputs
        cannot be known. The compiler calls it only for settings that passed
        :meth:`check_static`.
        """

    @abstractmethod
    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> nn.Module:
        """The torch module for this node, for inputs already checked by :meth:`infer`.

        Import the layer (from ``flowspec.layers``) inside this method: the spec layer
        never imports torch, so that loading and checking a spec stays instant."""

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        """How many learned parameters :meth:`build` creates, for inputs checked by
        :meth:`infer`; the bookkeeping table shows it without building anything.

        Kinds with parameters override it with their formula (in plain Python: checking a
        spec never imports torch); the default is the count of kinds without any."""
        if self.has_parameters:
            raise NotImplementedError(
                f"node kind '{self.kind}' has parameters but no parameter_count formula"
            )
        return 0

    def for_evaluation(self, inputs: tuple[PortInfo, ...]) -> tuple[NodeSpec, str] | None:
        """For scoring a trained model: this node with its exact or lowest-variance option
        where one is affordable for ``inputs`` (an exact trace for small D, more probes),
        and a few words saying which; None when it has none. The parameters stay the
        same, so trained weights load into it. Default: none."""
        return None

    def for_repetition(self, repetition: int) -> NodeSpec:
        """This node's settings in repetition ``repetition`` of a block use; kinds drawn
        from a seed override it so that repetitions differ."""
        return self

    def describe(self) -> dict[str, Any]:
        """The user-facing settings (without wiring), for tables and drawings."""
        return self.model_dump(exclude={"kind", "in_", "context"}, by_alias=True)
