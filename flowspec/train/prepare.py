"""A checked spec and its training settings -> a fresh model and the data that fits it;
what ``flowspec train`` and each ``flowspec sweep`` worker do before :func:`fit`.

Example::

    >>> import flowspec
    >>> from flowspec.spec.training import TrainSettings
    >>> model, data = prepare(flowspec.check("specs/realnvp_moons.yaml"), TrainSettings(data="moons"))
    >>> data.name, tuple(data.shape), model.DATA_INPUTS
    ('moons', (2,), ('x',))
"""

from __future__ import annotations

import torch

from flowspec.api import CheckedSpec
from flowspec.emit.runtime import FlowModel
from flowspec.spec.training import TrainSettings
from flowspec.train.compat import check_compatible, drop_unused_context, resolve_data
from flowspec.train.data import Dataset
from flowspec.train.files import DataError

__all__ = ["prepare"]


def prepare(
    checked: CheckedSpec, settings: TrainSettings, device: torch.device | None = None
) -> tuple[FlowModel, Dataset]:
    """The model, initialised from ``settings.seed``, on ``device``, and ``settings.data``
    loaded for it; :class:`DataError` listing every way the data does not fit."""
    if settings.data is None:
        raise DataError(
            "no data to train on: give --data NAME or FILE, or data: in the train settings"
        )
    torch.manual_seed(settings.seed)
    model = checked.build_model().to(device or torch.device("cpu"))
    dataset = drop_unused_context(model, resolve_data(model, settings.data, seed=settings.seed))
    problems = check_compatible(model, dataset)
    if problems:
        raise DataError(
            f"data '{settings.data}' does not fit spec '{checked.graph.header.name}':\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    return model, dataset
