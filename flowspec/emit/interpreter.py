"""``trace`` and ``sample_and_log_prob``: the model's ``GRAPH`` run node by node.

The generated straight-line methods keep only what ``log_prob`` and ``sample`` need (the
running total, values folded into feature positions). Inspecting a model needs every
node's value and contribution, and scoring its own samples needs each node's contribution
where it generated; both run the spec's graph as it is written, every node's layer called
as a module (so hooks on every node fire here), from the table the generated class holds:
``GRAPH``, each node in inference order as ``(node, inputs, context, outputs)`` with values
named as the spec names them, and ``GENERATION_ORDER``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from flowspec.emit.runtime import FlowModel

__all__ = ["run_inference", "run_scored_generation"]


def run_inference(
    model: FlowModel, values: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Inference from the inputs in ``values`` (by name): ``(log p(x), contributions,
    latents, values)``, ``values`` completed with every node's outputs."""
    contributions: dict[str, torch.Tensor] = {}
    latents: dict[str, torch.Tensor] = {}
    logp: torch.Tensor | None = None
    for node, inputs, context, outputs in model.GRAPH:
        layer: Any = model.nodes[node]
        given = [values[name] for name in inputs]
        named = {} if context is None else {"context": values[context]}
        if outputs:
            result, contribution = layer(*given, **named)
            values.update(zip(outputs, result if len(outputs) > 1 else (result,), strict=True))
        else:
            latents[node] = given[0]
            contribution = layer(*given, **named)
        contributions[node] = contribution
        logp = contribution if logp is None else logp + contribution
    assert logp is not None, "a model has at least one distribution"
    return logp, contributions, latents, values


def run_scored_generation(
    model: FlowModel, n: int, context: dict[str, torch.Tensor]
) -> tuple[Any, torch.Tensor]:
    """``n`` draws and their log-density, each node's contribution taken at the values it
    generated (its layer's ``inverse_and_contribution`` when it has one)."""
    wiring = {node: (inputs, ctx, outputs) for node, inputs, ctx, outputs in model.GRAPH}
    values: dict[str, torch.Tensor] = dict(context)
    logp: torch.Tensor | None = None
    for node in model.GENERATION_ORDER:
        inputs, ctx, outputs = wiring[node]
        layer: Any = model.nodes[node]
        named = {} if ctx is None else {"context": values[ctx]}
        if outputs:
            result, contribution = model._scored_inverse(
                layer, *(values[name] for name in outputs), **named
            )
            values.update(zip(inputs, result if len(inputs) > 1 else (result,), strict=True))
        else:
            latent = layer.sample(n, **named)
            values[inputs[0]] = latent
            contribution = layer(latent, **named)
        logp = contribution if logp is None else logp + contribution
    assert logp is not None, "a model has at least one distribution"
    data = {name: values[name] for name in model.DATA_INPUTS}
    return (data[model.DATA_INPUTS[0]] if len(data) == 1 else data), logp
