"""Phantom head CT renderer: what a radiologist would check on the images."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ichsilent.domain import PatientClass, Sex, Subtype
from ichsilent.simulate.anatomy import sample_head
from ichsilent.simulate.hemorrhage import sample_hemorrhage
from ichsilent.simulate.mimics import sample_mimics
from ichsilent.simulate.render import RenderedSeries, render_series
from ichsilent.simulate.spec import (
    Artefact,
    BleedSize,
    BleedStage,
    HeadSpec,
    HemorrhageSpec,
    MimicKind,
    MimicSpec,
    ScannerSpec,
    SeriesKind,
    SeriesPlan,
    StudySpec,
)

N = 128
SCANNER = ScannerSpec("SIM", "P", "CT1", "H30s", "H70h", 3.0, 0.5, 120.0, 300.0)
SOFT = SeriesPlan(SeriesKind.AXIAL_SOFT, 5.0, "H30s", N, N)


def make_study(
    uid: str,
    *,
    age: int = 50,
    head: HeadSpec | None = None,
    hem: tuple[HemorrhageSpec, ...] = (),
    mim: tuple[MimicSpec, ...] = (),
    art: tuple[Artefact, ...] = (),
    scanner: ScannerSpec = SCANNER,
) -> StudySpec:
    return StudySpec(
        uid,
        "A",
        "P",
        "N",
        "19700101",
        Sex.FEMALE,
        age,
        PatientClass.EMERGENCY,
        "S",
        "2025-01-01T00:00:00",
        "HEAD",
        scanner,
        head or HeadSpec(),
        hem,
        mim,
        art,
    )


def render(spec: StudySpec, plan: SeriesPlan = SOFT, seed: int = 0) -> RenderedSeries:
    return render_series(spec, plan, np.random.default_rng(seed))


def bleed(
    sub: Subtype,
    stage: BleedStage = BleedStage.ACUTE,
    size: BleedSize = BleedSize.MEDIUM,
    seed: int = 1,
) -> HemorrhageSpec:
    return sample_hemorrhage(
        np.random.default_rng(seed), sub, stage=stage, size=size, head=HeadSpec()
    )


@pytest.fixture(scope="module")
def normal() -> RenderedSeries:
    return render(make_study("normal", head=HeadSpec()))


@pytest.fixture(scope="module")
def clean() -> RenderedSeries:
    quiet = dataclasses.replace(SCANNER, noise_hu=0.0)
    return render(make_study("clean", scanner=quiet))


def test_shapes_and_geometry(normal: RenderedSeries) -> None:
    assert normal.hu.dtype == np.int16
    assert normal.hu.shape == (32, N, N)
    assert normal.image_position_mm.shape == (32, 3)
    assert normal.image_orientation == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    assert np.allclose(np.diff(normal.image_position_mm[:, 2]), 5.0)
    assert normal.slice_thickness_mm == 5.0
    assert normal.masks == {}


def test_tissue_hu_ranges(clean: RenderedSeries) -> None:
    mid = clean.hu[18].astype(float)  # a supratentorial slice
    # brain parenchyma: central disc away from skull and ventricles
    _yy, _xx = np.mgrid[:N, :N]
    assert (mid > 600).sum() > 100, "skull must be bright"
    assert mid.max() > 1000
    assert clean.hu[:, 0, 0].max() < -900, "air around the head"
    brain = (mid > 15) & (mid < 50)
    assert 20 <= mid[brain].mean() <= 45
    assert -5 <= np.median(mid[(mid > -20) & (mid < 15)]) < 20  # CSF


def test_ventricles_csf_and_atrophy() -> None:
    young = render(
        make_study(
            "y", head=HeadSpec(atrophy=0.0), scanner=dataclasses.replace(SCANNER, noise_hu=0.0)
        )
    )
    old = render(
        make_study(
            "o", head=HeadSpec(atrophy=1.0), scanner=dataclasses.replace(SCANNER, noise_hu=0.0)
        )
    )
    c = slice(N // 2 - 20, N // 2 + 20)
    vy = (young.hu[17:22, c, c] < 15).sum()
    vo = (old.hu[17:22, c, c] < 15).sum()
    assert vo > 1.3 * vy, "atrophy widens ventricles and sulci"
    assert young.hu[17:22, c, c].min() < 20


def test_determinism() -> None:
    spec = make_study("det", hem=(bleed(Subtype.SUBDURAL),))
    a, b = render(spec, seed=5), render(spec, seed=5)
    assert np.array_equal(a.hu, b.hu)
    assert np.array_equal(a.masks[Subtype.SUBDURAL], b.masks[Subtype.SUBDURAL])
    h1 = sample_head(np.random.default_rng(3), 70)
    assert h1 == sample_head(np.random.default_rng(3), 70)


def test_tilt_changes_orientation() -> None:
    tilted = render(make_study("tilt"), dataclasses.replace(SOFT, gantry_tilt_deg=15.0))
    io = np.asarray(tilted.image_orientation)
    assert io[:3].tolist() == [1.0, 0.0, 0.0]
    assert io[4] == pytest.approx(np.cos(np.radians(15)), abs=1e-6)
    assert io[5] == pytest.approx(-np.sin(np.radians(15)), abs=1e-6)
    normal = np.cross(io[:3], io[3:])
    steps = np.diff(tilted.image_position_mm, axis=0)
    assert np.allclose(steps @ normal, 5.0, atol=1e-6)  # slices abut along their normal


def test_noise_grows_with_noise_hu() -> None:
    stds = []
    for k, nh in enumerate((2.0, 8.0)):
        r = render(make_study(f"n{k}", scanner=dataclasses.replace(SCANNER, noise_hu=nh)))
        stds.append(r.hu[:, :6, :6].astype(float).std())  # air corner: pure noise
    assert stds[1] > 2.5 * stds[0]


def _inner_table_distance(r: RenderedSeries, m: np.ndarray) -> float:
    """Median in-plane distance (mm) from mask voxels to the nearest bone voxel."""
    from scipy import ndimage

    bone = r.hu > 600
    d = np.stack([ndimage.distance_transform_edt(~b) for b in bone]) * r.pixel_spacing_mm[0]
    return float(np.median(d[m]))


@pytest.mark.parametrize("sub", [Subtype.EPIDURAL, Subtype.SUBDURAL])
def test_extra_axial_against_inner_table(sub: Subtype) -> None:
    seed = 4
    h = bleed(sub, seed=seed)
    while sub == Subtype.SUBDURAL and "convexity" not in h.location:  # falx/tentorium: not here
        seed += 1
        h = bleed(sub, seed=seed)
    r = render(make_study(f"ea-{sub}", hem=(h,)))
    m = r.masks[sub]
    assert m.sum() > 20
    assert _inner_table_distance(r, m) < 6.0
    assert 50 <= np.median(r.hu[m]) <= 90, "acute blood"


def test_chronic_subdural_is_hypodense() -> None:
    h = bleed(Subtype.SUBDURAL, BleedStage.CHRONIC, BleedSize.LARGE, seed=2)
    assert h.density_hu < 20
    r = render(make_study("csdh", hem=(h,)))
    m = r.masks[Subtype.SUBDURAL]
    assert m.sum() > 50
    assert np.median(r.hu[m]) < 22


def test_intraventricular_inside_ventricles(clean: RenderedSeries) -> None:
    h = bleed(Subtype.INTRAVENTRICULAR)
    quiet = dataclasses.replace(SCANNER, noise_hu=0.0)
    r = render(make_study("clean", hem=(h,), scanner=quiet))
    m = r.masks[Subtype.INTRAVENTRICULAR]
    assert m.sum() > 10
    # same head without the bleed: those voxels were CSF
    assert np.mean(clean.hu[m] < 20) > 0.8
    assert 50 <= np.median(r.hu[m]) <= 90


def test_subarachnoid_in_csf_spaces(clean: RenderedSeries) -> None:
    h = bleed(Subtype.SUBARACHNOID, seed=3)
    r = render(make_study("clean", hem=(h,), scanner=dataclasses.replace(SCANNER, noise_hu=0.0)))
    m = r.masks[Subtype.SUBARACHNOID]
    assert m.sum() > 5
    # blood replaces CSF in sulci/cisterns (partial volume with cortex at 1.9 mm pixels)
    assert np.mean(clean.hu[m] < 30) > 0.6
    assert np.median(clean.hu[m]) < 25
    assert np.median(r.hu[m]) > 40


def test_intraparenchymal_in_brain_with_oedema(clean: RenderedSeries) -> None:
    h = bleed(Subtype.INTRAPARENCHYMAL, size=BleedSize.LARGE, seed=6)
    r = render(make_study("clean", hem=(h,), scanner=dataclasses.replace(SCANNER, noise_hu=0.0)))
    m = r.masks[Subtype.INTRAPARENCHYMAL]
    assert m.sum() > 50
    before = clean.hu[m]
    assert np.mean((before > 18) & (before < 50)) > 0.8, "was parenchyma"
    assert 50 <= np.median(r.hu[m]) <= 90
    from scipy import ndimage

    rim = ndimage.binary_dilation(m, iterations=2) & ~m
    assert np.median(r.hu[rim]) < np.median(clean.hu[rim]) + 5


def test_mimics_hyperdense_and_not_blood() -> None:
    mims = (MimicSpec(MimicKind.PINEAL_CALCIFICATION, (0.0, 22.0, 0.0), 3.0, 300.0),)
    h = bleed(Subtype.INTRAVENTRICULAR, size=BleedSize.LARGE)
    r = render(make_study("mim", hem=(h,), mim=mims))
    assert r.hu.max() > 150
    calc = (r.hu > 150) & (r.hu < 500)
    for m in r.masks.values():
        assert not (m & (r.hu > 200) & (r.hu < 600)).any()
    assert calc.any()
    assert len(sample_mimics(np.random.default_rng(0), 85)) >= len(
        sample_mimics(np.random.default_rng(0), 20)
    )


def test_all_kinds_and_artefacts_render() -> None:
    spec = make_study(
        "kinds",
        hem=(bleed(Subtype.EPIDURAL),),
        art=(Artefact.MOTION, Artefact.METAL, Artefact.POST_OPERATIVE, Artefact.BEAM_HARDENING),
    )
    for kind, th in [
        (SeriesKind.AXIAL_BONE, 5.0),
        (SeriesKind.AXIAL_THIN, 1.25),
        (SeriesKind.REFORMAT, 3.0),
        (SeriesKind.CONTRAST, 5.0),
        (SeriesKind.LOCALIZER, 1.0),
    ]:
        r = render(spec, SeriesPlan(kind, th, "K", 64, 64))
        assert r.hu.dtype == np.int16
        assert r.hu.ndim == 3
        assert r.hu.shape[1:] == (64, 64)
        assert len(r.image_position_mm) == r.hu.shape[0]
    assert render(spec, SeriesPlan(SeriesKind.REFORMAT, 3.0, "K", 64, 64)).derived


def test_sampling_frequencies() -> None:
    rng = np.random.default_rng(0)
    head = HeadSpec()
    hs = [sample_hemorrhage(rng, Subtype.SUBDURAL, head=head) for _ in range(300)]
    stages = {s: sum(h.stage == s for h in hs) for s in BleedStage}
    assert stages[BleedStage.ACUTE] > stages[BleedStage.CHRONIC] > 0
    assert any(h.size == BleedSize.TRACE for h in hs)
    assert all(h.density_hu < 20 for h in hs if h.stage == BleedStage.CHRONIC)
    assert np.mean([sample_head(rng, 85).atrophy for _ in range(50)]) > np.mean(
        [sample_head(rng, 25).atrophy for _ in range(50)]
    )


def test_scalp_soft_tissue_between_air_and_skull() -> None:
    # lateral profile through a mid-brain slice: air -> scalp (soft tissue) -> bone
    quiet = dataclasses.replace(SCANNER, noise_hu=0.0)
    clean = render(
        make_study("scalp", scanner=quiet), SeriesPlan(SeriesKind.AXIAL_SOFT, 5.0, "K", 256, 256)
    )
    k = clean.hu.shape[0] // 2 + 2
    row = clean.hu[k, 128].astype(float)
    first = int(np.nonzero(row > -300)[0][0])
    bone = int(np.nonzero(row > 300)[0][0])
    scalp_mm = (bone - first) * clean.pixel_spacing_mm[1]
    assert 3.0 <= scalp_mm <= 10.0
    soft = (row[first:bone] > 15) & (row[first:bone] < 70)
    assert soft.sum() * clean.pixel_spacing_mm[1] >= 2.0, "soft tissue in the scalp"


def test_subarachnoid_medium_fills_cisterns_and_fissures() -> None:
    rng = np.random.default_rng(0)
    h = sample_hemorrhage(rng, Subtype.SUBARACHNOID, size=BleedSize.MEDIUM, head=HeadSpec())
    while "basal" not in h.location:
        h = sample_hemorrhage(rng, Subtype.SUBARACHNOID, size=BleedSize.MEDIUM, head=HeadSpec())
    r = render(
        make_study("sah-basal", hem=(h,)), SeriesPlan(SeriesKind.AXIAL_SOFT, 5.0, "K", 256, 256)
    )
    m = r.masks[Subtype.SUBARACHNOID]
    vox_ml = r.pixel_spacing_mm[0] * r.pixel_spacing_mm[1] * r.slice_thickness_mm / 1000.0
    assert m.sum() * vox_ml > 4.0, "cisterns + sylvian fissures, not a spot"
    z = np.nonzero(m.any(axis=(1, 2)))[0]
    k = z[np.argmax(m[z].sum(axis=(1, 2)))]
    cols = np.nonzero(m[k].any(axis=0))[0]
    assert (cols.max() - cols.min()) * r.pixel_spacing_mm[1] > 40.0, "reaches both fissures"
    assert 45 <= np.median(r.hu[m]) <= 90
    trace = bleed(Subtype.SUBARACHNOID, size=BleedSize.TRACE, seed=5)
    rt = render(make_study("sah-trace", hem=(trace,)))
    mt = rt.masks.get(Subtype.SUBARACHNOID, np.zeros(1, bool))
    assert mt.sum() < m.sum() / 20


def test_metal_streaks_decay_with_distance() -> None:
    quiet = dataclasses.replace(SCANNER, noise_hu=0.0)
    plan = SeriesPlan(SeriesKind.AXIAL_SOFT, 5.0, "K", 256, 256)
    a = render(make_study("metal", scanner=quiet), plan)
    b = render(make_study("metal", art=(Artefact.METAL,), scanner=quiet), plan)
    diff = b.hu.astype(float) - a.hu.astype(float)
    k = int(np.argmax(diff.max(axis=(1, 2))))
    yx = np.unravel_index(int(np.argmax(diff[k])), diff[k].shape)
    yy, xx = np.indices(diff[k].shape)
    rmm = np.hypot(yy - yx[0], xx - yx[1]) * b.pixel_spacing_mm[0]
    inside = a.hu[k] > -200
    near = np.abs(diff[k][(rmm > 4) & (rmm < 12) & inside])
    far = np.abs(diff[k][(rmm > 50) & (rmm < 70) & inside])
    assert 100 < np.percentile(near, 99) < 1000, "hundreds of HU next to the clip"
    assert 5 < np.percentile(far, 99) < 80, "tens of HU far away"
    assert np.percentile(near, 99) > 4 * np.percentile(far, 99)
