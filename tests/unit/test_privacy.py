"""Keyed pseudonyms, the pseudonym key file, scrubbing and raw-identity conversion."""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path

import pytest

from ichsilent.domain import Sex
from ichsilent.errors import PrivacyError
from ichsilent.privacy import (
    KEY_FILE_NAME,
    Pseudonymizer,
    age_in_years,
    identity_from_raw,
    load_or_create_key,
    parse_dicom_age,
    scrub_text,
    scrub_value,
)

KEY = b"0123456789abcdef0123456789abcdef"


def test_pseudonyms_are_stable_keyed_and_domain_separated() -> None:
    first, again = Pseudonymizer(KEY), Pseudonymizer(KEY)
    other = Pseudonymizer(b"another-key-of-sufficient-length!")
    assert first.patient("MRN1") == again.patient(" MRN1 ")
    assert first.patient("MRN1").startswith("PT-")
    assert first.accession("A1").startswith("ACC-")
    assert first.report("R1").startswith("RPT-")
    assert first.patient("MRN1") != other.patient("MRN1")
    assert first.patient("123")[3:] != first.accession("123")[4:]
    assert first.patient("MRN1") != first.patient("MRN2")
    assert "MRN1" not in first.patient("MRN1")


def test_short_key_and_empty_identifier_are_refused() -> None:
    with pytest.raises(PrivacyError, match="ICHSILENT_PSEUDONYM_KEY"):
        Pseudonymizer(b"short")
    with pytest.raises(PrivacyError, match="empty"):
        Pseudonymizer(KEY).patient("   ")


def test_key_file_is_created_once_with_0600_and_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "home"
    with caplog.at_level(logging.WARNING, logger="ichsilent.privacy"):
        key = load_or_create_key(home, None)
    assert len(key) >= 32
    path = home / KEY_FILE_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    assert "generated a pseudonym key" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ichsilent.privacy"):
        assert load_or_create_key(home, None) == key
    assert caplog.text == ""


def test_key_file_with_loose_permissions_is_refused(tmp_path: Path) -> None:
    load_or_create_key(tmp_path, None)
    os.chmod(tmp_path / KEY_FILE_NAME, 0o644)
    with pytest.raises(PrivacyError, match="chmod 600"):
        load_or_create_key(tmp_path, None)


def test_configured_key_wins_and_writes_nothing(tmp_path: Path) -> None:
    assert load_or_create_key(tmp_path, "configured-secret-value") == b"configured-secret-value"
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_scrub_text_removes_names_ids_and_name_parts() -> None:
    text = "Jane Doe (MRN12345678), acc ACC99887766: DOE^JANE, compared to doe, jane. Does fine."
    scrubbed = scrub_text(text, ["DOE^JANE", "MRN12345678", "ACC99887766"])
    lowered = scrubbed.lower()
    for gone in ("jane", "mrn12345678", "acc99887766", "doe^"):
        assert gone not in lowered
    assert "Does fine." in scrubbed  # whole words only
    assert scrub_text("Ms Cruz seen", ["DE LA CRUZ^MARIA"]) == "Ms [REDACTED] seen"
    assert scrub_text("nothing here", ["", "AB"]) == "nothing here"


def test_scrub_value_walks_nested_json() -> None:
    value = {"DOE": ["Jane Doe", 3, {"k": "MRN1"}], "n": None}
    assert scrub_value(value, ["DOE^JANE", "MRN1"]) == {
        "[REDACTED]": ["[REDACTED] [REDACTED]", 3, {"k": "[REDACTED]"}],
        "n": None,
    }


def test_ages() -> None:
    assert age_in_years(date(1950, 3, 4), date(2025, 3, 3)) == 74
    assert age_in_years(date(1950, 3, 4), date(2025, 3, 4)) == 75
    assert age_in_years(None, date(2025, 1, 1)) is None
    assert parse_dicom_age("045Y") == 45
    assert parse_dicom_age("018M") == 1
    assert parse_dicom_age("garbage") is None
    assert parse_dicom_age(None) is None


def test_identity_from_raw_keeps_only_pseudonyms_age_and_sex() -> None:
    pseudonymizer = Pseudonymizer(KEY)
    identity = identity_from_raw(
        pseudonymizer,
        study_uid=" 1.2.3 ",
        patient_id="MRN12345678",
        accession="ACC99887766",
        birth_date=date(1950, 3, 4),
        study_date=date(2025, 3, 4),
        sex="female",
    )
    assert identity.study_uid == "1.2.3"
    assert identity.patient_pseudo == pseudonymizer.patient("MRN12345678")
    assert identity.accession_pseudo == pseudonymizer.accession("ACC99887766")
    assert (identity.age_years, identity.sex) == (75, Sex.FEMALE)
    assert "MRN12345678" not in repr(identity)
    fallback = identity_from_raw(
        pseudonymizer, study_uid="1.2", patient_id="P", accession="A", patient_age="060Y", sex="X"
    )
    assert (fallback.age_years, fallback.sex) == (60, Sex.UNKNOWN)
    with pytest.raises(PrivacyError, match="StudyInstanceUID"):
        identity_from_raw(pseudonymizer, study_uid="", patient_id="P", accession="A")
