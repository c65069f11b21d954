"""The segment `hounsfield segment` should make, made by other hands, and the Segmentation
it wrote read back with highdicom: the independent side of the segmentation tests.

Usage: segment_reference.py FOLDER SEG.dcm --threshold LO,HI [--seed X,Y,Z] [--largest]
                            [--min-island MM3] [--margin MM] [--closing MM] [--median MM]

The CT is read with pydicom (slices ordered along their normal). The reference segment:
the voxels in LO..HI (NumPy), or SimpleITK's ConnectedThreshold from the voxel nearest
the seed (face connectivity); with --largest, the largest of SimpleITK's connected
components (face connectivity); with --min-island, SimpleITK's connected components of at
least MM3 (voxels times the voxel's volume); with --margin, a threshold of SciPy's exact Euclidean
distance transform with the voxel spacing (grow: distance to the segment <= MM; shrink:
distance to the outside > -MM); with --closing, SciPy's binary dilation then erosion
by the ball of voxels within MM (the array's edge no outside); with --median, SciPy's
median_filter of the 0/1 segment with that ball as footprint (mode constant 0: beyond the
array is outside). Voxels whose distance lies within 1e-6 mm of the margin
are ties that rounding may put either side; they are counted and left out of the
comparison.

The Segmentation is read with highdicom: its segment's pixels for each source image of
the series (by SOP Instance UID), its description, and each frame's plane position
against its source image's. Prints JSON: the voxels that differ, the reference's
statistics (NumPy), and what highdicom read.
"""

import argparse
import hashlib
import json
import os
import tempfile

import highdicom
import numpy
import pydicom
import pydicom.errors
import SimpleITK as sitk
from scipy import ndimage


