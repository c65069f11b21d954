#!/usr/bin/env python3
"""An oblique region's statistics computed from the DICOM files themselves, with pydicom
and numpy: the independent side of the test of findings drawn on turned planes.

Usage: oblique_region_statistics.py FOLDER ELLIPSE|RECTANGLE X0,Y0,Z0 X1,Y1,Z1 RX,RY,RZ DX,DY,DZ

The region lies on the plane whose screen axes are RIGHT and DOWN (LPS unit vectors), at
the mean depth of the two corners of its bounds (LPS mm) along the plane's normal
(right × down). As the protocol documents for a plane the voxel grid is tilted to, the
plane is sampled at the grid's finest spacing from the corner of the region's bounds
with the smaller coordinates, each sample taking its nearest voxel's modality-rescaled
value. Prints as JSON the mean, population standard deviation, minimum, maximum and
count of the samples inside the shape.
"""

import json
import sys

import numpy as np

from reformat_reference import volume_of


def vector(text):
    return np.array([float(v) for v in text.split(",")])


def main():
    folder, kind = sys.argv[1], sys.argv[2].lower()
    a, b, right, down = (vector(v) for v in sys.argv[3:7])
    normal = np.cross(right, down)
    voxels, to_lps = volume_of(folder)
    spacing = np.linalg.norm(to_lps[:3, :3], axis=0)
    step = float(spacing.min())
    flat_a = np.array([a @ right, a @ down])
    flat_b = np.array([b @ right, b @ down])
    depth = (a @ normal + b @ normal) / 2.0
    low, high = np.minimum(flat_a, flat_b), np.maximum(flat_a, flat_b)
    columns = int(np.floor((high[0] - low[0]) / step + 1e-9))
    rows = int(np.floor((high[1] - low[1]) / step + 1e-9))
    c, r = np.meshgrid(np.arange(columns + 1), np.arange(rows + 1))
    fx = low[0] + c.ravel() * step
    fy = low[1] + r.ravel() * step
    if kind == "ellipse":
        centre, half = (low + high) / 2.0, (high - low) / 2.0
        inside = ((fx - centre[0]) / half[0]) ** 2 + ((fy - centre[1]) / half[1]) ** 2 <= 1.0
    else:
        inside = np.ones_like(fx, dtype=bool)
    fx, fy = fx[inside], fy[inside]
    points = np.outer(fx, right) + np.outer(fy, down) + depth * normal
    homogeneous = np.hstack([points, np.ones((len(points), 1))])
    ijk = (np.linalg.inv(to_lps) @ homogeneous.T).T[:, :3]
    # Halves away from zero, as the server rounds (numpy's own rounding is to even).
    nearest = np.sign(ijk) * np.floor(np.abs(ijk) + 0.5)
    depth_n, rows_n, columns_n = voxels.shape
    upper = np.array([columns_n - 1, rows_n - 1, depth_n - 1])
    within = np.all((nearest >= 0) & (nearest <= upper), axis=1)
    index = nearest[within].astype(np.int64)
    values = voxels[index[:, 2], index[:, 1], index[:, 0]].astype(np.float64)
    print(
        json.dumps(
            {
                "mean": float(values.mean()),
                "sd": float(values.std()),
                "min": float(values.min()),
                "max": float(values.max()),
                "voxels": int(values.size),
            }
        )
    )


main()
