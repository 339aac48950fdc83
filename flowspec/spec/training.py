"""The optional ``train:`` section of a spec: how ``flowspec train`` fits the model.

Every field has a default, so the section, and any field in it, may be left out; the
command line overrides it field by field (``--lr 3e-4``), and ``--config FILE`` reads the
same fields from a separate YAML file. Unknown fields and bad values are located
diagnostics (E900-E949) with a did-you-mean hint, like node fields.

``data`` names what to fit by maximum likelihood; ``target`` instead names an unnormalized
density to fit by reverse KL (``flowspec train --target``): a bundled energy of Rezende and
Mohamed (2015), ``U1`` to ``U4``. A Python function (``FILE.py:FUNCTION``) runs user code,
so it is accepted on the command line only: in a spec or a ``--config`` file it is an error
(E910), and flowspec never imports a file a spec names.

Example::

    train:
      data: moons
      optimizer: adamw
      lr: 1.0e-3
      schedule: cosine       # constant | cosine | linear, after `warmup` steps of linear ramp
      warmup: 100
      batch_size: 256
      steps: 3000            # or epochs: 20
      clip_grad: 10.0
      weight_decay: 1.0e-4
      seed: 0
      threads: 1
      device: cpu            # cpu | cuda | mps
      val_every: 100
      patience: 10
      time_limit: 600        # seconds
      accumulate: 1          # micro-batches of batch_size per optimizer step
      memory: stored         # stored | invertible | checkpoint (flowspec.graph.memory)
      memory_check: true     # measure each rebuilt input's error at validations
      compile: false         # torch.compile the training loss's log_prob (flowspec.train.compiled)
"""

from __future__ import annotations

from typing import Literal

import annotated_types
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "BUNDLED_DATA",
    "DATA_FILE_SUFFIXES",
    "DEFAULT_STEPS",
    "ENERGIES",
    "EVAL_SEED",
    "TrainSettings",
    "allowed_range",
    "is_python_target",
    "setting_problems",
]

DEFAULT_STEPS = 2000
"""Steps when neither ``steps`` nor ``epochs`` is given."""

EVAL_SEED = 0
"""The seed of every evaluation's own generators (validation, the figures after training,
``flowspec eval``): see :mod:`flowspec.train.nll`."""

BUNDLED_DATA = (
    "moons",
    "circles",
    "rings",
    "eight_gaussians",
    "checkerboard",
    "pinwheel",
    "spirals",
    "s_curve",
    "digits",
    "digits_image",
    "digits_binary",
    "point_sets",
    "categorical_sequences",
)
"""The names of the bundled data sets (``flowspec.train.data.DATASETS``, which needs numpy),
for help texts and the schema."""

DATA_FILE_SUFFIXES = (".npy", ".npz", ".csv", ".pt")
"""The data files ``flowspec train`` reads (``flowspec.train.files``)."""

ENERGIES = ("U1", "U2", "U3", "U4")
"""The bundled 2-D energies of Rezende and Mohamed (2015), Table 1
(``flowspec.train.energies``, which needs torch), for help texts and checks."""


def is_python_target(target: str) -> bool:
    """Whether a target names a Python function (``FILE.py:FUNCTION``) rather than a
    bundled energy."""
    path, colon, function = target.rpartition(":")
    return bool(colon) and path.endswith(".py") and function.isidentifier()


