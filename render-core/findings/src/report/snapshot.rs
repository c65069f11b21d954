//! 3D snapshots: a rendered view stored as a Secondary Capture image (RGB, 8 bits) in the
//! series' study, with the patient and study of the series and the view in its words.

use dicom_core::value::PrimitiveValue;
use dicom_core::{DataElement, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileDicomObject, InMemDicomObject};
use hounsfield_scene::view::ViewState;

use super::elements::Authorship;
use super::elements::{DocumentKind, document_header, part10, text_element};
use super::subject::ReportSubject;
use super::uid::new_uid;
use crate::error::FindingError;

/// Secondary Capture Image Storage.
pub const SECONDARY_CAPTURE: &str = "1.2.840.10008.5.1.4.1.1.7";

/// The most pixels a snapshot may have: a 4096 × 4096 view, the largest a session draws.
pub const MAX_SNAPSHOT_PIXELS: usize = 4096 * 4096;

/// A rendered view: RGB pixels, rows top to bottom, and what it shows in words.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width × height × 3` bytes, red, green, blue.
    pub rgb: &'a [u8],
    /// The view (preset, mode, direction…), put in the image's comments and derivation.
    pub description: &'a str,
}

/// What a snapshot of `view` on series `series_uid` shows, in words: the preset, the mode,
/// the direction looked along and the zoom, after the radiologist's `note` when there is
/// one.
pub fn view_description(series_uid: &str, view: &ViewState, note: &str) -> String {
    let direction = view.camera.direction;
    let description = format!(
        "3D view of series {series_uid}: preset {}, {} mode, looking along LPS ({:.2}, {:.2}, {:.2}), zoom {:.2}",
        view.preset,
        view.mode.name(),
        direction.x,
        direction.y,
        direction.z,
        view.camera.zoom
    );
    if note.is_empty() {
        description
    } else {
        format!("{note}. {description}")
    }
}

/// A Secondary Capture image of `snapshot` in `subject`'s study.
pub fn secondary_capture(
    subject: &ReportSubject,
    snapshot: Snapshot<'_>,
    authorship: &Authorship,
) -> Result<FileDicomObject<InMemDicomObject>, FindingError> {
    let pixels = snapshot.width as usize * snapshot.height as usize;
    if pixels == 0 || pixels > MAX_SNAPSHOT_PIXELS || snapshot.rgb.len() != pixels * 3 {
        return Err(FindingError::Encode(format!(
            "a snapshot of {}×{} needs {} bytes of RGB, not {} (and at most {MAX_SNAPSHOT_PIXELS} pixels)",
            snapshot.width,
            snapshot.height,
            pixels * 3,
            snapshot.rgb.len()
        )));
    }
    let (rows, columns) = (
        u16::try_from(snapshot.height),
        u16::try_from(snapshot.width),
    );
    let (Ok(rows), Ok(columns)) = (rows, columns) else {
        return Err(FindingError::Encode(
            "a snapshot wider or taller than 65535".into(),
        ));
    };
    let instance_uid = new_uid()?;
    let series_uid = match &authorship.series_uid {
        Some(uid) => uid.clone(),
        None => new_uid()?,
    };
    let mut image = document_header(
        subject,
        DocumentKind {
            sop_class_uid: SECONDARY_CAPTURE,
            modality: "OT",
            series_number: "9003",
            series_description: "3D snapshots",
        },
        &instance_uid,
        &series_uid,
        authorship,
    );
    let description: String = snapshot.description.chars().take(1024).collect();
    for (tag, vr, value) in [
        (tags::CONVERSION_TYPE, VR::CS, "WSD"),
        // General Series asks for it (2C) whatever the body part: unknown here.
        (tags::LATERALITY, VR::CS, ""),
        (tags::PATIENT_ORIENTATION, VR::CS, ""),
        (tags::IMAGE_TYPE, VR::CS, "DERIVED\\SECONDARY"),
        (tags::BURNED_IN_ANNOTATION, VR::CS, "NO"),
        (tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "RGB"),
        (tags::DERIVATION_DESCRIPTION, VR::ST, &description),
        (tags::IMAGE_COMMENTS, VR::LT, &description),
    ] {
        image.put(text_element(tag, vr, value));
    }
    for (tag, value) in [
        (tags::SAMPLES_PER_PIXEL, 3),
        (tags::PLANAR_CONFIGURATION, 0),
        (tags::ROWS, rows),
        (tags::COLUMNS, columns),
        (tags::BITS_ALLOCATED, 8),
        (tags::BITS_STORED, 8),
        (tags::HIGH_BIT, 7),
        (tags::PIXEL_REPRESENTATION, 0),
    ] {
        image.put(DataElement::new(tag, VR::US, PrimitiveValue::from(value)));
    }
    let mut data = snapshot.rgb.to_vec();
    // Values have an even length: an odd one is padded with a zero.
    if data.len() % 2 == 1 {
        data.push(0);
    }
    image.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PrimitiveValue::from(data),
    ));
    part10(image, SECONDARY_CAPTURE, &instance_uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_is_described_after_the_note() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        let view = ViewState::initial(
            &volume,
            "ct-bone",
            hounsfield_scene::transfer::RenderMode::Mip,
        );
        let bare = view_description("1.2.3", &view, "");
        assert!(
            bare.starts_with(
                "3D view of series 1.2.3: preset ct-bone, mip mode, looking along LPS ("
            ),
            "{bare}"
        );
        assert_eq!(
            view_description("1.2.3", &view, "fracture"),
            format!("fracture. {bare}")
        );
    }
}
