//! Where the desktop keeps findings: the latest Measurement Report of each series in the
//! findings folder beside its settings, signed by the user logged in to this computer.

use std::path::{Path, PathBuf};

use hounsfield_findings::FindingError;
use hounsfield_findings::folder::{FOLDER_NAME, keep_report, kept_report};
use hounsfield_findings::report::{
    Authorship, MeasuredFinding, ReadReport, ReportSubject, measurement_report, new_uid,
};
use render_core::Volume;

/// The findings folder beside the settings file `settings_path`.
pub fn folder_beside(settings_path: &Path) -> Option<PathBuf> {
    settings_path
        .parent()
        .map(|folder| folder.join(FOLDER_NAME))
}

/// The observer a report names: the user logged in (`USER`, `USERNAME` or `LOGNAME`), or
/// `Unknown`. Backslashes, which would split a DICOM value, are left out.
pub fn observer_name() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|name| name.replace('\\', "").trim().to_string())
        .find(|name| !name.is_empty())
        .unwrap_or_else(|| "Unknown".to_string())
}

/// A report's ContentDate (`YYYYMMDD`) and ContentTime (`HHMMSS`) at `now`, in the
/// computer's local time (as the server writes them).
pub fn content_date_time<Tz: chrono::TimeZone>(now: chrono::DateTime<Tz>) -> (String, String)
where
    Tz::Offset: std::fmt::Display,
{
    (
        now.format("%Y%m%d").to_string(),
        now.format("%H%M%S").to_string(),
    )
}

/// What a save wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    /// The report's file.
    pub path: PathBuf,
    /// The report's series, for the next save of the same series.
    pub report_series_uid: String,
}

/// Writes `findings` on `subject`'s series (measured on `volume`) as the series' report
/// in `folder`, in the report series `report_series_uid` (a new one when `None`).
pub fn save(
    folder: &Path,
    subject: &ReportSubject,
    volume: &Volume,
    findings: &[MeasuredFinding],
    report_series_uid: Option<String>,
) -> Result<Kept, FindingError> {
    let report_series_uid = match report_series_uid {
        Some(uid) => uid,
        None => new_uid()?,
    };
    let (date, time) = content_date_time(chrono::Local::now());
    let authorship = Authorship {
        observer: observer_name(),
        date,
        time,
        series_uid: Some(report_series_uid.clone()),
    };
    let report = measurement_report(subject, volume, findings, &authorship)?;
    let path = keep_report(folder, &subject.study_uid, &subject.series_uid, &report)?;
    Ok(Kept {
        path,
        report_series_uid,
    })
}

/// The report kept for `subject`'s series in `folder`, if there is one.
pub fn load(folder: &Path, subject: &ReportSubject) -> Result<Option<ReadReport>, FindingError> {
    kept_report(folder, &subject.study_uid, &subject.series_uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_dicoms() {
        use chrono::TimeZone;
        // 2024-02-29 13:05:09, a leap day.
        let at = chrono::Utc
            .with_ymd_and_hms(2024, 2, 29, 13, 5, 9)
            .single()
            .expect("a time");
        assert_eq!(
            content_date_time(at),
            ("20240229".to_string(), "130509".to_string())
        );
    }

    #[test]
    fn the_findings_folder_is_beside_the_settings() {
        let folder = folder_beside(Path::new("/home/rita/.config/hounsfield/settings.toml"));
        assert_eq!(
            folder.as_deref(),
            Some(Path::new("/home/rita/.config/hounsfield/findings"))
        );
        assert!(!observer_name().is_empty());
    }
}
