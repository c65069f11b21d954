//! Who and what a report is about: the patient, the study and the series its findings were
//! drawn on, and which stored image each slice of the volume is.

use glam::DVec3;
use hounsfield_vocabulary::SlicePlane;
use hounsfield_volume::Volume;
use hounsfield_volume::dicom::header::ImageHeader;
use hounsfield_volume::dicom::stack::plan_stack;
use hounsfield_volume::dicom::{Series, StackPlan, plan_time_points};

use crate::Finding;
use crate::outline::PlaneAxes;
use crate::statistics::grid_axis_along;

/// One stored image: its SOP class and instance, and its frame in a multi-frame file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// SOP Class UID.
    pub sop_class_uid: String,
    /// SOP Instance UID.
    pub sop_instance_uid: String,
    /// The frame (from 1) in a multi-frame instance; `None` for a single-frame one.
    pub frame: Option<u32>,
}

/// Whether two series are one patient's, each given as its study (a StudyInstanceUID, or
/// a listing's id of it) and its PatientID: one study, or one PatientID that is not empty
/// (padding aside). A series is drawn over another only then, by a server and by the
/// desktop alike.
pub fn one_patient(
    (first_study, first_patient): (&str, &str),
    (second_study, second_patient): (&str, &str),
) -> bool {
    let same_study = !first_study.is_empty() && first_study == second_study;
    let patient = first_patient.trim();
    same_study || (!patient.is_empty() && patient == second_patient.trim())
}

/// The patient, the study and the series a report's findings are on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportSubject {
    /// PatientName.
    pub patient_name: String,
    /// PatientID.
    pub patient_id: String,
    /// PatientBirthDate.
    pub patient_birth_date: String,
    /// PatientSex.
    pub patient_sex: String,
    /// StudyInstanceUID: the report joins the study.
    pub study_uid: String,
    /// StudyDate.
    pub study_date: String,
    /// StudyTime.
    pub study_time: String,
    /// StudyID.
    pub study_id: String,
    /// AccessionNumber.
    pub accession_number: String,
    /// ReferringPhysicianName.
    pub referring_physician: String,
    /// StudyDescription.
    pub study_description: String,
    /// The SeriesInstanceUID of the images the findings are on.
    pub series_uid: String,
    /// The series' FrameOfReferenceUID: the findings' coordinates are in it.
    pub frame_of_reference_uid: String,
    /// The series' modality.
    pub modality: String,
    /// The stored image of each slice `k` of the volume; empty when the volume's slices
    /// are not the series' images (resampled between them).
    pub slice_images: Vec<ImageRef>,
    /// In a series over time, each volume's stored image of each slice (the first
    /// volume's are `slice_images`); empty for a series of one volume.
    pub volumes_slice_images: Vec<Vec<ImageRef>>,
    /// Every instance of the series (once each): the evidence a report is made from.
    pub instances: Vec<ImageRef>,
}

/// The stored image of each slice of `plan` (its slices the images it stacks from
/// `images`); none when the plan resamples between them.
fn stored_slices(plan: &StackPlan, images: &[ImageHeader]) -> Vec<ImageRef> {
    if plan.resample_at_mm.is_some() {
        return Vec::new();
    }
    plan.slices
        .iter()
        .map(|slice| {
            let image = &images[slice.image];
            ImageRef {
                sop_class_uid: image.sop_class_uid.clone(),
                sop_instance_uid: image.sop_instance_uid.clone(),
                frame: (image.frames_in_file > 1).then_some(image.frame + 1),
            }
        })
        .collect()
}

