"""Which image a Key Object Selection marks, read with pydicom: its referenced SOP
Instance UID, found among the files of FOLDER, and that image's position along the
patient's S axis (ImagePositionPatient z), printed as JSON.

Usage: key_image_slice.py KOS.dcm FOLDER
"""

import json
import os
import sys

import pydicom
import pydicom.errors


def main():
    document = pydicom.dcmread(sys.argv[1])
    marked = [
        item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        for item in document.ContentSequence
        if item.ValueType == "IMAGE"
    ]
    found = {}
    for name in os.listdir(sys.argv[2]):
        try:
            header = pydicom.dcmread(os.path.join(sys.argv[2], name), stop_before_pixels=True)
        except pydicom.errors.InvalidDicomError:
            continue
        if header.SOPInstanceUID in marked:
            found[header.SOPInstanceUID] = float(header.ImagePositionPatient[2])
    print(
        json.dumps(
            {
                "sop_class": document.SOPClassUID,
                "title": document.ConceptNameCodeSequence[0].CodeMeaning,
                "marked": marked,
                "z": [found.get(uid) for uid in marked],
            }
        )
    )


main()
