"""Whether a checked graph can be fitted to a target density by reverse KL.

Reverse KL, ``E_q[log q(x) - log p~(x)]`` over the model's own draws ``x ~ q``, needs the
model to draw ``x`` with gradients (reparameterised, continuous values) and to give the
density of each draw as it draws it (``sample_and_log_prob``). So, reported as located
diagnostics (by ``flowspec validate`` for a spec whose ``train:`` names a ``target``, and
by ``flowspec train --target``):

- E911: a bundled energy is a density on 2-D points, so the data input must be ``[2]``;
- E912: the model must be a density of one unconditional, continuous data input;
- E913: a node whose density of the model's own samples is a lower bound or a biased
  estimate (augment, dequantization, a VAE, a truncated series): the reverse KL would be
  mis-estimated by an amount that training could exploit;
- W914: a node that makes drawing and scoring a batch cost D passes (MAF) or an iteration;
  training draws and scores a batch every step.

Torch-free, like the rest of the spec layer.
"""

from __future__ import annotations

from flowspec.core.properties import Cost, Likelihood
from flowspec.diagnostics import Reporter
from flowspec.graph.model import FlowGraph
from flowspec.spec.training import ENERGIES

__all__ = ["ENERGY_SHAPE", "check_target", "own_sample_likelihood"]

#: The event shape of every bundled energy: points of the plane.
ENERGY_SHAPE = [2]

_COST_HINTS = {
    Cost.D_PASSES: "MAF draws feature by feature, D passes; an autoregressive layer with "
    "direction: iaf draws and scores its draws in one pass",
    Cost.ITERATIVE: "its draws come from an iterative solver: every step pays it, and the "
    "gradient through the draws is only as exact as the solver's",
}


def check_target(graph: FlowGraph, target: str, reporter: Reporter) -> None:
    """Report (E911-E913, W914) what keeps ``graph`` from being fitted to ``target`` (a
    bundled energy name, or a Python function whose event shape is not known here)."""
    if not _check_inputs(graph, target, reporter):
        return
    for node in graph.layers:
        spec = node.node_spec
        likelihood = spec.scored_sample_likelihood()
        if likelihood in (Likelihood.BOUND, Likelihood.BIASED):
            reporter.error(
                "E913",
                f"{spec.kind} gives a {likelihood.label} of the density of the model's own "
                "samples, not the density: the reverse KL to the target would be "
                "mis-estimated, and training would exploit the gap",
                node.path,
                node=node.id,
                hint="reverse-KL fitting needs the density of each draw: bijective nodes "
                "(couplings, autoregressive, planar, radial, Sylvester, elementwise)",
            )
            continue
        cost = spec.scored_sample_cost()
        if cost in _COST_HINTS:
            reporter.warning(
                "W914",
                f"drawing from {spec.kind} and scoring the draws costs {cost.label}, and "
                "reverse-KL fitting draws and scores a batch at every step",
                node.path,
                node=node.id,
                hint=_COST_HINTS[cost],
            )


def own_sample_likelihood(graph: FlowGraph) -> Likelihood:
    """What ``sample_and_log_prob`` gives as the density of the model's own draws: the
    weakest class of its nodes' contributions along generation."""
    return max(
        (node.node_spec.scored_sample_likelihood() for node in graph.layers),
        default=Likelihood.EXACT,
    )


def _check_inputs(graph: FlowGraph, target: str, reporter: Reporter) -> bool:
    """E911 and E912; True when the inputs can be the target's variable."""
    ok = True
    inputs = [graph.nodes[name] for name in graph.data_inputs]
    for name in graph.context_inputs:
        context = graph.nodes[name]
        reporter.error(
            "E912",
            f"input '{name}' is a context, but the target is one unconditional density: "
            "reverse-KL fitting draws from the model without a context",
            context.path,
            node=name,
            hint="remove the context input (and the context: of the nodes it feeds)",
        )
        ok = False
    for extra in inputs[1:]:
        reporter.error(
            "E912",
            f"the target is a density of one variable, but the spec has data inputs "
            f"{', '.join(node.id for node in inputs)}",
            extra.path,
            node=extra.id,
            hint="fit one data input; concatenate the variables into one input",
        )
        ok = False
    for node in inputs:
        assert node.input_spec is not None, "a data input has its spec"
        if node.input_spec.levels is not None:
            reporter.error(
                "E912",
                f"input '{node.id}' is discrete (levels: {node.input_spec.levels}), but "
                "reverse-KL gradients flow through the model's draws, which discrete "
                "values block",
                node.path + ("levels",),
                node=node.id,
                hint="fit a continuous input",
            )
            ok = False
    first = inputs[0] if inputs else None
    if first is not None and first.input_spec is not None and target in ENERGIES:
        shape = first.input_spec.shape
        if shape != ENERGY_SHAPE:
            reporter.error(
                "E911",
                f"energy {target} is a density on 2-D points (event shape {ENERGY_SHAPE}), "
                f"but input '{first.id}' has shape {shape}",
                first.path + ("shape",),
                node=first.id,
                hint="fit it with a spec whose data input is x: {shape: [2]}",
            )
            ok = False
    return ok
