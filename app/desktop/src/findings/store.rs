//! Where the desktop keeps findings: a series retrieved from a PACS sends its report, key
//! images and snapshots back to that PACS (STOW-RS) and finds its newest report there when
//! it opens again; any other series keeps them in the findings folder beside the settings.
//! The choice between the two is the server's own ([`DocumentHome`]). Documents are signed
//! by the user logged in to this computer. Every call here but [`Keeping::of_source`] may
//! wait on a network: the window makes them off its thread.

use std::path::{Path, PathBuf};

use hounsfield_dicomweb::{
    DicomWeb, DocumentHome, HomeError, KeptDocument, KeptSegmentation, Place,
};
use hounsfield_findings::folder::FOLDER_NAME;
use hounsfield_findings::report::{
    ImageRef, MeasuredFinding, ReadReport, ReportSubject, ReportedCalcium, Snapshot,
    key_object_selection, measurement_report, new_uid, secondary_capture, segmentation_with_report,
};
use hounsfield_findings::segmentation::ReadSegmentation;
use hounsfield_segment::Segment;
use render_core::Volume;

use hounsfield_workstation::authorship::authorship_now as authorship;
use hounsfield_workstation::source;

/// The findings folder beside the settings file `settings_path`.
pub fn folder_beside(settings_path: &Path) -> Option<PathBuf> {
    settings_path
        .parent()
        .map(|folder| folder.join(FOLDER_NAME))
}

/// Where the findings of the series shown are kept.
#[derive(Debug, Clone)]
pub enum Keeping {
    /// The findings folder beside the settings.
    Folder(PathBuf),
    /// The PACS the series was retrieved from.
    Pacs(Box<DicomWeb>),
}

impl Keeping {
    /// Where a series opened from `path` keeps its findings: the PACS when `path` is a
    /// DICOMweb URL, else `folder`; `Err(why)` when there is neither.
    pub fn of_source(path: Option<&Path>, folder: Option<PathBuf>) -> Result<Self, String> {
        if let Some(url) = path.and_then(source::dicomweb_url) {
            return source::dicomweb(url)
                .map(|pacs| Self::Pacs(Box::new(pacs)))
                .map_err(|error| format!("the PACS at {url} cannot take findings: {error:#}"));
        }
        folder.map(Self::Folder).ok_or_else(|| {
            "there is no settings folder to keep findings in (set HOUNSFIELD_SETTINGS)".to_string()
        })
    }

    /// The choice the server makes too.
    fn home(&self) -> DocumentHome<'_> {
        match self {
            Self::Folder(folder) => DocumentHome::Folder(folder),
            Self::Pacs(pacs) => DocumentHome::Pacs(pacs),
        }
    }
}

/// Where a document went, as the panel says it: the file, or the PACS and its URL.
pub fn place_text(place: &Place) -> String {
    match place {
        Place::Folder { file } => file.display().to_string(),
        Place::Pacs { url } => format!("the PACS ({url})"),
    }
}

/// What a save of the report kept.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptReport {
    /// The report and where it went.
    pub kept: KeptDocument,
    /// The report's series, for the next save of the same series.
    pub report_series_uid: String,
}

/// Keeps `findings` and a calcium score on `subject`'s series (measured on `volume`) as
/// the series' report, in the report series `report_series_uid` (a new one when `None`).
pub fn save(
    keeping: &Keeping,
    subject: &ReportSubject,
    volume: &Volume,
    (findings, calcium): (&[MeasuredFinding], Option<&ReportedCalcium>),
    report_series_uid: Option<String>,
) -> Result<KeptReport, HomeError> {
    let report_series_uid = match report_series_uid {
        Some(uid) => uid,
        None => new_uid()?,
    };
    let authorship = authorship(Some(report_series_uid.clone()));
    let report = measurement_report(subject, volume, findings, calcium, &authorship)?;
    let kept = keeping
        .home()
        .keep_report(&subject.study_uid, &subject.series_uid, &report)?;
    Ok(KeptReport {
        kept,
        report_series_uid,
    })
}

