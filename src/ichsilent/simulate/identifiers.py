"""Deterministic, obviously synthetic identifiers: UIDs, MRNs, accessions, names.

UIDs are ``2.25.<decimal of a UUID>`` where the UUID comes from a SHA-256 of the seed and
the object's path (study index, series number, instance number), so the same seed gives
the same UIDs in any process and any order.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta

import numpy as np

from ichsilent.domain import Sex

_FAMILY = (
    "SYNTHWOOD", "TESTERTON", "PHANTOMSON", "MOCKRIDGE", "SIMMONDS", "DUMMETT", "FAKEHAM",
    "PLACEBOURNE", "VOXELL", "HOUNSFIELD", "ROENTGEN", "SAMPLEY", "EXAMPLETON", "PIXLEY",
    "SLICEWORTH", "KERNELL", "GANTRYMAN", "ISOCENTER", "WINDOWLEY", "MATRIXSON",
)  # fmt: skip
_GIVEN_F = ("ALICE", "BEATRIX", "CLARA", "DOROTHY", "EDITH", "FIONA", "GRACE", "HANNA", "IRIS")
_GIVEN_M = ("ARTHUR", "BERNARD", "CEDRIC", "DESMOND", "EDGAR", "FELIX", "GORDON", "HUGO", "IVAN")
_REFERRERS = (
    "EDDOC^ALEX^^^DR",
    "TRAUMA^CASEY^^^DR",
    "NEURO^JORDAN^^^DR",
    "WARD^MORGAN^^^DR",
    "CLINIC^TAYLOR^^^DR",
)


def digest(seed: int, *parts: object) -> bytes:
    text = "\x1f".join(str(p) for p in (seed, *parts))
    return hashlib.sha256(text.encode()).digest()


def make_uid(seed: int, *parts: object) -> str:
    """A DICOM UID (<= 44 chars) determined by the seed and the object's path."""
    return f"2.25.{uuid.UUID(bytes=digest(seed, *parts)[:16], version=4).int}"


def hex_id(seed: int, length: int, *parts: object) -> str:
    return digest(seed, *parts).hex()[:length]


def mrn(seed: int, index: int) -> str:
    """8-digit medical record number in the 99xxxxxx range (reserved for test patients)."""
    number = int.from_bytes(digest(seed, "mrn", index)[:8], "big") % 1_000_000
    return f"99{number:06d}"


def accession(seed: int, index: int, study_date: date) -> str:
    """Accession as a RIS issues them: CT + year + seed tag + running number."""
    return f"CT{study_date:%y}{seed % 1000:03d}{index + 1:06d}"


def patient_name(rng: np.random.Generator, sex: Sex) -> str:
    family = _FAMILY[int(rng.integers(len(_FAMILY)))]
    given_pool = _GIVEN_F if sex == Sex.FEMALE else _GIVEN_M
    given = given_pool[int(rng.integers(len(given_pool)))]
    return f"{family}^{given}"


def referring_physician(rng: np.random.Generator) -> str:
    return _REFERRERS[int(rng.integers(len(_REFERRERS)))]


def birth_date(rng: np.random.Generator, age_years: int, on: date) -> date:
    """A birth date that makes the patient ``age_years`` old on ``on``."""
    days_after_birthday = int(rng.integers(0, 365))
    anchor = on - timedelta(days=days_after_birthday)
    try:
        return anchor.replace(year=anchor.year - age_years)
    except ValueError:  # 29 February
        return anchor.replace(year=anchor.year - age_years, day=28)
