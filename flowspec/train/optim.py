"""The optimizers ``flowspec train`` uses: Adam (Kingma & Ba 2015, arXiv:1412.6980), AdamW
(decoupled weight decay, Loshchilov & Hutter 2019, arXiv:1711.05101) and SGD with momentum
0.9, written out in a few tensor operations each.

They are not ``torch.optim`` optimizers on purpose: the first use of any of those imports
``torch._dynamo``, which takes seconds (4-7 s on a busy 2-core machine) on every run of a
command that trains for a few seconds. The update rules are torch's defaults (Adam:
``betas=(0.9, 0.999)``, ``eps=1e-8``, bias-corrected moments, L2 weight decay added to the
gradient; AdamW: weights shrunk by ``lr * weight_decay`` before the Adam step). Their state
is flat tensors plus JSON, so checkpoints hold it in safetensors without pickling.

Example::

    train: {optimizer: adamw, lr: 1.0e-3, weight_decay: 1.0e-4}
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

__all__ = ["Optimizer", "OPTIMIZERS"]

OPTIMIZERS = ("adam", "adamw", "sgd")
_BETA1, _BETA2, _EPS, _MOMENTUM = 0.9, 0.999, 1e-8, 0.9
_PREFIX = "optim."


class Optimizer:
    """One of :data:`OPTIMIZERS` over ``parameters``; set ``lr`` before each :meth:`step`."""

    def __init__(
        self, kind: str, parameters: Iterable[nn.Parameter], lr: float, weight_decay: float = 0.0
    ) -> None:
        if kind not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer '{kind}'; use one of {', '.join(OPTIMIZERS)}")
        self.kind, self.lr, self.weight_decay = kind, lr, weight_decay
        self.parameters = list(parameters)
        self.steps = [0] * len(self.parameters)
        self.state: list[dict[str, torch.Tensor]] = [{} for _ in self.parameters]

    def zero_grad(self) -> None:
        for parameter in self.parameters:
            parameter.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        for index, parameter in enumerate(self.parameters):
            if parameter.grad is None:
                continue
            self.steps[index] += 1
            if self.kind == "sgd":
                self._sgd(parameter, self.state[index])
            else:
                self._adam(parameter, self.state[index], self.steps[index])

    def _sgd(self, parameter: nn.Parameter, state: dict[str, torch.Tensor]) -> None:
        gradient = parameter.grad
        assert gradient is not None, "step() only updates parameters with a gradient"
        if self.weight_decay:
            gradient = gradient.add(parameter, alpha=self.weight_decay)
        buffer = state.get("momentum")
        if buffer is None:
            buffer = state["momentum"] = gradient.clone()
        else:
            buffer.mul_(_MOMENTUM).add_(gradient)
        parameter.add_(buffer, alpha=-self.lr)

    def _adam(self, parameter: nn.Parameter, state: dict[str, torch.Tensor], step: int) -> None:
        gradient = parameter.grad
        assert gradient is not None, "step() only updates parameters with a gradient"
        if self.weight_decay and self.kind == "adam":
            gradient = gradient.add(parameter, alpha=self.weight_decay)
        if self.weight_decay and self.kind == "adamw":
            parameter.mul_(1.0 - self.lr * self.weight_decay)
        if not state:
            state["exp_avg"] = torch.zeros_like(parameter)
            state["exp_avg_sq"] = torch.zeros_like(parameter)
        mean, square = state["exp_avg"], state["exp_avg_sq"]
        mean.lerp_(gradient, 1.0 - _BETA1)
        square.mul_(_BETA2).addcmul_(gradient, gradient, value=1.0 - _BETA2)
        denominator = (square.sqrt() / math.sqrt(1.0 - _BETA2**step)).add_(_EPS)
        parameter.addcdiv_(mean, denominator, value=-self.lr / (1.0 - _BETA1**step))

    def state_dict(self) -> tuple[dict[str, torch.Tensor], dict]:
        """The state as flat tensors (``optim.<index>.<name>``) and JSON-ready data."""
        tensors = {
            f"{_PREFIX}{index}.{name}": value
            for index, state in enumerate(self.state)
            for name, value in state.items()
        }
        return tensors, {"kind": self.kind, "steps": list(self.steps)}

    def load_state_dict(self, tensors: dict[str, torch.Tensor], info: dict) -> None:
        """Restore a state written by :meth:`state_dict` for the same parameters."""
        if info["kind"] != self.kind or len(info["steps"]) != len(self.parameters):
            raise ValueError(
                f"the saved optimizer state is for {info['kind']} over {len(info['steps'])} "
                f"parameters, not {self.kind} over {len(self.parameters)}"
            )
        self.steps = [int(step) for step in info["steps"]]
        self.state = [{} for _ in self.parameters]
        for name, value in tensors.items():
            if name.startswith(_PREFIX):
                index, key = name[len(_PREFIX) :].split(".", 1)
                target = self.parameters[int(index)]
                self.state[int(index)][key] = value.to(device=target.device, dtype=target.dtype)
