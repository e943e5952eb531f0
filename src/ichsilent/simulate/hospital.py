"""The synthetic hospital: sample, render, write DICOM, reports, HL7 and truth.

Each study is independent and deterministic (generators ``[seed, index, k]``: k=0
population, 1 rendering, 2 reports), so any number of worker processes gives the same
files. Output under ``out_dir``: ``dicom/`` (unless sent by STOW-RS), ``truth.jsonl``,
``reports.jsonl``, ``hl7/`` and, with ``rsna_format``, ``rsna/``.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from ichsilent.domain import SUBTYPES
from ichsilent.errors import SimulationError
from ichsilent.simulate import body, hl7_writer, population, render, rsna
from ichsilent.simulate.dicom_writer import Rendered, choose_syntax, study_header, write_series
from ichsilent.simulate.fleet import profile_for
from ichsilent.simulate.options import DEFAULT_START, SimulationOptions
from ichsilent.simulate.reports import write_reports
from ichsilent.simulate.scenarios import ScenarioSet
from ichsilent.simulate.series_plan import series_info
from ichsilent.simulate.spec import BleedStage, SeriesKind, StudySpec

log = logging.getLogger(__name__)

STAGING = ".stow-staging"
_CHRONIC = (BleedStage.CHRONIC, BleedStage.ACUTE_ON_CHRONIC)


@dataclass(frozen=True, slots=True)
class StudyResult:
    index: int
    truth: dict[str, Any]
    reports: list[dict[str, object]]
    rsna_rows: list[tuple[str, int]]
    paths: list[str]
    arrival: str


def truth_record(spec: StudySpec) -> dict[str, Any]:
    """The truth fields that come from the spec alone (no rendering)."""
    acute = spec.acute_subtypes
    in_scope = spec.body_part == "HEAD" and spec.extra.get("contrast_only") != "true"
    return {
        "study_uid": spec.study_uid,
        "accession": spec.accession,
        "study_datetime": spec.study_datetime,
        "arrival_datetime": spec.extra.get("arrival_datetime"),
        "labels": {s.value: s in acute for s in SUBTYPES},
        "any": bool(acute),
        "chronic": any(h.stage in _CHRONIC for h in spec.hemorrhages),
        "manufacturer": spec.scanner.manufacturer,
        "model": spec.scanner.model,
        "station": spec.scanner.station,
        "kernel": next((p.kernel for p in spec.series if p.kind == SeriesKind.AXIAL_SOFT), None),
        "noise_hu": spec.scanner.noise_hu,
        "patient_class": spec.patient_class.value,
        "scenario": spec.scenario,
        "site": spec.site,
        "age": spec.age_years,
        "sex": spec.sex.value,
        "patient_id": spec.patient_id,
        "body_part": spec.body_part,
        "in_scope": in_scope,
        "contrast_only": spec.extra.get("contrast_only") == "true",
        "post_operative": spec.extra.get("post_operative") == "true",
        "hemorrhages": [
            {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(h).items()}
            for h in spec.hemorrhages
        ],
        "mimics": [m.kind.value for m in spec.mimics],
        "artefacts": [a.value for a in spec.artefacts],
        "index": int(spec.extra.get("index", "0")),
        "day": int(spec.extra.get("day", "0")),
    }  # fmt: skip


def _render(spec: StudySpec, plan: Any, rng: np.random.Generator) -> Rendered:
    if spec.body_part != "HEAD":
        return body.render_body(spec, plan, rng)
    result: Rendered = render.render_series(spec, plan, rng)
    return result


def simulate_study(
    options: SimulationOptions, index: int, out_dir: Path, dicom_dir: Path, rsna_format: bool
) -> StudyResult:
    """Everything for study ``index``: files on disk, truth, report revisions."""
    seed = options.seed
    spec = population.sample_study(np.random.default_rng([seed, index, 0]), options, index)
    render_rng = np.random.default_rng([seed, index, 1])
    profile = profile_for(spec.scanner)
    syntax = choose_syntax(spec, profile, options.compression)
    study = study_header(spec)
    series_rows: list[dict[str, object]] = []
    paths: list[str] = []
    rsna_rows: list[tuple[str, int]] = []
    for position, plan in enumerate(spec.series):
        rendered = _render(spec, plan, render_rng)
        info = series_info(plan, position, spec.body_part)
        series_uid, written = write_series(
            dicom_dir, spec, plan, info, profile, rendered, seed=seed, syntax=syntax, study=study
        )
        paths.extend(str(p) for p in written)
        series_rows.append(
            {
                "series_uid": series_uid,
                "number": info.number,
                "kind": plan.kind.value,
                "description": info.description,
                "kernel": plan.kernel,
                "slice_thickness_mm": plan.slice_thickness_mm,
                "gantry_tilt_deg": plan.gantry_tilt_deg,
                "instances": len(written),
            }
        )
        if rsna_format and plan.kind == SeriesKind.AXIAL_SOFT and spec.body_part == "HEAD":
            rsna_rows.extend(rsna.write_rsna_series(out_dir / "rsna", spec, rendered, seed))
    outcome = write_reports(np.random.default_rng([seed, index, 2]), spec, options, index)
    hl7_dir = out_dir / "hl7"
    for rev in outcome.revisions:
        hl7_writer.write_message(
            hl7_dir,
            rev,
            study_datetime=spec.study_datetime,
            referring=spec.extra.get("referring_physician", ""),
        )
    truth = truth_record(spec)
    truth.update(
        {
            "series": series_rows,
            "transfer_syntax": str(syntax),
            "report_id": outcome.revisions[0].id,
            "report_missed": [s.value for s in outcome.missed],
            "report_missed_initially": [s.value for s in outcome.missed_initially],
            "report_corrected": outcome.corrected,
            "report_hedged": [s.value for s in outcome.hedged],
        }
    )
    reports = [r.to_json() for r in outcome.revisions]
    return StudyResult(index, truth, reports, rsna_rows, paths, truth["arrival_datetime"])


def _run(args: tuple[SimulationOptions, int, Path, Path, bool]) -> StudyResult:
    return simulate_study(*args)


def _results(
    jobs: Sequence[tuple[SimulationOptions, int, Path, Path, bool]], workers: int
) -> Iterator[StudyResult]:
    if workers <= 1 or len(jobs) <= 1:
        yield from map(_run, jobs)
        return
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(_run, jobs, chunksize=1)


def _progress(results: Iterable[StudyResult], total: int, show: bool) -> Iterator[StudyResult]:
    if not show:
        yield from results
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("simulating studies", total=total)
        for result in results:
            bar.advance(task)
            yield result


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")
            count += 1
    return count


def _stow(
    url: str, paths: list[Path], batch_size: int, username: str | None, password: str | None
) -> dict[str, Any]:
    from ichsilent.pacs.stow import stow_instances

    summary = stow_instances(
        url, paths, batch_size=batch_size, username=username, password=password
    )
    if summary.failures:
        log.warning("STOW-RS to %s: %d batches failed", url, len(summary.failures))
    return {
        "instances": summary.instances,
        "studies": summary.studies,
        "seconds": summary.seconds,
        "failures": [str(f) for f in summary.failures],
    }


def simulate(
    out_dir: Path | str,
    days: int,
    studies_per_day: int,
    seed: int,
    start: date | None = None,
    scenarios: Sequence[str] = (),
    prevalence: float | None = None,
    matrix: int = 512,
    stow_url: str | None = None,
    rsna_format: bool = False,
    workers: int | None = None,
    *,
    progress: bool = False,
    stow_batch_size: int = 50,
    stow_username: str | None = None,
    stow_password: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Simulate ``days * studies_per_day`` studies; return a JSON-able summary.

    ``overrides`` set other :class:`SimulationOptions` fields (e.g. ``thin_probability``).
    """
    if days < 1:
        raise SimulationError(f"days is {days}; expected an integer >= 1")
    unknown = set(overrides) - set(SimulationOptions.__dataclass_fields__)
    if unknown:
        raise SimulationError(
            f"unknown simulation options {sorted(unknown)}; expected some of "
            f"{sorted(SimulationOptions.__dataclass_fields__)}"
        )
    options = replace(
        SimulationOptions(
            seed=seed,
            studies_per_day=studies_per_day,
            start=start or DEFAULT_START,
            matrix=matrix,
            scenarios=ScenarioSet.parse(scenarios),
            prevalence=prevalence,
        ),
        **overrides,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dicom_dir = out / (STAGING if stow_url else "dicom")
    total = days * studies_per_day
    n_workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    log.info("simulating %d studies with %d workers into %s", total, n_workers, out)
    began = time.perf_counter()
    jobs = [(options, i, out, dicom_dir, rsna_format) for i in range(total)]
    truths: list[dict[str, Any]] = []
    reports: list[dict[str, object]] = []
    rsna_rows: list[tuple[str, int]] = []
    arrivals: list[tuple[str, int, list[str]]] = []
    for result in _progress(_results(jobs, n_workers), total, progress):
        truths.append(result.truth)
        reports.extend(result.reports)
        rsna_rows.extend(result.rsna_rows)
        arrivals.append((result.arrival, result.index, result.paths))
    _write_jsonl(out / "truth.jsonl", truths)
    reports.sort(key=lambda r: (str(r["observed_at"]), str(r["id"]), int(str(r["revision"]))))
    _write_jsonl(out / "reports.jsonl", reports)
    if rsna_format:
        rsna.write_csv(out / "rsna", rsna_rows)
    instances = sum(len(p) for _, _, p in arrivals)
    elapsed = time.perf_counter() - began
    summary: dict[str, Any] = {
        "out_dir": str(out),
        "studies": total,
        "instances": instances,
        "series": sum(len(t["series"]) for t in truths),
        "reports": len(reports),
        "positives": sum(1 for t in truths if t["any"]),
        "in_scope": sum(1 for t in truths if t["in_scope"]),
        "scenarios": list(scenarios),
        "seconds": round(elapsed, 2),
        "studies_per_min": round(total / elapsed * 60, 1) if elapsed > 0 else None,
        "workers": n_workers,
        "matrix": matrix,
    }
    if stow_url:
        ordered = [Path(p) for _, _, paths in sorted(arrivals) for p in paths]
        summary["stow"] = _stow(stow_url, ordered, stow_batch_size, stow_username, stow_password)
        shutil.rmtree(dicom_dir, ignore_errors=True)
    log.info("simulated %d studies (%d instances) in %.1f s", total, instances, elapsed)
    return summary


__all__ = ["StudyResult", "simulate", "simulate_study", "truth_record"]
