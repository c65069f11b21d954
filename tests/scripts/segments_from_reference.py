"""The tools of `hounsfield segment --from` that edit several segments or whole slices,
made by other hands: the starting Segmentation written with highdicom, the one Hounsfield
wrote read back with pydicom, and the expected segments made with SciPy.

Usage:
  segments_from_reference.py make FOLDER SEG.dcm --kind slices|seeds
  segments_from_reference.py check FOLDER FROM.dcm OUT.dcm --fill-between PLANE
  segments_from_reference.py check FOLDER FROM.dcm OUT.dcm --grow-from-seeds

`make --kind slices` writes two segments of bone (300 HU and above) inside a box near the
middle of the CT: "Axial" drawn on 3 axial slices (k), "Coronal" on 3 coronal slices (j).
`make --kind seeds` writes three segments of 3 x 3 x 3 voxels at the skull base, apart
within a region of about 60 x 60 x 30 voxels.

`check --fill-between` interpolates each segment as Hounsfield documents it: per drawn
slice of the plane, SciPy's exact distance transform with the in-plane spacing gives the
signed distance (inside: minus the distance to the nearest outside voxel; outside: the
distance to the nearest inside voxel); between two consecutive drawn slices the maps are
mixed linearly by position, and a voxel is inside where the mix is at most 0.

`check --grow-from-seeds` builds the graph of face neighbours of the region (the seeds'
box widened by round(10 mm / spacing) voxels each side) with the cost |v(a) - v(b)| +
1 x step length (mm), and runs SciPy's Dijkstra from every seed at once (`min_only`):
its `sources` say which seed reaches each voxel first. Each segment's own Dijkstra tells
the voxels two segments reach at the same cost (ties), where either answer is right.

Prints JSON: per segment, the voxels that differ from the reference (and, for seeds, the
ties and the voxels where Hounsfield's segment is not one of the cheapest).
"""

import argparse
import json

import highdicom
import numpy
import pydicom
from pydicom.sr.codedict import codes
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from segment_reference import nearest_voxel, read_ct

# The skull base (LPS mm), as the segment tests grow from it.
SKULL_BASE = (-72.31, -172.86, 583.0)
SEEDS_MARGIN_MM = 10.0
LENGTH_COST_PER_MM = 1.0


def make(args):
    volume, geometry, _, _ = read_ct(args.folder)
    masks = {}
    if args.kind == "slices":
        bone = volume >= 300
        box = numpy.zeros(volume.shape, dtype=bool)
        box[90:140, 180:370, 180:330] = True
        axial = numpy.zeros(volume.shape, dtype=bool)
        for k in (100, 107, 118):
            axial[k] = bone[k] & box[k]
        coronal = numpy.zeros(volume.shape, dtype=bool)
        for j in (300, 309, 325):
            coronal[:, j] = bone[:, j] & box[:, j]
        masks = {"Axial": axial, "Coronal": coronal}
    else:
        i, j, k = nearest_voxel(SKULL_BASE, geometry)
        for label, (di, dj, dk) in (
            ("Bone seed", (0, 0, 0)),
            ("Second seed", (22, 20, 9)),
            ("Third seed", (2, 24, 5)),
        ):
            mask = numpy.zeros(volume.shape, dtype=bool)
            mask[k + dk : k + dk + 3, j + dj : j + dj + 3, i + di : i + di + 3] = True
            masks[label] = mask
    labels = list(masks)
    descriptions = [
        highdicom.seg.SegmentDescription(
            segment_number=n + 1,
            segment_label=label,
            segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Bone,
            algorithm_type=highdicom.seg.SegmentAlgorithmTypeValues.MANUAL,
        )
        for n, label in enumerate(labels)
    ]
    # One label per voxel: the segments do not overlap.
    pixels = numpy.zeros(volume.shape, dtype=numpy.uint8)
    for n, label in enumerate(labels):
        pixels[masks[label] & (pixels == 0)] = n + 1
    seg = highdicom.seg.Segmentation(
        source_images=read_ct.datasets,
        pixel_array=pixels,
        segmentation_type=highdicom.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=highdicom.UID(),
        series_number=301,
        sop_instance_uid=highdicom.UID(),
        instance_number=1,
        manufacturer="highdicom",
        manufacturer_model_name="test",
        software_versions=highdicom.__version__,
        device_serial_number="1",
    )
    seg.save_as(args.seg)
    print(
        json.dumps(
            {label: int(numpy.count_nonzero(pixels == n + 1)) for n, label in enumerate(labels)}
        )
    )


