"""Training ``log_prob`` whose memory does not grow with depth (``train: {memory: ...}``).

The graph runs node by node as :func:`flowspec.emit.interpreter.run_inference` runs it, with
the segments of :func:`flowspec.graph.memory.memory_plan`:

- a ``rebuilt`` chain runs inside :class:`RebuiltChain`, an autograd function that
  computes the chain without a graph and keeps only its output. Its backward pass walks
  the chain from the end: each node's input is rebuilt from its output by the node's
  ``inverse``, the node alone is recomputed with a graph, and autograd gives the gradient
  of its input, context and parameters (Gomez et al. 2017, "The Reversible Residual
  Network", arXiv:1707.04585; Jacobsen et al. 2018, i-RevNet, arXiv:1802.07088). Each
  parameter's gradient is added to its ``.grad`` as soon as its node is done (held to the
  end of the chain, they would grow with its depth); the parameters are inputs of the
  function and get a zero gradient that takes no memory, so autograd's accumulation and
  DistributedDataParallel's hooks (which read ``.grad``) still run for each of them. Random draws inside a node
  (dropout in a conditioner) are replayed from the random state saved before it;
- a ``checkpointed`` segment is recomputed from its input by ``torch.utils.checkpoint``
  (Chen et al. 2016, arXiv:1604.06174);
- a ``stored`` node runs as usual.

:func:`rebuild_errors` measures, without gradients, the relative error of every rebuilt
input and of the log-det recomputed from it, walking each chain back from its output as
the backward pass does: the run-time check (``memory_check``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from flowspec.graph.memory import REBUILD_BOUND, Segment

if TYPE_CHECKING:
    from flowspec.emit.runtime import FlowModel

__all__ = [
    "Chain",
    "LowMemoryLogProb",
    "ReconstructionError",
    "RebuiltChain",
    "low_memory",
    "rebuild_errors",
    "run_low_memory",
]


class ReconstructionError(ValueError):
    """A rebuilt input (or the log-det recomputed from it) is off by more than
    :data:`~flowspec.graph.memory.REBUILD_BOUND`, relatively, at ``node``."""

    def __init__(self, node: str, kind: str, error: float) -> None:
        self.node, self.error = node, error
        super().__init__(
            f"node '{node}' ({kind}): memory: invertible rebuilt its input from its output "
            f"with a relative error of {error:.3g} (bound {REBUILD_BOUND:g}); the gradients "
            "would differ from the stored-activation ones. Train this spec with memory: "
            "stored, or keep the values this node gets away from where its inverse loses "
            "precision (e.g. an actnorm whose scales have become tiny)"
        )


@dataclass(frozen=True)
class Chain:
    """A rebuilt chain's layers in inference order, each with its context's name (or None)
    and whether it draws random numbers in training (dropout)."""

    ids: tuple[str, ...]
    layers: tuple[Any, ...]
    contexts: tuple[str | None, ...]
    random: tuple[bool, ...]

    @classmethod
    def of(cls, model: FlowModel, segment: Segment) -> Chain:
        wiring = {node: ctx for node, _, ctx, _ in model.GRAPH}
        layers = tuple(model.nodes[node] for node in segment.nodes)
        random = tuple(
            any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0 for m in layer.modules())
            for layer in layers
        )
        return cls(segment.nodes, layers, tuple(wiring[n] for n in segment.nodes), random)

    def context_names(self) -> list[str]:
        return sorted({name for name in self.contexts if name is not None})


#: The random state before a node ran: the CPU generator's, and the device's on CUDA.
_State = tuple[torch.Tensor, torch.Tensor | None]


def _rng_state(x: torch.Tensor) -> _State:
    return torch.get_rng_state(), torch.cuda.get_rng_state(x.device) if x.is_cuda else None


@contextmanager
def _replayed(state: _State | None, x: torch.Tensor) -> Iterator[None]:
    """Run with the random state ``state`` (saved before a node ran), restoring the
    caller's afterwards; a no-op when ``state`` is None."""
    if state is None:
        yield
        return
    devices = [x.device] if x.is_cuda else []
    with torch.random.fork_rng(devices=devices):
        torch.set_rng_state(state[0])
        if state[1] is not None:
            torch.cuda.set_rng_state(state[1], x.device)
        yield


