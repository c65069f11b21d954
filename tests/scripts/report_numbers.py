"""The numbers of a Measurement Report (TID 1500), read with pydicom: for each
measurement group, its tracking identifier, its finding site's code, the image it names
as its source and each numeric item's code meaning, value and unit (with its
measurement method, when it has one), printed as JSON. With FOLDER, each source image is
found among its files and its position along the patient's S axis given.

Usage: report_numbers.py REPORT.dcm [FOLDER]
"""

import json
import os
import sys

import pydicom
import pydicom.errors


def named(item):
    return item.ConceptNameCodeSequence[0].CodeMeaning if "ConceptNameCodeSequence" in item else ""


def main():
    report = pydicom.dcmread(sys.argv[1])
    groups = []
    for top in report.ContentSequence:
        if named(top) != "Imaging Measurements":
            continue
        for group in top.ContentSequence:
            entry = {"tracking": "", "numbers": {}, "comment": "", "site": None, "image": None}
            for item in group.ContentSequence:
                if item.ValueType == "CODE" and named(item) == "Finding Site":
                    entry["site"] = item.ConceptCodeSequence[0].CodeValue
                elif item.ValueType == "IMAGE" and named(item) == "Source of Measurement":
                    entry["image"] = item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
                elif item.ValueType == "TEXT" and named(item) == "Tracking Identifier":
                    entry["tracking"] = item.TextValue
                elif item.ValueType == "TEXT" and named(item) == "Comment":
                    entry["comment"] = item.TextValue
                elif item.ValueType == "NUM":
                    measured = item.MeasuredValueSequence[0]
                    number = {
                        "value": float(measured.NumericValue),
                        "unit": measured.MeasurementUnitsCodeSequence[0].CodeValue,
                    }
                    if "FloatingPointValue" in measured:
                        number["float"] = float(measured.FloatingPointValue)
                    for modifier in item.get("ContentSequence", []):
                        if named(modifier) == "Measurement Method":
                            number["method"] = modifier.ConceptCodeSequence[0].CodeValue
                    entry["numbers"][named(item)] = number
            groups.append(entry)
    if len(sys.argv) > 2:
        positions = {}
        for name in os.listdir(sys.argv[2]):
            try:
                header = pydicom.dcmread(os.path.join(sys.argv[2], name), stop_before_pixels=True)
            except pydicom.errors.InvalidDicomError:
                continue
            positions[header.SOPInstanceUID] = float(header.ImagePositionPatient[2])
        for entry in groups:
            entry["image_z"] = positions.get(entry["image"])
    print(
        json.dumps(
            {
                "sop_class": report.SOPClassUID,
                "study": report.StudyInstanceUID,
                "patient_id": report.PatientID,
                "observer": next(
                    (str(i.PersonName) for i in report.ContentSequence if i.ValueType == "PNAME"),
                    "",
                ),
                "groups": groups,
            }
        )
    )


main()
