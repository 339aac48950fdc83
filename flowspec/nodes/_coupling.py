"""What every coupling kind shares: the mask, its checks, the shape rule and the build.

Coupling layers (Dinh et al. 2014, NICE, arXiv:1410.8516; Dinh et al. 2016, RealNVP,
arXiv:1605.08803) leave one part ``x_a`` of the input unchanged and transform the other
part ``x_b`` elementwise, with a transformer whose parameters a conditioner computes from
``x_a`` (and the context) only: that is what makes them invertible with a triangular
Jacobian, ``log|det dz/dx| = sum_b log tau'(x_b; theta(x_a))``. Each kind says which
transformer and which conditioner it uses (:meth:`CouplingBase.parts`).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field, Strict

from flowspec.conditioners.base import ConditionerSpec, no_empty_layer_warning
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Costs
from flowspec.nodes._checks import check_continuous, check_image
from flowspec.nodes._mask import Mask
from flowspec.nodes.concat import union_support
from flowspec.transformers.base import TransformerSpec

if TYPE_CHECKING:
    from flowspec.layers.coupling import CouplingLayer

__all__ = ["CouplingBase", "ExplicitMask"]

#: An explicit mask: one 0/1 per feature (so at least two entries).
ExplicitMask = Annotated[list[Literal[0, 1]], Field(min_length=2)]


class CouplingBase(NodeSpec):
    """Fields, checks, shape rule and build shared by coupling kinds."""

    # Not strict: a spec names the mask as a string ("checkerboard"), read as the enum.
    mask: Annotated[Mask, Strict(False)] | ExplicitMask = Field(
        default=Mask.HALF,
        description="Which values pass through unchanged and condition the rest (1) and "
        "which are transformed (0). Flat inputs [D]: 'half' keeps the first half, "
        "'alternate' every other feature, or an explicit list of 0/1 per feature. Images "
        "[C, H, W]: 'channel' keeps the first half of the channels ('channel_flipped' the "
        "second), 'checkerboard' the pixels with h + w even ('checkerboard_flipped': odd), "
        "'columns' the even columns ('columns_flipped': the odd ones; Flow++), the "
        "conditioner seeing them as a [C, H, W / 2] image.",
    )
    accepts_context = True

    @abstractmethod
    def parts(self) -> tuple[TransformerSpec, ConditionerSpec]:
        """The transformer and the conditioner this coupling uses."""

    def preserves_volume(self) -> bool:
        return self.volume_preserving or self.parts()[0].volume_preserving

    def costs(self) -> Costs:
        # The inverse recomputes the same parameters from the unchanged part: one pass,
        # unless the transformer itself inverts by iteration.
        return Costs(Cost.ONE_PASS, max(Cost.ONE_PASS, self.parts()[0].inverse_cost))

    @property
    def splits_pixels(self) -> bool:
        """Whether the mask splits pixels (a checkerboard, or columns) rather than event
        axis 0 (features, or channels)."""
        return isinstance(self.mask, Mask) and (self.mask.checkerboard or self.mask.columns)

    def mask_vector(self, features: int) -> list[int]:
        """The mask as one 0/1 per feature (or channel, for channel masks) of an input
        with ``features`` features."""
        if isinstance(self.mask, Mask):
            return self.mask.vector(features)
        return list(self.mask)

    #: Where the transformer and conditioner settings sit in this kind's YAML.
    transformer_field: ClassVar[tuple[str, ...]] = ("transformer",)
    conditioner_field: ClassVar[tuple[str, ...]] = ("conditioner",)

    def check_static(self, check: NodeCheck) -> None:
        """An explicit mask must keep some features and transform the others ('half' and
        'alternate' do both for any input of at least 2 features)."""
        transformer, conditioner = self.parts()
        transformer.check_conditioned(check, self.conditioner_field, *self.transformer_field)
        conditioner.check_static(check, *self.conditioner_field)
        if not isinstance(self.mask, list):
            return
        if all(self.mask):
            check.error(
                "E404",
                "mask keeps every feature, so nothing is transformed",
                "mask",
                hint="mark the features to transform with 0",
            )
        if not any(self.mask):
            check.error(
                "E405",
                "mask transforms every feature, so the conditioner sees nothing it leaves "
                "unchanged and the layer cannot be inverted from its output",
                "mask",
                hint="mark at least one feature with 1 (kept and conditioned on)",
            )

    def partition_shapes(
        self, x: PortInfo, check: NodeCheck
    ) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """The shapes of the conditioner's input and of the transformed values, for an
        input like ``x``; None (with the error reported) when the mask does not fit it."""
        if isinstance(self.mask, Mask) and self.mask.on_images:
            if not check_image(x, f"mask '{self.mask}'", check, "mask"):
                return None
            channels, height, width = x.shape
            if self.mask.checkerboard:
                if height * width < 2:
                    check.error(
                        "E654",
                        f"a checkerboard mask needs at least 2 pixels, got {x}",
                        "mask",
                        hint="use mask: channel on a single pixel",
                    )
                    return None
                return x.shape, x.shape
            if self.mask.columns:
                if width % 2:
                    check.error(
                        "E654",
                        f"a columns mask needs an even width to pair even and odd columns, got {x}",
                        "mask",
                        hint="use mask: checkerboard, or pad or crop the image to an even width",
                    )
                    return None
                half = (channels, height, width // 2)
                return half, half
            if channels < 2:
                check.error(
                    "E653",
                    f"a channel mask needs at least 2 channels to split, got {x}",
                    "mask",
                    hint="squeeze the image first ({kind: squeeze}) or use mask: checkerboard",
                )
                return None
            kept = sum(self.mask_vector(channels))
            return (kept, height, width), (channels - kept, height, width)
        if len(x.shape) != 1:
            check.error(
                "E401",
                f"{self.kind} with a feature mask needs a flat input [D], got {x}",
                "in",
                hint="add {kind: flatten} before it"
                + (", or use mask: channel or checkerboard" if len(x.shape) == 3 else ""),
            )
            return None
        features = x.shape[0]
        if features < 2:
            check.error("E402", f"{self.kind} needs at least 2 features to split, got {x}", "in")
            return None
        if isinstance(self.mask, list) and len(self.mask) != features:
            check.error(
                "E403",
                f"mask has {len(self.mask)} entries but the input has {features} features",
                "mask",
            )
            return None
        kept = sum(self.mask_vector(features))
        return (kept,), (features - kept,)

    def check_coupling(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> bool:
        """The shape, domain and invertibility checks of every coupling layer."""
        (x,) = inputs
        shapes = self.partition_shapes(x, check)
        if shapes is None:
            return False
        kept, changed = shapes
        transformer, conditioner = self.parts()
        ok = conditioner.check_coupling(kept, changed, context, check, *self.conditioner_field)
        subject = f"transformer '{transformer.kind}'"
        ok = (
            transformer.check_domain(x.support, check, "E610", subject, *self.transformer_field)
            and ok
        )
        # A continuous map fed discrete values gives no likelihood of them.
        return check_continuous(x, self.kind, check) and ok

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        if not self.check_coupling(inputs, context, check):
            return None
        # The kept features stay where they were; the transformed ones go wherever the
        # transformer takes them.
        x = inputs[0]
        support = union_support([x.support, self.parts()[0].output_support(x.support)])
        assert support is not None, "values are continuous here (E410 otherwise)"
        return (PortInfo(x.shape, support),)

    def _shapes(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...] | None]:
        """The conditioner's input shape, the transformed part's shape and the context's
        shape (for inputs checked by :meth:`partition_shapes`)."""
        shape = inputs[0].shape
        context_shape = context.shape if context is not None else None
        if isinstance(self.mask, Mask) and self.mask.columns:
            half = (shape[0], shape[1], shape[2] // 2)
            return half, half, context_shape
        if self.splits_pixels:
            return shape, shape, context_shape
        kept = sum(self.mask_vector(shape[0]))
        return (kept, *shape[1:]), (shape[0] - kept, *shape[1:]), context_shape

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        transformer, conditioner = self.parts()
        kept, changed, context_shape = self._shapes(inputs, context)
        count = conditioner.coupling_parameter_count(
            kept, changed, transformer.params_per_feature(), context_shape
        )
        return count + transformer.parameter_count()

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> CouplingLayer:
        from flowspec.layers._coupling import CheckerboardSplit, ColumnSplit, MaskedSplit
        from flowspec.layers.coupling import CouplingLayer

        transformer, conditioner = self.parts()
        kept, changed, context_shape = self._shapes(inputs, context)
        with no_empty_layer_warning():
            net = conditioner.build_coupling(
                kept, changed, transformer.params_per_feature(), context_shape
            )
        shape = inputs[0].shape
        parts: MaskedSplit | CheckerboardSplit | ColumnSplit
        if isinstance(self.mask, Mask) and self.mask.columns:
            parts = ColumnSplit(self.mask.flipped)
        elif isinstance(self.mask, Mask) and self.mask.checkerboard:
            parts = CheckerboardSplit(list(shape), self.mask.flipped)
        else:
            parts = MaskedSplit(self.mask_vector(shape[0]))
        return CouplingLayer(parts, net, transformer.build())
