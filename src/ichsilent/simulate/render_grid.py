"""Sampling grids for the phantom renderer: slice geometry, head-frame coordinates, ROIs.

The anatomy is evaluated on a coarse in-plane grid (every `factor` pixels) with `n_sub`
sub-samples through each slice's thickness, then averaged (partial volume) and upsampled.
Head frame: u (+patient left), v (+posterior), w (+superior), millimetres, at the head centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ichsilent.simulate.spec import HeadSpec

F32 = np.float32


def rotation_matrix(roll_pitch_yaw_deg: tuple[float, float, float]) -> np.ndarray:
    """Head->patient rotation: roll about y (AP), pitch about x (LR), yaw about z (SI)."""
    r, p, y = (math.radians(a) for a in roll_pitch_yaw_deg)
    ry = np.array([[math.cos(r), 0, math.sin(r)], [0, 1, 0], [-math.sin(r), 0, math.cos(r)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(y), -math.sin(y), 0], [math.sin(y), math.cos(y), 0], [0, 0, 1]])
    return rz @ rx @ ry


@dataclass(frozen=True, slots=True)
class SliceGeometry:
    """DICOM geometry of a stack of parallel slices (fine grid)."""

    positions: np.ndarray  # (n, 3) ImagePositionPatient (centre of pixel [0, 0])
    row_dir: np.ndarray  # direction of increasing column index
    col_dir: np.ndarray  # direction of increasing row index
    rows: int
    columns: int
    spacing: tuple[float, float]  # (between rows, between columns)
    thickness: float

    @property
    def normal(self) -> np.ndarray:
        n = np.cross(self.row_dir, self.col_dir)
        return np.asarray(n / np.linalg.norm(n))

    @property
    def orientation(self) -> tuple[float, float, float, float, float, float]:
        v = [float(round(x, 6)) + 0.0 for x in (*self.row_dir, *self.col_dir)]
        return (v[0], v[1], v[2], v[3], v[4], v[5])


@dataclass(slots=True)
class Grid:
    """Coarse sample points of one series in the head frame, plus the maps to find ROIs."""

    u: np.ndarray  # (M, Y, X) float32, M = n_slices * n_sub
    v: np.ndarray
    w: np.ndarray
    n_sub: int
    origins_h: np.ndarray  # (M, 3) head-frame position of coarse sample [0, 0] of each plane
    row_h: np.ndarray  # head-frame step of one coarse column
    col_h: np.ndarray  # head-frame step of one coarse row
    normal_h: np.ndarray
    step: float  # coarse in-plane pixel size (mm)
    sub_step: float  # distance between sub-sample planes (mm)

    @property
    def shape(self) -> tuple[int, int, int]:
        m, y, x = self.u.shape
        return (m, y, x)

    def roi(
        self,
        center: tuple[float, float, float] | np.ndarray,
        radius: float,
        normal_radius: float | None = None,
    ) -> tuple[slice, slice, slice] | None:
        """Index box of the grid that contains a sphere (head frame); None if it misses."""
        c = np.asarray(center, dtype=float)
        q = c[None, :] - self.origins_h  # (M, 3)
        dn = q @ self.normal_h
        half = 0.5 * self.sub_step
        nr = radius if normal_radius is None else normal_radius
        hit = np.nonzero(np.abs(dn) <= nr + half)[0]
        if hit.size == 0:
            return None
        m0, m1 = int(hit[0]), int(hit[-1]) + 1
        qi = q[m0:m1] @ self.col_h / self.step**2
        qj = q[m0:m1] @ self.row_h / self.step**2
        rr = radius / self.step + 1.0
        _, ny, nx = self.shape
        i0, i1 = max(math.floor(qi.min() - rr), 0), min(math.ceil(qi.max() + rr) + 1, ny)
        j0, j1 = max(math.floor(qj.min() - rr), 0), min(math.ceil(qj.max() + rr) + 1, nx)
        if i0 >= i1 or j0 >= j1:
            return None
        return (slice(m0, m1), slice(i0, i1), slice(j0, j1))


def u_band(grid: Grid, width: float) -> slice:
    """Columns of the grid where |u| < width somewhere (the midline band)."""
    base = grid.origins_h[:, 0][:, None] + grid.col_h[0] * np.arange(grid.shape[1])[None, :]
    rj = grid.row_h[0]
    nx = grid.shape[2]
    if abs(rj) < 1e-6 * grid.step:
        return slice(0, nx)
    a, b = (-width - base.max()) / rj, (width - base.min()) / rj
    lo, hi = min(a, b), max(a, b)
    return slice(int(np.clip(math.floor(lo), 0, nx)), int(np.clip(math.ceil(hi) + 1, 0, nx)))


def build_grid(
    geo: SliceGeometry,
    head: HeadSpec,
    factor: int,
    n_sub: int,
    semi_mm: tuple[float, float, float],
) -> tuple[Grid, tuple[slice, slice]]:
    """Coarse grid restricted to the head's bounding box; returns it and the fine-grid box.

    semi_mm: semi-axes (head frame) of an ellipsoid that contains the whole head.
    """
    rot = rotation_matrix(head.rotation_deg)
    off = np.asarray(head.offset_mm, dtype=float)
    normal = geo.normal
    sub = geo.thickness / n_sub
    sub_off = (np.arange(n_sub) - (n_sub - 1) / 2.0) * sub
    planes = (geo.positions[:, None, :] + sub_off[None, :, None] * normal).reshape(-1, 3)
    # coarse pixel k covers fine pixels factor*k .. factor*k + factor-1 -> centre offset
    half = (factor - 1) / 2.0
    dr, dc = geo.spacing
    # bounding box of the head sphere over all planes (fine-index units, rounded to coarse)
    q = off[None, :] - planes
    semi = np.asarray(semi_mm, dtype=float)
    # half-extent of the rotated ellipsoid along a direction e: |diag(semi) R^T e|
    ext_i = float(np.linalg.norm(semi * (rot.T @ geo.col_dir)))
    ext_j = float(np.linalg.norm(semi * (rot.T @ geo.row_dir)))
    ext_n = float(np.linalg.norm(semi * (rot.T @ normal)))
    keep = np.abs(q @ normal) <= ext_n
    if not keep.any():
        keep[:] = True
    ci = (q @ geo.col_dir)[keep] / dr
    cj = (q @ geo.row_dir)[keep] / dc
    ny, nx = geo.rows // factor, geo.columns // factor
    i0 = int(np.clip(np.floor((ci.min() - ext_i / dr - half) / factor), 0, ny - 1))
    i1 = int(np.clip(np.ceil((ci.max() + ext_i / dr - half) / factor) + 1, i0 + 1, ny))
    j0 = int(np.clip(np.floor((cj.min() - ext_j / dc - half) / factor), 0, nx - 1))
    j1 = int(np.clip(np.ceil((cj.max() + ext_j / dc - half) / factor) + 1, j0 + 1, nx))
    # head frame: h = R^T (p - off)
    rt = rot.T
    o_h = (
        planes
        + (factor * i0 + half) * dr * geo.col_dir
        + (factor * j0 + half) * dc * geo.row_dir
        - off
    ) @ rot
    col_h = rt @ geo.col_dir * dr * factor
    row_h = rt @ geo.row_dir * dc * factor
    ii = np.arange(i1 - i0, dtype=F32)
    jj = np.arange(j1 - j0, dtype=F32)
    axes = []
    for a in range(3):
        base = o_h[:, a].astype(F32)[:, None, None]
        axes.append(
            base + (F32(col_h[a]) * ii)[None, :, None] + (F32(row_h[a]) * jj)[None, None, :]
        )
    grid = Grid(
        u=axes[0],
        v=axes[1],
        w=axes[2],
        n_sub=n_sub,
        origins_h=o_h,
        row_h=row_h,
        col_h=col_h,
        normal_h=rt @ normal,
        step=float(dr * factor),
        sub_step=sub,
    )
    box = (slice(factor * i0, factor * i1), slice(factor * j0, factor * j1))
    return grid, box


def upsample2(a: np.ndarray) -> np.ndarray:
    """Bilinear x2 upsampling of axes 1 and 2 of (n, y, x), half-pixel aligned (cheap)."""
    n, y, x = a.shape
    q, h = F32(0.25), F32(0.75)
    t = np.empty((n, 2 * y, x), dtype=F32)
    ev, od = t[:, 0::2], t[:, 1::2]
    np.multiply(a, h, out=ev)
    ev[:, 1:] += q * a[:, :-1]
    ev[:, 0] += q * a[:, 0]
    np.multiply(a, h, out=od)
    od[:, :-1] += q * a[:, 1:]
    od[:, -1] += q * a[:, -1]
    out = np.empty((n, 2 * y, 2 * x), dtype=F32)
    ev, od = out[:, :, 0::2], out[:, :, 1::2]
    np.multiply(t, h, out=ev)
    ev[:, :, 1:] += q * t[:, :, :-1]
    ev[:, :, 0] += q * t[:, :, 0]
    np.multiply(t, h, out=od)
    od[:, :, :-1] += q * t[:, :, 1:]
    od[:, :, -1] += q * t[:, :, -1]
    return out


def upsample(a: np.ndarray, factor: int) -> np.ndarray:
    """Upsample the last two axes by a power-of-two factor."""
    while factor > 1:
        a = upsample2(a)
        factor //= 2
    return np.ascontiguousarray(a)


def ellipsoid_q(
    grid: Grid,
    sl: tuple[slice, slice, slice],
    center: tuple[float, float, float],
    semi: tuple[float, float, float],
) -> np.ndarray:
    """Normalised ellipsoid radius squared (<1 inside) inside an ROI, axis-aligned in head frame."""
    du = (grid.u[sl] - F32(center[0])) * F32(1.0 / semi[0])
    dv = (grid.v[sl] - F32(center[1])) * F32(1.0 / semi[1])
    dw = (grid.w[sl] - F32(center[2])) * F32(1.0 / semi[2])
    return np.asarray(du * du + dv * dv + dw * dw)
