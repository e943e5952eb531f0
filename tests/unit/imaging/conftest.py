"""Hands the synthetic DICOM factory to the imaging tests (importlib import mode)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_NAME = "ichsilent_tests_dicom_factory"


def _load() -> ModuleType:
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    spec = importlib.util.spec_from_file_location(
        _NAME, Path(__file__).with_name("dicom_factory.py")
    )
    if spec is None or spec.loader is None:
        raise ImportError("tests/unit/imaging/dicom_factory.py cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def factory() -> ModuleType:
    """The dicom_factory module: head_phantom, chest_phantom, make_series."""
    return _load()
