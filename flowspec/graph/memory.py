"""What backpropagation keeps of each part of a checked graph under ``train: {memory: ...}``.

A bijective node whose inverse is analytic and takes one pass does not need its input kept
for the backward pass: the input is rebuilt from the output by the inverse, and the node's
local graph recomputed from it, as reversible networks do (Gomez et al. 2017, "The
Reversible Residual Network: Backpropagation Without Storing Activations",
arXiv:1707.04585; Jacobsen et al. 2018, i-RevNet, arXiv:1802.07088). A chain of such
nodes keeps only its output, so training memory stops growing with the chain's length.

:func:`memory_plan` cuts the layers, in inference order, into segments, each with its
treatment and the reason:

- ``rebuilt``: consecutive bijective, deterministic, exact nodes with one input and one
  output, each feeding the next, whose generation direction costs one pass;
- ``checkpointed`` (``memory: checkpoint`` only): the other deterministic nodes with one
  input and one output, recomputed from the segment's input (Chen et al. 2016, "Training
  Deep Nets with Sublinear Memory Cost", arXiv:1604.06174);
- ``stored``: everything else. Surjective and stochastic nodes (slice, augment,
  dequantization, factor-out) and nodes whose inverse iterates, takes D passes or does
  not exist (planar without root finding, residual fixed points, CNF, MAF sampling) keep
  what autograd keeps, and cut the chains.

A rebuilt input differs from the stored one by round-off, which the inverse can amplify:
a sigmoid far in its tails rebuilds its input from an output that rounds to 1, a logit
without ``alpha`` recomputes its log-det at an input one rounding from 1. Each kind bounds
that error from what it knows (:meth:`NodeSpec.rebuild_error`, in units of the dtype's
resolution); :func:`check_memory` refuses (E915, naming the node) where the bound times
float32's resolution exceeds :data:`REBUILD_BOUND`; under ``checkpoint`` such a node is
recomputed instead. Errors that depend on learned values
(an actnorm with tiny scales) are measured at run time (``memory_check``).

Torch-free, like the rest of the spec layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flowspec.core.properties import Cost, Likelihood
from flowspec.diagnostics import Reporter
from flowspec.graph.model import FlowGraph, GraphNode, PortRef

__all__ = [
    "FLOAT32_RESOLUTION",
    "REBUILD_BOUND",
    "Segment",
    "check_memory",
    "memory_lines",
    "memory_plan",
]

#: The largest relative error allowed in a rebuilt input (and in the log-det recomputed
#: from it), in the model's dtype: about 840 float32 roundings.
REBUILD_BOUND = 1e-4
#: float32's relative resolution (its machine epsilon, 2**-23): models train in float32.
FLOAT32_RESOLUTION = 2.0**-23

Treatment = Literal["rebuilt", "checkpointed", "stored"]


@dataclass(frozen=True)
class Segment:
    """Consecutive layers (in inference order) with one treatment, and why."""

    treatment: Treatment
    nodes: tuple[str, ...]
    reason: str


def rebuild_blocker(node: GraphNode) -> str | None:
    """Why the node's input cannot be rebuilt from its output, or None when it can."""
    spec = node.node_spec
    if spec.terminal:
        return "a distribution: it keeps its input, the chain's output"
    if spec.stochastic_forward or spec.stochastic_inverse:
        return "stochastic: its draw is kept"
    if not spec.bijective:
        return "surjective: its input cannot be rebuilt from its output"
    if len(spec.input_ports()) != 1 or len(spec.output_ports()) != 1:
        return "several inputs or outputs: it ends a chain"
    if spec.likelihood() is not Likelihood.EXACT:
        return f"its term is {spec.likelihood().label}"
    if spec.batch_statistics:
        return "batch statistics in training: its inverse undoes the evaluation map only"
    generation = spec.costs().generation
    if generation is not Cost.ONE_PASS:
        return f"its inverse is {generation.label}"
    return None


