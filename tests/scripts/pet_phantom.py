"""Writes a small PET series (pydicom) and prints, as JSON, its SUV figures computed here,
independently of Hounsfield: the body-weight SUV factor by QIBA's vendor-neutral formula
from the header values written, and SUVmax, SUVmean and SUVpeak (the highest mean of the
voxels whose centres lie within a 1 cm³ sphere's radius of a region voxel's) of a box.

    pet_phantom.py OUT_FOLDER X0,Y0,Z0,X1,Y1,Z1 [--with-ct] [--threshold BQ_ML]

With `--with-ct`, a CT of the same patient, study and frame of reference is written beside
it (a water cylinder in air, larger than the PET and centred on it), for a PET drawn over
its CT. With `--threshold`, the same figures of the voxels at or above BQ_ML (a segment
made by that threshold) are printed too, as `segment`.

The radiopharmaceutical starts the evening before the scan (15 min, across midnight), and
each slice has its own RescaleSlope, as PET series do.
"""

import json
import math
import os
import sys
from datetime import datetime

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

COLUMNS, ROWS, SLICES = 24, 20, 12
PIXEL_MM, SLICE_MM = 4.0, 3.27
ORIGIN = np.array([-46.0, -38.0, -20.0])
WEIGHT_KG, DOSE_BQ, HALF_LIFE_S = 72.5, 3.7e8, 6586.2
START, SCAN = "20261127235000.00", ("20261128", "000500.00")
SPHERE_RADIUS_MM = (3.0 / (4.0 * math.pi)) ** (1.0 / 3.0) * 10.0


def activity():
    """Bq/ml: a warm background, a hot ball of 10 mm and a little deterministic noise."""
    rng = np.random.default_rng(7)
    k, j, i = np.meshgrid(np.arange(SLICES), np.arange(ROWS), np.arange(COLUMNS), indexing="ij")
    x = ORIGIN[0] + i * PIXEL_MM
    y = ORIGIN[1] + j * PIXEL_MM
    z = ORIGIN[2] + k * SLICE_MM
    hot = (x - 6.0) ** 2 + (y - 2.0) ** 2 + (z + 3.0) ** 2 <= 10.0 ** 2
    values = 2000.0 + 28000.0 * hot + rng.normal(0.0, 300.0, hot.shape)
    return np.clip(values, 0.0, None)


