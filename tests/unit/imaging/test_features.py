"""Drift features: noise, hyperdense fraction, skull, volume, metadata."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from ichsilent.domain import PatientClass
from ichsilent.imaging.decode import decode_series
from ichsilent.imaging.features import image_statistics, noise_estimate, study_features
from ichsilent.imaging.masks import head_masks


def _stats(factory: ModuleType, **kwargs):
    hu, ps = factory.head_phantom(128, 16, **kwargs)
    return image_statistics(hu, ps, 5.0)


def test_noise_estimate_follows_added_noise(factory: ModuleType) -> None:
    values = [_stats(factory, noise_hu=s, seed=1).noise_hu for s in (0.0, 3.0, 6.0, 12.0)]
    assert values[0] < 0.5
    assert values == sorted(values)
    assert values[2] == pytest.approx(6.0, rel=0.15)
    assert values[3] == pytest.approx(12.0, rel=0.15)


def test_noise_estimate_on_white_noise() -> None:
    rng = np.random.default_rng(0)
    hu = np.rint(rng.normal(35, 5, size=(3, 96, 96))).astype(np.int16)
    region = np.ones(hu.shape, dtype=bool)
    assert noise_estimate(hu, region) == pytest.approx(5.0, rel=0.1)


def test_hyperdense_fraction_rises_with_a_bleed(factory: ModuleType) -> None:
    clean = _stats(factory)
    bleed = _stats(factory, bleed_hu=70.0)
    assert clean.hyperdense_fraction == pytest.approx(0.0)
    assert bleed.hyperdense_fraction > 0.01
    assert bleed.brain_window_mean > clean.brain_window_mean


def test_skull_volume_and_air(factory: ModuleType) -> None:
    stats = _stats(factory)
    assert stats.skull_thickness_mm == pytest.approx(7.0, abs=1.5)  # phantom: 4 to 11 mm
    assert 500 < stats.intracranial_volume_ml < 3000
    assert 0.3 < stats.air_fraction < 0.9
    assert 0.3 < stats.brain_window_mean < 0.55


def test_all_air_gives_nan_not_errors() -> None:
    air = np.full((12, 64, 64), -1000, dtype=np.int16)
    stats = image_statistics(air, (1.0, 1.0), 5.0)
    assert stats.intracranial_volume_ml == 0.0
    assert np.isnan(stats.noise_hu)
    assert stats.air_fraction == 1.0


def test_study_features_row(factory: ModuleType) -> None:
    hu, ps = factory.head_phantom(128, 16, noise_hu=4.0)
    series = decode_series(
        factory.make_series(hu, ps, tilt_deg=12.0), patient_class=PatientClass.INPATIENT
    )
    masks = head_masks(series.hu, series.geometry.pixel_spacing)
    row = study_features(series, masks=masks, institution="site-a").as_dict()
    assert row["institution"] == "site-a"
    assert row["kernel"] == "Hr38\\3"
    assert row["matrix"] == 128
    assert row["slice_count"] == 16
    assert row["tilt_deg"] == pytest.approx(12.0, abs=0.01)
    assert row["patient_class"] == "I"
    assert row["patient_sex"] == "F"
    assert row["noise_hu"] == pytest.approx(4.0, rel=0.2)
    assert "image" not in row
