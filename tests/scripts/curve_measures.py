"""A voxel's time-intensity curve from a 4D NIfTI (read by SimpleITK) and its measures,
computed with NumPy independently of Hounsfield, by the rules docs/commands.md states:
wash-in slope the steepest rise between consecutive volumes up to the peak, baseline the
mean up to where that rise starts, time to peak from the first volume, area between the
curve and its baseline by the trapezoid rule.

    curve_measures.py IMAGE.nii I J K SECONDS_BETWEEN_VOLUMES
"""

import json
import sys

import numpy as np
import SimpleITK as sitk


def main():
    path = sys.argv[1]
    i, j, k = (int(v) for v in sys.argv[2:5])
    step = float(sys.argv[5])
    voxels = sitk.GetArrayFromImage(sitk.ReadImage(path, sitk.sitkFloat64))  # (t, k, j, i)
    values = voxels[:, k, j, i]
    times = np.arange(len(values)) * step
    peak_at = int(np.argmax(values))
    slopes = np.diff(values[: peak_at + 1]) / np.diff(times[: peak_at + 1])
    if len(slopes) and slopes.max() > 0:
        rise_from = int(np.argmax(slopes))
        wash_in = float(slopes[rise_from])
    else:
        rise_from, wash_in = 0, 0.0
    baseline = float(values[: rise_from + 1].mean())
    print(json.dumps({
        "values": values.tolist(),
        "baseline": baseline,
        "peak": float(values[peak_at]),
        "time_to_peak": float(times[peak_at] - times[0]),
        "wash_in_slope": wash_in,
        "area_under_curve": float(np.trapezoid(values - baseline, times)),
    }))


if __name__ == "__main__":
    main()
