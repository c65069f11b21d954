//! Who writes a document and when: the user logged in to this computer, at the
//! computer's local time, as the command line and the desktop sign what they write.

use hounsfield_findings::report::Authorship;

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

/// Who writes a document now, into series `series_uid` (a new one when `None`).
pub fn authorship_now(series_uid: Option<String>) -> Authorship {
    let (date, time) = content_date_time(chrono::Local::now());
    Authorship {
        observer: observer_name(),
        date,
        time,
        series_uid,
    }
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
    fn someone_is_named() {
        assert!(!observer_name().is_empty());
    }
}
