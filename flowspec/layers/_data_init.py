"""What layers set from data share: per-feature moments of the values that reach them.

Actnorm (Glow, Kingma & Dhariwal 2018, arXiv:1807.03039, Sec. 3.1) sets its bias and scale
so that its input comes out with zero mean and unit variance per feature; ``standardize``
stores the mean and std of its input as the fixed affine map of the data's preprocessing.
Both need the per-feature mean and standard deviation of their input (over the examples
and, for ``[C, H, W]``, every position of a channel). :class:`Moments` accumulates them
over chunks of any size, in float64, by the pairwise update of Chan, Golub & LeVeque
(1979), so that :meth:`flowspec.emit.runtime.FlowModel.initialize` measures a whole
training split exactly, chunk by chunk, whatever its size. The discretized logistic base
over all integers (the prior of integer discrete flows) centres its components at the
per-element mean and spread of what reaches it.

A :class:`DataInitialized` layer that has not been set:

- while ``FlowModel.initialize`` records it, adds its input to its moments and stops the
  pass (:class:`Recorded`), so that the layers after it are measured only once it is set;
- otherwise runs :meth:`DataInitialized.unset_input`: actnorm and the discretized logistic
  base in training mode set themselves from that batch (Glow's first-batch
  initialisation, for plain torch loops), and any other use raises
  :class:`UninitializedError` rather than fix its numbers on a probe.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from flowspec.core.layer import Layer

__all__ = ["DataInitialized", "Moments", "Recorded", "UninitializedError"]


class UninitializedError(RuntimeError):
    """A layer set from data (actnorm, standardize) was used before it was set."""


class Recorded(Exception):
    """Raised by a layer that recorded its input for ``FlowModel.initialize``: the rest of
    the pass is not needed (and the layers after it are not set yet)."""


class Moments:
    """Per-feature count, mean and sum of squared deviations (float64) of batches
    ``[n, features, *positions]``, merged chunk by chunk."""

    def __init__(self, features: int) -> None:
        self.count = 0
        self.mean = torch.zeros(features, dtype=torch.float64)
        self.squares = torch.zeros(features, dtype=torch.float64)

    def add(self, x: torch.Tensor) -> None:
        x = x.detach().to(torch.float64)
        if not bool(torch.isfinite(x).all()):
            raise ValueError(
                f"the values hold {int((~torch.isfinite(x)).sum())} non-finite numbers (inf or "
                "nan), e.g. from a logit or log of values exactly at 0 or 1"
            )
        dims = [0, *range(2, x.dim())]
        count = x.numel() // x.shape[1]
        batch_mean = x.mean(dim=dims)
        squares = ((x - _per_feature(batch_mean, x.dim())) ** 2).sum(dim=dims).cpu()
        mean = batch_mean.cpu()
        total = self.count + count
        delta = mean - self.mean
        self.squares += squares + delta**2 * (self.count * count / total)
        self.mean += delta * (count / total)
        self.count = total

    def std(self) -> torch.Tensor | None:
        """The population standard deviation, None with fewer than two values."""
        return (self.squares / self.count).sqrt() if self.count > 1 else None


def _per_feature(values: torch.Tensor, rank: int) -> torch.Tensor:
    return values.view((1, -1) + (1,) * (rank - 2))


class DataInitialized(Layer):
    """A node's layer whose numbers are set from the per-feature moments of its input: a
    flow layer (actnorm, standardize) or a base distribution (the discretized logistic over
    all integers, :mod:`flowspec.layers.discretized_logistic`).

    ``initialized`` is a persistent buffer, so a saved model is not set again when loaded;
    the forward pass tests its plain-bool mirror ``is_initialized`` (kept in sync by
    :meth:`_load_from_state_dict`) rather than the tensor, so tracing sees a constant.
    """

    #: Whether a model without it set may still generate (actnorm: the identity) instead
    #: of raising; a layer whose numbers define the data's units (standardize) may not.
    GENERATES_UNSET: ClassVar[bool] = False
    #: What the layer sets, for messages.
    SETS: ClassVar[str] = "its statistics"
    initialized: torch.Tensor

    def _init_data_state(self, features: int, data_init: bool = True) -> None:
        self.features = features
        self.data_init = data_init
        self.register_buffer("initialized", torch.tensor(not data_init))
        self.is_initialized = not data_init
        self._moments: Moments | None = None

    def set_from(self, mean: torch.Tensor, std: torch.Tensor | None) -> None:
        """Set the layer from its input's per-feature mean and std (None: one value per
        feature, no spread)."""
        raise NotImplementedError

    def record(self) -> None:
        """Start recording the inputs of the passes to come (``FlowModel.initialize``)."""
        self._moments = Moments(self.features)

    def finish(self) -> None:
        """Set the layer from what it recorded."""
        moments, self._moments = self._moments, None
        if moments is None or moments.count == 0:
            raise RuntimeError("nothing was recorded: the layer was not reached")
        with torch.no_grad():
            self.set_from(moments.mean, moments.std())
        self.mark_initialized()

    def mark_initialized(self, value: bool = True) -> None:
        self.initialized.fill_(value)
        self.is_initialized = value

    def unset_input(self, x: torch.Tensor) -> None:
        """What the layer does with an input before it is set: record it (and stop the
        pass) for ``FlowModel.initialize``, else refuse."""
        if self._moments is not None:
            self._moments.add(x)
            raise Recorded
        raise UninitializedError(
            f"this {type(self).__name__} layer has not been set from data: call "
            "model.initialize(x) on training data first (flowspec train does it from the "
            f"training split), or load trained weights; it sets {self.SETS}"
        )

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        self.is_initialized = bool(self.initialized)
