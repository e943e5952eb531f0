"""Keyed pseudonyms (HMAC-SHA256) and scrubbing of known identifiers from free text.

Nothing identifying is stored in clear: PatientID and AccessionNumber become keyed
pseudonyms, names and birth dates are never kept, and report text has the patient's
own identifiers replaced before it is stored. Age in years and sex are the only
demographics kept.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from ichsilent.domain import Sex, StudyIdentity
from ichsilent.errors import PrivacyError

log = logging.getLogger(__name__)

KEY_FILE_NAME = "pseudonym.key"
_MIN_KEY_BYTES = 16
_DIGEST_CHARS = 16  # 64 bits: collision-free at any hospital's volume, short enough to read


class Pseudonymizer:
    """Turns identifiers into stable, keyed, non-reversible pseudonyms.

    Each kind of identifier has its own domain so an MRN and an accession with the same
    digits never share a pseudonym.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < _MIN_KEY_BYTES:
            raise PrivacyError(
                f"pseudonym key is {len(key)} bytes; expected at least {_MIN_KEY_BYTES} "
                "(set ICHSILENT_PSEUDONYM_KEY to a long random secret)"
            )
        self._key = key

    def _pseudo(self, domain: str, prefix: str, value: str) -> str:
        cleaned = value.strip()
        if not cleaned:
            raise PrivacyError(f"cannot pseudonymise an empty {domain}; expected a non-empty value")
        mac = hmac.new(self._key, f"{domain}\x1f{cleaned}".encode(), hashlib.sha256)
        return f"{prefix}-{mac.hexdigest()[:_DIGEST_CHARS]}"

    def patient(self, patient_id: str) -> str:
        return self._pseudo("patient_id", "PT", patient_id)

    def accession(self, accession_number: str) -> str:
        return self._pseudo("accession", "ACC", accession_number)

    def report(self, report_id: str) -> str:
        """RIS report ids are often the accession or an order number: never stored in clear."""
        return self._pseudo("report_id", "RPT", report_id)


def age_in_years(birth_date: date | None, on: date) -> int | None:
    """Whole years between birth and the study date; the birth date itself is discarded."""
    if birth_date is None:
        return None
    years = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    return max(years, 0)


def parse_dicom_age(value: str | None) -> int | None:
    """PatientAge ('045Y', '006M', '010D') as whole years."""
    if not value:
        return None
    match = re.fullmatch(r"\s*(\d{1,3})\s*([DWMY])\s*", value.upper())
    if match is None:
        return None
    number, unit = int(match.group(1)), match.group(2)
    divisor = {"Y": 1, "M": 12, "W": 52, "D": 365}[unit]
    return number // divisor


def scrub_text(text: str, identifiers: Iterable[str], replacement: str = "[REDACTED]") -> str:
    """Replace each known identifier (and each part of a DICOM name) in free text.

    Used on report text before it is stored: the patient's name, MRN and accession are
    known from the message header, so they are removed wherever the text repeats them.
    """
    parts: set[str] = set()
    for identifier in identifiers:
        if not identifier:
            continue
        parts.add(identifier.strip())
        # DICOM / HL7 names: FAMILY^GIVEN^MIDDLE; each part of 3+ letters on its own too.
        # Spaces too: "DE LA CRUZ^MARIA" must also lose "CRUZ" when the text says "Ms Cruz".
        parts.update(p.strip() for p in re.split(r"[\^,\s]", identifier) if len(p.strip()) >= 3)
    parts.discard("")
    for part in sorted(parts, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", replacement, text, flags=re.IGNORECASE)
    return text


def scrub_value(value: Any, identifiers: Iterable[str], replacement: str = "[REDACTED]") -> Any:
    """``scrub_text`` applied to every string inside nested dicts, lists and tuples."""
    known = tuple(identifiers)
    if isinstance(value, str):
        return scrub_text(value, known, replacement)
    if isinstance(value, dict):
        return {
            scrub_text(str(k), known, replacement): scrub_value(v, known, replacement)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub_value(v, known, replacement) for v in value]
    return value


def load_or_create_key(home: Path, configured: str | None) -> bytes:
    """The configured key, or a key generated once under ``home`` with 0600 permissions."""
    if configured:
        return configured.encode()
    path = home / KEY_FILE_NAME
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise PrivacyError(
                f"{path} has permissions {oct(mode)}; expected 0o600 (run: chmod 600 {path})"
            )
        return path.read_bytes().strip()
    home.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return load_or_create_key(home, configured)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    log.warning(
        "generated a pseudonym key at %s; back it up, and in production set "
        "ICHSILENT_PSEUDONYM_KEY from a secret store (losing it breaks matching)",
        path,
    )
    return key


def identity_from_raw(
    pseudonymizer: Pseudonymizer,
    *,
    study_uid: str,
    patient_id: str,
    accession: str,
    birth_date: date | None = None,
    study_date: date | None = None,
    sex: str | None = None,
    patient_age: str | None = None,
) -> StudyIdentity:
    """The only way raw DICOM identifiers become a storable identity.

    PatientID and AccessionNumber become keyed pseudonyms; the birth date only serves to
    compute the age on the study date (PatientAge, e.g. ``045Y``, is the fallback) and is
    then dropped; sex is reduced to the closed set F/M/O/U.
    """
    if not study_uid or not study_uid.strip():
        raise PrivacyError("StudyInstanceUID (0020,000D) is empty; expected a DICOM UID")
    age = age_in_years(birth_date, study_date) if study_date is not None else None
    if age is None:
        age = parse_dicom_age(patient_age)
    return StudyIdentity(
        study_uid=study_uid.strip(),
        accession_pseudo=pseudonymizer.accession(accession),
        patient_pseudo=pseudonymizer.patient(patient_id),
        age_years=age,
        sex=_sex(sex),
    )


def _sex(value: str | None) -> Sex:
    cleaned = (value or "").strip().upper()[:1]
    try:
        return Sex(cleaned)
    except ValueError:
        return Sex.UNKNOWN
