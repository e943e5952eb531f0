"""The synthetic hospital: phantom head CTs, DICOM, reports, drift scenarios."""