def _recomputable(node: GraphNode) -> bool:
    spec = node.node_spec
    return (
        not spec.terminal
        and not spec.stochastic_forward
        and len(spec.input_ports()) == 1
        and len(spec.output_ports()) == 1
    )


def memory_plan(graph: FlowGraph, memory: str) -> list[Segment]:
    """The layers cut into segments with their treatment under ``memory`` (``stored``,
    ``invertible`` or ``checkpoint``); every layer is in exactly one segment, in order.
    Under ``checkpoint``, a node whose inverse would lose precision (E915 under
    ``invertible``) is recomputed instead of rebuilt."""
    segments: list[Segment] = []
    previous: GraphNode | None = None
    for node in graph.layers:
        blocker = rebuild_blocker(node) if memory != "stored" else "memory: stored"
        if blocker is None and memory == "checkpoint" and rebuild_error(node) > REBUILD_BOUND:
            blocker = f"its inverse loses precision (up to {rebuild_error(node):.3g} in float32)"
        if blocker is None:
            treatment: Treatment = "rebuilt"
            reason = "bijective, inverse in one pass: only the chain's output is kept"
        elif memory == "checkpoint" and _recomputable(node):
            treatment = "checkpointed"
            reason = f"recomputed from the segment's input ({blocker})"
        else:
            treatment, reason = "stored", blocker
        last = segments[-1] if segments else None
        if (
            last is not None
            and previous is not None
            and last.treatment == treatment != "stored"
            and node.input_refs[0] == PortRef(previous.id, previous.output_ports[0])
        ):
            segments[-1] = Segment(treatment, (*last.nodes, node.id), last.reason)
        else:
            segments.append(Segment(treatment, (node.id,), reason))
        previous = node
    return segments


def rebuild_error(node: GraphNode) -> float:
    """The node's bound on the relative error of its rebuilt input, in float32."""
    return node.node_spec.rebuild_error(node.known_inputs) * FLOAT32_RESOLUTION


def check_memory(graph: FlowGraph, memory: str, reporter: Reporter) -> None:
    """Report (E915) every node of a rebuilt chain whose inverse could rebuild its input,
    or recompute its log-det, with a relative error above :data:`REBUILD_BOUND` in
    float32 (under ``checkpoint`` such nodes are recomputed instead: nothing to report)."""
    if memory == "stored":
        return
    for segment in memory_plan(graph, memory):
        if segment.treatment != "rebuilt":
            continue
        for node_id in segment.nodes:
            node = graph.nodes[node_id]
            error = rebuild_error(node)
            if error > REBUILD_BOUND:
                reporter.error(
                    "E915",
                    f"memory: {memory} would rebuild this {node.kind}'s input from its "
                    f"output with a relative error up to {error:.3g} in float32 (bound "
                    f"{REBUILD_BOUND:g}): its inverse amplifies round-off on the values it "
                    "gets",
                    node.path,
                    node=node.id,
                    hint="bound the values it gets (a logit's alpha, e.g. 0.05; a tanh or "
                    "sigmoid only after a map onto a bounded interval), or train with "
                    "memory: checkpoint (which recomputes this node instead)",
                )


def memory_lines(graph: FlowGraph, memory: str) -> list[str]:
    """What ``flowspec validate`` prints of the plan: one line per segment."""
    plan = memory_plan(graph, memory)
    rebuilt = sum(len(s.nodes) for s in plan if s.treatment == "rebuilt")
    lines = [
        f"memory: {memory}: {rebuilt} of {len(graph.layers)} layers rebuilt by their "
        "inverses in the backward pass"
    ]
    for segment in plan:
        span = (
            segment.nodes[0]
            if len(segment.nodes) == 1
            else (f"{segment.nodes[0]} .. {segment.nodes[-1]} ({len(segment.nodes)} nodes)")
        )
        lines.append(f"  {segment.treatment}: {span}: {segment.reason}")
    return lines
