"""What the scanner adds to the true HU: kernel, quantum noise and artefacts.

Noise uses a cached bank of unit-variance textures filtered by a CT-like noise power
spectrum (ramp times apodisation), picked and rolled per slice: a 512x512x32 series costs
a few copies instead of FFTs.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import ndimage

from ichsilent.simulate.anatomy import Tissue
from ichsilent.simulate.render_grid import F32, Grid, ellipsoid_q
from ichsilent.simulate.spec import ScannerSpec

REF_KVP, REF_MAS = 120.0, 300.0
_BANK = 6


def noise_sigma(scanner: ScannerSpec, thickness_mm: float, bone: bool) -> float:
    """Noise std in HU: quantum noise ~ 1/sqrt(mAs * thickness), higher at low kVp."""
    dose = max(scanner.mas, 1.0) / REF_MAS * (max(scanner.kvp, 60.0) / REF_KVP) ** 2.5
    thick = max(scanner.slice_thickness_mm, 0.5) / max(thickness_mm, 0.5)
    sigma = scanner.noise_hu * math.sqrt(thick / dose)
    return float(sigma * (3.0 if bone else 1.0))


@functools.lru_cache(maxsize=8)
def noise_bank(rows: int, cols: int, cutoff: float) -> np.ndarray:
    """(_BANK, rows, cols) float32 unit-std noise with a ramp x gaussian NPS (fixed seed)."""
    rng = np.random.default_rng(20240611)
    fy = np.fft.fftfreq(rows)[:, None]
    fx = np.fft.rfftfreq(cols)[None, :]
    f = np.sqrt(fy * fy + fx * fx)
    amp = np.sqrt(f * np.exp(-((f / cutoff) ** 2)))
    white = rng.standard_normal((_BANK, rows, cols)).astype(F32)
    out = np.fft.irfft2(np.fft.rfft2(white) * amp, s=(rows, cols)).astype(F32)
    out /= out.std(axis=(1, 2), keepdims=True)
    return out


def add_noise(
    vol: np.ndarray, sigma: float, sharpness: float, bone: bool, rng: np.random.Generator
) -> None:
    """Add correlated noise in place: per slice a bank texture, randomly rolled and flipped."""
    n, rows, cols = vol.shape
    cutoff = round(0.38 + 0.12 * sharpness, 2) if bone else round(0.10 + 0.16 * sharpness, 2)
    bank = noise_bank(rows, cols, cutoff)
    hi = np.array([[_BANK], [rows], [cols], [2]])
    draws = np.asarray(rng.integers(0, hi, size=(4, n)))  # pick, dy, dx, flip per slice
    pick, dy, dx, flip = (draws[i].tolist() for i in range(4))
    s = F32(sigma)
    for k in range(n):
        tex = np.roll(bank[pick[k]], (int(dy[k]), int(dx[k])), axis=(0, 1))
        if flip[k]:
            tex = tex[::-1]
        vol[k] += s * tex


def blur3(a: np.ndarray, strength: float) -> np.ndarray:
    """Separable [s, 1-2s, s] in-plane smoothing (soft kernel on the coarse grid)."""
    s = F32(np.clip(strength, 0.0, 0.33))
    if s == 0:
        return a
    for ax in (-2, -1):
        lo = np.concatenate(
            [np.take(a, [0], axis=ax), np.take(a, range(a.shape[ax] - 1), axis=ax)], axis=ax
        )
        hi = np.concatenate(
            [np.take(a, range(1, a.shape[ax]), axis=ax), np.take(a, [-1], axis=ax)], axis=ax
        )
        a = (F32(1) - 2 * s) * a + s * (lo + hi)
    return a


def sharpen(vol: np.ndarray, amount: float) -> np.ndarray:
    """Bone kernel: unsharp mask with a 4-neighbour Laplacian (edges overshoot as on CT)."""
    lap = F32(-4.0) * vol
    lap[:, 1:, :] += vol[:, :-1, :]
    lap[:, :-1, :] += vol[:, 1:, :]
    lap[:, :, 1:] += vol[:, :, :-1]
    lap[:, :, :-1] += vol[:, :, 1:]
    return vol - F32(amount) * lap


def post_operative(grid: Grid, t: Tissue, srng: np.random.Generator) -> None:
    """Craniotomy: a bone defect over one convexity and pneumocephalus under it (anterior)."""
    s = t.scale
    side = float(srng.choice([-1.0, 1.0]))
    c = (side * 55.0 * s, float(srng.uniform(-45, 5)) * s, 35.0 * s)
    r = float(srng.uniform(22, 32)) * s
    sl = grid.roi(c, r + 25.0)
    if sl is None:
        return
    q = ellipsoid_q(grid, sl, c, (r, r, r))
    inner = t.inner_depth[sl]
    hu = t.hu[sl]
    defect = (q < 1) & (inner < 0) & (inner > F32(-12.0)) & (hu > F32(200.0))
    hu[defect] = F32(30.0)  # scalp/dura falls in: soft tissue where the flap was
    # air rises to the non-dependent (anterior, supine) extra-axial space
    for _ in range(int(srng.integers(2, 6))):
        pc = (c[0] * 0.85, c[1] - float(srng.uniform(5, 25)), c[2] + float(srng.uniform(-15, 15)))
        ps = sl2 = grid.roi(pc, 8.0)
        if ps is None or sl2 is None:
            continue
        air = ellipsoid_q(grid, ps, pc, (3.5, 6.0, 4.0)) < 1
        air &= (t.inner_depth[ps] > F32(-0.5)) & (t.inner_depth[ps] < F32(7.0))
        t.hu[ps][air] = F32(-950.0)
        t.brain[ps][air] = False
        t.csf[ps][air] = False


def beam_hardening(grid: Grid, t: Tissue, strength: float) -> None:
    """Dark Hounsfield bar between the petrous bones plus streaks, and mild cupping."""
    if strength <= 0:
        return
    s = t.scale
    sl = grid.roi((0.0, 12.0 * s, -38.0 * s), 70.0 * s, normal_radius=22.0 * s)
    if sl is not None:
        u, v, w = grid.u[sl], grid.v[sl], grid.w[sl]
        dv = v - F32(14.0 * s) - F32(0.1) * np.abs(u)
        band = np.exp(-(dv * dv) * F32(1 / 50.0)) * np.clip(
            F32(1.0) - np.abs(u) / F32(45 * s), 0, 1
        )
        zf = np.exp(-((w + F32(38 * s)) ** 2) * F32(1 / 200.0))
        ang = np.arctan2(v - F32(14 * s), u)
        streak = np.cos(ang * F32(9.0)) * np.exp(-np.abs(dv) * F32(1 / 25.0))
        t.hu[sl] -= F32(45.0 * strength) * zf * (band + F32(0.15) * streak)


def metal(grid: Grid, t: Tissue, srng: np.random.Generator) -> None:
    """A metal object (aneurysm clip near the circle of Willis) with radial bright/dark streaks.

    Streak amplitude falls like 1/(1 + r/r0): hundreds of HU next to the clip, tens of HU
    at the far side of the head; dark streaks dominate (photon starvation) with bright
    neighbours, plus a dark/bright halo right around the metal.
    """
    s = t.scale
    c = (float(srng.choice([-1.0, 1.0])) * 12.0 * s, -12.0 * s, -16.0 * s)
    dn = (np.asarray(c)[None, :] - grid.origins_h) @ grid.normal_h
    near = np.nonzero(np.abs(dn) < 7.0)[0]
    if near.size == 0:
        return
    zs = slice(int(near[0]), int(near[-1]) + 1)
    u, v = grid.u[zs], grid.v[zs]
    du, dv = u - F32(c[0]), v - F32(c[1])
    rad = np.sqrt(du * du + dv * dv) + F32(0.5)
    ang = np.arctan2(dv, du)
    wz = np.exp(-(dn[zs] ** 2) / 20.0).astype(F32)[:, None, None]
    pattern = np.zeros_like(u)
    inv_w = F32(1.0) / (F32(1.2) + rad * F32(0.08))  # streaks widen away from the metal
    for i in range(10):
        a0 = F32(srng.uniform(0, np.pi))
        d = np.abs(np.sin(ang - a0)) * rad  # distance from a line through the metal
        sign = -1.0 if i % 3 else 1.0  # mostly dark streaks, some bright
        amp = F32(sign * srng.uniform(0.5, 1.0))
        pattern += amp * np.exp(-(d * d) * inv_w)
    decay = F32(1.0) / (F32(1.0) + rad * F32(1 / 4.0))
    halo = F32(-0.8) * np.exp(-rad * F32(1 / 5.0))
    t.hu[zs] += F32(360.0) * wz * (pattern + halo) * decay
    core = ellipsoid_q(grid, (zs, slice(None), slice(None)), c, (2.0, 3.5, 2.5)) < 1
    t.hu[zs][core] = F32(3000.0)


def _streaks(img: np.ndarray, diff: np.ndarray, angle: float, gain: float) -> None:
    """Inconsistent projections: smear an edge difference along one view angle (in place)."""
    rot = ndimage.rotate(diff, angle, reshape=False, order=1, mode="constant")
    prof = rot.sum(axis=0) * F32(gain / diff.shape[0])
    back = ndimage.rotate(np.broadcast_to(prof, diff.shape), -angle, reshape=False, order=1)
    img += back


def motion(vol: np.ndarray, srng: np.random.Generator) -> None:
    """Patient motion over a run of slices: a ghost (shifted, rotated copy: doubled skull
    edge), blur, and faint straight streaks tangent to the bone edges."""
    n = vol.shape[0]
    if n < 3:
        return
    small = vol.shape[1] < 200
    k0 = int(srng.integers(n // 4, max(n // 2, n // 4 + 1)))
    k1 = min(n, k0 + max(2, int(srng.integers(n // 3, n // 2 + 1))))
    for k in range(k0, k1):
        dy, dx = (float(x) for x in srng.uniform(-5.0, 5.0, size=2))
        if small:
            dy, dx = dy / 3, dx / 3
        rot = float(srng.uniform(-2.5, 2.5))
        img = vol[k]
        ghost = ndimage.rotate(img, rot, reshape=False, order=1, mode="nearest")
        ghost = ndimage.shift(ghost, (dy, dx), order=1, mode="nearest")
        a = F32(srng.uniform(0.3, 0.45))
        diff = np.clip(ghost - img, -1500.0, 1500.0).astype(F32)
        out = (F32(1) - a) * img + a * ghost
        for ang in srng.uniform(0, 180, size=2):
            _streaks(out, diff, float(ang), float(srng.uniform(0.5, 0.9)))
        vol[k] = out
