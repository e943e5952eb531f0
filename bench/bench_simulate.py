"""Benchmark: studies/min written to disk by ``ichsilent.simulate`` (default series mix).

Usage: python bench/bench_simulate.py [--studies 40] [--matrix 512] [--workers N] [--out DIR]
                                     [--stow]
Prints a JSON line: studies/min, instances, series mix and the machine's core count. With
--stow, the same studies are then generated again straight into a fresh local Orthanc
(`simulate --stow`: render, write, STOW-RS) and that end-to-end rate is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from ichsilent.simulate.hospital import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--studies", type=int, default=40)
    parser.add_argument("--matrix", type=int, default=512)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--stow", action="store_true", help="also measure simulate --stow")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_simulate_"))
    began = time.perf_counter()
    summary = simulate(
        out, days=1, studies_per_day=args.studies, seed=args.seed, matrix=args.matrix,
        workers=args.workers,
    )  # fmt: skip
    elapsed = time.perf_counter() - began
    truths = [json.loads(x) for x in (out / "truth.jsonl").read_text().splitlines()]
    mix = Counter(s["kind"] for t in truths for s in t["series"])
    syntaxes = Counter(t["transfer_syntax"] for t in truths)
    slices = Counter(
        s["instances"] for t in truths for s in t["series"] if s["kind"] == "axial_soft"
    )
    size = sum(p.stat().st_size for p in (out / "dicom").rglob("*.dcm"))
    result = {
        "studies": args.studies,
        "matrix": args.matrix,
        "workers": args.workers,
        "cpu_count": os.cpu_count(),
        "seconds": round(elapsed, 1),
        "studies_per_min": round(args.studies / elapsed * 60, 1),
        "instances": summary["instances"],
        "megabytes": round(size / 1e6, 1),
        "series_per_study": dict(sorted((k, round(v / args.studies, 2)) for k, v in mix.items())),
        "axial_soft_slices": dict(sorted(slices.items())),
        "transfer_syntaxes": dict(syntaxes),
    }
    if args.stow:
        result["stowed"] = _stowed_rate(args)
    print(json.dumps(result))
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)


def _stowed_rate(args: argparse.Namespace) -> dict[str, object]:
    """Render + write + STOW-RS into a fresh local Orthanc, end to end."""
    from ichsilent.pacs.orthanc import running_orthanc

    tmp = Path(tempfile.mkdtemp(prefix="bench_stow_"))
    try:
        with running_orthanc(tmp / "orthanc") as handle:
            began = time.perf_counter()
            summary = simulate(
                tmp / "sim", days=1, studies_per_day=args.studies, seed=args.seed,
                matrix=args.matrix, workers=args.workers, stow_url=handle.dicomweb_url,
                stow_username=handle.username, stow_password=handle.password,
            )  # fmt: skip
            elapsed = time.perf_counter() - began
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    stow = summary["stow"]
    return {
        "seconds": round(elapsed, 1),
        "studies_per_min": round(args.studies / elapsed * 60, 1),
        "stow_seconds": stow["seconds"],
        "failures": len(stow["failures"]),
    }


if __name__ == "__main__":
    main()