/// Keeps a Key Object Selection of `image` of `subject`'s series, described by `note`.
pub fn key_image(
    keeping: &Keeping,
    subject: &ReportSubject,
    image: ImageRef,
    note: &str,
) -> Result<KeptDocument, HomeError> {
    let document = key_object_selection(subject, &[image], note, &authorship(None))?;
    keeping.home().keep_document(&subject.study_uid, &document)
}

/// Keeps `snapshot` of the 3D view as a Secondary Capture image in `subject`'s study.
pub fn snapshot(
    keeping: &Keeping,
    subject: &ReportSubject,
    snapshot: Snapshot<'_>,
) -> Result<KeptDocument, HomeError> {
    let image = secondary_capture(subject, snapshot, &authorship(None))?;
    keeping.home().keep_document(&subject.study_uid, &image)
}

/// Keeps `segments` (drawn on `volume`) as a Segmentation of `subject`'s series, with the
/// Measurement Report of their numbers beside it; where the Segmentation went.
pub fn segmentation(
    keeping: &Keeping,
    subject: &ReportSubject,
    volume: &Volume,
    segments: &[Segment],
) -> Result<KeptDocument, HomeError> {
    let [segmentation, report] =
        segmentation_with_report(subject, volume, segments, &authorship(None))?;
    let home = keeping.home();
    let kept = home.keep_document(&subject.study_uid, &segmentation)?;
    home.keep_document(&subject.study_uid, &report)?;
    Ok(kept)
}

/// The Segmentations kept for `subject`'s series, newest first.
pub fn segmentations(
    keeping: &Keeping,
    subject: &ReportSubject,
) -> Result<Vec<KeptSegmentation>, HomeError> {
    keeping
        .home()
        .segmentations_of(&subject.study_uid, &subject.series_uid)
}

/// Reads `kept` (one [`segmentations`] found) onto `volume`'s grid.
pub fn read_segmentation(
    keeping: &Keeping,
    kept: &KeptSegmentation,
    volume: &Volume,
) -> Result<ReadSegmentation, HomeError> {
    keeping.home().read_segmentation(kept, volume)
}

/// The newest report kept for `subject`'s series, if there is one.
pub fn load(keeping: &Keeping, subject: &ReportSubject) -> Result<Option<ReadReport>, HomeError> {
    keeping
        .home()
        .newest_report(&subject.study_uid, &subject.series_uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_findings_folder_is_beside_the_settings() {
        let folder = folder_beside(Path::new("/home/rita/.config/hounsfield/settings.toml"));
        assert_eq!(
            folder.as_deref(),
            Some(Path::new("/home/rita/.config/hounsfield/findings"))
        );
    }

    #[test]
    fn a_pacs_series_keeps_its_findings_on_the_pacs_and_a_folder_series_in_the_folder() {
        let folder = PathBuf::from("/home/rita/.config/hounsfield/findings");
        let url = PathBuf::from("http://pacs.example:8042/dicom-web");
        assert!(matches!(
            Keeping::of_source(Some(&url), Some(folder.clone())),
            Ok(Keeping::Pacs(pacs)) if pacs.base().as_str().starts_with("http://pacs.example:8042/dicom-web")
        ));
        assert!(matches!(
            Keeping::of_source(Some(Path::new("/data/ct")), Some(folder.clone())),
            Ok(Keeping::Folder(kept)) if kept == folder
        ));
        let why = Keeping::of_source(Some(Path::new("/data/ct")), None).expect_err("nowhere");
        assert!(why.contains("HOUNSFIELD_SETTINGS"), "{why}");
        assert_eq!(
            place_text(&Place::Pacs {
                url: "http://pacs/dicom-web/studies/1.2".into()
            }),
            "the PACS (http://pacs/dicom-web/studies/1.2)"
        );
    }
}
