"""The multilayer perceptron conditioner's torch module (spec: :mod:`flowspec.conditioners.mlp`)."""

from __future__ import annotations

from torch import nn

from flowspec.core.layer import Layer

__all__ = ["MLP", "ACTIVATIONS"]


#: Activation names as written in specs -> the name of the ``torch.nn`` module class.
ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "tanh": "Tanh",
}


class MLP(Layer, nn.Sequential):
    """Linear layers with an activation between them; the last layer may start at zero."""

    def __init__(
        self,
        in_features: int,
        hidden: list[int],
        out_features: int,
        activation: str = "relu",
        zero_init: bool = True,
    ):
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), getattr(nn, ACTIVATIONS[activation])()]
        last = nn.Linear(sizes[-1], out_features)
        if zero_init:
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        layers.append(last)
        super().__init__(*layers)
