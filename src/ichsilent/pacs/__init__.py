"""The local demo/test PACS (Orthanc) and the one writer to a PACS (STOW-RS, loopback only).

ichsilent only *reads* from a hospital PACS. Everything here exists for the demo and the
tests: :mod:`ichsilent.pacs.orthanc` runs a private Orthanc on 127.0.0.1 and
:mod:`ichsilent.pacs.stow` fills it. ``stow_instances`` refuses any non-loopback URL unless
``allow_remote=True`` is passed, so a clinical PACS can never be written to by accident.
"""

from __future__ import annotations

from ichsilent.pacs.orthanc import OrthancHandle, running_orthanc, start, status, stop
from ichsilent.pacs.stow import (
    StowFailure,
    StowSummary,
    ensure_local_target,
    stow_folder,
    stow_instances,
)

__all__ = [
    "OrthancHandle",
    "StowFailure",
    "StowSummary",
    "ensure_local_target",
    "running_orthanc",
    "start",
    "status",
    "stop",
    "stow_folder",
    "stow_instances",
]
