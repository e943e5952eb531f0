"""CT display windows as pure functions: HU array -> float32 in [0, 1].

``y = clip((hu - (center - width / 2)) / width, 0, 1)``. Multi-window stacks put the channel
axis third from the end, so a slice (y, x) gives (c, y, x) and a volume (z, y, x) gives
(z, c, y, x) — the layout a per-slice 2D network reads.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A display window: level (center) and width in HU."""

    name: str
    center: float
    width: float

    def __post_init__(self) -> None:
        if not self.width > 0:
            raise ValueError(
                f"window {self.name!r} has width {self.width!r}; expected a positive width in HU"
            )

    @property
    def low(self) -> float:
        return self.center - self.width / 2

    @property
    def high(self) -> float:
        return self.center + self.width / 2


class Window(enum.Enum):
    """Standard head-CT windows (center/width in HU)."""

    BRAIN = WindowSpec("brain", 40, 80)
    SUBDURAL = WindowSpec("subdural", 80, 200)
    SOFT_TISSUE = WindowSpec("soft_tissue", 40, 380)
    BONE = WindowSpec("bone", 600, 2800)

    @property
    def spec(self) -> WindowSpec:
        value: WindowSpec = self.value
        return value


DEFAULT_WINDOWS: tuple[Window, ...] = (Window.BRAIN, Window.SUBDURAL, Window.SOFT_TISSUE)


def _spec(window: Window | WindowSpec) -> WindowSpec:
    return window.spec if isinstance(window, Window) else window


def apply_window(hu: ArrayLike, window: Window | WindowSpec) -> NDArray[np.float32]:
    """One window: float32 array of the same shape in [0, 1]."""
    spec = _spec(window)
    out = np.subtract(hu, np.float32(spec.low), dtype=np.float32)
    out *= np.float32(1.0 / spec.width)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def window_stack(
    hu: ArrayLike, windows: Sequence[Window | WindowSpec] = DEFAULT_WINDOWS
) -> NDArray[np.float32]:
    """Several windows stacked as channels at axis -3: (..., c, y, x) float32 in [0, 1]."""
    arr = np.asarray(hu)
    if arr.ndim < 2:
        raise ValueError(f"hu has shape {arr.shape}; expected (y, x) or (z, y, x)")
    if not windows:
        raise ValueError("windows is empty; expected at least one Window or WindowSpec")
    specs = [_spec(w) for w in windows]
    out = np.empty((*arr.shape[:-2], len(specs), *arr.shape[-2:]), dtype=np.float32)
    for c, spec in enumerate(specs):
        slot = out[..., c, :, :]
        np.subtract(arr, np.float32(spec.low), out=slot, dtype=np.float32)
        slot *= np.float32(1.0 / spec.width)
        np.clip(slot, 0.0, 1.0, out=slot)
    return out
