"""decode_series: HU conversion, storage variants, compression, flags and metadata."""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import numpy as np
import pytest
from pydicom.uid import JPEG2000Lossless, RLELossless

from ichsilent.domain import PatientClass, QuarantineReason, Sex
from ichsilent.errors import DicomInputError
from ichsilent.imaging.decode import decode_series, fix_12bit_wraparound
from ichsilent.imaging.metadata import DecodeFlag


@pytest.fixture(scope="module")
def phantom(factory: ModuleType) -> tuple[np.ndarray, tuple[float, float]]:
    return factory.head_phantom(64, 12, fov_mm=240.0)


@pytest.mark.parametrize(
    ("pixel_representation", "slope", "intercept"),
    [(1, 1.0, 0.0), (1, 1.0, -1024.0), (0, 1.0, -1024.0), (0, 0.5, -1024.0), (1, 2.0, 0.0)],
)
def test_hu_from_slope_and_intercept(
    factory: ModuleType, phantom, pixel_representation: int, slope: float, intercept: float
) -> None:
    hu, ps = phantom
    if slope == 2.0:
        hu = (hu // 2) * 2  # representable with slope 2
    series = decode_series(
        factory.make_series(
            hu, ps, pixel_representation=pixel_representation, slope=slope, intercept=intercept
        )
    )
    assert series.hu.dtype == np.int16
    assert series.hu.shape == hu.shape
    np.testing.assert_array_equal(series.hu, hu)
    assert not series.hu.flags.writeable
    assert series.flags == frozenset()


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless])
@pytest.mark.parametrize("pixel_representation", [0, 1])
def test_compressed_equals_uncompressed(
    factory: ModuleType, phantom, syntax, pixel_representation: int
) -> None:
    hu, ps = phantom
    plain = decode_series(factory.make_series(hu, ps, pixel_representation=pixel_representation))
    packed = factory.make_series(
        hu, ps, pixel_representation=pixel_representation, transfer_syntax=syntax
    )
    assert packed[0].file_meta.TransferSyntaxUID == syntax
    decoded = decode_series(packed)
    np.testing.assert_array_equal(decoded.hu, plain.hu)
    assert decoded.metadata.transfer_syntaxes == (str(syntax),)


def test_missing_rescale_defaults_and_is_flagged(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps, intercept=0.0)
    for ds in datasets:
        del ds.RescaleSlope
        del ds.RescaleIntercept
    series = decode_series(datasets)
    np.testing.assert_array_equal(series.hu, hu)
    assert DecodeFlag.RESCALE_MISSING in series.flags


def test_padding_and_values_below_air_become_air(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    raw = hu.copy()
    raw[:, 0, :] = -2000  # padding value
    raw[:, 1, :] = -3024  # outside the field of view, below air
    datasets = factory.make_series(raw, ps, intercept=0.0, PixelPaddingValue=-2000)
    series = decode_series(datasets)
    assert (series.hu[:, :2, :] == -1024).all()
    np.testing.assert_array_equal(series.hu[:, 2:], hu[:, 2:])
    assert DecodeFlag.PIXEL_PADDING in series.flags


def test_padding_range_limit(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    raw = hu.copy()
    raw[:, 0, :] = 5  # stored 1029 with intercept -1024: inside padding range
    datasets = factory.make_series(
        raw, ps, pixel_representation=0, PixelPaddingValue=1025, PixelPaddingRangeLimit=1030
    )
    series = decode_series(datasets)
    assert (series.hu[:, 0, :] == -1024).all()


def test_rsna_12bit_wraparound_flagged_and_fixed_on_request(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    hu = np.maximum(hu, -1000).astype(np.int16)
    wrapped = (hu.astype(np.int32) % 4096).astype(np.int16)  # air -1000 stored as 3096
    datasets = factory.make_series(
        wrapped, ps, pixel_representation=0, intercept=0.0, bits_stored=12
    )
    suspected = decode_series(datasets)
    assert DecodeFlag.RSNA_12BIT_WRAP_SUSPECTED in suspected.flags
    assert suspected.hu.min() >= 0  # wrong HU: air reads as +3096
    fixed = decode_series(
        factory.make_series(wrapped, ps, pixel_representation=0, intercept=0.0, bits_stored=12),
        fix_12bit_wraparound=True,
    )
    assert DecodeFlag.RSNA_12BIT_WRAP_CORRECTED in fixed.flags
    np.testing.assert_array_equal(fixed.hu, hu)


def test_fix_12bit_wraparound_values() -> None:
    stored = np.array([0, 35, 3095, 3096, 4095], dtype=np.uint16)
    np.testing.assert_array_equal(fix_12bit_wraparound(stored) - 1000, [0, 35, 3095, -1000, -1])


def test_metadata(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    series = decode_series(factory.make_series(hu, ps), patient_class=PatientClass.EMERGENCY)
    md = series.metadata
    assert (md.manufacturer, md.model, md.kernel) == ("SIEMENS", "SOMATOM Force", "Hr38\\3")
    assert (md.kvp, md.exposure_mas, md.slice_thickness_mm) == (120.0, 280.0, 5.0)
    assert md.pixel_spacing_mm == pytest.approx(ps)
    assert (md.rows, md.columns, md.slice_count) == (64, 64, 12)
    assert md.study_date == dt.date(2025, 3, 1)
    assert md.study_time == dt.time(10, 15, 30)
    assert md.patient_age_years == 67.0
    assert md.patient_sex is Sex.FEMALE
    assert md.patient_class is PatientClass.EMERGENCY
    assert md.institution == "General Hospital"
    as_dict = md.as_dict()
    assert as_dict["study_date"] == "2025-03-01"
    assert as_dict["patient_sex"] == "F"
    assert "PatientName" not in as_dict


def test_missing_pixel_data_names_tag(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps)
    del datasets[3].PixelData
    with pytest.raises(DicomInputError) as info:
        decode_series(datasets)
    assert info.value.reason is QuarantineReason.MISSING_TAG
    assert "PixelData (7FE0,0010)" in info.value.detail
    assert datasets[3].SOPInstanceUID in info.value.detail


def test_truncated_pixel_data_is_undecodable(factory: ModuleType, phantom) -> None:
    hu, ps = phantom
    datasets = factory.make_series(hu, ps)
    datasets[5].PixelData = datasets[5].PixelData[:-200]
    with pytest.raises(DicomInputError) as info:
        decode_series(datasets)
    assert info.value.reason is QuarantineReason.UNDECODABLE_PIXELS
    assert datasets[5].SOPInstanceUID in info.value.detail
    assert str(info.value).startswith("undecodable_pixels: ")


def test_empty_series_is_too_few_slices() -> None:
    with pytest.raises(DicomInputError) as info:
        decode_series([])
    assert info.value.reason is QuarantineReason.TOO_FEW_SLICES
