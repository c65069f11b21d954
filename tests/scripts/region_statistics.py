"""A region's statistics computed from the DICOM files themselves, with pydicom and
numpy: the independent side of the findings tests.

Usage: region_statistics.py FOLDER ELLIPSE|RECTANGLE X0,Y0,Z0 X1,Y1,Z1

The region is axial, given by two opposite corners of its bounds in LPS millimetres.
Finds the image of the series in FOLDER whose plane holds the corners, places each
stored pixel's centre in the patient (ImagePositionPatient, ImageOrientationPatient,
PixelSpacing), and prints as JSON the mean, population standard deviation, minimum,
maximum and count of the modality-rescaled values whose centres fall inside the shape.
"""

import json
import os
import sys

import numpy
import pydicom
import pydicom.errors


def main():
    folder, kind = sys.argv[1], sys.argv[2].lower()
    a = numpy.array([float(v) for v in sys.argv[3].split(",")])
    b = numpy.array([float(v) for v in sys.argv[4].split(",")])
    z = (a[2] + b[2]) / 2.0
    best = None
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            header = pydicom.dcmread(path, stop_before_pixels=True)
        except pydicom.errors.InvalidDicomError:
            continue  # the archive's thumbnail beside the images
        if "ImagePositionPatient" not in header:
            continue
        distance = abs(float(header.ImagePositionPatient[2]) - z)
        if best is None or distance < best[0]:
            best = (distance, path)
    image = pydicom.dcmread(best[1])
    values = image.pixel_array.astype(numpy.float64)
    values = values * float(getattr(image, "RescaleSlope", 1)) + float(
        getattr(image, "RescaleIntercept", 0)
    )
    origin = numpy.array([float(v) for v in image.ImagePositionPatient])
    orientation = [float(v) for v in image.ImageOrientationPatient]
    along_row, along_column = numpy.array(orientation[:3]), numpy.array(orientation[3:])
    row_spacing, column_spacing = (float(v) for v in image.PixelSpacing)
    rows, columns = values.shape
    r, c = numpy.mgrid[0:rows, 0:columns]
    x = origin[0] + c * column_spacing * along_row[0] + r * row_spacing * along_column[0]
    y = origin[1] + c * column_spacing * along_row[1] + r * row_spacing * along_column[1]
    low, high = numpy.minimum(a, b), numpy.maximum(a, b)
    if kind == "ellipse":
        centre, half = (low + high) / 2.0, (high - low) / 2.0
        inside = ((x - centre[0]) / half[0]) ** 2 + ((y - centre[1]) / half[1]) ** 2 <= 1.0
    else:
        inside = (x >= low[0]) & (x <= high[0]) & (y >= low[1]) & (y <= high[1])
    chosen = values[inside]
    print(
        json.dumps(
            {
                "mean": float(chosen.mean()),
                "sd": float(chosen.std()),
                "min": float(chosen.min()),
                "max": float(chosen.max()),
                "voxels": int(chosen.size),
                "file": os.path.basename(best[1]),
            }
        )
    )


main()
