"""The mean negative log-likelihood of a model over a data split, in nats per example.

Used by the fit loop for validation and the final figures, and by ``flowspec eval``.

Example::

    >>> evaluate_nll(model, dataset.test)          # doctest: +SKIP
    1.2059
"""

from __future__ import annotations

import math

import torch
from torch import nn

from flowspec.train.data import Split
from flowspec.train.distributed import Distributed

__all__ = ["bits_per_dim", "evaluate_nll", "model_dtype_device"]


def bits_per_dim(nll: float, dims: int) -> float:
    """An NLL in nats per example as bits per dimension, for ``dims`` values per example."""
    return nll / (dims * math.log(2.0))


def model_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    """The dtype and device of the model's first floating-point parameter or buffer."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype, tensor.device
    return torch.get_default_dtype(), torch.device("cpu")


@torch.no_grad()
def _nll_sum(model: nn.Module, split: Split, batch_size: int) -> float:
    dtype, device = model_dtype_device(model)
    total = 0.0
    for start in range(0, len(split), batch_size):
        inputs = split.inputs(slice(start, start + batch_size))
        log_prob = model(*(part.to(device=device, dtype=dtype) for part in inputs))
        total -= float(log_prob.double().sum())
    return total


def evaluate_nll(
    model: nn.Module,
    split: Split | torch.Tensor,
    batch_size: int = 1024,
    distributed: Distributed | None = None,
) -> float:
    """Mean ``-log_prob`` over a split (or a data tensor) in nats per example, in eval mode
    without gradients; the model's mode is restored afterwards. With ``distributed``, each
    process evaluates its share and the mean is over the whole split."""
    split = split if isinstance(split, Split) else Split(split)
    flow = getattr(model, "module", model)  # inside DistributedDataParallel
    if not getattr(flow, "CONTEXT_INPUTS", ()):
        split = Split(split.x)  # e.g. moons' labels, for an unconditional model
    if len(split) == 0:
        raise ValueError("cannot evaluate the NLL of an empty data set")
    was_training = model.training
    model.eval()
    try:
        if distributed is None:
            return _nll_sum(model, split, batch_size) / len(split)
        share = distributed.shard(split)
        total = _nll_sum(model, share, batch_size) if len(share) else 0.0
        return distributed.sum(total) / len(split)
    finally:
        model.train(was_training)
