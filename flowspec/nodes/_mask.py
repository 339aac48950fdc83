"""The named masks of coupling layers: which values pass through unchanged (and condition the
rest) and which are transformed.

Dinh et al. 2016, "Density estimation using Real NVP", arXiv:1605.08803, Sec. 3.4: flat
inputs ``[D]`` are split along the features (the first half, or every other feature); images
``[C, H, W]`` by channels (the first or the second half) or by a checkerboard of pixels
(``h + w`` even, or odd for the flipped one); or, as Flow++ does (Ho et al. 2019,
arXiv:1902.00275, its code's ``CheckerboardSplit``), by columns: the even columns kept and
the odd ones transformed (the other way round when flipped), each part a dense
``[C, H, W / 2]`` image, so a conditioner sees half the positions. An explicit list of 0/1 per feature is the
other way to give a mask (:data:`flowspec.nodes._coupling.ExplicitMask`).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Mask"]


class Mask(str, Enum):
    """A named coupling mask; the value is what a spec writes (``mask: checkerboard``)."""

    HALF = "half"
    ALTERNATE = "alternate"
    CHECKERBOARD = "checkerboard"
    CHECKERBOARD_FLIPPED = "checkerboard_flipped"
    CHANNEL = "channel"
    CHANNEL_FLIPPED = "channel_flipped"
    COLUMNS = "columns"
    COLUMNS_FLIPPED = "columns_flipped"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def on_images(self) -> bool:
        """Whether the mask is made for image-shaped inputs ``[C, H, W]``."""
        return self in (
            Mask.CHECKERBOARD,
            Mask.CHECKERBOARD_FLIPPED,
            Mask.CHANNEL,
            Mask.CHANNEL_FLIPPED,
            Mask.COLUMNS,
            Mask.COLUMNS_FLIPPED,
        )

    @property
    def checkerboard(self) -> bool:
        """Whether the mask is a checkerboard of pixels."""
        return self in (Mask.CHECKERBOARD, Mask.CHECKERBOARD_FLIPPED)

    @property
    def columns(self) -> bool:
        """Whether the mask splits an image's even columns from its odd ones."""
        return self in (Mask.COLUMNS, Mask.COLUMNS_FLIPPED)

    @property
    def flipped(self) -> bool:
        """Whether a pixel mask keeps the other half (odd ``h + w``, odd columns)."""
        return self in (Mask.CHECKERBOARD_FLIPPED, Mask.COLUMNS_FLIPPED)

    def vector(self, features: int) -> list[int]:
        """The mask as one 0/1 per entry of event axis 0 (features, or channels for the
        channel masks) of an input with ``features`` of them; pixel masks have none."""
        keep = features // 2
        if self in (Mask.HALF, Mask.CHANNEL):
            return [1] * keep + [0] * (features - keep)
        if self is Mask.CHANNEL_FLIPPED:
            return [0] * (features - keep) + [1] * keep
        if self is Mask.ALTERNATE:
            return [1 - (i % 2) for i in range(features)]
        raise ValueError(f"mask '{self}' splits pixels, not event axis 0")
