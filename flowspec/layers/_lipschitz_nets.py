"""The residual branches' torch modules (spec: :mod:`flowspec.nodes._residual_branch`):
networks whose linear maps are rescaled to operator norm at most ``lipschitz`` between
1-Lipschitz activations, so ``Lip(g) < 1`` (Behrmann et al. 2019, arXiv:1811.00995; Chen et
al. 2019, arXiv:1906.02735). Both take and return flat ``(batch, D)`` tensors, so the
residual block's log-det estimators and fixed-point inverse are the same for every branch.

Given a flat context ``c`` (a conditional residual flow), ``g(x; c)`` adds ``A c`` to the
first map's output (per channel, broadcast over the pixels, for a conv net): the same as
feeding ``c`` to the first map as extra inputs whose columns are left out of the spectral
normalisation. ``A c`` is constant in ``x``, so ``Lip(g(., c)) <= lipschitz`` for every
context, however large.
"""

from __future__ import annotations

from itertools import pairwise
from typing import cast

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import Layer
from flowspec.layers._spectral import ConvOperator, DenseOperator, power_iteration_, spectral_norm
from flowspec.layers.conditioners.mlp import ACTIVATIONS

__all__ = ["LipSwish", "SpectralMLP", "SpectralConvNet", "lipschitz_activation"]


