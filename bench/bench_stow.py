"""Benchmark STOW-RS into a fresh local Orthanc: studies/min and MB/s per batch size × workers.

    .venv/bin/python bench/bench_stow.py --studies 12
    .venv/bin/python bench/bench_stow.py --folder /path/to/dicom --batch-sizes 32,64 --workers 1,2
    .venv/bin/python bench/bench_stow.py --append docs/benchmarks.md

Without --folder it writes K synthetic head-CT studies (32 slices of 512×512 int16, noise)
with pydicom + numpy. Each configuration gets its own fresh Orthanc so that none of them
measures the overwrite path of another. Target: ≥ 30 studies/min of 512×512×32.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    generate_uid,
)

from ichsilent.pacs import running_orthanc, stow_instances

TARGET_STUDIES_PER_MINUTE = 30.0


def write_studies(folder: Path, studies: int, slices: int, size: int, seed: int = 0) -> list[Path]:
    """K synthetic CT studies as Explicit VR Little Endian files; returns the paths."""
    rng = np.random.default_rng(seed)
    paths: list[Path] = []
    for s in range(studies):
        study_uid, series_uid = generate_uid(), generate_uid()
        target = folder / f"study{s:04d}"
        target.mkdir(parents=True, exist_ok=True)
        for i in range(slices):
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID = CTImageStorage
            meta.MediaStorageSOPInstanceUID = generate_uid()
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
            ds = Dataset()
            ds.file_meta = meta
            ds.SOPClassUID = CTImageStorage
            ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
            ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
            ds.PatientID, ds.AccessionNumber = f"BENCH{s:05d}", f"B{s:07d}"
            ds.Modality, ds.StudyDate, ds.StudyTime = "CT", "20250101", "120000"
            ds.SeriesNumber, ds.InstanceNumber = 2, i + 1
            ds.ImagePositionPatient = [0.0, 0.0, 5.0 * i]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.PixelSpacing, ds.SliceThickness = [0.45, 0.45], 5.0
            ds.Rows = ds.Columns = size
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
            ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
            ds.PixelData = rng.integers(0, 2000, (size, size), dtype=np.int16).tobytes()
            path = target / f"{i:04d}.dcm"
            ds.save_as(path, enforce_file_format=True)
            paths.append(path)
    return paths


def run(
    paths: list[Path], studies: int, batch_sizes: Iterable[int], workers: Iterable[int]
) -> list[dict[str, float]]:
    rows = []
    for batch_size in batch_sizes:
        for n_workers in workers:
            with (
                tempfile.TemporaryDirectory(prefix="bench-orthanc-") as tmp,
                running_orthanc(Path(tmp)) as pacs,
            ):
                summary = stow_instances(
                    pacs.dicomweb_url,
                    paths,
                    username=pacs.username,
                    password=pacs.password,
                    batch_size=batch_size,
                    workers=n_workers,
                    progress=False,
                )
            if summary.failures:
                raise SystemExit(f"failures: {summary.failures[:3]}")
            row = {
                "batch_size": batch_size,
                "workers": n_workers,
                "seconds": summary.seconds,
                "studies_per_min": studies / summary.seconds * 60,
                "mb_per_s": summary.megabytes_per_second,
                "instances_per_s": summary.instances_per_second,
            }
            rows.append(row)
            print(
                f"batch {batch_size:>3}  workers {n_workers}  {summary.seconds:6.2f} s  "
                f"{row['studies_per_min']:6.1f} studies/min  {row['mb_per_s']:6.1f} MB/s  "
                f"{row['instances_per_s']:6.1f} inst/s",
                flush=True,
            )
    return rows


def markdown(rows: list[dict[str, float]], studies: int, slices: int, size: int, mb: float) -> str:
    lines = [
        "## STOW-RS into the local Orthanc (`bench/bench_stow.py`)",
        "",
        f"{time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} CPUs, "
        f"{studies} studies × {slices} slices of {size}×{size} int16 ({mb:.0f} MB), "
        f"fresh Orthanc per row. Target ≥ {TARGET_STUDIES_PER_MINUTE:.0f} studies/min.",
        "",
        "| batch size | workers | seconds | studies/min | MB/s | instances/s |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['batch_size']:.0f} | {r['workers']:.0f} | {r['seconds']:.2f} | "
            f"{r['studies_per_min']:.1f} | {r['mb_per_s']:.1f} | {r['instances_per_s']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=12)
    parser.add_argument("--slices", type=int, default=32)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--folder", type=Path, help="Stow these *.dcm instead of synthetic ones.")
    parser.add_argument("--batch-sizes", default="16,32,64")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--append", type=Path, help="Append a markdown table to this file.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="bench-dicom-") as tmp:
        if args.folder:
            paths = sorted(args.folder.rglob("*.dcm"))
            studies = len({p.parent for p in paths})
        else:
            started = time.perf_counter()
            paths = write_studies(Path(tmp), args.studies, args.slices, args.size)
            studies = args.studies
            print(f"wrote {len(paths)} files in {time.perf_counter() - started:.1f} s")
        mb = sum(p.stat().st_size for p in paths) / 1e6
        rows = run(
            paths,
            studies,
            [int(x) for x in args.batch_sizes.split(",")],
            [int(x) for x in args.workers.split(",")],
        )
    table = markdown(rows, studies, args.slices, args.size, mb)
    print(table)
    best = max(rows, key=lambda r: r["studies_per_min"])
    verdict = "meets" if best["studies_per_min"] >= TARGET_STUDIES_PER_MINUTE else "MISSES"
    print(f"best: {best['studies_per_min']:.1f} studies/min — {verdict} the target")
    if args.append:
        with args.append.open("a", encoding="utf-8") as out:
            out.write("\n" + table)


if __name__ == "__main__":
    main()