def read_seg(path, volume, geometry, positions):
    """Each segment of the Segmentation by label, read with pydicom: a frame's pixels go
    to the slice whose position it gives."""
    ds = pydicom.dcmread(path)
    labels = {int(s.SegmentNumber): str(s.SegmentLabel) for s in ds.SegmentSequence}
    masks = {label: numpy.zeros(volume.shape, dtype=bool) for label in labels.values()}
    along = sorted(
        (float(p @ geometry["normal"]), k) for k, p in enumerate(positions)
    )
    frames = ds.pixel_array.reshape(int(ds.NumberOfFrames), int(ds.Rows), int(ds.Columns))
    worst_mm = 0.0
    for frame, groups in zip(frames, ds.PerFrameFunctionalGroupsSequence):
        number = int(groups.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        position = numpy.array(
            [float(v) for v in groups.PlanePositionSequence[0].ImagePositionPatient]
        )
        height = float(position @ geometry["normal"])
        distance, k = min((abs(h - height), k) for h, k in along)
        worst_mm = max(worst_mm, float(numpy.abs(position - positions[k]).max()))
        masks[labels[number]][k] |= frame.astype(bool)
    return masks, worst_mm


def fill_between(mask, axis, spacing):
    """Shape-based interpolation of `mask` between the slices drawn across `axis`."""
    sampling = [s for a, s in enumerate(spacing) if a != axis]
    moved = numpy.moveaxis(mask, axis, 0)
    drawn = [n for n in range(moved.shape[0]) if moved[n].any()]
    filled = moved.copy()

    def signed(slice_mask):
        inside = ndimage.distance_transform_edt(slice_mask, sampling=sampling)
        outside = ndimage.distance_transform_edt(~slice_mask, sampling=sampling)
        return numpy.where(slice_mask, -inside, outside)

    for first, last in zip(drawn, drawn[1:]):
        if last - first < 2:
            continue
        a, b = signed(moved[first]), signed(moved[last])
        span = float(last - first)
        for s in range(first + 1, last):
            t = (s - first) / span
            filled[s] |= (1.0 - t) * a + t * b <= 0.0
    return numpy.moveaxis(filled, 0, axis)


def grow_from_seeds(volume, spacing, seeds):
    """The label of each voxel of the seeds' region by SciPy's Dijkstra, the ties, and
    each segment's least cost (from its own Dijkstra)."""
    every = numpy.zeros(volume.shape, dtype=bool)
    for mask in seeds:
        every |= mask
    where = numpy.argwhere(every)
    reach = numpy.array([int(round(SEEDS_MARGIN_MM / s)) for s in spacing])
    low = numpy.maximum(where.min(axis=0) - reach, 0)
    high = numpy.minimum(where.max(axis=0) + reach + 1, volume.shape)
    box = tuple(slice(a, b) for a, b in zip(low, high))
    values = volume[box]
    shape = values.shape
    ids = numpy.arange(values.size).reshape(shape)
    rows, cols, weights = [], [], []
    for axis in range(3):
        a = [slice(None)] * 3
        b = [slice(None)] * 3
        a[axis] = slice(0, -1)
        b[axis] = slice(1, None)
        a, b = tuple(a), tuple(b)
        rows.append(ids[a].ravel())
        cols.append(ids[b].ravel())
        weights.append(
            (numpy.abs(values[a] - values[b]) + LENGTH_COST_PER_MM * spacing[axis]).ravel()
        )
    graph = csr_matrix(
        (numpy.concatenate(weights), (numpy.concatenate(rows), numpy.concatenate(cols))),
        shape=(values.size, values.size),
    )
    seed_ids = [ids[mask[box]] for mask in seeds]
    label_of = {}
    for label, found in enumerate(seed_ids):
        for node in found:
            label_of[int(node)] = label
    indices = numpy.concatenate(seed_ids)
    _, _, sources = dijkstra(
        graph, directed=False, indices=indices, min_only=True, return_predecessors=True
    )
    winner = numpy.array([label_of[int(s)] for s in sources]).reshape(shape)
    costs = numpy.stack(
        [
            dijkstra(graph, directed=False, indices=found, min_only=True).reshape(shape)
            for found in seed_ids
        ]
    )
    least = costs.min(axis=0)
    cheapest = costs == least
    ties = cheapest.sum(axis=0) > 1
    return box, winner, cheapest, ties


def check(args):
    volume, geometry, _, positions_by_uid = read_ct(args.folder)
    positions = [numpy.array(ds.ImagePositionPatient, dtype=float) for ds in read_ct.datasets]
    given, _ = read_seg(args.given, volume, geometry, positions)
    ours, worst_mm = read_seg(args.ours, volume, geometry, positions)
    spacing = geometry["spacing"]
    result = {"worst_position_mm": worst_mm, "segments": {}}
    if args.fill_between:
        axis = {"axial": 0, "coronal": 1, "sagittal": 2}[args.fill_between]
        for label, mask in given.items():
            expected = fill_between(mask, axis, spacing)
            mine = ours.get(label, numpy.zeros(volume.shape, dtype=bool))
            result["segments"][label] = {
                "given": int(mask.sum()),
                "voxels": int(expected.sum()),
                "ours": int(mine.sum()),
                "differing": int((mine != expected).sum()),
            }
    else:
        labels = list(given)
        box, winner, cheapest, ties = grow_from_seeds(
            volume, spacing, [given[label] for label in labels]
        )
        inside = numpy.zeros(volume.shape, dtype=bool)
        inside[box] = True
        result["region"] = [int(s.stop - s.start) for s in box]
        result["ties"] = int(ties.sum())
        for n, label in enumerate(labels):
            mine = ours.get(label, numpy.zeros(volume.shape, dtype=bool))
            expected = winner == n
            result["segments"][label] = {
                "given": int(given[label].sum()),
                "voxels": int(expected.sum()),
                "ours": int(mine.sum()),
                "outside_region": int((mine & ~inside).sum()),
                "differing_beyond_ties": int(((mine[box] != expected) & ~ties).sum()),
                "not_cheapest": int((mine[box] & ~cheapest[n]).sum()),
            }
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("make")
    made.add_argument("folder")
    made.add_argument("seg")
    made.add_argument("--kind", choices=["slices", "seeds"], required=True)
    checked = commands.add_parser("check")
    checked.add_argument("folder")
    checked.add_argument("given")
    checked.add_argument("ours")
    checked.add_argument("--fill-between", choices=["axial", "coronal", "sagittal"])
    checked.add_argument("--grow-from-seeds", action="store_true")
    args = parser.parse_args()
    if args.command == "make":
        make(args)
    else:
        check(args)


if __name__ == "__main__":
    main()
