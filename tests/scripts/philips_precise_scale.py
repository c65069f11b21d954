"""Reads a Philips MR series (classic files in a folder, or one enhanced file) with pydicom
and prints, as JSON, the factor from Philips' "precise" values (what dcm2niix writes by
default) to the standard modality rescale's: (stored × RS + RI) / (RS × SS) is the
precise value, so with RI = 0 the display value is the precise one × RS × SS. Fails when
the images' RescaleSlope, RescaleIntercept or scale slope (2005,100E) differ, or RI is not 0.

    philips_precise_scale.py FOLDER_OR_FILE
"""

import glob
import json
import os
import sys

import pydicom

SCALE_SLOPE = (0x2005, 0x100E)
PRIVATE_FRAME_GROUP = (0x2005, 0x140F)


def scales(dataset):
    groups = dataset.get("PerFrameFunctionalGroupsSequence")
    if groups is None:
        yield (float(dataset.RescaleSlope), float(dataset.RescaleIntercept),
               float(dataset[SCALE_SLOPE].value))
        return
    for frame in groups:
        transform = frame.PixelValueTransformationSequence[0]
        private = frame[PRIVATE_FRAME_GROUP].value[0]
        yield (float(transform.RescaleSlope), float(transform.RescaleIntercept),
               float(private[SCALE_SLOPE].value))


def main():
    path = sys.argv[1]
    files = sorted(glob.glob(os.path.join(path, "*.dcm"))) if os.path.isdir(path) else [path]
    seen = set()
    for name in files:
        seen.update(scales(pydicom.dcmread(name, stop_before_pixels=True)))
    if len(seen) != 1:
        sys.exit(f"{path}: the images' scaling differs: {sorted(seen)}")
    (slope, intercept, scale_slope), = seen
    if intercept != 0.0:
        sys.exit(f"{path}: RescaleIntercept {intercept} is not 0")
    print(json.dumps({"display_per_precise": slope * scale_slope}))


if __name__ == "__main__":
    main()
