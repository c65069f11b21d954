"""Reads the segment reports (Measurement Reports with volumetric groups) in a folder with
highdicom, independently of Hounsfield: for each volumetric measurement group, the
Segmentation and segment it references, its source series, its finding and its numbers.

Usage: highdicom_segment_report.py FOLDER SEGMENTATION
Prints JSON: {"segmented_series": the series SEGMENTATION references, "groups": a list of
{"report", "segmentation_uid", "segment_number", "source_series", "finding",
"tracking_identifier", "volume_ml", "mean", "sd", "min", "max"}}.
"""

import json
import pathlib
import sys

import highdicom as hd
import pydicom
from pydicom.sr.codedict import codes

COMPREHENSIVE_3D_SR = "1.2.840.10008.5.1.4.1.1.88.34"


def number(group, name):
    """The value of the group's measurement `name`, or None."""
    found = group.get_measurements(name=name)
    return float(found[0].value) if found else None


def main(folder, segmentation):
    segmented = pydicom.dcmread(segmentation).ReferencedSeriesSequence[0].SeriesInstanceUID
    groups = []
    for path in sorted(pathlib.Path(folder).rglob("*")):
        if not path.is_file():
            continue
        try:
            dataset = pydicom.dcmread(path)
        except pydicom.errors.InvalidDicomError:
            continue
        if dataset.SOPClassUID != COMPREHENSIVE_3D_SR:
            continue
        report = hd.sr.Comprehensive3DSR.from_dataset(dataset)
        content = report.content
        for group in content.get_volumetric_roi_measurement_groups():
            segment = group.referenced_segment
            reference = segment.referenced_sop_instance_uid if segment else None
            numbers = segment.referenced_segment_numbers if segment else None
            source = segment.source_series_for_segmentation if segment else None
            groups.append(
                {
                    "report": str(path),
                    "segmentation_uid": reference,
                    "segment_number": numbers[0] if numbers else None,
                    "source_series": source.value if source else None,
                    "finding": group.finding_type.value if group.finding_type else None,
                    "tracking_identifier": group.tracking_identifier,
                    "volume_ml": number(group, codes.SCT.Volume),
                    "mean": number(group, codes.SCT.Mean),
                    "sd": number(group, codes.SCT.StandardDeviation),
                    "min": number(group, codes.SCT.Minimum),
                    "max": number(group, codes.SCT.Maximum),
                }
            )
    print(json.dumps({"segmented_series": segmented, "groups": groups}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
