"""Hemorrhages: sampling subtype-true specs, and painting them into a phantom (coarse grid).

Centres are in the head frame (u +left, v +posterior, w +superior; mm, already scaled to the
head); `extent_mm` are the semi-axes (LR, AP, SI) of the bleed's footprint ellipsoid.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from ichsilent.domain import Subtype
from ichsilent.simulate.anatomy import SKULL_SEMI, Tissue, skull_thickness, tentorium_w
from ichsilent.simulate.render_grid import F32, Grid, ellipsoid_q
from ichsilent.simulate.spec import BleedSize, BleedStage, HeadSpec, HemorrhageSpec

log = logging.getLogger(__name__)

_STAGE_P: dict[Subtype, dict[BleedStage, float]] = {
    Subtype.EPIDURAL: {BleedStage.ACUTE: 0.95, BleedStage.SUBACUTE: 0.05},
    Subtype.SUBDURAL: {
        BleedStage.ACUTE: 0.5,
        BleedStage.SUBACUTE: 0.12,
        BleedStage.CHRONIC: 0.23,
        BleedStage.ACUTE_ON_CHRONIC: 0.15,
    },
    Subtype.SUBARACHNOID: {BleedStage.ACUTE: 0.9, BleedStage.SUBACUTE: 0.1},
    Subtype.INTRAPARENCHYMAL: {BleedStage.ACUTE: 0.8, BleedStage.SUBACUTE: 0.2},
    Subtype.INTRAVENTRICULAR: {BleedStage.ACUTE: 0.9, BleedStage.SUBACUTE: 0.1},
}
_SIZE_P = {
    BleedSize.TRACE: 0.12,
    BleedSize.SMALL: 0.38,
    BleedSize.MEDIUM: 0.32,
    BleedSize.LARGE: 0.18,
}
_SIZE_I = {BleedSize.TRACE: 0, BleedSize.SMALL: 1, BleedSize.MEDIUM: 2, BleedSize.LARGE: 3}

# convexity directions (head frame, right side; mirrored for left)
_CONVEXITY = {
    "frontal": (0.45, -0.85, 0.3),
    "temporal": (1.0, -0.1, -0.25),
    "parietal": (0.75, 0.2, 0.6),
    "occipital": (0.35, 0.9, 0.15),
    "frontoparietal": (0.85, -0.15, 0.45),
}


def _pick(rng: np.random.Generator, probs: dict) -> object:
    keys = list(probs)
    p = np.asarray([probs[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _scaled(e: tuple[float, float, float], f: float) -> tuple[float, float, float]:
    return (e[0] * f, e[1] * f, e[2] * f)


def _density(rng: np.random.Generator, stage: BleedStage) -> float:
    """Attenuation of the blood by age: acute 55-85, subacute ~isodense, chronic CSF-like."""
    lo, hi = {
        BleedStage.ACUTE: (58.0, 82.0),
        BleedStage.SUBACUTE: (33.0, 44.0),
        BleedStage.CHRONIC: (4.0, 18.0),
        BleedStage.ACUTE_ON_CHRONIC: (55.0, 75.0),  # the acute component
    }[stage]
    return float(rng.uniform(lo, hi))


def inner_table_point(head: HeadSpec, direction: tuple[float, float, float]) -> np.ndarray:
    """Point on the inner table along a direction from the head centre (head frame)."""
    d = np.asarray(direction, dtype=float)
    d /= np.linalg.norm(d)
    s = head.scale
    c = SKULL_SEMI[2] if d[2] >= 0 else SKULL_SEMI[3]
    semi = np.array([SKULL_SEMI[0], SKULL_SEMI[1] * head.aspect, c]) * s
    r_out = 1.0 / np.sqrt(np.sum((d / semi) ** 2))
    thick = float(skull_thickness(s, d[0] ** 2, r_out * d[2]))
    return np.asarray(d * (r_out - thick - 0.5))


def sample_hemorrhage(
    rng: np.random.Generator,
    subtype: Subtype,
    *,
    stage: BleedStage | None = None,
    size: BleedSize | None = None,
    head: HeadSpec,
) -> HemorrhageSpec:
    """One bleed with subtype-true place, extent and density; stage/size drawn if None."""
    stage = stage or BleedStage(str(_pick(rng, _STAGE_P[subtype])))
    size = size or BleedSize(str(_pick(rng, _SIZE_P)))
    k = _SIZE_I[size]
    s = head.scale
    sgn = float(rng.choice([-1.0, 1.0]))
    side = "left" if sgn > 0 else "right"
    dens = _density(rng, stage)
    shift = 0.0
    thick = 0.0
    fracture = False
    if subtype == Subtype.EPIDURAL:
        region = str(rng.choice(["temporal", "temporal", "frontal", "parietal", "occipital"]))
        d = _CONVEXITY[region]
        c = inner_table_point(head, (sgn * d[0], d[1], d[2]))
        r = (8.0, 16.0, 26.0, 34.0)[k] * float(rng.uniform(0.85, 1.15))
        thick = (3.0, 7.0, 14.0, 24.0)[k] * float(rng.uniform(0.85, 1.15))
        ext = (r, r, r * 0.9)
        location = f"{side} {region}"
        fracture = bool(rng.random() < 0.7)
        shift = (0.0, 0.0, rng.uniform(1, 4), rng.uniform(5, 12))[k]
    elif subtype == Subtype.SUBDURAL:
        kind = str(_pick(rng, {"convexity": 0.8, "falx": 0.12, "tentorium": 0.08}))
        thick = (2.5, 5.0, 10.0, 17.0)[k] * float(rng.uniform(0.8, 1.2))
        if kind == "convexity":
            region = "frontoparietal"
            c = inner_table_point(head, (sgn * 0.95, -0.05, 0.3))
            r = (20.0, 45.0, 65.0, 80.0)[k] * s
            ext = (r * 0.9, r * 1.15, r * 0.8)
            location = f"{side} {region} convexity"
            shift = (0.0, 0.0, rng.uniform(0, 4), rng.uniform(5, 14))[k]
        elif kind == "falx":
            c = np.array([0.0, float(rng.uniform(-30, 30)) * s, 35.0 * s])
            ext = (6.0, (12.0, 28.0, 45.0, 60.0)[k] * s, (10.0, 18.0, 26.0, 32.0)[k] * s)
            thick = min(thick, 7.0)
            location = f"{side} parafalcine"
        else:
            c = np.array([sgn * 25.0 * s, 45.0 * s, tentorium_w(sgn * 25.0 * s, 45.0 * s, s)])
            ext = ((15.0, 25.0, 32.0, 40.0)[k] * s, (10.0, 20.0, 28.0, 34.0)[k] * s, 8.0)
            thick = min(thick, 6.0)
            location = f"{side} tentorial"
    elif subtype == Subtype.SUBARACHNOID:
        pattern = str(
            _pick(rng, {"basal cisterns": 0.35, "sylvian fissure": 0.25, "convexity sulci": 0.4})
        )
        if k == 0:
            pattern = "convexity sulci"
        if pattern == "basal cisterns":
            # suprasellar/ambient/quadrigeminal cisterns; medium+ reach both sylvian fissures
            c = np.array([0.0, -4.0, -15.0]) * s
            ext = ((22.0, 18.0, 8.0), (34.0, 24.0, 10.0), (56.0, 34.0, 14.0), (64.0, 40.0, 20.0))[k]
            ext = _scaled(ext, s)
            side = "midline" if k < 2 else "bilateral"
        elif pattern == "sylvian fissure":
            c = np.array([sgn * 40.0, -8.0, -8.0]) * s
            ext = _scaled((14.0, 12.0, 10.0), (0.7 + 0.4 * k) * s)
        else:
            # trace: one sulcus; medium/large: several sulci over one hemisphere's convexity
            region = str(rng.choice(["frontal", "parietal", "frontoparietal", "temporal"]))
            d = _CONVEXITY[region]
            c = inner_table_point(head, (sgn * d[0], d[1], d[2])) * (0.95, 0.93, 0.88, 0.85)[k]
            r = (5.0, 16.0, 32.0, 42.0)[k] * s
            ext = (r, r, r)
        location = pattern if side in ("midline", "bilateral") else f"{side} {pattern}"
        dens = min(dens, 75.0)
    elif subtype == Subtype.INTRAPARENCHYMAL:
        sites = {
            "frontal lobe": ((28.0, -45.0, 25.0), 1.0),
            "parietal lobe": ((32.0, 25.0, 40.0), 1.0),
            "temporal lobe": ((45.0, -15.0, -18.0), 0.8),
            "basal ganglia": ((22.0, -1.0, 0.0), 1.3),
            "thalamus": ((10.0, 13.0, 3.0), 0.7),
            "cerebellum": ((22.0, 48.0, -42.0), 0.6),
            "pons": ((0.0, 2.0, -40.0), 0.25),
        }
        place = str(_pick(rng, {n: w for n, (_, w) in sites.items()}))
        cu, cv, cw = sites[place][0]
        c = np.array([sgn * cu if cu else 0.0, cv, cw]) * s
        cap = {"thalamus": 2, "pons": 1, "cerebellum": 2}.get(place, 3)
        r = (2.5, 7.0, 14.0, 22.0)[min(k, cap)] * float(rng.uniform(0.85, 1.15))
        ext = (r * float(rng.uniform(0.7, 1.0)), r * float(rng.uniform(0.9, 1.3)), r)
        side = "midline" if place == "pons" else side
        location = place if side == "midline" else f"{side} {place}"
        shift = (0.0, 0.0, rng.uniform(0, 3), rng.uniform(4, 10))[k] if place != "pons" else 0.0
    else:
        pattern = "occipital horns" if k < 3 else "casting"
        c = np.array([0.0, 25.0, 8.0]) * s
        ext = (30.0 * s, 30.0 * s, 25.0 * s) if k == 3 else (30.0 * s, 15.0, 10.0)
        thick = (2.0, 4.0, 7.0, 0.0)[k]  # depth of the dependent layer
        side, location = "bilateral", pattern
    cc = tuple(float(x) for x in np.asarray(c))
    return HemorrhageSpec(
        subtype=subtype,
        stage=stage,
        size=size,
        location=location,
        side=side,
        center_mm=(cc[0], cc[1], cc[2]),
        extent_mm=(float(ext[0]), float(ext[1]), float(ext[2])),
        density_hu=round(dens, 1),
        with_fracture=fracture,
        thickness_mm=round(float(thick), 2),
        midline_shift_mm=round(float(shift), 2),
    )


def midline_shift(hemorrhages: tuple[HemorrhageSpec, ...]) -> float:
    """Signed shift along u (away from the bleeds), capped at 15 mm."""
    total = sum(-np.sign(h.center_mm[0]) * h.midline_shift_mm for h in hemorrhages)
    return float(np.clip(total, -15.0, 15.0))


def _fill(t: Tissue, sl: tuple[slice, slice, slice], m: np.ndarray, h: HemorrhageSpec) -> None:
    """Blood HU into a region; chronic/acute-on-chronic SDH get their hypodense part."""
    # acute-on-chronic: hypodense collection; its fresh part is added by paint()
    t.hu[sl][m] = F32(12.0 if h.stage == BleedStage.ACUTE_ON_CHRONIC else h.density_hu)


def paint(grid: Grid, t: Tissue, h: HemorrhageSpec, srng: np.random.Generator) -> np.ndarray:
    """Paint one bleed into the tissue (in place); return its coarse-grid mask."""
    mask = np.zeros(grid.shape, dtype=bool)
    c = h.center_mm
    ext = h.extent_mm
    sl = grid.roi(c, max(ext) + max(h.thickness_mm, 0.0) + 4.0)
    if sl is None:
        return mask
    q = ellipsoid_q(grid, sl, c, ext)
    inner = t.inner_depth[sl]
    u, v, w = grid.u[sl], grid.v[sl], grid.w[sl]
    sub = h.subtype
    falx = "falcine" in h.location
    if sub in (Subtype.EPIDURAL, Subtype.SUBDURAL) and not falx and "tentor" not in h.location:
        prof = np.clip(F32(1.0) - q, 0, 1)
        # epidural: lens (thickness ~ 1-rho^2); subdural: flat crescent tapering at the rims
        prof = prof if sub == Subtype.EPIDURAL else np.sqrt(prof) ** F32(0.5)
        m = (inner > F32(-0.3)) & (inner < F32(h.thickness_mm) * prof) & (q < 1)
        m &= u * F32(np.sign(c[0]) or 1.0) > F32(3.0)  # does not cross the falx
    elif sub == Subtype.SUBDURAL and falx:
        side = F32(1.0) if "left" in h.location else F32(-1.0)
        du = u * side - F32(t.shift_mm) * side
        q = ((v - F32(c[1])) / F32(ext[1])) ** 2 + ((w - F32(c[2])) / F32(ext[2])) ** 2
        m = (
            (q < 1)
            & (du > F32(0.6))
            & (du < F32(0.6) + F32(h.thickness_mm) * np.clip(1 - q, 0, 1) ** F32(0.5))
        )
        m &= inner > 0
    elif sub == Subtype.SUBDURAL:
        tw = tentorium_w(u, v, t.scale)
        m = (q < 1) & (
            np.abs(w - tw) < F32(h.thickness_mm) * np.clip(1 - q, 0, 1) ** F32(0.5) + 0.5
        )
        m &= (inner > 0) & (v > F32(10.0 * t.scale))
    elif sub == Subtype.SUBARACHNOID:
        # sulci/fissures/cisterns, not the thin film under the inner table (that reads as SDH)
        m = (q < 1) & t.csf[sl] & (t.hu[sl] < F32(30.0)) & (inner > F32(2.5))
        if h.size == BleedSize.TRACE:  # a single sulcus: the largest connected cleft
            m = _largest_component(m)
    elif sub == Subtype.INTRAPARENCHYMAL:
        wob = F32(0.18) * np.cos(u * F32(0.45) + F32(srng.uniform(0, 6))) * np.cos(v * F32(0.4))
        qq = q * (F32(1.0) + wob)
        par = t.brain[sl] | t.csf[sl] & (inner > F32(3.0))
        if h.size != "trace" and h.stage in (BleedStage.ACUTE, BleedStage.SUBACUTE):
            rim = F32((1.0 + 5.0 / max(min(ext), 1.0)) ** 2)
            oed = par & (qq >= 1) & (qq < rim) & t.brain[sl]
            t.hu[sl][oed] = F32(17.0)
        m = (qq < 1) & par & ~t.ventricle[sl]
    else:
        vent = t.ventricle[sl]
        if "casting" in h.location:
            m = vent & (q < 1)
        else:  # dependent layer in the occipital horns/atria (supine: +v is down)
            lvl = F32(30.0 * t.scale + 12.0 - h.thickness_mm)
            m = vent & (np.abs(u) > F32(9.0)) & (v > lvl)
    _fill(t, sl, m, h)
    if h.stage == BleedStage.ACUTE_ON_CHRONIC:
        dep = m & (v > F32(c[1] + 0.15 * ext[1]))  # dependent part is fresh blood
        t.hu[sl][dep] = F32(h.density_hu)
    if h.with_fracture:
        _fracture(grid, t, sl, h, srng)
    mask[sl] = m
    t.brain[sl][m] = False
    t.csf[sl][m] = False
    return mask


def _largest_component(m: np.ndarray) -> np.ndarray:
    lab, n = ndimage.label(m)
    if n <= 1:
        return m
    sizes = np.bincount(lab.ravel())[1:]
    return np.asarray(lab == int(np.argmax(sizes)) + 1)


def _fracture(
    grid: Grid,
    t: Tissue,
    sl: tuple[slice, slice, slice],
    h: HemorrhageSpec,
    srng: np.random.Generator,
) -> None:
    """A thin lucent line through the skull over the bleed (a linear fracture)."""
    c = np.asarray(h.center_mm)
    radial = c / (np.linalg.norm(c) + 1e-6)
    n = np.cross(radial, srng.normal(size=3))
    n /= np.linalg.norm(n) + 1e-9
    d = (
        (grid.u[sl] - F32(c[0])) * F32(n[0])
        + (grid.v[sl] - F32(c[1])) * F32(n[1])
        + (grid.w[sl] - F32(c[2])) * F32(n[2])
    )
    near = ellipsoid_q(grid, sl, tuple(c), tuple(1.3 * np.asarray(h.extent_mm))) < 1
    line = (
        near & (np.abs(d) < F32(0.7)) & (t.inner_depth[sl] < 0) & (t.inner_depth[sl] > F32(-11.0))
    )
    line &= t.hu[sl] > F32(300.0)
    t.hu[sl][line] = F32(60.0)
