"""The numbers of a Measurement Report (TID 1500), read with pydicom: for each
measurement group, its tracking identifier and each numeric item's code meaning, value
and unit, printed as JSON.

Usage: report_numbers.py REPORT.dcm
"""

import json
import sys

import pydicom


def named(item):
    return item.ConceptNameCodeSequence[0].CodeMeaning if "ConceptNameCodeSequence" in item else ""


def main():
    report = pydicom.dcmread(sys.argv[1])
    groups = []
    for top in report.ContentSequence:
        if named(top) != "Imaging Measurements":
            continue
        for group in top.ContentSequence:
            entry = {"tracking": "", "numbers": {}, "comment": ""}
            for item in group.ContentSequence:
                if item.ValueType == "TEXT" and named(item) == "Tracking Identifier":
                    entry["tracking"] = item.TextValue
                elif item.ValueType == "TEXT" and named(item) == "Comment":
                    entry["comment"] = item.TextValue
                elif item.ValueType == "NUM":
                    measured = item.MeasuredValueSequence[0]
                    entry["numbers"][named(item)] = {
                        "value": float(measured.NumericValue),
                        "unit": measured.MeasurementUnitsCodeSequence[0].CodeValue,
                    }
            groups.append(entry)
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
