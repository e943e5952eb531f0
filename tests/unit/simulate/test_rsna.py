from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

LABELS = ("any", "epidural", "subdural", "subarachnoid", "intraparenchymal", "intraventricular")


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")
def test_rsna_export(hospital_run: tuple[Path, dict[str, Any]]) -> None:
    out, _ = hospital_run
    with (out / "rsna" / "stage_2_train.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["ID", "Label"]
    per_image: dict[str, dict[str, int]] = defaultdict(dict)
    for row_id, label in rows[1:]:
        match = re.fullmatch(r"(ID_[0-9a-f]{12})_(\w+)", row_id)
        assert match
        assert label in ("0", "1")
        per_image[match.group(1)][match.group(2)] = int(label)
    files = sorted((out / "rsna" / "stage_2_train").glob("ID_*.dcm"))
    assert {f.stem for f in files} == set(per_image)
    for labels in per_image.values():
        assert tuple(labels) == LABELS
        assert labels["any"] == max(labels[k] for k in LABELS[1:])
    truths = [json.loads(x) for x in (out / "truth.jsonl").read_text().splitlines()]
    soft = sum(
        s["instances"] for t in truths if t["body_part"] == "HEAD" for s in t["series"]
        if s["kind"] == "axial_soft"
    )  # fmt: skip
    assert len(files) == soft
    if any(t["any"] for t in truths):
        assert any(v["any"] for v in per_image.values())
    ds = pydicom.dcmread(files[0])
    assert ds.SOPInstanceUID == files[0].stem
    assert ds.PatientID.startswith("ID_")
    assert ds.RescaleIntercept == -1024
    assert ds.PixelRepresentation == 0
    assert ds.pixel_array.dtype == np.uint16
