//! Segments as DICOM Segmentation objects (binary SEG): written beside the reports, and
//! read back (ours or another program's) onto a series' grid.

mod colour;
mod read;
mod write;

pub use read::{
    ReadSegmentation, SegmentationHeader, read_segmentation, read_segmentation_file,
    read_segmentation_header,
};
pub use write::{SEGMENTATION_STORAGE, segmentation};

/// The most segments one SEG may carry, written or read.
pub const MOST_SEGMENTS: usize = 255;
/// The most frames a SEG read back may hold (255 segments over 1,000 slices would be
/// more than any reading makes).
pub const MOST_FRAMES: usize = 65_536;
/// The most bytes a SEG read back may have.
pub const MOST_SEGMENTATION_BYTES: u64 = 512 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use dicom_core::value::PrimitiveValue;
    use dicom_core::{DataElement, VR};
    use dicom_dictionary_std::tags;
    use dicom_object::InMemDicomObject;
    use glam::{DMat4, DVec3};
    use hounsfield_segment::{Algorithm, Grid, Mask, Segment};
    use hounsfield_volume::{Modality, Volume, Voxels};

    use super::*;
    use crate::report::{Authorship, ImageRef, ReportSubject};

    /// A 7 × 5 × 4 CT of 0.5 × 0.5 × 2 mm voxels (35 bits a slice: frames share bytes).
    fn volume() -> Volume {
        let affine = DMat4::from_translation(DVec3::new(-10.0, 4.0, 100.0))
            * DMat4::from_scale(DVec3::new(0.5, 0.5, 2.0));
        let voxels = (0..140).map(|n| n as i16).collect();
        Volume::new(Voxels::I16(voxels), [7, 5, 4], affine, Modality::CT, None).expect("a volume")
    }

    fn subject() -> ReportSubject {
        let image = |k: usize| ImageRef {
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".to_string(),
            sop_instance_uid: format!("1.2.3.4.5.{k}"),
            frame: None,
        };
        ReportSubject {
            study_uid: "1.2.3".to_string(),
            series_uid: "1.2.3.4".to_string(),
            frame_of_reference_uid: "1.2.3.9".to_string(),
            modality: "CT".to_string(),
            slice_images: (0..4).map(image).collect(),
            instances: (0..4).map(image).collect(),
            ..ReportSubject::default()
        }
    }

    fn authorship() -> Authorship {
        Authorship {
            observer: "Reader^Rita".to_string(),
            date: "20261127".to_string(),
            time: "101500".to_string(),
            series_uid: None,
        }
    }

    fn segments(volume: &Volume) -> Vec<Segment> {
        let grid = Grid::of(volume);
        let a = Mask::from_indices(grid, [0, 3, 34, 35, 36, 139]);
        let b = Mask::from_indices(grid, [70, 71, 72]);
        let mut liver = Segment::new("Liver", [200, 90, 60], Algorithm::Manual, b);
        liver.property_type = hounsfield_segment::segment::Code::snomed("10200004", "Liver");
        vec![
            Segment::new(
                "Bone",
                [240, 240, 200],
                Algorithm::Semiautomatic("threshold".to_string()),
                a,
            ),
            liver,
        ]
    }

    fn written() -> (Volume, InMemDicomObject) {
        let volume = volume();
        let document = segmentation(&subject(), &volume, &segments(&volume), &authorship())
            .expect("a segmentation");
        (volume, document.into_inner())
    }

    #[test]
    fn segments_come_back_as_written() {
        let (volume, document) = written();
        // Bone touches slices 0, 1 and 3; the liver slice 2.
        let frames = document
            .element(tags::NUMBER_OF_FRAMES)
            .ok()
            .and_then(|e| e.to_int::<u32>().ok());
        assert_eq!(frames, Some(4));
        let read = read_segmentation("test", &document, &volume).expect("read back");
        assert_eq!(read.pixels_outside, 0);
        let expected = segments(&volume);
        assert_eq!(read.segments.len(), 2);
        for (got, wanted) in read.segments.iter().zip(&expected) {
            assert_eq!(got.mask, wanted.mask, "{}", wanted.label);
            assert_eq!(got.label, wanted.label);
            assert_eq!(got.algorithm, wanted.algorithm);
            assert_eq!(got.property_type, wanted.property_type);
            for c in 0..3 {
                assert!(
                    got.colour[c].abs_diff(wanted.colour[c]) <= 1,
                    "{:?}",
                    got.colour
                );
            }
        }
        assert_eq!(
            read.header.referenced_series_uids,
            vec!["1.2.3.4".to_string()]
        );
        assert_eq!(read.header.frame_of_reference_uid, "1.2.3.9");
    }

    #[test]
    fn a_segmentation_on_a_grid_twice_as_fine_lands_on_the_nearest_voxels() {
        // The same patient space on voxels half as large: each voxel of the coarse grid is
        // where the fine voxels at twice its index lie.
        let coarse = volume();
        let fine_affine = DMat4::from_translation(DVec3::new(-10.0, 4.0, 100.0))
            * DMat4::from_scale(DVec3::new(0.25, 0.25, 1.0));
        let fine = Volume::new(
            Voxels::I16(vec![0; 14 * 10 * 8]),
            [14, 10, 8],
            fine_affine,
            Modality::CT,
            None,
        )
        .expect("a volume");
        let fine_grid = Grid::of(&fine);
        let coarse_grid = Grid::of(&coarse);
        let spot = fine_grid.index([6, 4, 2]).expect("inside");
        let segment = Segment::new(
            "Spot",
            [255, 0, 0],
            Algorithm::Manual,
            Mask::from_indices(fine_grid, [spot]),
        );
        let document = segmentation(&subject(), &fine, &[segment], &authorship())
            .expect("a segmentation")
            .into_inner();
        let read = read_segmentation("fine", &document, &coarse).expect("read");
        let landed: Vec<usize> = read.segments[0].mask.indices().collect();
        assert_eq!(landed, vec![coarse_grid.index([3, 2, 1]).expect("inside")]);
    }

    #[test]
    fn lying_counts_and_short_pixels_are_refused_by_name() {
        let refused = |change: &dyn Fn(&mut InMemDicomObject), expected: &str| {
            let (volume, mut document) = written();
            change(&mut document);
            let error = read_segmentation("lying.dcm", &document, &volume)
                .expect_err("a lying segmentation");
            let said = error.to_string();
            assert!(said.starts_with("lying.dcm"), "{said}");
            assert!(said.contains(expected), "{said}");
        };
        fn put(
            tag: dicom_core::Tag,
            vr: VR,
            value: &'static str,
        ) -> impl Fn(&mut InMemDicomObject) {
            move |document: &mut InMemDicomObject| {
                document.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
            }
        }
        refused(
            &put(tags::NUMBER_OF_FRAMES, VR::IS, "4000000"),
            "NumberOfFrames",
        );
        refused(&put(tags::NUMBER_OF_FRAMES, VR::IS, "5"), "PixelData");
        refused(
            &put(tags::SEGMENTATION_TYPE, VR::CS, "FRACTIONAL"),
            "binary",
        );
        refused(
            &put(tags::SOP_CLASS_UID, VR::UI, "1.2.840.10008.5.1.4.1.1.2"),
            "Segmentation Storage",
        );
        refused(
            &|document: &mut InMemDicomObject| {
                document.put(DataElement::new(
                    tags::ROWS,
                    VR::US,
                    PrimitiveValue::from(60000_u16),
                ));
            },
            "PixelData",
        );
        refused(
            &|document: &mut InMemDicomObject| {
                document.put(DataElement::new(
                    tags::PIXEL_DATA,
                    VR::OB,
                    PrimitiveValue::U8(vec![0u8; 4].into()),
                ));
            },
            "PixelData holds 4 bytes",
        );
    }
}
