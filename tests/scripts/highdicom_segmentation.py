"""A Segmentation another program writes: highdicom's binary SEG of a CT's voxels in a
value range on a run of slices, for the test that Hounsfield shows it where it belongs.

Usage: highdicom_segmentation.py FOLDER OUT.dcm --threshold LO,HI --slices K0,K1

Slices are counted along their normal from the first (K0 and K1 included). Prints JSON:
the segment's voxel count and the statistics of its values (NumPy).
"""

import argparse
import json

import highdicom
import numpy
from pydicom.sr.codedict import codes

from segment_reference import read_ct


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("out")
    parser.add_argument("--threshold", required=True)
    parser.add_argument("--slices", required=True)
    args = parser.parse_args()
    low, high = (float(v) for v in args.threshold.split(","))
    first, last = (int(v) for v in args.slices.split(","))
    volume, geometry, _, _ = read_ct(args.folder)
    mask = numpy.zeros(volume.shape, dtype=bool)
    mask[first : last + 1] = (volume[first : last + 1] >= low) & (
        volume[first : last + 1] <= high
    )
    description = highdicom.seg.SegmentDescription(
        segment_number=1,
        segment_label="Bone by highdicom",
        segmented_property_category=codes.SCT.Tissue,
        segmented_property_type=codes.SCT.Bone,
        algorithm_type=highdicom.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    seg = highdicom.seg.Segmentation(
        source_images=read_ct.datasets,
        pixel_array=mask,
        segmentation_type=highdicom.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[description],
        series_instance_uid=highdicom.UID(),
        series_number=300,
        sop_instance_uid=highdicom.UID(),
        instance_number=1,
        manufacturer="highdicom",
        manufacturer_model_name="test",
        software_versions=highdicom.__version__,
        device_serial_number="1",
    )
    seg.save_as(args.out)
    values = volume[mask]
    slice_mm, row_mm, column_mm = geometry["spacing"]
    print(
        json.dumps(
            {
                "voxels": int(values.size),
                "volume_ml": float(values.size * slice_mm * row_mm * column_mm / 1000.0),
                "mean": float(values.mean()),
                "sd": float(values.std()),
                "min": float(values.min()),
                "max": float(values.max()),
                "median": float(numpy.median(values)),
            }
        )
    )


if __name__ == "__main__":
    main()