def decoded_pixels(datasets):
    """The stored pixel values of `datasets` (in their order), decoded by pydicom once for
    a set of files: a test run asks for the same CT many times, and decoding its JPEG 2000
    takes most of each run. Kept as a .npy in the temporary folder, named by the files'
    paths, sizes and modification times, so a changed file is decoded again; written to
    a file of this process first and renamed into place, so a reader never sees half."""
    stamp = hashlib.sha256()
    for ds in datasets:
        path = os.path.abspath(ds.filename)
        status = os.stat(path)
        stamp.update(f"{path}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
    cache = os.path.join(tempfile.gettempdir(), f"hounsfield-ct-{stamp.hexdigest()[:32]}.npy")
    try:
        pixels = numpy.load(cache)
        if pixels.shape[0] == len(datasets):
            return pixels
    except (OSError, ValueError):
        pass
    pixels = numpy.stack([ds.pixel_array for ds in datasets])
    partial = f"{cache}.{os.getpid()}.part"
    with open(partial, "wb") as file:
        numpy.save(file, pixels)
    os.replace(partial, cache)
    return pixels


def read_ct(folder):
    slices = []
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            ds = pydicom.dcmread(path)
        except (pydicom.errors.InvalidDicomError, IsADirectoryError):
            continue
        if "ImagePositionPatient" not in ds:
            continue
        orientation = numpy.array([float(v) for v in ds.ImageOrientationPatient])
        normal = numpy.cross(orientation[:3], orientation[3:])
        position = numpy.array([float(v) for v in ds.ImagePositionPatient])
        slices.append((float(position @ normal), ds, orientation, position))
    slices.sort(key=lambda s: s[0])
    stored = decoded_pixels([ds for _, ds, _, _ in slices])
    volume = numpy.stack(
        [
            stored[n].astype(numpy.float64) * float(getattr(ds, "RescaleSlope", 1))
            + float(getattr(ds, "RescaleIntercept", 0))
            for n, (_, ds, _, _) in enumerate(slices)
        ]
    )
    _, first, orientation, origin = slices[0]
    row_mm, column_mm = (float(v) for v in first.PixelSpacing)
    slice_mm = float(numpy.median(numpy.diff([s[0] for s in slices])))
    geometry = {
        "origin": origin,
        "row_direction": orientation[:3],
        "column_direction": orientation[3:],
        "normal": numpy.cross(orientation[:3], orientation[3:]),
        "spacing": (slice_mm, row_mm, column_mm),  # along k, j, i
    }
    uids = [str(ds.SOPInstanceUID) for _, ds, _, _ in slices]
    positions = {str(ds.SOPInstanceUID): p for _, ds, _, p in slices}
    read_ct.datasets = [ds for _, ds, _, _ in slices]
    return volume, geometry, uids, positions


def nearest_voxel(point, geometry):
    offset = numpy.array(point) - geometry["origin"]
    slice_mm, row_mm, column_mm = geometry["spacing"]
    i = round(float(offset @ geometry["row_direction"]) / column_mm)
    j = round(float(offset @ geometry["column_direction"]) / row_mm)
    k = round(float(offset @ geometry["normal"]) / slice_mm)
    return i, j, k


def reference(volume, geometry, args):
    low, high = (float(v) for v in args.threshold.split(","))
    if args.seed:
        seed = nearest_voxel([float(v) for v in args.seed.split(",")], geometry)
        image = sitk.GetImageFromArray(volume.astype(numpy.float32))
        grown = sitk.ConnectedThreshold(
            image, seedList=[seed], lower=low, upper=high, replaceValue=1
        )
        mask = sitk.GetArrayFromImage(grown).astype(bool)
    else:
        mask = (volume >= low) & (volume <= high)
    if args.largest:
        image = sitk.GetImageFromArray(mask.astype(numpy.uint8))
        components = sitk.ConnectedComponent(image, False)
        ranked = sitk.RelabelComponent(components, sortByObjectSize=True)
        mask = sitk.GetArrayFromImage(ranked) == 1
    if args.min_island is not None:
        components = sitk.GetArrayFromImage(
            sitk.ConnectedComponent(sitk.GetImageFromArray(mask.astype(numpy.uint8)), False)
        )
        voxel_mm3 = float(numpy.prod(geometry["spacing"]))
        sizes = numpy.bincount(components.ravel())
        kept = sizes * voxel_mm3 >= args.min_island
        kept[0] = False
        mask = kept[components]
    ties = numpy.zeros(mask.shape, dtype=bool)
    if args.margin is not None:
        mask, ties = margin(mask, geometry["spacing"], args.margin)
    if args.closing is not None:
        mask = closing(mask, geometry["spacing"], args.closing)
    if args.median is not None:
        mask = median(mask, geometry["spacing"], args.median)
    return mask, ties


def ball(spacing, radius_mm):
    """The voxel offsets within the radius (mm), as a footprint."""
    reach = [int(radius_mm // s) for s in spacing]
    axes = [numpy.arange(-n, n + 1) * s for n, s in zip(reach, spacing)]
    k, j, i = numpy.meshgrid(*axes, indexing="ij")
    return k**2 + j**2 + i**2 <= radius_mm**2, reach


def median(mask, spacing, radius_mm):
    """SciPy's median filter of the 0/1 segment by the ball, beyond the array 0, on the
    segment's box widened by the ball's reach (nothing beyond has a voxel in its ball)."""
    footprint, reach = ball(spacing, radius_mm)
    where = numpy.argwhere(mask)
    low = numpy.maximum(where.min(axis=0) - numpy.array(reach), 0)
    high = numpy.minimum(where.max(axis=0) + numpy.array(reach) + 1, mask.shape)
    box = tuple(slice(a, b) for a, b in zip(low, high))
    result = numpy.zeros(mask.shape, dtype=bool)
    result[box] = ndimage.median_filter(
        mask[box].astype(numpy.uint8), footprint=footprint, mode="constant", cval=0
    ).astype(bool)
    return result


def closing(mask, spacing, radius_mm):
    """SciPy's binary dilation, then erosion, by the ball of voxels within the radius
    (mm): a closing, on a box with room for both. The series' edge is no outside (as for
    the margin), so the erosion takes what lies beyond the array as inside."""
    reach = [int(radius_mm // s) for s in spacing]
    axes = [numpy.arange(-n, n + 1) * s for n, s in zip(reach, spacing)]
    k, j, i = numpy.meshgrid(*axes, indexing="ij")
    ball = k**2 + j**2 + i**2 <= radius_mm**2
    where = numpy.argwhere(mask)
    low = numpy.maximum(where.min(axis=0) - 2 * numpy.array(reach) - 1, 0)
    high = numpy.minimum(where.max(axis=0) + 2 * numpy.array(reach) + 2, mask.shape)
    box = tuple(slice(a, b) for a, b in zip(low, high))
    result = numpy.zeros(mask.shape, dtype=bool)
    dilated = ndimage.binary_dilation(mask[box], structure=ball, border_value=0)
    result[box] = ndimage.binary_erosion(dilated, structure=ball, border_value=1)
    return result


def margin(mask, spacing, margin_mm):
    """The margin on the box of voxels it can reach (the transform of a whole CT would
    take gigabytes); the box's own border is outside the segment."""
    reach = [int(abs(margin_mm) // s) + 1 for s in spacing]
    where = numpy.argwhere(mask)
    low = numpy.maximum(where.min(axis=0) - reach, 0)
    high = numpy.minimum(where.max(axis=0) + reach + 1, mask.shape)
    box = tuple(slice(a, b) for a, b in zip(low, high))
    inside = mask[box]
    if margin_mm >= 0:
        distance = ndimage.distance_transform_edt(~inside, sampling=spacing)
        kept = distance <= margin_mm
    else:
        distance = ndimage.distance_transform_edt(inside, sampling=spacing)
        kept = inside & (distance > -margin_mm)
    result = numpy.zeros(mask.shape, dtype=bool)
    result[box] = kept
    ties = numpy.zeros(mask.shape, dtype=bool)
    ties[box] = numpy.abs(distance - abs(margin_mm)) < 1e-6
    return result, ties


def surface_mm2(mask, spacing):
    slice_mm, row_mm, column_mm = spacing
    faces = [row_mm * column_mm, slice_mm * column_mm, slice_mm * row_mm]
    padded = numpy.pad(mask, 1).astype(numpy.int8)
    return float(
        sum(
            numpy.count_nonzero(numpy.diff(padded, axis=axis)) * faces[axis]
            for axis in range(3)
        )
    )


def read_seg(path, uids, positions):
    seg = highdicom.seg.segread(path)
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=uids,
        segment_numbers=[1],
        ignore_spatial_locations=True,
    )
    description = seg.get_segment_description(1)
    # Each frame's position against its source image's.
    worst_mm = 0.0
    for frame in seg.PerFrameFunctionalGroupsSequence:
        source = frame.DerivationImageSequence[0].SourceImageSequence[0]
        position = numpy.array(
            [float(v) for v in frame.PlanePositionSequence[0].ImagePositionPatient]
        )
        worst_mm = max(
            worst_mm,
            float(
                numpy.abs(position - positions[str(source.ReferencedSOPInstanceUID)]).max()
            ),
        )
    return pixels[..., 0].astype(bool), {
        "label": description.segment_label,
        "algorithm_type": description.algorithm_type.value,
        "algorithm_name": str(getattr(description, "SegmentAlgorithmName", "")),
        "category": description.segmented_property_category.value,
        "property_type": description.segmented_property_type.value,
        "frames": int(seg.NumberOfFrames),
        "worst_position_mm": worst_mm,
        "referenced_series": [
            str(s.SeriesInstanceUID) for s in seg.ReferencedSeriesSequence
        ],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("seg")
    parser.add_argument("--threshold", required=True)
    parser.add_argument("--seed")
    parser.add_argument("--largest", action="store_true")
    parser.add_argument("--min-island", type=float)
    parser.add_argument("--margin", type=float)
    parser.add_argument("--closing", type=float)
    parser.add_argument("--median", type=float)
    args = parser.parse_args()
    volume, geometry, uids, positions = read_ct(args.folder)
    expected, ties = reference(volume, geometry, args)
    ours, seg = read_seg(args.seg, uids, positions)
    differ = (ours != expected) & ~ties
    values = volume[expected]
    slice_mm, row_mm, column_mm = geometry["spacing"]
    print(
        json.dumps(
            {
                "differing": int(numpy.count_nonzero(differ)),
                "ties": int(numpy.count_nonzero(ties)),
                "voxels": int(numpy.count_nonzero(expected)),
                "ours": int(numpy.count_nonzero(ours)),
                "volume_ml": float(values.size * slice_mm * row_mm * column_mm / 1000.0),
                "mean": float(values.mean()),
                "sd": float(values.std()),
                "min": float(values.min()),
                "max": float(values.max()),
                "median": float(numpy.median(values)),
                "surface_mm2": surface_mm2(expected, geometry["spacing"]),
                "seg": seg,
            }
        )
    )


if __name__ == "__main__":
    main()
