"""The value a series of classic files holds nearest an LPS point, read with pydicom
independently of Hounsfield: the image whose plane lies nearest the point (of the images
there, the lowest InstanceNumber: a 4D series's first volume), the pixel nearest the
point's projection on it, rescaled by its RescaleSlope and RescaleIntercept.

    voxel_at_point.py FOLDER X,Y,Z [X,Y,Z ...]

Prints a JSON list: for each point its value (null outside) and the file it came from.
"""

import glob
import json
import os
import sys

import numpy as np
import pydicom


def main():
    folder = sys.argv[1]
    images = [pydicom.dcmread(f) for f in sorted(glob.glob(os.path.join(folder, "*.dcm")))]
    answers = []
    for text in sys.argv[2:]:
        point = np.array([float(v) for v in text.split(",")])
        best = None
        for image in images:
            row = np.array(image.ImageOrientationPatient[:3], float)
            column = np.array(image.ImageOrientationPatient[3:], float)
            normal = np.cross(row, column)
            offset = point - np.array(image.ImagePositionPatient, float)
            key = (round(abs(offset @ normal), 4), int(image.InstanceNumber))
            if best is None or key < best[0]:
                best = (key, image, offset, row, column)
        (_, image, offset, row, column) = best
        spacing_between_rows, spacing_between_columns = (float(v) for v in image.PixelSpacing)
        i = int(round(offset @ row / spacing_between_columns))
        j = int(round(offset @ column / spacing_between_rows))
        thickness = float(getattr(image, "SpacingBetweenSlices", image.SliceThickness))
        if not (0 <= i < image.Columns and 0 <= j < image.Rows) or best[0][0] > thickness / 2:
            answers.append({"value": None, "file": None})
            continue
        stored = image.pixel_array[j, i]
        value = float(stored) * float(image.RescaleSlope) + float(image.RescaleIntercept)
        answers.append({"value": value, "file": os.path.basename(image.filename)})
    print(json.dumps(answers))


if __name__ == "__main__":
    main()
