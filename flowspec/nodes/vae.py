"""VAE: a stochastic node with an encoder q(z | x) and a decoder p(x | z).

Kingma and Welling 2014, "Auto-Encoding Variational Bayes", arXiv:1312.6114, as the
stochastic transformation of SurVAE flows (Nielsen et al. 2020, arXiv:2007.02731). Inference
draws ``z ~ q(z | x)`` (reparameterised); generation draws ``x ~ p(x | z)``. The contribution

    log p(x | z) - log q(z | x)

plus the log-density of ``z`` downstream is one sample of the ELBO. With a conditional flow
as the encoder this is the setting of Rezende and Mohamed 2015, "Variational Inference with
Normalizing Flows", arXiv:1505.05770. The decoder is any density that models ``x``
(bernoulli for binary data, categorical or discretized_logistic for integers, gaussian for
real values).

Unlike the densities of flows (whose networks' last layers start at zero, so a flow starts
at the identity), the encoder's and decoder's networks keep PyTorch's default
initialisation: zero last layers are the collapsed state itself (a decoder that ignores
``z`` sends the reconstruction term no gradient to the encoder, and the KL term holds
``q(z | x)`` at the prior), in which a VAE with two hidden layers each way stayed (issue 14:
-ELBO 24.21 nats, KL 0.89 after 1000 steps on binarised digits, against 19.91 for the
same model in plain torch; ``benchmarks/suites/bench_vae.py`` compares them).

Example::

    vae:
      kind: vae
      in: x
      latent: 8
      encoder: {kind: gaussian, net: {kind: mlp, hidden: [128]}}
      decoder: {kind: bernoulli, net: {kind: mlp, hidden: [128]}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import MAX_AXIS, NodeCheck
from flowspec.core.ports import REAL, PortInfo, Support
from flowspec.densities.choice import DensityChoice, kind_default
from flowspec.nodes._uses_densities import UsesDensities, check_decoder
from flowspec.nodes.rounding import check_dequantizer

if TYPE_CHECKING:
    from flowspec.layers.vae import VAE

__all__ = ["VAESpec"]


class VAESpec(UsesDensities):
    """x -> z ~ q(z | x) in inference, z -> x ~ p(x | z) in generation; the ELBO terms."""

    kind: Literal["vae"] = "vae"
    latent: int = Field(gt=0, le=MAX_AXIS, description="Number of latent dimensions.")
    encoder: Annotated[DensityChoice, kind_default("gaussian")] = Field(
        default_factory=lambda: {"kind": "gaussian"},
        validate_default=True,
        description="Posterior q(z | x) over the latents given the flattened data.",
    )
    decoder: Annotated[DensityChoice, kind_default("gaussian")] = Field(
        default_factory=lambda: {"kind": "gaussian"},
        validate_default=True,
        description="Likelihood p(x | z) of the data given the latents.",
    )
    summary = "VAE: z ~ q(z | x) in inference, x ~ p(x | z) in generation"
    reference = "Kingma and Welling 2014, Auto-Encoding Variational Bayes, arXiv:1312.6114"
    contribution = "log p(x | z) - log q(z | x)"
    bijective = False
    stochastic_forward = True
    proposals = ("encoder",)
    stochastic_inverse = True

    has_parameters = True
    examples = (
        Example(
            {
                "latent": 2,
                "encoder": {"net": {"hidden": [4]}},
                "decoder": {"kind": "bernoulli", "net": {"hidden": [4]}},
            },
            (PortInfo((4,), Support(levels=2)),),
            label="binary",
        ),
        Example(
            {"latent": 2, "decoder": {"net": {"hidden": [4]}}}, (PortInfo((3,)),), label="real"
        ),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        z = PortInfo((self.latent,), REAL)
        ok = check_decoder(self.decoder, x, check, "decoder")
        ok = check_dequantizer(self.encoder, z, check, "encoder") and ok
        return (z,) if ok else None

    def modelled_by(self) -> str:
        return f"x ~ {self.decoder.describe()} given z; z ~ {self.encoder.describe()} given x"

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        x = inputs[0]
        z = PortInfo((self.latent,), REAL)
        return self.encoder.density_parameter_count(
            z, x.numel
        ) + self.decoder.density_parameter_count(x, self.latent)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> VAE:
        from flowspec.layers.vae import VAE

        x = inputs[0]
        z = PortInfo((self.latent,), REAL)
        encoder = self.encoder.build(z, x.numel, zero_init=False)
        return VAE(encoder, self.decoder.build(x, self.latent, zero_init=False))
