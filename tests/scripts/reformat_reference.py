#!/usr/bin/env python3
"""A reformatted slice computed independently from the DICOM files, against the one drawn.

Reads a series with pydicom, builds the voxel-to-LPS geometry from its headers
(ImagePositionPatient, ImageOrientationPatient, PixelSpacing; slices sorted along their
normal), applies the modality rescale, and for every pixel of the drawn image samples the
volume trilinearly at the LPS point that `render --json`'s `pixel_to_lps` gives it: one
sample for a thin slice, samples every `--step-mm` across a slab (combined by its mode).
The values are mapped through the reported grey window as an 8-bit grey and compared
with the PNG's grey, over the pixels whose samples all fall within the volume's voxel
centres.

Usage: reformat_reference.py SERIES_DIR DRAWN_JSON IMAGE_PNG [--step-mm MM]
Prints JSON: {"pixels": N, "mean_abs_grey": F, "p95_abs_grey": F, "slab_samples": M}.
"""

import argparse
import json
import math
import pathlib
import sys

import numpy as np
import pydicom
from PIL import Image


def volume_of(folder):
    """The series' rescaled voxels [slice, row, column] and its voxel-to-LPS matrix."""
    slices = []
    for path in sorted(pathlib.Path(folder).iterdir()):
        if not path.is_file():
            continue
        try:
            ds = pydicom.dcmread(path)
        except pydicom.errors.InvalidDicomError:
            continue
        if "PixelData" not in ds:
            continue
        slices.append(ds)
    if not slices:
        sys.exit(f"{folder}: no images")
    orientation = np.array(slices[0].ImageOrientationPatient, dtype=float)
    row_dir, column_dir = orientation[:3], orientation[3:]
    normal = np.cross(row_dir, column_dir)
    slices.sort(key=lambda ds: float(np.dot(normal, np.array(ds.ImagePositionPatient, float))))
    positions = np.array([ds.ImagePositionPatient for ds in slices], dtype=float)
    row_spacing, column_spacing = (float(v) for v in slices[0].PixelSpacing)
    step = (positions[-1] - positions[0]) / max(len(slices) - 1, 1)
    voxels = np.stack(
        [
            ds.pixel_array.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1.0))
            + float(getattr(ds, "RescaleIntercept", 0.0))
            for ds in slices
        ]
    )
    # Column index i moves along the row direction, row index j along the column direction.
    to_lps = np.eye(4)
    to_lps[:3, 0] = row_dir * column_spacing
    to_lps[:3, 1] = column_dir * row_spacing
    to_lps[:3, 2] = step
    to_lps[:3, 3] = positions[0]
    return voxels, to_lps


def trilinear(voxels, ijk):
    """Samples at voxel indices `ijk` (N×3: column, row, slice); NaN outside the centres."""
    depth, rows, columns = voxels.shape
    upper = np.array([columns - 1, rows - 1, depth - 1], dtype=float)
    inside = np.all((ijk >= 0.0) & (ijk <= upper), axis=1)
    clamped = np.clip(ijk, 0.0, upper)
    low = np.minimum(np.floor(clamped).astype(np.int64), np.maximum(upper.astype(np.int64) - 1, 0))
    frac = clamped - low
    result = np.zeros(len(ijk), dtype=np.float64)
    for di in (0, 1):
        for dj in (0, 1):
            for dk in (0, 1):
                weight = (
                    (frac[:, 0] if di else 1.0 - frac[:, 0])
                    * (frac[:, 1] if dj else 1.0 - frac[:, 1])
                    * (frac[:, 2] if dk else 1.0 - frac[:, 2])
                )
                i = np.minimum(low[:, 0] + di, columns - 1)
                j = np.minimum(low[:, 1] + dj, rows - 1)
                k = np.minimum(low[:, 2] + dk, depth - 1)
                result += weight * voxels[k, j, i]
    result[~inside] = np.nan
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("series")
    parser.add_argument("drawn")
    parser.add_argument("image")
    parser.add_argument("--step-mm", type=float, default=0.25)
    args = parser.parse_args()

    drawn = json.loads(pathlib.Path(args.drawn).read_text())
    plane = drawn["mpr"]
    width, height = drawn["width"], drawn["height"]
    window_width, window_center = drawn["window"]
    pixel_to_lps = np.array(plane["pixel_to_lps"], dtype=float)
    normal = pixel_to_lps[:3, 2]

    voxels, to_lps = volume_of(args.series)
    lps_to_ijk = np.linalg.inv(to_lps)

    ys, xs = np.mgrid[0:height, 0:width]
    pixels = np.stack(
        [xs.ravel(), ys.ravel(), np.zeros(xs.size), np.ones(xs.size)], axis=1
    ).astype(float)
    centres = (pixels @ pixel_to_lps.T)[:, :3]

    thickness = float(plane["slab_mm"])
    count = 1 if thickness <= 0 else math.ceil(thickness / args.step_mm) + 1
    offsets = [0.0] if count == 1 else np.linspace(-thickness / 2, thickness / 2, count)
    samples = []
    for offset in offsets:
        lps = centres + normal * offset
        ijk = (np.c_[lps, np.ones(len(lps))] @ lps_to_ijk.T)[:, :3]
        samples.append(trilinear(voxels, ijk))
    samples = np.stack(samples)
    inside = ~np.any(np.isnan(samples), axis=0)
    mode = plane["slab_mode"]
    if count == 1:
        values = samples[0]
    elif mode == "mip":
        values = np.max(samples, axis=0)
    elif mode == "minip":
        values = np.min(samples, axis=0)
    else:
        values = np.mean(samples, axis=0)

    low = window_center - window_width / 2
    expected = np.clip((values - low) / window_width, 0.0, 1.0) * 255.0
    shown = np.asarray(Image.open(args.image).convert("L"), dtype=float).ravel()
    difference = np.abs(shown - expected)[inside]
    if difference.size == 0:
        sys.exit("no pixel of the image lies within the volume")
    print(
        json.dumps(
            {
                "pixels": int(difference.size),
                "mean_abs_grey": float(np.mean(difference)),
                "p95_abs_grey": float(np.percentile(difference, 95)),
                "slab_samples": count,
            }
        )
    )


if __name__ == "__main__":
    main()
