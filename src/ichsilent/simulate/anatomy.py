"""Phantom head anatomy in Hounsfield units, evaluated analytically on a sample grid.

Head frame (see render_grid): u +left, v +posterior, w +superior, mm from the head centre.
Layers (scalp, tables, diploe, extra-axial CSF, cortex, white matter) come from one
ray-distance field to the outer skull surface; small structures are ellipsoids evaluated
only inside their ROI so that a 512x512x32 series costs tens of milliseconds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ichsilent.simulate.render_grid import F32, Grid, ellipsoid_q, u_band
from ichsilent.simulate.spec import HeadSpec

log = logging.getLogger(__name__)

# tissue HU on a real non-contrast head CT
AIR, FAT, CSF, WM, GM, DEEP_GM = -1000.0, -90.0, 6.0, 26.0, 39.0, 36.0
OUTER_TABLE, DIPLOE, INNER_TABLE, FALX, SINUS = 1650.0, 800.0, 1550.0, 50.0, 48.0

# outer skull semi-axes at scale 1 (LR, AP, SI above centre, SI below centre)
SKULL_SEMI = (72.0, 92.0, 80.0, 72.0)
SCALP_MM = 6.0  # nominal scalp (skin, subcutaneous fat, galea/temporalis); thinner at the vertex
HEAD_SEMI_MM = (84.0, 102.0, 95.0)  # ellipsoid that holds the head incl. scalp, at scale 1
COVERAGE_MM = (-68.0, 92.0)  # skull base to vertex (w), at scale 1


def tentorium_w(u: np.ndarray | float, v: np.ndarray | float, s: float) -> np.ndarray:
    """Height (w) of the tentorium: a tent sloping down laterally and up posteriorly."""
    return np.asarray(F32(-24 * s) - F32(0.12) * np.abs(u) + F32(0.05) * (v - F32(40 * s)))


def skull_thickness(s: float, lat2: np.ndarray | float, w: np.ndarray | float) -> np.ndarray:
    """Calvarium thickness (mm): ~5.6 mm, thinner over the temporal squama, thicker at the base.

    lat2: squared lateral direction cosine (u/|p|)^2; w: height in the head frame.
    """
    base = np.clip(np.asarray(w, dtype=F32) * F32(-1 / 40) - F32(10 / 40), 0.0, 1.0)
    return np.asarray(F32(5.6 * s) - F32(1.6 * s) * lat2 + F32(3.0) * base)


def sample_head(rng: np.random.Generator, age_years: int) -> HeadSpec:
    """Per-patient size, shape, position, rotation; atrophy grows after ~50 years."""
    age = float(np.clip(age_years, 0, 110))
    child = float(np.clip((18.0 - age) / 18.0, 0.0, 1.0))
    scale = float(np.clip(rng.normal(1.0 - 0.12 * child, 0.04), 0.8, 1.15))
    aspect = float(np.clip(rng.normal(1.0, 0.04), 0.88, 1.12))
    offset = (float(rng.normal(0, 4)), float(rng.normal(0, 6)), float(rng.normal(0, 5)))
    rotation = (float(rng.normal(0, 3)), float(rng.normal(0, 6)), float(rng.normal(0, 3)))
    atrophy = float(np.clip((age - 45.0) / 45.0 + rng.normal(0, 0.12), 0.0, 1.0))
    return HeadSpec(
        scale=scale, aspect=aspect, offset_mm=offset, rotation_deg=rotation, atrophy=atrophy
    )


@dataclass(slots=True)
class Tissue:
    """Noiseless HU and the region masks hemorrhage painting needs (coarse grid)."""

    hu: np.ndarray  # float32
    inner_depth: np.ndarray  # mm inside the inner table (negative in bone/scalp)
    brain: np.ndarray  # bool: parenchyma (cerebrum, deep grey, cerebellum, brainstem)
    csf: np.ndarray  # bool: sulci, fissures, cisterns, extra-axial CSF (not ventricles)
    ventricle: np.ndarray  # bool
    scale: float
    shift_mm: float  # signed midline shift along u


def _layer_lut(gap: float) -> tuple[np.ndarray, float]:
    """HU by normalised depth (0.25 mm bins from -7 mm): scalp, tables, diploe, CSF, cortex."""
    x = np.arange(-7.0, 90.0, 0.25)
    hu = np.full(x.shape, WM)
    hu[x < 8.0 + gap + 3.5] = GM
    hu[x < 8.0 + gap] = CSF
    hu[x < 8.0] = INNER_TABLE
    hu[x < 6.4] = DIPLOE
    hu[x < 1.8] = OUTER_TABLE
    hu[x < 0.0] = 34.0  # pericranium / galea / temporalis muscle
    hu[x < -2.6] = -100.0  # thin subcutaneous fat
    hu[x < -3.5] = 46.0  # dermis and skin
    hu[x < -SCALP_MM] = AIR
    return hu.astype(F32), -7.0


def _gyral_field(grid: Grid, srng: np.random.Generator, scale: float) -> np.ndarray:
    """Band-limited random field; its zero set meanders like sulci (unit-ish variance).

    Evaluated once per slice (shape (n, 1, Y, X): the field is smooth through a slice).
    Sum of plane waves; k.p separates into (plane, row) + (column) parts, so
    cos(A + B) = cosA cosB - sinA sinB costs outer products instead of a cos per voxel.
    """
    m, ny, nx = grid.shape
    ns = grid.n_sub
    origins = grid.origins_h.reshape(m // ns, ns, 3).mean(axis=1)
    ii = np.arange(ny, dtype=float)
    jj = np.arange(nx, dtype=float)
    f = np.zeros((m // ns, ny, nx), dtype=F32)
    n = 6
    for _ in range(n):
        k = srng.normal(size=3)
        k *= (2 * np.pi / (srng.uniform(20.0, 30.0) * scale)) / np.linalg.norm(k)
        ph = srng.uniform(0, 2 * np.pi)
        a = (origins @ k + ph)[:, None] + (grid.col_h @ k) * ii[None, :]
        b = (grid.row_h @ k) * jj
        ca, sa = np.cos(a).astype(F32)[:, :, None], np.sin(a).astype(F32)[:, :, None]
        cb, sb = np.cos(b).astype(F32), np.sin(b).astype(F32)
        f += ca * cb
        f -= sa * sb
    f *= F32(np.sqrt(2.0 / n))
    np.abs(f, out=f)
    return f[:, None]


def _clip01(x: np.ndarray) -> np.ndarray:
    """In-place clip to [0, 1] (np.clip allocates and is slow on large float32 arrays)."""
    np.maximum(x, F32(0.0), out=x)
    np.minimum(x, F32(1.0), out=x)
    return x


def build_anatomy(
    grid: Grid,
    head: HeadSpec,
    srng: np.random.Generator,
    *,
    shift_mm: float = 0.0,
    contrast: bool = False,
) -> Tissue:
    """Noiseless head in HU on the grid; srng fixes per-study details (gyral pattern)."""
    s = head.scale
    a, b = SKULL_SEMI[0] * s, SKULL_SEMI[1] * s * head.aspect
    u, v, w = grid.u, grid.v, grid.w
    g = _gyral_field(grid, srng, s)
    w2 = w * w
    r2 = np.where(w >= 0, F32(1 / (SKULL_SEMI[2] * s) ** 2), F32(1 / (SKULL_SEMI[3] * s) ** 2))
    r2 *= w2
    u2 = u * u
    r2 += u2 * F32(1 / a**2)
    norm = w2 + u2
    w2 = v * v
    r2 += w2 * F32(1 / b**2)
    norm += w2
    del w2
    np.maximum(norm, F32(1.0), out=norm)
    lat2 = np.divide(u2, norm, out=u2)  # squared lateral direction cosine
    np.sqrt(norm, out=norm)
    np.maximum(r2, F32(1e-6), out=r2)
    np.sqrt(r2, out=r2)
    d_out = np.divide(norm, r2, out=r2)
    d_out -= norm  # ray distance inside the outer skull surface (mm)
    t = skull_thickness(s, lat2, w)
    # scalp: thicker over temporalis, thin at the vertex, its layers meander a little
    ks = _clip01(w * F32(1 / (70.0 * s)))
    ks *= F32(-2.6 * s)
    ks += lat2 * F32(1.6 * s)
    ks += F32(6.2 * s)
    ks = np.divide(F32(SCALP_MM), ks, out=ks)
    sh4 = (grid.shape[0] // grid.n_sub, grid.n_sub, *grid.shape[1:])
    ks.reshape(sh4)[...] *= F32(1.12) - F32(0.16) * g
    inner = np.subtract(d_out, t, out=norm)
    ks *= d_out
    x = np.where(d_out < 0, ks, np.where(inner < 0, d_out * (F32(8.0) / t), inner + F32(8.0)))
    del ks, lat2
    gap = 0.8 + 3.5 * head.atrophy
    lut, x0 = _layer_lut(gap)
    x -= F32(x0)
    x *= F32(4.0)
    np.clip(x, 0, lut.size - 1, out=x)
    hu = lut[x.astype(np.int32)]
    del x, t
    bd = inner - F32(gap)  # depth into the brain
    brain = bd > 0
    csf = (inner > 0) & ~brain
    # sulci: CSF clefts along the zero set of a random field, lined by cortex
    sd = F32((11.0 + 8.0 * head.atrophy) * s)
    sh4 = (grid.shape[0] // grid.n_sub, grid.n_sub, *grid.shape[1:])
    taper = _clip01(bd * F32(-1.0 / sd) + F32(1.0))
    sw = taper * F32(0.09 + 0.22 * head.atrophy)
    sw += F32(0.03) * (taper > 0)
    sulc = brain & (g < sw.reshape(sh4)).reshape(grid.shape)
    cg = _clip01(bd * F32(-1 / 3.5) + F32(1.0 + sd / 3.5))
    cg *= F32(0.45)
    cortex = brain & (g < cg.reshape(sh4)).reshape(grid.shape)
    del taper, sw, cg, bd
    hu[cortex] = F32(GM)
    hu[sulc] = F32(CSF)
    csf |= sulc
    brain &= ~sulc
    t_ = Tissue(hu, inner, brain, csf, np.zeros_like(brain), s, shift_mm)
    _interhemispheric(grid, t_, head, contrast)
    _deep(grid, t_, head, contrast)
    _posterior_fossa_and_base(grid, t_, head, contrast)
    return t_


def _set(t: Tissue, sl: tuple[slice, slice, slice], m: np.ndarray, hu: float, kind: str) -> None:
    """Paint a region and keep the region masks consistent (kind: brain|csf|vent|other)."""
    t.hu[sl][m] = F32(hu)
    br, cs, ve = t.brain[sl], t.csf[sl], t.ventricle[sl]
    br[m] = kind == "brain"
    cs[m] = kind == "csf"
    ve[m] = kind == "vent"


def _ell(
    grid: Grid,
    t: Tissue,
    c: tuple[float, float, float],
    semi: tuple[float, float, float],
    hu: float,
    kind: str,
    within: str = "brain_or_csf",
) -> None:
    """Paint an ellipsoid (scaled by head size) restricted to the intracranial space."""
    s = t.scale
    cs = (c[0] * s + t.shift_mm * np.exp(-((c[0] * s) ** 2) / 800.0), c[1] * s, c[2] * s)
    se = (semi[0] * s, semi[1] * s, semi[2] * s)
    sl = grid.roi(cs, max(se))
    if sl is None:
        return
    m = ellipsoid_q(grid, sl, cs, se) < 1
    if within == "brain_or_csf":
        m &= t.inner_depth[sl] > 0
    _set(t, sl, m, hu, kind)


def _interhemispheric(grid: Grid, t: Tissue, head: HeadSpec, contrast: bool) -> None:
    """Interhemispheric fissure with the falx; the falx bows with midline shift."""
    s = t.scale
    sl = (slice(None), slice(None), u_band(grid, 8.0 * s + abs(t.shift_mm)))
    u, v, w = grid.u[sl], grid.v[sl], grid.w[sl]
    inner = t.inner_depth[sl]
    hu, brain, csf = t.hu[sl], t.brain[sl], t.csf[sl]
    bow = F32(t.shift_mm) * np.clip(F32(1.0) - (v / F32(80.0 * s)) ** 2, 0, 1)
    du = np.abs(u - bow)
    # the fissure reaches the corpus callosum above ~w=20, full depth in front and behind
    region = (inner > 0) & ((w > F32(22 * s)) | (np.abs(v) > F32(40 * s)))
    region &= w > F32(-10 * s)
    half = F32((1.2 + 2.5 * head.atrophy) * s)
    fiss = region & (du < half)
    hu[fiss] = F32(CSF)
    csf |= fiss
    brain &= ~fiss
    falx = region & (du < F32(0.7))
    hu[falx] = F32(FALX)
    csf &= ~falx
    # superior sagittal sinus: triangle at the vertex/occiput against the inner table
    sss = (du < F32(4.0)) & (inner > 0) & (inner < F32(5.0) - du) & (w > 0)
    hu[sss] = F32(190.0 if contrast else SINUS)
    brain &= ~sss
    csf &= ~sss


def _deep(grid: Grid, t: Tissue, head: HeadSpec, contrast: bool) -> None:
    """Basal ganglia, thalami, ventricles, sylvian fissures, suprasellar/ambient cisterns."""
    at = head.atrophy
    vs = 1.0 + 0.9 * at  # ventricles enlarge with atrophy
    ipsi = np.sign(-t.shift_mm)  # side the shift comes from (its ventricle is compressed)
    for side in (-1.0, 1.0):
        k = 0.6 if (t.shift_mm != 0 and side == ipsi and abs(t.shift_mm) > 3) else 1.0
        # sylvian fissure and insula (CSF cleft from the lateral surface inwards)
        _ell(grid, t, (side * 46, -6, -6), (16, 2.2 + 2.5 * at, 11), CSF, "csf")
        _ell(grid, t, (side * 34, -2, 0), (3, 16, 12), GM, "brain")
        _ell(grid, t, (side * 22, -1, 0), (6, 14, 10), DEEP_GM, "brain")  # lentiform
        _ell(grid, t, (side * 12, -14, 8), (5, 8, 8), DEEP_GM, "brain")  # caudate head
        _ell(grid, t, (side * 9, 13, 3), (8, 12, 9), DEEP_GM + 1, "brain")  # thalamus
        _ell(grid, t, (side * 7.5, -16, 12), (4.5 * vs * k, 14, 8 * vs * k), CSF, "vent")
        _ell(grid, t, (side * 8.5, 4, 17), (4.5 * vs * k, 24, 7 * vs * k), CSF, "vent")
        _ell(grid, t, (side * 13, 22, 12), (5 * vs * k, 10, 7 * vs * k), CSF, "vent")
        _ell(grid, t, (side * 17, 32, 8), (6 * vs * k, 13, 7.5 * vs * k), CSF, "vent")
        _ell(grid, t, (side * 28, -2, -22), (2.5 * vs, 12, 3 * vs), CSF, "vent")
        # choroid plexus glomus in the atrium: slightly dense, enhances with contrast
        _ell(grid, t, (side * 15, 30, 10), (2.5, 4, 2.5), 150.0 if contrast else 30.0, "other")
    _ell(grid, t, (0, 0, 2), (2.2 * vs, 13, 9), CSF, "vent")  # third ventricle
    # basal cisterns: a pentagon/star at the midbrain level (suprasellar with its arms:
    # anterior interhemispheric, medial sylvian cisterns; ambient wings around the midbrain)
    _ell(grid, t, (0, -12, -18), (13, 9, 5), CSF, "csf")  # suprasellar cistern
    _ell(grid, t, (0, -28, -15), (2.2, 12, 7), CSF, "csf")  # anterior interhemispheric
    for side in (-1.0, 1.0):
        _ell(grid, t, (side * 22, -12, -15), (12, 2.6, 5), CSF, "csf")  # medial sylvian
        _ell(grid, t, (side * 34, -9, -10), (10, 2.4, 8), CSF, "csf")
    _ell(grid, t, (0, 8, -16), (15, 12.5, 7), CSF, "csf")  # ambient wings
    _ell(grid, t, (0, 21, -14), (7, 4, 5), CSF, "csf")  # quadrigeminal cistern
    _ell(grid, t, (0, 7, -16), (12.5, 10, 9), 31.0, "brain")  # midbrain
    if contrast:
        for side in (-1.0, 1.0):  # MCA branches in the sylvian fissures
            _ell(grid, t, (side * 40, -6, -6), (9, 1.5, 2), 220.0, "other")


def _posterior_fossa_and_base(grid: Grid, t: Tissue, head: HeadSpec, contrast: bool) -> None:
    """Cerebellum, pons, 4th ventricle below the tentorium; skull base, orbits, sinuses."""
    s = t.scale
    sl = grid.roi((0.0, 0.0, -48.0 * s), 100.0 * s, normal_radius=26.0 * s)
    if sl is None:
        return
    u, v, w = grid.u[sl], grid.v[sl], grid.w[sl]
    ins = t.inner_depth[sl] > 0
    # skull base floor (w) by AP position: anterior fossa, middle fossa, posterior fossa
    fl = np.interp(v / s, [-95, -40, -30, 10, 20, 95], [-24, -24, -44, -44, -64, -64])
    floor = fl.astype(F32) * F32(s)
    central = np.abs(u) < F32(14 * s)
    floor = np.where(central & (v > F32(-40 * s)) & (v < F32(10 * s)), F32(-30 * s), floor)
    below = ins & (w < floor)
    hu = t.hu[sl]
    hu[below] = F32(45.0)  # soft tissue of the skull base / face
    plate = below & (w > floor - F32(7 * s))
    hu[plate] = F32(1100.0)
    for m in (t.brain[sl], t.csf[sl], t.ventricle[sl]):
        m[below] = False
    # petrous ridges: dense bone running antero-medial
    for side in (-1.0, 1.0):
        pu = (u - F32(side * 30 * s)) * F32(0.6) + (v - F32(12 * s)) * F32(side * 0.8)
        pv = -(u - F32(side * 30 * s)) * F32(side * 0.8) + (v - F32(12 * s)) * F32(0.6)
        q = (
            (pu / F32(24 * s)) ** 2
            + (pv / F32(4.5 * s)) ** 2
            + ((w + F32(40 * s)) / F32(7 * s)) ** 2
        )
        pet = ins & (q < 1)
        hu[pet] = F32(1400.0)
        for m in (t.brain[sl], t.csf[sl]):
            m[pet] = False
    # posterior fossa: below the tentorium, behind the petrous ridges
    tent = tentorium_w(u, v, s)
    pf = ins & (v > F32(14 * s)) & (w < tent) & (w >= floor) & ~(hu > 900)
    cb = pf.copy()
    fol = np.cos(w * F32(2 * np.pi / 3.5)) > 0.6  # folia: fine stripes of CSF-ish density
    hu[cb] = F32(34.0)
    hu[cb & fol] = F32(30.0)
    t.brain[sl][cb] = True
    t.csf[sl][cb] = False
    _ell(grid, t, (0, 2, -42), (12, 11, 20), 30.0, "brain")  # pons / medulla
    _ell(grid, t, (0, -8, -42), (16, 5, 16), CSF, "csf")  # prepontine cistern
    _ell(grid, t, (0, 19, -40), (6 * (1 + 0.5 * head.atrophy), 3.5, 6), CSF, "vent")  # 4th
    # orbits: bony cone, retro-orbital fat, globe (vitreous ~10 HU) with a dense lens;
    # ethmoid air cells between the orbits, sphenoid sinus behind, maxillary sinuses below
    for side in (-1.0, 1.0):
        _ell(grid, t, (side * 30, -56, -40), (15.5, 23, 13.5), 700.0, "other", within="any")
        _ell(grid, t, (side * 30, -58, -40), (13.8, 23, 12), -100.0, "other", within="any")
        _ell(grid, t, (side * 23, -46, -40), (4, 14, 3), 35.0, "other", within="any")  # nerve
        _ell(grid, t, (side * 34, -58, -40), (2.5, 10, 3), 35.0, "other", within="any")
        _ell(grid, t, (side * 30, -70, -40), (11.5, 11.5, 11.5), 10.0, "other", within="any")
        _ell(grid, t, (side * 30, -79, -40), (4.5, 2.2, 4.5), 120.0, "other", within="any")
        _ell(grid, t, (side * 30, -48, -66), (13, 15, 11), AIR, "other", within="any")
    eth = ellipsoid_q(grid, sl, (0.0, -62.0 * s, -42.0 * s), (9.0 * s, 18.0 * s, 12.0 * s)) < 1
    cells = (np.cos(u * F32(1.4)) + np.cos(v * F32(1.3)))[eth] > F32(-1.2)  # bony septa
    t.hu[sl][eth] = np.where(cells, F32(AIR), F32(500.0))
    _ell(grid, t, (0, -34, -46), (12, 10, 9), AIR, "other", within="any")  # sphenoid
    for side in (-1.0, 1.0):  # mastoid air cells behind the petrous bone
        _ell(grid, t, (side * 52, 24, -46), (8, 9, 9), -500.0, "other", within="any")
    if contrast:
        for side in (-1.0, 1.0):  # transverse sinuses along the occipital inner table
            _ell(grid, t, (side * 35, 75, -40), (22, 6, 4), 200.0, "other")
