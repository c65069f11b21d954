"""Reads a NIfTI image (3D or 4D) with SimpleITK, independently of Hounsfield: prints its
geometry in LPS (SimpleITK's patient frame) as JSON and writes its voxels, as float32 with
the NIfTI's scaling applied, to OUTPUT in (volume, k, j, i) order.

    nifti_volumes.py IMAGE.nii[.gz] OUTPUT.f32
"""

import json
import sys

import numpy as np
import SimpleITK as sitk


def main():
    path, output = sys.argv[1], sys.argv[2]
    image = sitk.ReadImage(path, sitk.sitkFloat32)
    size = list(image.GetSize())
    dimension = image.GetDimension()
    direction = np.array(image.GetDirection()).reshape(dimension, dimension)
    voxels = sitk.GetArrayFromImage(image)  # (t, k, j, i) for 4D, (k, j, i) for 3D
    if dimension == 3:
        voxels = voxels[np.newaxis]
    voxels.astype("<f4").tofile(output)
    print(json.dumps({
        "size": size[:3],
        "volumes": size[3] if dimension == 4 else 1,
        "spacing_mm": list(image.GetSpacing())[:3],
        "origin_lps_mm": list(image.GetOrigin())[:3],
        "direction": direction[:3, :3].tolist(),
    }))


if __name__ == "__main__":
    main()