impl ReportSubject {
    /// The subject of a catalogued series.
    pub fn of_series(series: &Series) -> Self {
        let Some(first) = series.images.first() else {
            return Self::default();
        };
        let identity = &first.identity;
        let slice_images = match &series.plan {
            Ok(plan) => stored_slices(plan, &series.images),
            Err(_) => Vec::new(),
        };
        let time_points = plan_time_points(&series.images);
        let volumes_slice_images = if time_points.len() > 1 {
            time_points
                .iter()
                .map(|time_point| {
                    let images: Vec<ImageHeader> = time_point
                        .images
                        .iter()
                        .map(|&n| series.images[n].clone())
                        .collect();
                    plan_stack(&series.id, &images)
                        .map(|plan| stored_slices(&plan, &images))
                        .unwrap_or_default()
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut instances: Vec<ImageRef> = series
            .images
            .iter()
            .map(|image| ImageRef {
                sop_class_uid: image.sop_class_uid.clone(),
                sop_instance_uid: image.sop_instance_uid.clone(),
                frame: None,
            })
            .collect();
        instances.sort_by(|a, b| a.sop_instance_uid.cmp(&b.sop_instance_uid));
        instances.dedup();
        Self {
            patient_name: identity.patient_name.clone(),
            patient_id: identity.patient_id.clone(),
            patient_birth_date: identity.patient_birth_date.clone(),
            patient_sex: identity.patient_sex.clone(),
            study_uid: identity.study_uid.clone(),
            study_date: identity.study_date.clone(),
            study_time: identity.study_time.clone(),
            study_id: identity.study_id.clone(),
            accession_number: identity.accession_number.clone(),
            referring_physician: identity.referring_physician.clone(),
            study_description: identity.study_description.clone(),
            series_uid: identity.series_uid.clone(),
            frame_of_reference_uid: first.frame_of_reference_uid.clone(),
            modality: identity.modality.clone(),
            slice_images,
            volumes_slice_images,
            instances,
        }
    }

    /// The subject as volume `index` of a series over time shows it: each slice is that
    /// volume's stored image (the same subject for a series of one volume).
    pub fn of_volume(&self, index: usize) -> Self {
        let mut subject = self.clone();
        if let Some(images) = self.volumes_slice_images.get(index) {
            subject.slice_images.clone_from(images);
        }
        subject
    }

    /// The stored image `finding` lies on: the slice of the volume it was drawn on, when
    /// that slice is one of the series' images (drawn across the stack's slices).
    pub fn image_of(&self, volume: &Volume, finding: &Finding) -> Option<&ImageRef> {
        self.image_facing(volume, finding.axes.normal, *finding.points_lps.first()?)
    }

    /// The stored slice image nearest `point` (its slice of the stack, clamped to the
    /// stack): what an oblique finding's region is listed by in a report's image library.
    pub fn image_nearest(&self, volume: &Volume, point: DVec3) -> Option<&ImageRef> {
        let last = self.slice_images.len().checked_sub(1)?;
        let k = volume.lps_to_voxel(point).z.round();
        let k = if k.is_finite() {
            k.clamp(0.0, last as f64) as usize
        } else {
            0
        };
        self.slice_images.get(k)
    }

    /// The series' stored image that `image` names (its instance and frame), when it is
    /// one of the series' slices.
    pub fn image_named(&self, image: &ImageRef) -> Option<&ImageRef> {
        self.slice_images
            .iter()
            .chain(self.volumes_slice_images.iter().flatten())
            .find(|ours| {
                ours.sop_instance_uid == image.sop_instance_uid && ours.frame == image.frame
            })
    }

    /// The stored image a slice of `plane` through `point` shows, when that slice is one
    /// of the series' images (a plane across the stack of slices).
    pub fn image_at(&self, volume: &Volume, plane: SlicePlane, point: DVec3) -> Option<&ImageRef> {
        self.image_facing(volume, PlaneAxes::of(plane).normal, point)
    }

    /// The stored image a slice facing `normal` through `point` shows, when that slice is
    /// one of the series' images (an oblique slice is none).
    fn image_facing(&self, volume: &Volume, normal: DVec3, point: DVec3) -> Option<&ImageRef> {
        if grid_axis_along(volume, normal) != Some(2) {
            return None;
        }
        let k = volume.lps_to_voxel(point).z.round();
        if k < 0.0 {
            return None;
        }
        self.slice_images.get(k as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::one_patient;

    #[test]
    fn one_study_or_one_padded_patient_id_is_one_patient_and_empty_ones_are_not() {
        assert!(one_patient(("1.2.3", ""), ("1.2.3", "other")));
        assert!(one_patient(
            ("1.2.3", "yI1Yf6zek5U "),
            ("4.5.6", "yI1Yf6zek5U")
        ));
        assert!(!one_patient(("1.2.3", "A"), ("4.5.6", "B")));
        assert!(!one_patient(("", " "), ("", "")), "nothing known is no one");
    }
}
