"""One exception hierarchy for the whole library.

Every message names what was wrong (field, DICOM tag or setting), the value seen,
what was expected and, where there is one, the fix (house rule 7).
"""

from __future__ import annotations

from ichsilent.domain import QuarantineReason


class IchSilentError(Exception):
    """Root of every error raised on purpose by ichsilent."""


class ConfigError(IchSilentError):
    """A setting is missing or invalid; raised at start-up, never mid-run."""


class StoreError(IchSilentError):
    """The database could not be reached, migrated or written."""


class PrivacyError(IchSilentError):
    """Pseudonymisation could not be done safely (for example, no key)."""


class SimulationError(IchSilentError):
    """The synthetic hospital was asked for something it cannot produce."""


class PacsError(IchSilentError):
    """The PACS (or the local Orthanc) could not be started, reached or queried."""


class DicomInputError(IchSilentError):
    """A DICOM object is not what the pipeline needs; carries a quarantine reason.

    ``DicomInputError(QuarantineReason.MISSING_TAG, "ImagePositionPatient (0020,0032) ...")``
    has ``.reason`` and ``.detail`` and reads ``"missing_tag: ImagePositionPatient ..."``.
    The older one-message form ``DicomInputError("text")`` still works: ``.reason`` is then
    ``None`` and ``.detail`` is the text. A reason given as its string value is converted.
    """

    reason: QuarantineReason | None
    detail: str

    def __init__(self, reason: QuarantineReason | str, detail: str | None = None) -> None:
        if detail is None and not isinstance(reason, QuarantineReason):
            self.reason, self.detail = None, str(reason)
        else:
            self.reason = QuarantineReason(reason)
            self.detail = detail or ""
        args: tuple[object, ...] = (reason,) if detail is None else (reason, detail)
        super().__init__(*args)  # keeps the exception picklable (Airflow, multiprocessing)

    def __str__(self) -> str:
        if self.reason is None:
            return self.detail
        return f"{self.reason.value}: {self.detail}"
