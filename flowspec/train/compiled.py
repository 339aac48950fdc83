"""``train: {compile: true}`` (``flowspec train --compile``): the training loss's
``log_prob`` under ``torch.compile``.

What is compiled is the module that computes each step's loss (the model, its
``memory:`` wrapper, or its DistributedDataParallel wrapper): dynamo captures ``log_prob``,
AOT autograd derives its backward, inductor generates the code of both (Ansel et al. 2024,
PyTorch 2, ASPLOS). The optimizer step, gradient clipping and validation stay eager:
validation runs the uncompiled model in eval mode, so it neither compiles a second graph nor
depends on the compiler.

The first step compiles, which takes seconds (a 2-D RealNVP) to minutes (a deep image
flow on a loaded machine); the run times that step and ``flowspec train`` reports it as a
one-off cost. Inductor keeps what it generated in its on-disk caches (the FX graph
cache and the AOT autograd cache, on by default in torch 2.13) under :func:`cache_folder`
(``TORCHINDUCTOR_CACHE_DIR``, default ``/tmp/torchinductor_$USER``), so a second run of
the same spec on the same machine compiles faster (benchmarks/RESULTS.md has both
figures).

Kinds whose loops depend on the data (``NodeSpec.not_fullgraph``: fixed-point and ODE
solvers, the Russian-roulette estimator, bisection) are not compiled: dynamo would unroll
their loops at every new trip count or break the graph inside them, recompiling on most
steps. A model holding one trains eagerly, and the run says which node made it so. So does
a model trained with ``memory: invertible`` or ``checkpoint`` (:mod:`flowspec.emit.memory`):
its own backward pass, which rebuilds inputs, breaks the graph at every segment (on
realnvp_moons it computed the same losses, and compiling took longer than training).

Weights of a compiled module carry the prefix ``_orig_mod.`` in their names;
:func:`without_compiled_prefix` removes it, so checkpoints load into an uncompiled model
(flowspec's own checkpoints are written from the uncompiled model and never carry it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import torch
from torch import nn

from flowspec.emit.export import NOT_FULLGRAPH
from flowspec.emit.runtime import FlowModel

__all__ = [
    "BACKEND",
    "COMPILED_PREFIX",
    "cache_folder",
    "compiled_loss",
    "eager_reason",
    "without_compiled_prefix",
]

#: The torch.compile backend of ``train: {compile: true}``. Tests set ``aot_eager`` (graph
#: capture and AOT autograd without code generation) to check the wiring cheaply.
BACKEND = "inductor"
#: What ``torch.compile(module).state_dict()`` puts before every name.
COMPILED_PREFIX = "_orig_mod."

Value = TypeVar("Value")


def eager_reason(model: FlowModel, memory: str = "stored") -> str | None:
    """Why ``model`` trained with ``memory`` trains eagerly under ``compile: true`` (a
    sentence naming the first node whose loops depend on the data, and why, or the memory
    option), or None when it compiles."""
    if memory != "stored":
        return (
            f"memory: {memory} rebuilds inputs in a backward pass of its own, which "
            "torch.compile breaks into many graphs (slower to compile than to train on the "
            "specs measured); the model trains eagerly"
        )
    for node in model.checked.graph.layers:
        if node.spec is not None and node.kind in NOT_FULLGRAPH:
            return (
                f"node '{node.id}' ({node.kind}) is not compiled: {NOT_FULLGRAPH[node.kind]}; "
                "the model trains eagerly"
            )
    return None


def cache_folder() -> str:
    """Where inductor caches compiled code on this machine (``TORCHINDUCTOR_CACHE_DIR``,
    default ``/tmp/torchinductor_$USER``)."""
    from torch._inductor.runtime.cache_dir_utils import cache_dir

    return str(cache_dir())


def without_compiled_prefix(tensors: Mapping[str, Value]) -> dict[str, Value]:
    """``tensors`` with the ``_orig_mod.`` prefix of a compiled module's state dict removed
    from every name that has it (other names unchanged)."""
    return {name.removeprefix(COMPILED_PREFIX): value for name, value in tensors.items()}


def compiled_loss(
    network: nn.Module, model: FlowModel, memory: str = "stored"
) -> tuple[nn.Module, str | None]:
    """What computes the loss under ``compile: true``: ``network`` compiled with
    :data:`BACKEND`, or ``network`` itself with the reason (:func:`eager_reason`) when
    ``model`` holds a kind that iterates or trains with a memory option."""
    reason = eager_reason(model, memory)
    if reason is not None:
        return network, reason
    compiled = torch.compile(network, backend=BACKEND)
    assert isinstance(compiled, nn.Module), "torch.compile of a module is a module"
    return compiled, None
