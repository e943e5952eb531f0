"""Slice ordering, spacing, tilt and every geometry quarantine reason."""

from __future__ import annotations

import math
import random
from types import ModuleType

import numpy as np
import pytest

from ichsilent.domain import QuarantineReason
from ichsilent.errors import DicomInputError
from ichsilent.imaging.decode import decode_series
from ichsilent.imaging.geometry import GeometryLimits, angle_between_deg, plane_angles
from ichsilent.imaging.metadata import DecodeFlag


@pytest.fixture(scope="module")
def phantom(factory: ModuleType) -> tuple[np.ndarray, tuple[float, float]]:
    return factory.head_phantom(64, 12, fov_mm=240.0)


def _raises(datasets, reason: QuarantineReason, **kwargs) -> DicomInputError:
    with pytest.raises(DicomInputError) as info:
        decode_series(datasets, **kwargs)
    assert info.value.reason is reason, str(info.value)
    assert str(info.value).startswith(f"{reason.value}: ")
    return info.value


def test_order_by_position_not_instance_number(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps)
    numbers = list(range(1, len(datasets) + 1))
    random.Random(3).shuffle(numbers)
    for ds, n in zip(datasets, numbers, strict=True):
        ds.InstanceNumber = n
    random.Random(4).shuffle(datasets)
    series = decode_series(datasets)
    np.testing.assert_array_equal(series.hu, hu)
    locations = np.asarray(series.geometry.slice_locations)
    assert (np.diff(locations) > 0).all()
    assert series.geometry.slice_spacing_mm == pytest.approx(5.0)


def test_reversed_normal_reverses_the_stack(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    # column cosine (0,-1,0): normal (0,0,-1); positions still step +z in input order
    datasets = factory.make_series(hu, ps, orientation=(1, 0, 0, 0, -1, 0))
    for ds, z in zip(datasets, range(len(datasets)), strict=True):
        ds.ImagePositionPatient = [-120.0, 120.0, 5.0 * z]
    series = decode_series(datasets)
    np.testing.assert_array_equal(series.hu, hu[::-1])
    assert series.geometry.normal == pytest.approx((0.0, 0.0, -1.0))
    assert series.geometry.positions[0][2] == pytest.approx(5.0 * (len(datasets) - 1))


def test_tilted_gantry_geometry(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    series = decode_series(factory.make_series(hu, ps, tilt_deg=15.0))
    g = series.geometry
    assert g.tilt_deg == pytest.approx(15.0, abs=0.01)
    assert g.obliquity_deg == pytest.approx(0.0, abs=0.01)
    assert g.shear_deg == pytest.approx(15.0, abs=0.01)  # table moves along z
    assert g.slice_spacing_mm == pytest.approx(5.0 * math.cos(math.radians(15)), abs=1e-3)
    assert series.metadata.tilt_deg == pytest.approx(15.0, abs=0.01)
    assert series.metadata.gantry_detector_tilt_deg == pytest.approx(15.0)
    np.testing.assert_array_equal(series.hu, hu)
    affine = g.affine()
    last = affine @ np.array([0, 0, len(g.positions) - 1, 1.0])
    assert last[:3] == pytest.approx(g.positions[-1])


def test_plane_angles() -> None:
    assert plane_angles((1, 0, 0, 0, 1, 0)) == pytest.approx((0.0, 0.0))
    tilt, obliquity = plane_angles((1, 0, 0, 0, 0, -1))  # coronal
    assert tilt == pytest.approx(90.0)
    assert obliquity == pytest.approx(0.0)
    _, obliquity = plane_angles((0, 1, 0, 0, 0, -1))  # sagittal
    assert obliquity == pytest.approx(90.0)
    assert angle_between_deg((0, 0, 1), (0, 0, -1)) == pytest.approx(0.0)


def test_fifteen_mm_gap_is_missing_slices(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps)
    del datasets[5:7]  # positions 25 and 30 mm gone: 20 -> 35 mm
    err = _raises(datasets, QuarantineReason.MISSING_SLICES)
    assert "15.00 mm" in err.detail
    assert "ImagePositionPatient [-120, -120, 20]" in err.detail
    assert "ImagePositionPatient [-120, -120, 35]" in err.detail
    assert datasets[4].SOPInstanceUID in err.detail


def test_two_different_images_at_one_position(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps)
    other = factory.make_series(hu + 10, ps, series_uid=datasets[0].SeriesInstanceUID)[4]
    datasets.append(other)
    err = _raises(datasets, QuarantineReason.DUPLICATE_POSITIONS)
    assert other.SOPInstanceUID in err.detail
    assert datasets[4].SOPInstanceUID in err.detail
    assert "ImagePositionPatient (0020,0032)" in err.detail


def test_exact_duplicates_are_dropped(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps)
    copy_same_uid = factory.make_series(hu, ps)[4]
    copy_same_uid.SOPInstanceUID = datasets[4].SOPInstanceUID
    same_pixels = factory.make_series(hu, ps)[7]  # other UID, identical pixels and position
    series = decode_series([*datasets, copy_same_uid, same_pixels])
    assert series.hu.shape[0] == len(datasets)
    np.testing.assert_array_equal(series.hu, hu)
    assert DecodeFlag.DUPLICATES_DROPPED in series.flags


def test_missing_image_position(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps)
    del datasets[2].ImagePositionPatient
    err = _raises(datasets, QuarantineReason.MISSING_TAG)
    assert "ImagePositionPatient (0020,0032)" in err.detail
    assert datasets[2].SOPInstanceUID in err.detail
    assert "InstanceNumber 3" in err.detail


@pytest.mark.parametrize(
    ("keyword", "tag"),
    [("ImageOrientationPatient", "(0020,0037)"), ("PixelSpacing", "(0028,0030)")],
)
def test_missing_orientation_or_spacing(factory: ModuleType, phantom, keyword, tag) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps)
    delattr(datasets[0], keyword)
    err = _raises(datasets, QuarantineReason.MISSING_TAG)
    assert f"{keyword} {tag}" in err.detail


def test_mixed_orientations(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps)
    datasets[6].ImageOrientationPatient = [1, 0, 0, 0, 0, -1]
    err = _raises(datasets, QuarantineReason.INCONSISTENT_ORIENTATION)
    assert datasets[6].SOPInstanceUID in err.detail
    assert "ImageOrientationPatient (0020,0037)" in err.detail


def test_mixed_matrices(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps)
    small, small_ps = factory.head_phantom(32, 12, fov_mm=240.0)
    datasets[3] = factory.make_series(small, small_ps)[3]
    err = _raises(datasets, QuarantineReason.INCONSISTENT_MATRIX)
    assert "64x64" in err.detail
    assert "32x32" in err.detail


def test_three_slices_are_too_few(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    err = _raises(factory.make_series(hu[:3], ps), QuarantineReason.TOO_FEW_SLICES)
    assert "3 image(s)" in err.detail
    series = decode_series(factory.make_series(hu[:3], ps), limits=GeometryLimits(min_slices=3))
    assert series.geometry.slice_count == 3
