"""Training on several processes with DistributedDataParallel (Li et al. 2020,
arXiv:2006.15704), started by ``torchrun``.

``torchrun --nproc_per_node N -m flowspec train SPEC ...`` (add ``--nnodes M
--rdzv-endpoint HOST:PORT`` across machines) starts N processes with ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and ``MASTER_ADDR``/``MASTER_PORT`` set; :func:`from_environment`
joins them into one process group: gloo on CPU, nccl on CUDA GPUs (one GPU per local rank).
Every process builds the same model from the same seed (DDP also broadcasts rank 0's
weights), takes its share of each batch (``batch_size`` is the global batch) and of the
validation split, and all-reduces gradients; losses and validation NLLs are summed over the
processes, so early stopping and divergence stop all of them at the same step, and so does
the time limit (a process past it stops them all). Only rank 0
writes checkpoints and logs.

Resuming is exact: at every validation (the same step on every process) all processes send
their random generator states to rank 0, which stores them per rank in the last checkpoint
together with the number of processes; on ``--resume`` each process restores its own. A
checkpoint can only be resumed by as many processes as wrote it (else a
:class:`~flowspec.train.checkpoint.CheckpointError` names both numbers), since a process
without its own saved state could not continue its random stream. Ctrl-C starts no
collective (the other processes may be anywhere), so an interrupted run keeps the last
checkpoint of its last validation and resumes from that step.

Example::

    $ torchrun --nproc_per_node 2 -m flowspec train specs/realnvp_moons.yaml --data moons --steps 500
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch
from torch import nn

from flowspec.train.data import Split

__all__ = ["Distributed", "from_environment"]


@dataclass(frozen=True)
class Distributed:
    """This process's place in the group: ``rank`` of ``world`` processes."""

    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Whether this process writes files and prints (rank 0)."""
        return self.rank == 0

    def shard(self, split: Split) -> Split:
        """This process's share of a split: every ``world``-th example from ``rank``."""
        index = slice(self.rank, None, self.world)
        return Split(split.x[index], None if split.context is None else split.context[index])

    def sum(self, value: float) -> float:
        """``value`` summed over all processes."""
        return self.sums(value)[0]

    def sums(self, *values: float) -> list[float]:
        """Each of ``values`` summed over all processes, in one collective."""
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(tensor)
        return tensor.tolist()

    def gather(self, tensors: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
        """Every process's ``tensors`` on rank 0, one dict per rank (an empty list on the
        other ranks). Every process must call it at the same point with the same names,
        shapes and dtypes (e.g. :func:`flowspec.train.state.rng_state` on like machines)."""
        gathered: list[dict[str, torch.Tensor]] = (
            [{} for _ in range(self.world)] if self.main else []
        )
        for name in sorted(tensors):
            mine = tensors[name].to(self.device)
            parts = [torch.empty_like(mine) for _ in range(self.world)] if self.main else None
            torch.distributed.gather(mine, parts, dst=0)
            for received, part in zip(gathered, parts or (), strict=True):
                received[name] = part.cpu()
        return gathered

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` in DistributedDataParallel (its forward is ``log_prob``)."""
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def accumulating(self, network: nn.Module) -> AbstractContextManager[None]:
        """Backward passes of ``network`` (made by :meth:`wrap`) that add to the gradients
        without all-reducing them: every micro-batch of a step but the last
        (``train: {accumulate: N}``)."""
        from torch.nn.parallel import DistributedDataParallel

        assert isinstance(network, DistributedDataParallel), "wrap the model first"
        return network.no_sync()

    def close(self, *, wait: bool = True) -> None:
        """Leave the group, by default once every process has arrived here: a process that
        tears down its connections while another still uses them aborts (gloo's "terminate
        called without an active exception"). ``wait=False`` leaves at once, after an error
        that the other processes may not share."""
        if torch.distributed.is_initialized():
            if wait:
                torch.distributed.barrier()
            torch.distributed.destroy_process_group()


def from_environment(device: torch.device) -> Distributed | None:
    """Join the process group ``torchrun`` describes in the environment, or None when this
    is a single process (no ``WORLD_SIZE`` above 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.distributed.init_process_group(backend=backend)
    return Distributed(torch.distributed.get_rank(), torch.distributed.get_world_size(), device)