def image(sop_class, modality):
    """A new instance of `sop_class` of the phantom's patient, in explicit VR little endian."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.PatientName, ds.PatientID = modality, "Uptake^Phantom", "PET-1"
    return ds


def write(folder, values, study, frame):
    series = generate_uid()
    stored = np.zeros(values.shape, dtype=np.uint16)
    slopes = []
    for k in range(SLICES):
        slope = values[k].max() / 32767.0
        stored[k] = np.round(values[k] / slope).astype(np.uint16)
        slopes.append(float(f"{slope:.10g}"))
    for k in range(SLICES):
        ds = image("1.2.840.10008.5.1.4.1.1.128", "PT")
        ds.PatientWeight = str(WEIGHT_KG)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.StudyDate, ds.SeriesDate, ds.AcquisitionDate = SCAN[0], SCAN[0], SCAN[0]
        ds.SeriesTime, ds.AcquisitionTime = SCAN[1], SCAN[1]
        ds.SeriesNumber, ds.InstanceNumber = 1, k + 1
        ds.Units, ds.DecayCorrection = "BQML", "START"
        ds.CorrectedImage = ["NORM", "DTIM", "ATTN", "SCAT", "DECY", "RAN"]
        drug = Dataset()
        drug.RadiopharmaceuticalStartDateTime = START
        drug.RadionuclideTotalDose = str(DOSE_BQ)
        drug.RadionuclideHalfLife = str(HALF_LIFE_S)
        ds.RadiopharmaceuticalInformationSequence = [drug]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [float(ORIGIN[0]), float(ORIGIN[1]), float(ORIGIN[2] + k * SLICE_MM)]
        ds.PixelSpacing = [PIXEL_MM, PIXEL_MM]
        ds.SliceThickness = SLICE_MM
        ds.Rows, ds.Columns = ROWS, COLUMNS
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleSlope, ds.RescaleIntercept = str(slopes[k]), "0"
        ds.PixelData = stored[k].tobytes()
        pydicom.dcmwrite(os.path.join(folder, f"pet{k:03}.dcm"), ds, enforce_file_format=True)
    return stored.astype(np.float64) * np.array(slopes)[:, None, None]


def write_ct(folder, study, frame):
    """A CT of 40 × 40 × 20 voxels of 3 mm centred on the PET: water (0 HU) within 50 mm
    of its axis, air outside, stored with RescaleIntercept -1024."""
    columns, rows, slices, mm = 40, 40, 20, 3.0
    centre = ORIGIN + np.array([(COLUMNS - 1) * PIXEL_MM, (ROWS - 1) * PIXEL_MM, (SLICES - 1) * SLICE_MM]) / 2.0
    origin = centre - np.array([columns - 1, rows - 1, slices - 1]) * mm / 2.0
    series = generate_uid()
    j, i = np.meshgrid(np.arange(rows), np.arange(columns), indexing="ij")
    x, y = origin[0] + i * mm - centre[0], origin[1] + j * mm - centre[1]
    hu = np.where(x * x + y * y <= 50.0 ** 2, 0, -1000).astype(np.int32)
    for k in range(slices):
        ds = image("1.2.840.10008.5.1.4.1.1.2", "CT")
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.StudyDate, ds.SeriesDate = SCAN[0], SCAN[0]
        ds.SeriesTime = SCAN[1]
        ds.SeriesNumber, ds.InstanceNumber = 2, k + 1
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [float(origin[0]), float(origin[1]), float(origin[2] + k * mm)]
        ds.PixelSpacing = [mm, mm]
        ds.SliceThickness = mm
        ds.Rows, ds.Columns = rows, columns
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = "1", "-1024"
        ds.PixelData = (hu + 1024).astype(np.int16).tobytes()
        pydicom.dcmwrite(os.path.join(folder, f"ct{k:03}.dcm"), ds, enforce_file_format=True)


def suv_factor():
    start = datetime.strptime(START, "%Y%m%d%H%M%S.%f")
    scan = datetime.strptime(SCAN[0] + SCAN[1], "%Y%m%d%H%M%S.%f")
    decay = (scan - start).total_seconds()
    decayed = DOSE_BQ * 2.0 ** (-decay / HALF_LIFE_S)
    return WEIGHT_KG * 1000.0 / decayed, decay


def main():
    folder, box = sys.argv[1], [float(v) for v in sys.argv[2].split(",")]
    study, frame = generate_uid(), generate_uid()
    values = write(folder, activity(), study, frame)
    if "--with-ct" in sys.argv[3:]:
        write_ct(folder, study, frame)
    factor, decay = suv_factor()
    low, high = np.minimum(box[:3], box[3:]), np.maximum(box[:3], box[3:])
    steps = np.array([PIXEL_MM, PIXEL_MM, SLICE_MM])
    first = np.maximum(np.ceil((low - ORIGIN) / steps), 0).astype(int)
    last = np.minimum(np.floor((high - ORIGIN) / steps), [COLUMNS - 1, ROWS - 1, SLICES - 1]).astype(int)
    region = values[first[2]:last[2] + 1, first[1]:last[1] + 1, first[0]:last[0] + 1]
    k, j, i = np.meshgrid(np.arange(SLICES), np.arange(ROWS), np.arange(COLUMNS), indexing="ij")
    centres = np.stack([i * PIXEL_MM, j * PIXEL_MM, k * SLICE_MM], axis=-1)
    peak = -math.inf
    for kk in range(first[2], last[2] + 1):
        for jj in range(first[1], last[1] + 1):
            for ii in range(first[0], last[0] + 1):
                near = np.linalg.norm(centres - centres[kk, jj, ii], axis=-1) <= SPHERE_RADIUS_MM
                peak = max(peak, values[near].mean())
    segment = None
    if "--threshold" in sys.argv[3:]:
        low = float(sys.argv[sys.argv.index("--threshold") + 1])
        inside = values >= low
        peaks = [
            values[np.linalg.norm(centres - centres[kk, jj, ii], axis=-1) <= SPHERE_RADIUS_MM].mean()
            for kk, jj, ii in zip(*np.nonzero(inside))
        ]
        segment = {
            "voxels": int(inside.sum()),
            "suv_max": float(values[inside].max() * factor),
            "suv_mean": float(values[inside].mean() * factor),
            "suv_peak": float(max(peaks) * factor),
        }
    print(json.dumps({
        "segment": segment,
        "factor": factor,
        "decay_s": decay,
        "voxels": int(region.size),
        "suv_max": float(region.max() * factor),
        "suv_mean": float(region.mean() * factor),
        "suv_peak": float(peak * factor),
        "centre_bq_ml": float(values[6, 10, 12]),
        "centre_lps_mm": [float(ORIGIN[0] + 12 * PIXEL_MM), float(ORIGIN[1] + 10 * PIXEL_MM), float(ORIGIN[2] + 6 * SLICE_MM)],
    }))


if __name__ == "__main__":
    main()