class TrainSettings(BaseModel):
    """How ``flowspec train`` fits a spec: optimizer, schedule, budget, validation, hardware."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)

    data: str | None = Field(
        default=None,
        description=f"A bundled data set ({', '.join(BUNDLED_DATA)}) or a data file "
        "(.npy, .npz, .csv, .pt); --data overrides it.",
    )
    target: str | None = Field(
        default=None,
        description=f"Fit by reverse KL to an unnormalized density instead of data: a bundled "
        f"energy of Rezende & Mohamed 2015 ({', '.join(ENERGIES)}); a Python function "
        "FILE.py:FUNCTION is accepted on the command line only (--target), never in a spec.",
    )
    optimizer: Literal["adam", "adamw", "sgd"] = Field(
        default="adam", description="adam, adamw (decoupled weight decay) or sgd (momentum 0.9)."
    )
    lr: float = Field(default=1e-3, gt=0, le=10, description="Peak learning rate.")
    schedule: Literal["constant", "cosine", "linear"] = Field(
        default="cosine",
        description="Learning rate after the warm-up: constant, or cosine/linear decay to 0 "
        "at the last step.",
    )
    warmup: int = Field(
        default=0, ge=0, description="Steps of linear ramp from 0 to lr at the start."
    )
    batch_size: int = Field(default=256, ge=1, le=2**20, description="Examples per step.")
    steps: int | None = Field(
        default=None,
        ge=1,
        le=10**9,
        description=f"Optimizer steps (default {DEFAULT_STEPS} when epochs is not given).",
    )
    epochs: int | None = Field(
        default=None,
        ge=1,
        le=10**6,
        description="Passes over the training split, instead of steps.",
    )
    clip_grad: float | None = Field(
        default=10.0, gt=0, description="Largest global gradient 2-norm; null for no clipping."
    )
    weight_decay: float = Field(default=0.0, ge=0, le=1, description="Weight decay factor.")
    seed: int = Field(
        default=0,
        ge=0,
        le=2**32 - 1,
        description="Seed of the initial weights, the data splits and the batch order.",
    )
    threads: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="CPU threads (1 is fastest for small models on a shared machine).",
    )
    device: Literal["cpu", "cuda", "mps"] = Field(default="cpu", description="Where to train.")
    val_every: int | None = Field(
        default=None,
        ge=1,
        description="Steps between validations (default: 40 validations per run).",
    )
    patience: int | None = Field(
        default=10,
        ge=1,
        description="Stop after this many validations without a better validation NLL; null "
        "to never stop early.",
    )
    time_limit: float | None = Field(
        default=None,
        gt=0,
        description="Seconds of training after which to stop (validating first); the best "
        "weights are kept.",
    )

    accumulate: int = Field(
        default=1,
        ge=1,
        le=4096,
        description="Micro-batches of batch_size whose gradients add up before each "
        "optimizer step: the effective batch is accumulate x batch_size.",
    )
    memory: Literal["stored", "invertible", "checkpoint"] = Field(
        default="stored",
        description="What backpropagation keeps: stored (every activation), invertible "
        "(chains of bijective nodes with one-pass analytic inverses keep only their output "
        "and rebuild their inputs by the inverse in the backward pass; Gomez et al. 2017), "
        "checkpoint (as invertible, and the other deterministic nodes are recomputed from "
        "their segment's input: gradient checkpointing, Chen et al. 2016).",
    )
    memory_check: bool = Field(
        default=True,
        description="With memory invertible or checkpoint: at the first step and at every "
        "validation, rebuild each node's input from its output and stop, naming the node, "
        "when the relative error exceeds the bound (flowspec.graph.memory.REBUILD_BOUND).",
    )

    compile: bool = Field(
        default=False,
        description="Run the training loss's log_prob (forward and backward) under "
        "torch.compile (inductor); the first step compiles (seconds to minutes, reported; "
        "inductor's on-disk cache makes later runs of the spec compile faster). Kinds that "
        "iterate to a tolerance (residual, cnf, planar/sylvester inversion), and memory other "
        "than stored, train eagerly, with a warning saying why; validation always runs "
        "eagerly. --compile overrides it.",
    )

    @field_validator("target")
    @classmethod
    def _known_target(cls, target: str | None) -> str | None:
        if target is None or target in ENERGIES or is_python_target(target):
            return target
        raise ValueError(
            f"expected a bundled energy ({', '.join(ENERGIES)}) or, on the command line, a "
            "Python function FILE.py:FUNCTION"
        )

    def warmup_shortfall(self, total: int) -> str | None:
        """What the learning rate does instead of reaching ``lr`` when the warm-up does not
        end before the last of ``total`` steps (a sentence), or None."""
        if self.warmup < total:
            return None
        peak = self.lr * total / self.warmup
        return (
            f"warmup: {self.warmup} is not shorter than the run's {total} steps: the learning "
            f"rate only rises, to {peak:.3g} at the last step (lr is {self.lr:g}), and the "
            f"{self.schedule} schedule never starts"
        )

    @model_validator(mode="after")
    def _no_contradictions(self) -> TrainSettings:
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give steps or epochs, not both")
        if self.data is not None and self.target is not None:
            raise ValueError("give data (maximum likelihood) or target (reverse KL), not both")
        return self


_LOWER = {annotated_types.Gt: ("gt", "<", ">"), annotated_types.Ge: ("ge", "<=", ">=")}
_UPPER = {annotated_types.Lt: ("lt", "<"), annotated_types.Le: ("le", "<=")}


def allowed_range(name: str) -> str | None:
    """The bounds of a numeric setting as text (``0 < lr <= 10``, ``warmup >= 0``), None
    when it has none."""
    field = TrainSettings.model_fields.get(name)
    if field is None:
        return None
    low = high = None
    for item in field.metadata:
        if type(item) in _LOWER:
            attribute, below, above = _LOWER[type(item)]
            low = (_number(getattr(item, attribute)), below, above)
        elif type(item) in _UPPER:
            attribute, below = _UPPER[type(item)]
            high = (below, _number(getattr(item, attribute)))
    if low is not None and high is not None:
        return f"{low[0]} {low[1]} {name} {high[0]} {high[1]}"
    if low is not None:
        return f"{name} {low[2]} {low[0]}"
    return f"{name} {high[0]} {high[1]}" if high is not None else None


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def setting_problems(error: ValidationError) -> list[tuple[str | None, str]]:
    """Each problem of a :class:`TrainSettings` validation as ``(setting, message)``: the
    value, what is wrong with it and, for numbers, the allowed range (``setting`` is None
    for a problem of several settings together, such as both steps and epochs)."""
    problems: list[tuple[str | None, str]] = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else None
        bounds = allowed_range(name) if name is not None else None
        if name is None:
            problems.append((None, str(item["msg"]).removeprefix("Value error, ")))
            continue
        value = repr(item.get("input"))
        if bounds is not None and item["type"] in _RANGE_ERRORS:
            problems.append((name, f"{value} is out of range; allowed: {bounds}"))
            continue
        what = str(item["msg"]).replace("Input should be ", "expected ", 1)
        problems.append((name, f"{value}: {what}" + (f" (allowed: {bounds})" if bounds else "")))
    return problems


_RANGE_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")
