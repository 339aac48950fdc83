"""The base class of every generated flow module.

Generated code supplies one straight-line method per direction: ``_log_prob`` (data ->
latents, the running total) and ``_generate`` (latents -> data), and the graph as a table
(``GRAPH``, ``GENERATION_ORDER``). This base class turns them into the public API:
``log_prob``, ``sample``, ``inverse`` and ``iwbo`` run the generated code; ``trace`` (every
node's contribution and value) and ``sample_and_log_prob`` run the table node by node
(:mod:`flowspec.emit.interpreter`). ``sample_and_log_prob`` adds each node's contribution
at the values it generates, which is how flows without an inference direction (planar,
Sylvester) still give the exact log-density of their own samples.
``sample`` warns, naming the node, when an inverse computed by iteration missed its
tolerance (layers that iterate keep ``last_inverse_error`` and ``inverse_tolerance``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from flowspec.emit.folds import Folds
from flowspec.emit.initialization import Initialization, UninitializedError
from flowspec.emit.interpreter import run_inference, run_scored_generation

if TYPE_CHECKING:
    from flowspec.api import CheckedSpec

__all__ = [
    "FlowModel",
    "InexactInverseWarning",
    "NodeDict",
    "Trace",
    "UnavailableError",
    "UninitializedError",
]


@dataclass
class Trace:
    """One inference pass: the total, each node's contribution, each distribution's
    latent, and every value on the way.

    ``log_prob == sum(contributions.values())`` (distributions' log-densities included).
    ``latents`` is keyed by distribution node and feeds :meth:`FlowModel.inverse`.
    ``values`` holds every intermediate, keyed as a spec names it (``node`` or
    ``node.port``; inputs by name): what a dequantizer produces is its value, what an
    augment adds is the tail of its value, what a slice drops is the part of its input
    its value leaves out.
    """

    log_prob: torch.Tensor
    contributions: dict[str, torch.Tensor]
    latents: dict[str, torch.Tensor]
    values: dict[str, torch.Tensor]


class UnavailableError(RuntimeError):
    """``log_prob`` of given data needs an inference direction some node does not have."""


class InexactInverseWarning(RuntimeWarning):
    """An inverse computed by iteration missed its declared tolerance: the samples are
    inexact (``inverse.max_iter`` or ``inverse.tol`` should change). The test suite turns
    it into an error, so that no bundled setting or test spec misses its tolerance."""


class NodeDict(nn.ModuleDict):
    """The model's layers by node id. Ids are checked identifiers, yet may be the names of
    ``nn.Module`` attributes (a split's ``half``, ``to``, ``keys``): they are kept as items
    only, never set as attributes, so every valid id works (generated code reads
    ``nodes[id]``; state-dict keys stay ``nodes.<id>.*``)."""

    def add_module(self, name: str, module: nn.Module | None) -> None:
        self._modules[name] = module  # type: ignore[assignment]  # as nn.Module does


class FlowModel(Folds, Initialization):
    """A compiled flow. What ``log_prob(x)`` is, is ``likelihood``: ``"exact"``, ``"exact to
    a tolerance"``, ``"unbiased estimate"``, ``"lower bound"`` (an ELBO from one draw of every
    stochastic node; see :meth:`iwbo` for tighter ones) or ``"biased estimate"``; ``verdict``
    says it in a sentence naming the nodes responsible (what ``flowspec validate`` prints).
    Layers set from data (actnorm, standardize) are set by :meth:`initialize` (see
    :mod:`flowspec.emit.initialization`)."""

    #: Set by the generated subclass.
    LIKELIHOOD: ClassVar[str]
    VERDICT: ClassVar[str]
    #: Whether ``log_prob`` draws random numbers (two calls differ); False for exact models
    #: and for a bound that comes only from a density's support (W501, W800).
    DRAWS_NOISE: ClassVar[bool]
    #: What a mean ``-log_prob`` is: its name ("NLL", "-ELBO", "NLL upper bound") and what
    #: it is in words (:func:`flowspec.graph.verdict.figure`).
    FIGURE: ClassVar[tuple[str, str]]
    LOG_PROB_COST: ClassVar[str]
    SAMPLE_COST: ClassVar[str]
    #: Nodes without an inference direction (``log_prob`` of data is not available), each
    #: with what would give it one.
    LOG_PROB_UNAVAILABLE: ClassVar[dict[str, str]]
    DATA_INPUTS: ClassVar[tuple[str, ...]]
    CONTEXT_INPUTS: ClassVar[tuple[str, ...]]
    INPUT_SHAPES: ClassVar[dict[str, tuple[int, ...]]]
    SPEC_NAME: ClassVar[str]
    #: Each distribution node's event shape: the latents :meth:`inverse` takes.
    LATENT_SHAPES: ClassVar[dict[str, tuple[int, ...]]]
    #: Every node in inference order: ``(node, inputs, context, outputs)``, values named as
    #: the spec names them (``node``, ``node.port``, inputs by name); a distribution has no
    #: outputs.
    GRAPH: ClassVar[tuple[tuple[str, tuple[str, ...], str | None, tuple[str, ...]], ...]]
    GENERATION_ORDER: ClassVar[tuple[str, ...]]
    if TYPE_CHECKING:  # not in a standalone module, which has no flowspec to name it
        #: The checked spec the model was compiled from (set by
        #: :meth:`CheckedSpec.build_model`).
        checked: CheckedSpec

    def __init__(self, nodes: dict[str, nn.Module]) -> None:
        super().__init__()
        # A submodule (state-dict keys nodes.<id>.*), read back by the ``nodes`` property.
        self._modules["nodes"] = NodeDict(nodes)
        self._register_index_tables()
        self._register_data_layers()
        # The modules that iterate their inverse, found once: sample() checks them on
        # every call, and walking every module of every node cost more than a small
        # model's whole sampling pass.
        self._iterative: tuple[tuple[str, Any], ...] = tuple(
            (name, module)
            for name, node in self.nodes.items()
            for module in node.modules()
            if isinstance(getattr(module, "last_inverse_error", None), torch.Tensor)
        )

    @property
    def nodes(self) -> NodeDict:
        """The layers by node id. Read from ``_modules``, where nn.Module keeps submodules:
        an attribute read would find them only after a failed lookup (on CPython 3.11 that
        builds an AttributeError, as costly as a tensor op), once per generated call."""
        nodes: NodeDict = self._modules["nodes"]  # type: ignore[assignment]  # set in __init__
        return nodes

    @property
    def likelihood(self) -> str:
        """What ``log_prob`` computes (the weakest class of any node)."""
        return self.LIKELIHOOD

    @property
    def verdict(self) -> str:
        """What ``log_prob`` is, in one sentence naming the nodes that make it so."""
        return self.VERDICT

    @property
    def draws_noise(self) -> bool:
        """Whether ``log_prob`` draws random numbers, so that two calls on the same data
        differ (dequantization, augment, a VAE, stochastic estimators); False for exact
        models and for a bound that comes only from a density's support (W501, W800)."""
        return self.DRAWS_NOISE

    def forward(self, *inputs: torch.Tensor, **named: torch.Tensor) -> torch.Tensor:
        return self.log_prob(*inputs, **named)

    def log_prob(self, *inputs: torch.Tensor, **named: torch.Tensor) -> torch.Tensor:
        """``log p(x)``, shape ``(batch,)``, as ``likelihood`` says: exact, to a tolerance,
        an estimate or a one-sample lower bound."""
        self._check_inputs(inputs, named)
        self._check_available()
        self._check_initialized()
        return self._log_prob(*inputs, **named)

    def trace(self, *inputs: torch.Tensor, **named: torch.Tensor) -> Trace:
        """The latents, every node's contribution and every value for an input: the graph
        run node by node, each node's layer called as a module."""
        self._check_inputs(inputs, named)
        self._check_available()
        self._check_initialized()
        values = {
            **dict(zip(self.DATA_INPUTS + self.CONTEXT_INPUTS, inputs, strict=False)),
            **named,
        }
        return Trace(*run_inference(self, values))

    def _check_available(self) -> None:
        if self.LOG_PROB_UNAVAILABLE:
            remedies = "; ".join(
                f"{node!r}: {remedy}" for node, remedy in self.LOG_PROB_UNAVAILABLE.items()
            )
            raise UnavailableError(
                "log_prob of given data is not available: node(s) "
                + ", ".join(repr(node) for node in self.LOG_PROB_UNAVAILABLE)
                + " have no inference direction (data -> latent) in this spec; "
                "sample_and_log_prob(n) gives the log-density of the model's own samples. "
                + remedies
            )

    def sample_and_log_prob(self, n: int, **context: torch.Tensor) -> tuple[Any, torch.Tensor]:
        """``n`` draws and their log-density under the model, computed along generation
        (the variational-posterior use of planar and Sylvester flows, which need no
        inverse for it). Each node's contribution is taken at the values it generated."""
        self._check_draws(n, context)
        self._check_initialized(generating=True)
        return run_scored_generation(self, n, context)

    @staticmethod
    def _scored_inverse(layer: Any, *outputs: torch.Tensor, **context: torch.Tensor) -> Any:
        """A node's generation step and its contribution at the inputs it generated: the
        layer's own ``inverse_and_contribution`` when it has one (kinds whose inference
        direction is iterative or missing, and IAF, whose inference takes D sweeps), else
        ``inverse`` then ``forward``."""
        scored = getattr(layer, "inverse_and_contribution", None)
        if scored is not None:
            return scored(*outputs, **context)
        inputs = layer.inverse(*outputs, **context)
        _, contribution = layer(*(inputs if isinstance(inputs, tuple) else (inputs,)), **context)
        return inputs, contribution

    def sample(self, n: int, **context: torch.Tensor) -> Any:
        """``n`` draws from the model: a tensor, or a dict when there are several data inputs.
        A conditional model takes its context inputs by name, one row per draw."""
        self._check_draws(n, context)
        self._check_initialized(generating=True)
        samples = self._generate(n, **context)
        if not torch.compiler.is_compiling():  # a compiled caller checks the buffers itself
            self._warn_inexact_inverses()
        return samples

    def _check_draws(self, n: int, context: dict[str, torch.Tensor]) -> None:
        if isinstance(n, bool) or not isinstance(n, (int, torch.SymInt)) or n < 0:
            raise ValueError(f"n must be a whole number >= 0, got {n!r}")
        batch = self._check_inputs((), context, self.CONTEXT_INPUTS)
        if batch is not None and batch != n:
            raise ValueError(f"n ({n}) must equal the number of context rows ({batch})")

    def inverse(
        self, latents: torch.Tensor | dict[str, torch.Tensor], **context: torch.Tensor
    ) -> Any:
        """Generation from given latents: the data whose inference gives ``latents`` (a
        tensor when the model has one distribution, else a dict by distribution node, as
        :attr:`Trace.latents`). Distributions left out are drawn; nodes that sample in
        generation (a slice's decoder) still sample. For interpolation, temperature and
        debugging: ``model.inverse(model.trace(x).latents)`` gives back ``x`` for a
        bijective flow."""
        if isinstance(latents, torch.Tensor):
            if len(self.LATENT_SHAPES) != 1:
                raise TypeError(
                    f"this model has {len(self.LATENT_SHAPES)} distributions "
                    f"({', '.join(self.LATENT_SHAPES)}): give the latents as a dict by name"
                )
            latents = {next(iter(self.LATENT_SHAPES)): latents}
        if not isinstance(latents, dict) or not latents:
            raise TypeError("latents must be a tensor or a non-empty dict of tensors")
        for name in latents:
            if name not in self.LATENT_SHAPES:
                raise TypeError(
                    f"{name!r} is not a distribution of this model; its distributions: "
                    f"{', '.join(self.LATENT_SHAPES)}"
                )
        n = self._check_latents(latents)
        batch = self._check_inputs((), context, self.CONTEXT_INPUTS)
        if batch is not None and batch != n:
            raise ValueError(f"the latents ({n} rows) and the context ({batch}) must agree")
        self._check_initialized(generating=True)
        return self._generate(n, latents=latents, **context)

    def _check_latents(self, latents: dict[str, torch.Tensor]) -> int:
        """Each latent a tensor ``(batch, *event)`` with one batch size for all."""
        batches = []
        for name, value in latents.items():
            event = self.LATENT_SHAPES[name]
            if (
                not isinstance(value, torch.Tensor)
                or value.dim() != len(event) + 1
                or tuple(value.shape[1:]) != event
                or value.shape[0] == 0
            ):
                shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value)
                raise ValueError(
                    f"latent {name!r} must be a tensor of shape (batch, "
                    f"{', '.join(map(str, event))}) with batch >= 1, got {shape}"
                )
            batches.append(value.shape[0])
        if any(batch != batches[0] for batch in batches[1:]):
            raise ValueError("the latents must share one batch size")
        return batches[0]

    def _warn_inexact_inverses(self) -> None:
        """Warn, naming the node, for every iterative inverse whose last error (the largest
        ``|f(x) - z|`` it reached) exceeds its tolerance."""
        for name, module in self._iterative:
            error = module.last_inverse_error
            if not error <= module.inverse_tolerance:
                warnings.warn(
                    f"node '{name}': the inverse by iteration reached an error of "
                    f"{error.item():.3g}, above its tolerance {module.inverse_tolerance:g}; "
                    "these samples are inexact (raise inverse.max_iter or inverse.tol)",
                    InexactInverseWarning,
                    stacklevel=3,
                )

    def _check_inputs(
        self,
        inputs: tuple[torch.Tensor, ...],
        named: dict[str, torch.Tensor],
        expected: tuple[str, ...] | None = None,
    ) -> int | None:
        """Each expected input given once, as a tensor of shape ``(batch, *event)`` with the
        spec's event shape and one batch size for all; that batch size (None if none)."""
        expected = expected if expected is not None else self.DATA_INPUTS + self.CONTEXT_INPUTS
        if not named and len(inputs) == len(expected) <= 1:  # the common calls, checked fast
            if not inputs:
                return None
            value, event = inputs[0], self.INPUT_SHAPES[expected[0]]
            if isinstance(value, torch.Tensor):
                shape = value.shape
                if len(shape) == len(event) + 1 and shape[0] and shape[1:] == event:
                    return shape[0]
        if len(inputs) > len(expected):
            raise TypeError(
                f"this model takes {len(expected)} inputs ({', '.join(expected)}), "
                f"got {len(inputs)} by position"
            )
        given = dict(zip(expected, inputs, strict=False))
        for name, value in named.items():
            if name not in expected:
                raise TypeError(
                    f"unexpected input {name!r}; this model takes {', '.join(expected)}"
                )
            if name in given:
                raise TypeError(f"input {name!r} is given twice, by position and by name")
            given[name] = value
        batches = []  # a list: under torch.export batch sizes are symbolic, not hashable
        for name in expected:
            found = given.get(name)
            if not isinstance(found, torch.Tensor):
                raise TypeError(f"input {name!r} must be a tensor, got {type(found).__name__}")
            value = found
            event = self.INPUT_SHAPES[name]
            if (
                value.dim() != len(event) + 1
                or tuple(value.shape[1:]) != event
                or value.shape[0] == 0
            ):
                raise ValueError(
                    f"input {name!r} must have shape (batch, {', '.join(map(str, event))}) "
                    f"with batch >= 1, got {tuple(value.shape)}"
                )
            batches.append(value.shape[0])
        if any(batch != batches[0] for batch in batches[1:]):
            sizes = ", ".join(f"{name}: {given[name].shape[0]}" for name in expected)
            raise ValueError(f"inputs must share one batch size, got {sizes}")
        return batches[0] if batches else None

    def iwbo(self, *inputs: torch.Tensor, k: int = 16, **named: torch.Tensor) -> torch.Tensor:
        """Importance-weighted bound ``log mean_k exp(bound_k)`` (Burda et al. 2016,
        arXiv:1509.00519): tighter as ``k`` grows, equal to ``log_prob`` for exact models.
        Only a model whose ``log_prob`` is a lower bound from draws has one: for an estimate
        of log p(x) the log-mean-exp of k draws is no bound (it overestimates), so that is an
        error; a model whose ``log_prob`` draws nothing (exact, or a bound only because a
        density's mass on the data's values is below one) returns ``log_prob``."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number >= 1, got {k!r}")
        if not self.DRAWS_NOISE:
            return self.log_prob(*inputs, **named)
        if self.LIKELIHOOD != "lower bound":
            raise ValueError(
                "iwbo needs a model whose log_prob is a lower bound; this one's is "
                f"{self.LIKELIHOOD!r}, and the log-mean-exp of its draws is no bound: "
                "average log_prob over draws instead"
            )
        batch = self._check_inputs(inputs, named)
        assert batch is not None, "log_prob takes at least one data input"
        repeated = [x.repeat(k, *([1] * (x.dim() - 1))) for x in inputs]
        repeated_named = {key: x.repeat(k, *([1] * (x.dim() - 1))) for key, x in named.items()}
        bounds = self.log_prob(*repeated, **repeated_named).view(k, batch)
        return torch.logsumexp(bounds, dim=0) - math.log(k)

    def _log_prob(self, *inputs: torch.Tensor, **named: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("generated subclasses define _log_prob")

    def _generate(self, n: int, **named: Any) -> Any:
        """Generation: the context inputs (each after ``n`` in the generated signature) and
        ``latents`` by name."""
        raise NotImplementedError("generated subclasses define _generate")
