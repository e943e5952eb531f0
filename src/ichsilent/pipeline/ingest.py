"""The ingest task: discover -> select -> fetch -> decode -> check -> features -> store.

``run_ingest`` is what the Airflow task and ``ichsilent ingest`` call, with the data
interval as ``since``/``until`` and its end as ``now`` (never the clock). Per study:

1. QIDO series of the study and WADO-RS metadata of each (QIDO series results lack
   ImageType, kernel, orientation); not a head CT -> SKIPPED (reason NOT_HEAD_CT / NOT_CT);
2. declarative series selection; no eligible series -> QUARANTINED with its reason;
3. WADO-RS retrieval of the selected series only -> ``decode_series`` -> ``require_head_ct``
   -> ``study_features``; a ``DicomInputError`` -> QUARANTINED with its reason and detail;
4. stored as FETCHED with the selected series and the drift features;
5. ``on_fetched`` (the scoring hook point: the model issue plugs in here) gets the
   StudyInstanceUID and the decoded series. No score is invented when it is absent.

A PACS failure for one study (connection, time-out, HTTP error after retries) makes that
study FAILED (retried next run); the batch goes on. Fetch and decode run in a small
thread pool (``max_in_flight`` studies at a time, so memory stays bounded); every store
write happens on the calling thread, one transaction per study. The watermark of the source
moves to ``until`` when every study of the window was handled, else to the earliest study
still DEFERRED or FAILED.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from ichsilent.config import Settings
from ichsilent.domain import QuarantineReason, StudyState
from ichsilent.errors import DicomInputError, PacsError
from ichsilent.imaging.decode import DecodedSeries, decode_series
from ichsilent.imaging.features import study_features
from ichsilent.imaging.masks import head_masks
from ichsilent.imaging.metadata import parse_date
from ichsilent.imaging.qc import require_head_ct
from ichsilent.ingest.client import PacsClient
from ichsilent.ingest.discovery import (
    DEFAULT_PAGE_SIZE,
    Action,
    DiscoveredStudy,
    Known,
    decide,
    search_studies,
    text_of,
)
from ichsilent.ingest.metadata import SeriesCandidate
from ichsilent.ingest.selection import SelectionResult, is_head_study, select_series
from ichsilent.ingest.selection_rules import SelectionRules
from ichsilent.privacy import Pseudonymizer, identity_from_raw, load_or_create_key
from ichsilent.store.engine import session_scope
from ichsilent.store.repositories import (
    SeriesRepository,
    StudyRepository,
    WatermarkRepository,
)

log = logging.getLogger(__name__)

OnFetched = Callable[[str, DecodedSeries], None]


@dataclass(frozen=True, slots=True)
class StudyOutcome:
    """What processing one study decided (computed off the store, written by the caller)."""

    study: DiscoveredStudy
    state: StudyState
    reason: QuarantineReason | None = None
    detail: str | None = None
    selection: SelectionResult | None = None
    features: dict[str, Any] | None = None
    decoded: DecodedSeries | None = None


@dataclass
class IngestSummary:
    """Counts of one run, by what happened to each discovered study."""

    source: str
    since: datetime
    until: datetime
    discovered: int = 0
    unchanged: int = 0
    states: dict[str, int] = field(default_factory=dict)
    watermark: datetime | None = None

    def count(self, state: StudyState) -> None:
        self.states[state.value] = self.states.get(state.value, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "discovered": self.discovered,
            "unchanged": self.unchanged,
            "states": dict(sorted(self.states.items())),
            "watermark": self.watermark.isoformat() if self.watermark else None,
        }


def watermark_source(client: PacsClient) -> str:
    return f"pacs:{client.description}"[:128]


def process_study(
    client: PacsClient, study: DiscoveredStudy, rules: SelectionRules
) -> StudyOutcome:
    """Steps 1-3 for one study; PacsError propagates (the caller marks the study FAILED)."""
    candidates = []
    for series in client.search_for_series(study.study_uid):
        series_uid = text_of(series, "0020000E")
        metadata = client.retrieve_series_metadata(study.study_uid, series_uid)
        if metadata:  # instance metadata: QIDO series results lack ImageType, kernel, ...
            candidates.append(SeriesCandidate.from_dicom_json(metadata[0], len(metadata)))
    head, why = is_head_study(study.attributes, rules, candidates)
    if not head:
        modalities = set(study.attributes.modalities) | {c.modality for c in candidates}
        reason = (
            QuarantineReason.NOT_CT
            if rules.modality not in modalities
            else QuarantineReason.NOT_HEAD_CT
        )
        return StudyOutcome(study, StudyState.SKIPPED, reason, why)
    selection = select_series(candidates, rules)
    if selection.chosen is None:
        reason = selection.quarantine or QuarantineReason.NO_ELIGIBLE_SERIES
        return StudyOutcome(study, StudyState.QUARANTINED, reason, selection.detail, selection)
    chosen = selection.chosen
    try:
        datasets = client.retrieve_series(study.study_uid, chosen.series_uid)
        decoded = decode_series(datasets)
        del datasets
        spacing = decoded.geometry.pixel_spacing
        masks = head_masks(decoded.hu, spacing)
        require_head_ct(decoded.hu, spacing, masks=masks, series_uid=chosen.series_uid)
        features = asdict(study_features(decoded, masks=masks))
    except DicomInputError as err:
        reason = err.reason or QuarantineReason.IMAGE_CHECK_FAILED
        return StudyOutcome(study, StudyState.QUARANTINED, reason, err.detail, selection)
    image = features.pop("image")
    return StudyOutcome(
        study,
        StudyState.FETCHED,
        selection=selection,
        features={"metadata": features, "image": image},
        decoded=decoded,
    )


def _identity(pseudonymizer: Pseudonymizer, study: DiscoveredStudy) -> Any:
    raw = study.raw
    accession = text_of(raw, "00080050") or f"no-accession:{study.study_uid}"
    patient_id = text_of(raw, "00100020") or f"no-patient-id:{study.study_uid}"
    return identity_from_raw(
        pseudonymizer,
        study_uid=study.study_uid,
        patient_id=patient_id,
        accession=accession,
        birth_date=parse_date(text_of(raw, "00100030")),
        study_date=study.study_datetime.date() if study.study_datetime else None,
        sex=text_of(raw, "00100040"),
        patient_age=text_of(raw, "00101010"),
    )


class _Writer:
    """Store writes for one run: one transaction per study, on the calling thread."""

    def __init__(self, engine: Engine, pseudonymizer: Pseudonymizer, now: datetime) -> None:
        self.engine, self.pseudonymizer, self.now = engine, pseudonymizer, now

    def known(self, study_uid: str) -> Known | None:
        with session_scope(self.engine) as session:
            row = StudyRepository(session).find(study_uid)
            if row is None:
                return None
            return Known(StudyState(row.state), row.instance_count, row.updated_at)

    def record(
        self,
        study: DiscoveredStudy,
        state: StudyState,
        *,
        reason: QuarantineReason | None = None,
        detail: str | None = None,
        selection: SelectionResult | None = None,
        features: dict[str, Any] | None = None,
    ) -> None:
        attrs = study.attributes
        with session_scope(self.engine) as session:
            studies = StudyRepository(session)
            studies.upsert_study(
                _identity(self.pseudonymizer, study),
                seen_at=self.now,
                study_datetime=study.study_datetime,
                modalities=list(attrs.modalities) or None,
                body_part=attrs.body_part or None,
                description=attrs.description or None,
                instance_count=study.instance_count,
                features=features,
            )
            chosen = selection.chosen if selection else None
            for verdict in selection.verdicts if selection else ():
                c = verdict.candidate
                SeriesRepository(session).upsert_series(
                    study.study_uid,
                    c.series_uid,
                    modality=c.modality or None,
                    description=c.description or None,
                    image_type=list(c.image_type) or None,
                    kernel=c.kernel or None,
                    slice_thickness=c.slice_thickness_mm,
                    instance_count=c.instance_count,
                    selected=chosen is not None and c.series_uid == chosen.series_uid,
                    rejection_reason=verdict.details[0] if verdict.details else None,
                    at=self.now,
                )
            studies.set_state(
                study.study_uid,
                state,
                reason=reason,
                reason_detail=detail,
                selected_series_uid=chosen.series_uid if chosen else None,
                at=self.now,
            )


def run_ingest(
    settings: Settings,
    client: PacsClient,
    engine: Engine,
    *,
    since: datetime | None,
    until: datetime,
    now: datetime,
    rules: SelectionRules,
    max_in_flight: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    on_fetched: OnFetched | None = None,
) -> IngestSummary:
    """Ingest the CT studies of [since, until) (``since`` None: from the stored watermark,
    else one day before ``until``). ``on_fetched`` is the scoring hook (see module doc)."""
    source = watermark_source(client)
    with session_scope(engine) as session:
        stored_mark = WatermarkRepository(session).get(source)
    start = since or stored_mark or until - timedelta(days=1)
    key = settings.pseudonym_key.get_secret_value() if settings.pseudonym_key else None
    writer = _Writer(engine, Pseudonymizer(load_or_create_key(settings.home, key)), now)
    summary = IngestSummary(source=source, since=start, until=until)
    pending: list[datetime] = []
    lookback = timedelta(hours=settings.ingest_lookback_hours)
    in_flight = max_in_flight or settings.ingest_max_in_flight
    log.info("ingest %s: %s .. %s (look-back %s)", source, start, until, lookback)

    def to_process() -> Iterator[DiscoveredStudy]:
        for study in search_studies(
            client,
            start,
            until,
            lookback=lookback,
            site_timezone=settings.site_timezone,
            page_size=page_size,
        ):
            summary.discovered += 1
            known = writer.known(study.study_uid)
            action = decide(
                known, study.instance_count, settle_seconds=settings.settle_seconds, now=now
            )
            if action is Action.SKIP_KNOWN:
                summary.unchanged += 1
            elif action is Action.DEFER:
                summary.count(StudyState.DEFERRED)
                _pending(pending, study, now)
                if known is None or known.instance_count != study.instance_count:
                    writer.record(
                        study,
                        StudyState.DEFERRED,
                        reason=QuarantineReason.STILL_RECEIVING,
                        detail=(
                            f"NumberOfStudyRelatedInstances (0020,1208) = {study.instance_count}"
                            f" (before: {known.instance_count if known else 'not seen'}); "
                            f"processed once unchanged for {settings.settle_seconds:g} s"
                        ),
                    )
            else:
                yield study

    def finish(study: DiscoveredStudy, future: Future[StudyOutcome]) -> None:
        try:
            outcome = future.result()
        except PacsError as exc:
            log.warning("study %s failed (retried next run): %s", study.study_uid, exc)
            summary.count(StudyState.FAILED)
            _pending(pending, study, now)
            writer.record(
                study, StudyState.FAILED, reason=QuarantineReason.FETCH_FAILED, detail=str(exc)
            )
            return
        summary.count(outcome.state)
        writer.record(
            study,
            outcome.state,
            reason=outcome.reason,
            detail=outcome.detail,
            selection=outcome.selection,
            features=outcome.features,
        )
        log.info("study %s: %s %s", study.study_uid, outcome.state.value, outcome.reason or "")
        if outcome.decoded is not None and on_fetched is not None:
            on_fetched(study.study_uid, outcome.decoded)

    with ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="ingest") as pool:
        running: dict[Future[StudyOutcome], DiscoveredStudy] = {}
        for study in to_process():
            running[pool.submit(process_study, client, study, rules)] = study
            while len(running) >= in_flight:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    finish(running.pop(future), future)
        for future in list(running):
            finish(running.pop(future), future)

    mark = min(pending) if pending else until
    with session_scope(engine) as session:
        marks = WatermarkRepository(session)
        summary.watermark = marks.advance(source, mark, at=now)  # never moves back
    return summary


def _pending(pending: list[datetime], study: DiscoveredStudy, now: datetime) -> None:
    pending.append(study.study_datetime or now)
