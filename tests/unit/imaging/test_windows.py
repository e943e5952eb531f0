"""CT windows: values, channel layout, dtype."""

from __future__ import annotations

import numpy as np
import pytest

from ichsilent.imaging.windows import (
    DEFAULT_WINDOWS,
    Window,
    WindowSpec,
    apply_window,
    window_stack,
)


def test_brain_window_values() -> None:
    hu = np.array([-1024, 0, 40, 80, 3000], dtype=np.int16)
    out = apply_window(hu, Window.BRAIN)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.0, 0.0, 0.5, 1.0, 1.0])


@pytest.mark.parametrize(
    ("window", "center", "width"),
    [(Window.BRAIN, 40, 80), (Window.SUBDURAL, 80, 200), (Window.SOFT_TISSUE, 40, 380),
     (Window.BONE, 600, 2800)],
)  # fmt: skip
def test_standard_windows(window: Window, center: float, width: float) -> None:
    assert (window.spec.center, window.spec.width) == (center, width)
    assert apply_window(np.array([center]), window)[0] == pytest.approx(0.5)


def test_stack_layout_for_slice_and_volume() -> None:
    rng = np.random.default_rng(0)
    volume = rng.integers(-1024, 2000, size=(4, 16, 16)).astype(np.int16)
    stack = window_stack(volume)
    assert stack.shape == (4, len(DEFAULT_WINDOWS), 16, 16)
    assert stack.dtype == np.float32
    for c, window in enumerate(DEFAULT_WINDOWS):
        np.testing.assert_allclose(stack[:, c], apply_window(volume, window), rtol=1e-6)
    assert window_stack(volume[0]).shape == (3, 16, 16)
    assert stack.min() >= 0.0
    assert stack.max() <= 1.0


def test_custom_window_and_errors() -> None:
    spec = WindowSpec("stroke", 32, 8)
    assert apply_window(np.array([28, 32, 36]), spec).tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="width"):
        WindowSpec("bad", 40, 0)
    with pytest.raises(ValueError, match="expected"):
        window_stack(np.zeros(5))
