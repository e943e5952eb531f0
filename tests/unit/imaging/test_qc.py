"""Head-CT image check: a head passes; air, a chest and an abdomen-sized trunk fail."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from ichsilent.domain import QuarantineReason
from ichsilent.errors import DicomInputError
from ichsilent.imaging.decode import decode_series
from ichsilent.imaging.qc import check_head_ct, require_head_ct


def test_head_phantom_passes(factory: ModuleType) -> None:
    hu, ps = factory.head_phantom(128, 16, noise_hu=4.0)
    series = decode_series(factory.make_series(hu, ps))
    result = require_head_ct(series.hu, series.geometry.pixel_spacing)
    assert result.passed
    assert result.ring_coverage == pytest.approx(1.0)
    assert result.brain_fraction > 0.9
    assert 50 < result.cavity_area_cm2 < 300


def test_tilted_head_passes(factory: ModuleType) -> None:
    hu, ps = factory.head_phantom(128, 16)
    series = decode_series(factory.make_series(hu, ps, tilt_deg=20.0))
    assert check_head_ct(series.hu, series.geometry.pixel_spacing).passed


def test_all_air_fails_with_numbers(factory: ModuleType) -> None:
    _, ps = factory.head_phantom(64, 12)
    air = np.full((12, 64, 64), -1000, dtype=np.int16)
    with pytest.raises(DicomInputError) as info:
        require_head_ct(air, ps, series_uid="1.2.3")
    assert info.value.reason is QuarantineReason.IMAGE_CHECK_FAILED
    assert "tissue_fraction=0.000" in info.value.detail
    assert "ring_coverage=0.00" in info.value.detail
    assert "1.2.3" in info.value.detail


def test_chest_phantom_fails(factory: ModuleType) -> None:
    hu, ps = factory.chest_phantom(128, 16)
    result = check_head_ct(hu, ps)
    assert not result.passed
    assert result.brain_fraction < 0.6
    with pytest.raises(DicomInputError) as info:
        require_head_ct(hu, ps)
    assert "brain_fraction" in info.value.detail


def test_closed_trunk_ring_fails_on_size(factory: ModuleType) -> None:
    # a "head" scaled to trunk size: closed ring, soft tissue inside, but far too large
    hu, _ = factory.head_phantom(128, 16)
    result = check_head_ct(hu, (3.5, 3.5))
    assert not result.passed
    assert any("cavity_area_cm2" in f for f in result.failures)
