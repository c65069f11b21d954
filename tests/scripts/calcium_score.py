"""Coronary calcium scores computed from the DICOM files themselves, with pydicom, NumPy
and SciPy's connected components: the independent side of the calcium tests.

Usage: calcium_score.py FOLDER X0,Y0,Z0,X1,Y1,Z1

The box is given by two opposite corners in LPS millimetres; a pixel is in it when its
centre is (ImagePositionPatient, ImageOrientationPatient, PixelSpacing). On each slice,
lesions are 8-connected pixels at or above 130 HU of at least 1 mm²; a lesion's Agatston
score is its area times the weight of its peak (130-199: 1, 200-299: 2, 300-399: 3,
400 and above: 4) times the slice spacing over 3 mm; its volume the pixels times a
voxel's volume; its mass its mean times its volume (cm3) times 0.743 mg/cm3 per HU.
Prints the totals as JSON.
"""

import json
import os
import sys

import numpy
import pydicom
import pydicom.errors
from scipy import ndimage


def weight(peak):
    if peak >= 400:
        return 4
    if peak >= 300:
        return 3
    if peak >= 200:
        return 2
    return 1


def main():
    folder = sys.argv[1]
    corners = [float(v) for v in sys.argv[2].split(",")]
    low = numpy.minimum(corners[:3], corners[3:])
    high = numpy.maximum(corners[:3], corners[3:])
    slices = []
    for name in os.listdir(folder):
        try:
            ds = pydicom.dcmread(os.path.join(folder, name))
        except (pydicom.errors.InvalidDicomError, IsADirectoryError):
            continue
        orientation = numpy.array([float(v) for v in ds.ImageOrientationPatient])
        normal = numpy.cross(orientation[:3], orientation[3:])
        position = numpy.array([float(v) for v in ds.ImagePositionPatient])
        slices.append((float(position @ normal), ds, orientation, position))
    slices.sort(key=lambda s: s[0])
    spacing = float(numpy.median(numpy.diff([s[0] for s in slices])))
    totals = {"agatston": 0.0, "volume_mm3": 0.0, "mass_mg": 0.0, "lesions": 0}
    for _, ds, orientation, position in slices:
        values = ds.pixel_array.astype(numpy.float64) * float(
            getattr(ds, "RescaleSlope", 1)
        ) + float(getattr(ds, "RescaleIntercept", 0))
        row_mm, column_mm = (float(v) for v in ds.PixelSpacing)
        rows, columns = numpy.indices(values.shape)
        centres = (
            position[None, None, :]
            + columns[..., None] * column_mm * orientation[None, None, :3]
            + rows[..., None] * row_mm * orientation[None, None, 3:]
        )
        inside = numpy.all((centres >= low) & (centres <= high), axis=-1)
        labels, count = ndimage.label(
            inside & (values >= 130.0), structure=numpy.ones((3, 3))
        )
        pixel_area = row_mm * column_mm
        for label in range(1, count + 1):
            lesion = values[labels == label]
            area = lesion.size * pixel_area
            if area < 1.0:
                continue
            volume = lesion.size * pixel_area * spacing
            totals["agatston"] += area * weight(lesion.max()) * spacing / 3.0
            totals["volume_mm3"] += volume
            totals["mass_mg"] += lesion.mean() * volume / 1000.0 * 0.743
            totals["lesions"] += 1
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
