"""Discovery: which CT studies of a time window to look at, and what to do with each.

``search_studies`` pages QIDO-RS ``/studies`` (``ModalitiesInStudy=CT``, ``StudyDate`` range
over the window widened by a look-back for late arrivals, ``limit``/``offset``) and keeps the
studies whose StudyDate/StudyTime (site time zone) fall in ``[since - lookback, until)``.

``decide`` is pure: given what the store knows about a study (``Known``), the instance count
seen now, the settle time and the caller's ``now`` (the data interval end, never the clock)
it says PROCESS, DEFER or SKIP_KNOWN:

* a study already FETCHED, SCORED, SKIPPED or QUARANTINED with the same instance count is
  not processed again (re-runs change nothing);
* a study whose instance count differs from the last poll (or is seen for the first time)
  is DEFERRED while ``settle_seconds > 0``; it is processed once the count has stayed the
  same for ``settle_seconds``. ``settle_seconds == 0`` processes on first sight;
* FAILED and DISCOVERED studies are processed again.

Non-head studies are *recorded* (state SKIPPED, reason NOT_HEAD_CT, or NOT_CT when the
study has no CT) rather than ignored: the committee sees how many studies were out of scope
and why, and dedup stops them being examined on every run.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ichsilent.domain import StudyState
from ichsilent.ingest.client import DicomJson, PacsClient
from ichsilent.ingest.metadata import StudyAttributes

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100
DONE_STATES = frozenset(
    {StudyState.FETCHED, StudyState.SCORED, StudyState.SKIPPED, StudyState.QUARANTINED}
)


class Action(enum.StrEnum):
    PROCESS = "process"
    DEFER = "defer"
    SKIP_KNOWN = "skip_known"


@dataclass(frozen=True, slots=True)
class Known:
    """What the store remembers of a study from earlier runs."""

    state: StudyState
    instance_count: int | None
    updated_at: datetime  # last change (for a DEFERRED study: when its count last changed)


@dataclass(frozen=True, slots=True)
class DiscoveredStudy:
    """One QIDO-RS study result, with the fields ingestion uses."""

    study_uid: str
    study_datetime: datetime | None  # aware, UTC
    instance_count: int | None
    attributes: StudyAttributes
    raw: DicomJson


def _first(obj: DicomJson, tag: str) -> Any:
    values = (obj.get(tag) or {}).get("Value") or []
    return values[0] if values else None


def text_of(obj: DicomJson, tag: str) -> str:
    value = _first(obj, tag)
    if isinstance(value, dict):
        value = value.get("Alphabetic", "")
    return "" if value is None else str(value).strip()


def parse_study_datetime(study_date: str, study_time: str, zone: ZoneInfo) -> datetime | None:
    """StudyDate (0008,0020) + StudyTime (0008,0030), read in the site's zone, as UTC."""
    try:
        day = datetime.strptime(study_date.strip()[:8], "%Y%m%d").date()
    except ValueError:
        return None
    clock = time(0, 0)
    digits = study_time.strip().split(".")[0]
    if len(digits) >= 4 and digits.isdigit():
        try:
            clock = time(int(digits[:2]), int(digits[2:4]), int(digits[4:6] or 0))
        except ValueError:
            clock = time(0, 0)
    return datetime.combine(day, clock, tzinfo=zone).astimezone(ZoneInfo("UTC"))


def date_range(since: datetime, until: datetime, zone: ZoneInfo) -> str:
    """QIDO StudyDate range (inclusive days) covering [since, until) in the site's zone."""
    first: date = since.astimezone(zone).date()
    last: date = (until - timedelta(microseconds=1)).astimezone(zone).date()
    return f"{first:%Y%m%d}-{max(first, last):%Y%m%d}"


def search_studies(
    client: PacsClient,
    since: datetime,
    until: datetime,
    *,
    lookback: timedelta = timedelta(0),
    site_timezone: str = "UTC",
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Iterator[DiscoveredStudy]:
    """CT studies with StudyDate/StudyTime in [since - lookback, until), page by page."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError(f"since={since!r} and until={until!r} must be timezone-aware datetimes")
    zone = ZoneInfo(site_timezone)
    start = since - lookback
    filters = {"ModalitiesInStudy": "CT", "StudyDate": date_range(start, until, zone)}
    offset, seen = 0, set()
    while True:
        page = client.search_for_studies(search_filters=filters, limit=page_size, offset=offset)
        for obj in page:
            uid = text_of(obj, "0020000D")
            if not uid or uid in seen:
                continue
            seen.add(uid)
            when = parse_study_datetime(text_of(obj, "00080020"), text_of(obj, "00080030"), zone)
            if when is None or not start <= when < until:
                continue
            count = text_of(obj, "00201208")
            yield DiscoveredStudy(
                study_uid=uid,
                study_datetime=when,
                instance_count=int(count) if count.isdigit() else None,
                attributes=StudyAttributes.from_dicom_json(obj),
                raw=obj,
            )
        if len(page) < page_size:
            return
        offset += len(page)


def decide(
    known: Known | None, instance_count: int | None, *, settle_seconds: float, now: datetime
) -> Action:
    """PROCESS, DEFER or SKIP_KNOWN for one discovered study (see the module docstring)."""
    changed = known is None or known.instance_count != instance_count
    if known is not None and not changed and known.state in DONE_STATES:
        return Action.SKIP_KNOWN
    if settle_seconds <= 0:
        return Action.PROCESS
    if changed:
        return Action.DEFER
    if known is not None and known.state is StudyState.DEFERRED:
        quiet = (now - known.updated_at).total_seconds()
        return Action.PROCESS if quiet >= settle_seconds else Action.DEFER
    return Action.PROCESS