class LipSwish(Layer):
    """``x sigmoid(beta x) / 1.1`` with ``beta = softplus(raw_beta)`` learned (Chen et al.
    2019, Sec. 4): Swish's slope ``sigmoid(s) + s sigmoid'(s)`` (``s = beta x``) never
    exceeds 1.0998, so dividing by 1.1 makes it 1-Lipschitz for every ``beta``."""

    def __init__(self) -> None:
        super().__init__()
        self.raw_beta = nn.Parameter(torch.tensor(0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x * F.softplus(self.raw_beta)) / 1.1


def lipschitz_activation(name: str) -> nn.Module:
    """The 1-Lipschitz activation module called ``name`` in specs."""
    return LipSwish() if name == "lipswish" else getattr(nn, ACTIVATIONS[name])()


class _SpectralNet(Layer):
    """Linear maps ``linears[i]`` (``nn.Linear`` or ``nn.Conv2d``) applied as ``operators[i]``,
    each rescaled ``W <- W min(1, lipschitz / sigma(W))`` with ``sigma`` the operator norm
    estimated by power iteration with persistent vectors ``u{i}``, ``v{i}`` (Miyato et al.
    2018, arXiv:1802.05957), which take ``power_iterations`` steps per backward pass."""

    #: One input's shape (flat ``x`` is viewed as ``(batch, *input_shape)``) and whether an
    #: activation comes before the first map.
    input_shape: tuple[int, ...]
    preact: bool
    activations: nn.ModuleList
    #: Named `linears` for convolutions too: the checkpoints of flat residual flows hold
    #: `net.linears.{i}.weight` since their first release.
    linears: nn.ModuleList

    def _set_up(
        self,
        maps: list[nn.Linear] | list[nn.Conv2d],
        operators: list[DenseOperator | ConvOperator],
        shapes: list[tuple[tuple[int, ...], tuple[int, ...]]],
        lipschitz: float,
        power_iterations: int,
        context_features: int,
    ) -> None:
        """Register the maps and, for each, buffers ``u`` (output shape) and ``v`` (input
        shape); the last map starts near zero (not at zero, where power iteration has no
        direction), so the block starts near the identity. With ``context_features`` a
        free linear map ``A`` (no bias) takes the context to the first map's outputs."""
        self.linears = nn.ModuleList(maps)
        first_outputs = shapes[0][0][0]
        self.context_map = (
            nn.Linear(context_features, first_outputs, bias=False) if context_features else None
        )
        self.operators = operators
        self.lipschitz, self.power_iterations = lipschitz, power_iterations
        with torch.no_grad():
            maps[-1].weight.mul_(1e-3)
            assert maps[-1].bias is not None
            maps[-1].bias.zero_()
        for index, (out_shape, in_shape) in enumerate(shapes):
            u = F.normalize(torch.randn(out_shape).flatten(), dim=0).view(out_shape)
            v = F.normalize(torch.randn(in_shape).flatten(), dim=0).view(in_shape)
            self.register_buffer(f"u{index}", u)
            self.register_buffer(f"v{index}", v)
        self.refresh()

    def _vectors(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return getattr(self, f"u{index}"), getattr(self, f"v{index}")

    def _weight_and_bias(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The raw weight and the bias of map ``index``."""
        layer = cast(nn.Linear | nn.Conv2d, self.linears[index])
        return layer.weight, cast(torch.Tensor, layer.bias)

    def refresh(self, steps: int = 50) -> None:
        """Run the power iteration ``steps`` times for the current weights (done at
        construction; call it after changing weights by hand)."""
        for index, operator in enumerate(self.operators):
            u, v = self._vectors(index)
            weight, _ = self._weight_and_bias(index)
            if weight.device.type != "meta":
                power_iteration_(operator, weight, u, v, steps)

    def weights(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each map's normalised weight and its bias."""
        result: list[tuple[torch.Tensor, torch.Tensor]] = []
        for index, operator in enumerate(self.operators):
            u, v = self._vectors(index)
            weight, bias = self._weight_and_bias(index)
            sigma = spectral_norm(operator, weight, u, v, self.power_iterations)
            scale = torch.clamp(self.lipschitz / sigma.clamp_min(1e-12), max=1.0)
            result.append((weight * scale, bias))
        return result

    def context_shift(self, context: torch.Tensor | None) -> torch.Tensor | float:
        """``A c`` for a flat context ``c`` (``(batch, outputs of the first map)``), 0 without."""
        if context is None:
            return 0.0
        assert self.context_map is not None, "built without context_features"
        return cast(torch.Tensor, self.context_map(context.flatten(1)))

    def with_weights(
        self,
        x: torch.Tensor,
        weights: list[tuple[torch.Tensor, torch.Tensor]],
        context: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``g(x; c)`` for flat ``x`` with the given (normalised) weights: each map applied
        by its operator, a 1-Lipschitz activation before every map but the first (and before
        the first too with ``preact``), ``A c`` added to the first map's output."""
        h = x.view(x.shape[0], *self.input_shape)
        activations = iter(self.activations)
        if self.preact:
            h = next(activations)(h)
        for index, ((weight, bias), operator) in enumerate(
            zip(weights, self.operators, strict=True)
        ):
            if index:
                h = next(activations)(h)
            h = operator.layer(h, weight, bias)
            if index == 0 and context is not None:
                shift = cast(torch.Tensor, self.context_shift(context))
                h = h + shift.view(*shift.shape, *[1] * (h.dim() - 2))
        return h.flatten(1)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.with_weights(x, self.weights(), context)


class SpectralMLP(_SpectralNet):
    """An MLP ``D -> hidden -> D`` of spectrally normalised linear layers."""

    def __init__(
        self,
        features: int,
        hidden: list[int],
        activation: str,
        lipschitz: float,
        power_iterations: int,
        context_features: int = 0,
    ) -> None:
        super().__init__()
        self.input_shape, self.preact = (features,), False
        sizes = [features, *hidden, features]
        self.activations = nn.ModuleList(lipschitz_activation(activation) for _ in hidden)
        self._set_up(
            [nn.Linear(a, b) for a, b in pairwise(sizes)],
            [cast(DenseOperator | ConvOperator, DenseOperator()) for _ in pairwise(sizes)],
            [((b,), (a,)) for a, b in pairwise(sizes)],
            lipschitz,
            power_iterations,
            context_features,
        )


class SpectralConvNet(_SpectralNet):
    """Convolutions ``C -> channels -> ... -> C`` ('same' padding, stride 1) on images of
    ``shape = [C, H, W]``, each normalised by its norm as an operator on such images (power
    iteration with the convolution and its transpose, as the Residual Flows code does)."""

    def __init__(
        self,
        shape: list[int],
        channels: int,
        kernels: list[int],
        activation: str,
        preact: bool,
        lipschitz: float,
        power_iterations: int,
        context_features: int = 0,
    ) -> None:
        super().__init__()
        self.input_shape, self.preact = tuple(shape), preact
        c, h, w = shape
        widths = [c, *[channels] * (len(kernels) - 1), c]
        layers = [
            nn.Conv2d(a, b, k, padding=k // 2)
            for (a, b), k in zip(pairwise(widths), kernels, strict=True)
        ]
        count = len(kernels) - 1 + int(preact)
        self.activations = nn.ModuleList(lipschitz_activation(activation) for _ in range(count))
        self._set_up(
            layers,
            [cast(DenseOperator | ConvOperator, ConvOperator(k // 2)) for k in kernels],
            [((b, h, w), (a, h, w)) for a, b in pairwise(widths)],
            lipschitz,
            power_iterations,
            context_features,
        )
