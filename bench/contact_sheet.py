"""Contact sheet of phantom head CTs (brain window 40/80) -> docs/img/phantoms.png.

Usage: .venv/bin/python bench/contact_sheet.py [OUT.png] [--timing]
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ichsilent.domain import PatientClass, Sex, Subtype
from ichsilent.simulate.anatomy import sample_head
from ichsilent.simulate.hemorrhage import sample_hemorrhage
from ichsilent.simulate.mimics import sample_mimics
from ichsilent.simulate.render import render_series
from ichsilent.simulate.spec import (
    Artefact,
    BleedSize,
    BleedStage,
    HemorrhageSpec,
    MimicSpec,
    ScannerSpec,
    SeriesKind,
    SeriesPlan,
    StudySpec,
)

SCANNER = ScannerSpec("SIM", "Phantom 64", "CT1", "H30s", "H70h", 3.0, 0.5, 120.0, 300.0, 5.0, 0.3)
N = 512


def study(
    uid: str,
    age: int,
    hem: tuple[HemorrhageSpec, ...] = (),
    mim: tuple[MimicSpec, ...] = (),
    art: tuple[Artefact, ...] = (),
    seed: int = 0,
) -> StudySpec:
    head = sample_head(np.random.default_rng(seed), age)
    return StudySpec(
        uid,
        "A" + uid,
        "P",
        "N",
        "19500101",
        Sex.MALE,
        age,
        PatientClass.EMERGENCY,
        "SITE",
        "2025-01-01T00:00:00",
        "HEAD",
        SCANNER,
        head,
        hem,
        mim,
        art,
    )


def tile(
    spec: StudySpec,
    z_mm: float,
    label: str,
    rng: np.random.Generator,
    window: tuple[float, float] = (40.0, 80.0),
) -> Image.Image:
    """One 512x512 axial slice nearest to head-frame height z_mm, windowed and labelled."""
    plan = SeriesPlan(SeriesKind.AXIAL_SOFT, 5.0, SCANNER.soft_kernel, N, N)
    r = render_series(spec, plan, rng)
    zc = r.image_position_mm[:, 2] - spec.head.offset_mm[2]
    k = int(np.argmin(np.abs(zc - z_mm)))
    c, w = window
    img = np.clip((r.hu[k].astype(np.float32) - (c - w / 2)) / w * 255.0, 0, 255).astype(np.uint8)
    im = Image.fromarray(img).convert("RGB")
    d = ImageDraw.Draw(im)
    d.rectangle((0, 0, N, 22), fill=(0, 0, 0))
    d.text((6, 5), f"{label}  (z={zc[k]:+.0f} mm, WL {c:.0f}/{w:.0f})", fill=(255, 255, 0))
    return im


def bleed(
    sub: Subtype,
    seed: int,
    stage: BleedStage = BleedStage.ACUTE,
    size: BleedSize = BleedSize.MEDIUM,
    age: int = 50,
) -> tuple[StudySpec, float]:
    head = sample_head(np.random.default_rng(seed), age)
    hrng = np.random.default_rng(seed + 100)
    h = sample_hemorrhage(hrng, sub, stage=stage, size=size, head=head)
    want = {Subtype.SUBDURAL: "convexity", Subtype.SUBARACHNOID: "basal"}.get(sub, "")
    if sub == Subtype.SUBARACHNOID and size == BleedSize.TRACE:
        want = "sulci"
    if sub == Subtype.INTRAPARENCHYMAL and size == BleedSize.LARGE:
        want = "basal ganglia"
    while want not in h.location:
        h = sample_hemorrhage(hrng, sub, stage=stage, size=size, head=head)
    s = study(f"bleed-{sub.value}-{stage.value}-{seed}", age, (h,), seed=seed)
    return s, h.center_mm[2] / head.scale if sub != Subtype.INTRAVENTRICULAR else 12.0


def main(out: Path) -> None:
    rng = np.random.default_rng(7)
    tiles: list[Image.Image] = []
    tiles.append(tile(study("normal", 35, seed=1), 10.0, "normal, 35 y", rng))
    tiles.append(tile(study("normal-old", 82, seed=2), 10.0, "normal, 82 y (atrophy)", rng))
    for i, sub in enumerate(Subtype):
        size = BleedSize.LARGE if sub in (Subtype.EPIDURAL, Subtype.SUBDURAL) else BleedSize.MEDIUM
        s, z = bleed(sub, 10 + i, size=size)
        tiles.append(tile(s, z, f"acute {sub.value} ({s.hemorrhages[0].location})", rng))
    s, z = bleed(Subtype.SUBDURAL, 21, stage=BleedStage.CHRONIC, size=BleedSize.LARGE, age=80)
    tiles.append(tile(s, z, "chronic subdural", rng))
    s, z = bleed(Subtype.SUBDURAL, 22, stage=BleedStage.ACUTE_ON_CHRONIC, size=BleedSize.LARGE)
    tiles.append(tile(s, z, "acute-on-chronic subdural (hematocrit level)", rng))
    s, z = bleed(Subtype.SUBARACHNOID, 23, size=BleedSize.TRACE)
    tiles.append(tile(s, z, f"trace subarachnoid ({s.hemorrhages[0].location})", rng))
    s, z = bleed(Subtype.INTRAPARENCHYMAL, 24, size=BleedSize.LARGE)
    sh = s.hemorrhages[0].midline_shift_mm
    tiles.append(tile(s, z, f"large IPH, midline shift {sh:.0f} mm", rng))
    mims = sample_mimics(np.random.default_rng(3), 85) or ()
    tiles.append(tile(study("mimics", 85, mim=mims, seed=3), 6.0, "calcifications (mimics)", rng))
    tiles.append(
        tile(
            study("bh", 50, art=(Artefact.BEAM_HARDENING,), seed=4),
            -38.0,
            "skull base, beam hardening",
            rng,
        )
    )
    tiles.append(tile(study("motion", 60, art=(Artefact.MOTION,), seed=5), 15.0, "motion", rng))
    tiles.append(
        tile(study("metal", 60, art=(Artefact.METAL,), seed=6), -16.0, "metal (clip)", rng)
    )
    tiles.append(
        tile(
            study("postop", 60, art=(Artefact.POST_OPERATIVE,), seed=7),
            35.0,
            "post-operative (craniotomy)",
            rng,
        )
    )
    cols = 4
    rows = (len(tiles) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * N, rows * N))
    for i, t in enumerate(tiles):
        sheet.paste(t, ((i % cols) * N, (i // cols) * N))
    sheet = sheet.resize((cols * N * 3 // 4, rows * N * 3 // 4), Image.Resampling.LANCZOS)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)


def timing() -> None:
    """Time render_series at 512x512x32: soft (fresh study each time) and soft+bone."""
    soft = SeriesPlan(SeriesKind.AXIAL_SOFT, 5.0, "H30s", N, N)
    bone = SeriesPlan(SeriesKind.AXIAL_BONE, 5.0, "H70h", N, N)
    rng = np.random.default_rng(0)
    base = study("warm", 60, seed=0)
    render_series(base, soft, rng)
    render_series(base, bone, rng)
    ts, tb = [], []
    for i in range(8):
        s = dataclasses.replace(
            base, study_uid=f"t{i}", head=sample_head(np.random.default_rng(i), 60)
        )
        t0 = time.perf_counter()
        render_series(s, soft, rng)
        t1 = time.perf_counter()
        render_series(s, bone, rng)
        ts.append(t1 - t0)
        tb.append(time.perf_counter() - t0)
    sys.stdout.write(f"soft median {np.median(ts):.3f}s  soft+bone median {np.median(tb):.3f}s\n")


if __name__ == "__main__":
    if "--timing" in sys.argv:
        timing()
    else:
        main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/img/phantoms.png"))