def _call(layer: Any, x: torch.Tensor, context: torch.Tensor | None) -> tuple[torch.Tensor, Any]:
    return layer(x) if context is None else layer(x, context=context)


def _rebuild(
    layer: Any, z: torch.Tensor, context: torch.Tensor | None, state: _State | None
) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, Any]:
    """The input of ``layer`` rebuilt from its output ``z`` (as leaves that require grad)
    and inference recomputed from it: ``(leaves, output, contribution)``, every pass
    drawing the random numbers the forward pass drew (``state``). A coupling rebuilds and
    recomputes with one conditioner pass (its ``rebuild``; two leaves, its parts); any
    other layer runs its ``inverse`` without a graph, then its forward."""
    rebuild = getattr(layer, "rebuild", None)
    if rebuild is not None:
        with _replayed(state, z):
            a, b, out, contribution = rebuild(z, context)
        return (a, b), out, contribution
    with torch.no_grad(), _replayed(state, z):
        x = _inverse(layer, z, context)
    x.requires_grad_(True)
    with _replayed(state, z):
        out, contribution = _call(layer, x, context)
    return (x,), out, contribution


def _inverse(layer: Any, z: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
    result: torch.Tensor = (
        layer.inverse(z) if context is None else layer.inverse(z, context=context)
    )
    return result


class RebuiltChain(torch.autograd.Function):
    """``(chain output, summed contribution)`` of a rebuilt chain, keeping only the output;
    inputs ``(x, *contexts, *parameters)``."""

    @staticmethod
    def forward(
        ctx: Any, chain: Chain, n_contexts: int, x: torch.Tensor, *rest: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        contexts = dict(zip(chain.context_names(), rest[:n_contexts], strict=True))
        states: list[_State | None] = []
        total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        value = x
        with torch.no_grad():
            for layer, name, random in zip(chain.layers, chain.contexts, chain.random, strict=True):
                states.append(_rng_state(value) if random and layer.training else None)
                value, contribution = _call(layer, value, contexts.get(name) if name else None)
                total = total + contribution
        ctx.chain, ctx.n_contexts, ctx.states = chain, n_contexts, states
        ctx.save_for_backward(value, *rest[:n_contexts])
        return value, total

    @staticmethod
    def backward(
        ctx: Any, grad_z: torch.Tensor, grad_total: torch.Tensor
    ) -> tuple[torch.Tensor | None, ...]:
        chain: Chain = ctx.chain
        z, *context_values = ctx.saved_tensors
        names = chain.context_names()
        parameters = [[p for p in layer.parameters() if p.requires_grad] for layer in chain.layers]
        context_grads: dict[str, torch.Tensor] = {}
        for index in reversed(range(len(chain.layers))):
            layer, name, state = chain.layers[index], chain.contexts[index], ctx.states[index]
            context = context_values[names.index(name)].detach() if name else None
            if context is not None:
                context.requires_grad_(True)
            with torch.enable_grad():
                leaves, out, contribution = _rebuild(layer, z, context, state)
                wrt = [*leaves, *([context] if context is not None else []), *parameters[index]]
                targets, grads = [out], [grad_z]
                if isinstance(contribution, torch.Tensor) and contribution.requires_grad:
                    targets.append(contribution)
                    grads.append(grad_total.expand_as(contribution))
                found = list(torch.autograd.grad(targets, wrt, grads, allow_unused=True))
            found[: len(leaves)] = [
                torch.zeros_like(leaf) if g is None else g
                for leaf, g in zip(leaves, found[: len(leaves)], strict=True)
            ]
            if len(leaves) == 2:  # a coupling's parts: x = parts.merge(a, b)
                x = layer.parts.merge(*leaves)
                found[:2] = [layer.parts.split_adjoint(*found[:2])]
            else:
                x = leaves[0]
            grad_z = found[0] if found[0] is not None else torch.zeros_like(x)
            if context is not None and name is not None and found[1] is not None:
                context_grads[name] = context_grads.get(name, 0) + found[1]
            _accumulate(parameters[index], found[2 if context is not None else 1 :])
            z = x.detach()
        # Each parameter's gradient went into its .grad as soon as its node was done (a
        # chain's gradients held until the end would grow with its depth); autograd gets
        # zeros that take no memory, so its accumulation (and DDP's hooks, which read .grad
        # then) still runs for every parameter.
        zeros = [
            None if p.grad is None else p.new_zeros(()).expand_as(p)  # None: unused
            for layer in parameters
            for p in layer
        ]
        return (None, None, grad_z, *(context_grads.get(n) for n in names), *zeros)


def _accumulate(parameters: list[torch.Tensor], grads: Sequence[torch.Tensor | None]) -> None:
    """Add ``grads`` into the parameters' ``.grad`` (set it where there is none yet)."""
    for parameter, grad in zip(parameters, grads, strict=True):
        if grad is None:
            continue
        if parameter.grad is None:
            if grad.stride() != parameter.stride():  # autograd's layout contract for .grad
                grad = torch.empty_like(parameter).copy_(grad)
            parameter.grad = grad.detach()
        else:
            parameter.grad.add_(grad)


def _chain_parameters(chain: Chain) -> list[torch.Tensor]:
    return [p for layer in chain.layers for p in layer.parameters() if p.requires_grad]


def run_low_memory(
    model: FlowModel, values: dict[str, torch.Tensor], plan: tuple[Segment, ...]
) -> torch.Tensor:
    """``log p(x)`` of the inputs in ``values`` (by name), each segment of ``plan`` kept as
    its treatment says."""
    wiring = {node: (inputs, ctx, outputs) for node, inputs, ctx, outputs in model.GRAPH}
    logp: torch.Tensor | None = None
    for segment in plan:
        first, last = wiring[segment.nodes[0]], wiring[segment.nodes[-1]]
        if segment.treatment == "rebuilt":
            chain = Chain.of(model, segment)
            contexts = [values[name] for name in chain.context_names()]
            z, contribution = RebuiltChain.apply(
                chain, len(contexts), values[first[0][0]], *contexts, *_chain_parameters(chain)
            )
            values[last[2][0]] = z
        elif segment.treatment == "checkpointed":
            chain = Chain.of(model, segment)
            names = chain.context_names()

            def run(x: torch.Tensor, *given: torch.Tensor, chain: Chain = chain) -> Any:
                contexts = dict(zip(chain.context_names(), given, strict=True))
                total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
                for layer, name in zip(chain.layers, chain.contexts, strict=True):
                    x, part = _call(layer, x, contexts[name] if name else None)
                    total = total + part
                return x, total

            z, contribution = checkpoint(
                run, values[first[0][0]], *(values[n] for n in names), use_reentrant=False
            )
            values[last[2][0]] = z
        else:
            (node,) = segment.nodes
            inputs, ctx, outputs = wiring[node]
            layer: Any = model.nodes[node]
            named = {} if ctx is None else {"context": values[ctx]}
            given = [values[name] for name in inputs]
            if outputs:
                result, contribution = layer(*given, **named)
                values.update(zip(outputs, result if len(outputs) > 1 else (result,), strict=True))
            else:
                contribution = layer(*given, **named)
        logp = contribution if logp is None else logp + contribution
    assert logp is not None, "a model has at least one distribution"
    return logp


@torch.no_grad()
def rebuild_errors(
    model: FlowModel, values: dict[str, torch.Tensor], plan: tuple[Segment, ...]
) -> dict[str, float]:
    """Each rebuilt node's relative error: of its input rebuilt from its output, walking
    its chain back from the chain's output as the backward pass does (errors add up along
    the chain), and of its contribution recomputed there; the larger of the two, by node.
    Runs in eval mode (no dropout) on the inputs in ``values``; stored and checkpointed
    nodes run as usual to give the chains their inputs."""
    was_training = model.training
    model.eval()
    errors: dict[str, float] = {}
    try:
        wiring = {node: (inputs, ctx, outputs) for node, inputs, ctx, outputs in model.GRAPH}
        for segment in plan:
            kept: list[tuple[torch.Tensor, torch.Tensor]] = []
            for node in segment.nodes:
                inputs, ctx, outputs = wiring[node]
                layer: Any = model.nodes[node]
                named = {} if ctx is None else {"context": values[ctx]}
                given = [values[name] for name in inputs]
                if not outputs:
                    continue
                result, contribution = layer(*given, **named)
                kept.append((given[0], torch.as_tensor(contribution)))
                values.update(zip(outputs, result if len(outputs) > 1 else (result,), strict=True))
            if segment.treatment != "rebuilt":
                continue
            z = values[wiring[segment.nodes[-1]][2][0]]
            for node, (x, contribution) in zip(
                reversed(segment.nodes), reversed(kept), strict=True
            ):
                ctx = wiring[node][1]
                context = values[ctx] if ctx is not None else None
                layer = model.nodes[node]
                rebuilt = _inverse(layer, z, context)
                _, again = _call(layer, rebuilt, context)
                errors[node] = max(
                    _relative(rebuilt, x), _relative(torch.as_tensor(again), contribution)
                )
                z = rebuilt
    finally:
        model.train(was_training)
    return errors


def _relative(found: torch.Tensor, expected: torch.Tensor) -> float:
    """``max |found - expected| / max(max |expected|, 1)``, non-finite values counted as
    an infinite error."""
    if not bool(torch.isfinite(found).all()):
        return float("inf")
    if found.numel() == 0:
        return 0.0
    scale = max(float(expected.abs().max()), 1.0)
    return float((found - expected).abs().max()) / scale


class LowMemoryLogProb(nn.Module):
    """``model``'s ``log_prob`` that trains with the memory ``plan``: in training mode with
    gradients on, :func:`run_low_memory`; otherwise ``model.log_prob`` itself. What a
    training run calls (and DistributedDataParallel wraps) instead of the model."""

    def __init__(self, model: FlowModel, plan: tuple[Segment, ...]) -> None:
        super().__init__()
        self.model, self.plan = model, plan
        #: Check the rebuilt inputs on the next training batch (:meth:`check_rebuild`).
        self.check_next = False

    def forward(self, *inputs: torch.Tensor, **named: torch.Tensor) -> torch.Tensor:
        model = self.model
        if not (model.training and torch.is_grad_enabled()):
            return model.log_prob(*inputs, **named)
        if self.check_next:
            self.check_rebuild(*inputs, *named.values())
            self.check_next = False
        model._check_inputs(inputs, named)
        model._check_available()
        model._check_initialized()
        values = {
            **dict(zip(model.DATA_INPUTS + model.CONTEXT_INPUTS, inputs, strict=False)),
            **named,
        }
        return run_low_memory(model, values, self.plan)

    def rebuild_errors(self, *inputs: torch.Tensor) -> dict[str, float]:
        """:func:`rebuild_errors` on ``inputs`` given as to ``log_prob``."""
        model = self.model
        values = dict(zip(model.DATA_INPUTS + model.CONTEXT_INPUTS, inputs, strict=False))
        return rebuild_errors(model, values, self.plan)

    def check_rebuild(self, *inputs: torch.Tensor) -> None:
        """Raise :class:`ReconstructionError` at the worst node whose error exceeds
        :data:`~flowspec.graph.memory.REBUILD_BOUND`."""
        errors = self.rebuild_errors(*inputs)
        worst = max(errors, key=errors.__getitem__, default=None)
        if worst is not None and not errors[worst] <= REBUILD_BOUND:
            kind = self.model.checked.graph.nodes[worst].kind
            raise ReconstructionError(worst, kind, errors[worst])


def low_memory(model: FlowModel, memory: str) -> LowMemoryLogProb:
    """``model`` trained under ``train: {memory: ...}``: its plan from the checked graph
    (:func:`flowspec.graph.memory.memory_plan`), refused with located diagnostics (E915)
    where a rebuilt input would be too far off."""
    from flowspec.diagnostics import Reporter
    from flowspec.graph.memory import check_memory, memory_plan

    checked = model.checked
    reporter = Reporter(checked.loaded.source)
    check_memory(checked.graph, memory, reporter)
    reporter.raise_if_errors()
    return LowMemoryLogProb(model, tuple(memory_plan(checked.graph, memory)))
