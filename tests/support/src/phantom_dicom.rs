//! Writes the built-in phantom as a classic DICOM CT series, in the usual layout or in a
//! scrambled one (reversed row and column directions, slices stored last-first, file
//! names shuffled), so tests can check that geometry, not storage order, places voxels.

use std::path::Path;

use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use glam::DVec3;
use render_core::Volume;

/// How the slices are laid out in the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Rows along +x (left), columns along +y (posterior), files in slice order.
    Standard,
    /// Rows along −x, columns along −y, the last slice in the first instance, and file
    /// names in a shuffled order.
    Scrambled,
}

const CT_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.2";
const EXPLICIT_VR_LE: &str = "1.2.840.10008.1.2.1";

/// Writes `volume` (an axial i16 volume such as the phantom) into `dir`.
pub fn write_series(volume: &Volume, dir: &Path, layout: Layout) {
    let [ni, nj, nk] = volume.dims;
    let render_core::Voxels::I16(voxels) = &volume.voxels else {
        panic!("the phantom is i16");
    };
    let spacing = volume.spacing_mm;
    let scrambled = layout == Layout::Scrambled;
    // A fixed permutation of the file names (a multiplicative step coprime with nk).
    let step = (1..nk)
        .rev()
        .find(|s| gcd(*s, nk) == 1 && *s > nk / 3)
        .unwrap_or(1);
    for n in 0..nk {
        let k = if scrambled { nk - 1 - n } else { n };
        let (row_dir, col_dir, first) = if scrambled {
            (
                DVec3::NEG_X,
                DVec3::NEG_Y,
                volume.voxel_to_lps_point(DVec3::new((ni - 1) as f64, (nj - 1) as f64, k as f64)),
            )
        } else {
            (
                DVec3::X,
                DVec3::Y,
                volume.voxel_to_lps_point(DVec3::new(0.0, 0.0, k as f64)),
            )
        };
        let mut pixels = Vec::with_capacity(ni * nj * 2);
        for r in 0..nj {
            for c in 0..ni {
                let (i, j) = if scrambled {
                    (ni - 1 - c, nj - 1 - r)
                } else {
                    (c, r)
                };
                let value = voxels[i + ni * (j + nj * k)];
                pixels.extend_from_slice(&value.to_le_bytes());
            }
        }
        let instance = format!("2.25.4711{}{}", u8::from(scrambled), 1000 + n);
        let mut object = InMemDicomObject::new_empty();
        let text = |object: &mut InMemDicomObject, tag, vr, value: &str| {
            object.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
        };
        text(&mut object, tags::SOP_CLASS_UID, VR::UI, CT_IMAGE_STORAGE);
        text(&mut object, tags::SOP_INSTANCE_UID, VR::UI, &instance);
        text(&mut object, tags::MODALITY, VR::CS, "CT");
        text(
            &mut object,
            tags::PATIENT_NAME,
            VR::PN,
            "Phantom^Orientation",
        );
        text(&mut object, tags::PATIENT_ID, VR::LO, "PHANTOM");
        text(
            &mut object,
            tags::STUDY_INSTANCE_UID,
            VR::UI,
            "2.25.4711001",
        );
        let series = format!("2.25.4711002{}", u8::from(scrambled));
        text(&mut object, tags::SERIES_INSTANCE_UID, VR::UI, &series);
        text(
            &mut object,
            tags::FRAME_OF_REFERENCE_UID,
            VR::UI,
            "2.25.4711003",
        );
        text(&mut object, tags::SERIES_NUMBER, VR::IS, "1");
        text(
            &mut object,
            tags::INSTANCE_NUMBER,
            VR::IS,
            &(n + 1).to_string(),
        );
        let numbers = |values: &[f64]| {
            values
                .iter()
                .map(|v| format!("{v:.6}"))
                .collect::<Vec<_>>()
                .join("\\")
        };
        let orientation = numbers(&[
            row_dir.x, row_dir.y, row_dir.z, col_dir.x, col_dir.y, col_dir.z,
        ]);
        text(
            &mut object,
            tags::IMAGE_ORIENTATION_PATIENT,
            VR::DS,
            &orientation,
        );
        text(
            &mut object,
            tags::IMAGE_POSITION_PATIENT,
            VR::DS,
            &numbers(&[first.x, first.y, first.z]),
        );
        text(
            &mut object,
            tags::PIXEL_SPACING,
            VR::DS,
            &numbers(&[spacing[1], spacing[0]]),
        );
        text(
            &mut object,
            tags::SLICE_THICKNESS,
            VR::DS,
            &numbers(&[spacing[2]]),
        );
        text(
            &mut object,
            tags::PHOTOMETRIC_INTERPRETATION,
            VR::CS,
            "MONOCHROME2",
        );
        text(&mut object, tags::RESCALE_INTERCEPT, VR::DS, "0");
        text(&mut object, tags::RESCALE_SLOPE, VR::DS, "1");
        let short = |object: &mut InMemDicomObject, tag, value: u16| {
            object.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
        };
        short(&mut object, tags::SAMPLES_PER_PIXEL, 1);
        short(&mut object, tags::ROWS, nj as u16);
        short(&mut object, tags::COLUMNS, ni as u16);
        short(&mut object, tags::BITS_ALLOCATED, 16);
        short(&mut object, tags::BITS_STORED, 16);
        short(&mut object, tags::HIGH_BIT, 15);
        short(&mut object, tags::PIXEL_REPRESENTATION, 1);
        object.put(DataElement::new(
            tags::PIXEL_DATA,
            VR::OW,
            PrimitiveValue::from(pixels),
        ));
        let file = object
            .with_meta(
                FileMetaTableBuilder::new()
                    .transfer_syntax(EXPLICIT_VR_LE)
                    .media_storage_sop_class_uid(CT_IMAGE_STORAGE)
                    .media_storage_sop_instance_uid(instance.as_str()),
            )
            .expect("file meta is complete");
        let name = if scrambled { (n * step) % nk } else { n };
        file.write_to_file(dir.join(format!("IM{name:05}.dcm")))
            .expect("phantom slice written");
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}
