"""SimpleITK's time for the segmentation tools `bench segment` times, on the same CT in
the same run: a threshold, the connected threshold from the same seed voxel, the largest
connected component (face connectivity), and a margin from the signed Maurer distance
map in millimetres. The series is read with pydicom beforehand, outside the timings.

Usage: simpleitk_segment.py FOLDER LOW HIGH I J K MARGIN_MM RUNS
Prints JSON: each operation's times (ms) and the voxels it made.
"""

import json
import os
import sys
import time

import numpy
import pydicom
import pydicom.errors
import SimpleITK as sitk


def read_ct(folder):
    slices = []
    for name in os.listdir(folder):
        try:
            ds = pydicom.dcmread(os.path.join(folder, name))
        except (pydicom.errors.InvalidDicomError, IsADirectoryError):
            continue
        if "ImagePositionPatient" not in ds:
            continue
        orientation = numpy.array([float(v) for v in ds.ImageOrientationPatient])
        normal = numpy.cross(orientation[:3], orientation[3:])
        position = numpy.array([float(v) for v in ds.ImagePositionPatient])
        slices.append((float(position @ normal), ds))
    slices.sort(key=lambda s: s[0])
    values = numpy.stack(
        [
            ds.pixel_array.astype(numpy.float32) * float(getattr(ds, "RescaleSlope", 1))
            + float(getattr(ds, "RescaleIntercept", 0))
            for _, ds in slices
        ]
    )
    image = sitk.GetImageFromArray(values.astype(numpy.int16))
    row_mm, column_mm = (float(v) for v in slices[0][1].PixelSpacing)
    slice_mm = float(numpy.median(numpy.diff([s[0] for s in slices])))
    image.SetSpacing((column_mm, row_mm, slice_mm))
    return image


def timed(runs, operation):
    times = []
    result = None
    for _ in range(runs):
        started = time.perf_counter()
        result = operation()
        times.append((time.perf_counter() - started) * 1000.0)
    voxels = int(sitk.GetArrayViewFromImage(result).astype(bool).sum())
    return {"ms": times, "voxels": voxels}


def main():
    folder = sys.argv[1]
    low, high = float(sys.argv[2]), float(sys.argv[3])
    seed = tuple(int(v) for v in sys.argv[4:7])
    margin_mm = float(sys.argv[7])
    runs = int(sys.argv[8])
    image = read_ct(folder)
    thresholded = sitk.BinaryThreshold(image, low, high, 1, 0)
    grown = sitk.ConnectedThreshold(image, seedList=[seed], lower=low, upper=high)

    def largest():
        components = sitk.ConnectedComponent(thresholded, False)
        return sitk.RelabelComponent(components, sortByObjectSize=True) == 1

    def margin():
        distance = sitk.SignedMaurerDistanceMap(
            grown, insideIsPositive=False, squaredDistance=False, useImageSpacing=True
        )
        return sitk.BinaryThreshold(distance, -1e9, margin_mm, 1, 0)

    print(
        json.dumps(
            {
                "threshold": timed(
                    runs, lambda: sitk.BinaryThreshold(image, low, high, 1, 0)
                ),
                "grow": timed(
                    runs,
                    lambda: sitk.ConnectedThreshold(
                        image, seedList=[seed], lower=low, upper=high
                    ),
                ),
                "islands": timed(runs, largest),
                "margin": timed(runs, margin),
                "threads": sitk.ProcessObject.GetGlobalDefaultNumberOfThreads(),
            }
        )
    )


if __name__ == "__main__":
    main()
