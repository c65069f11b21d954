//! The findings of each series the server serves, shared by every session that opens it:
//! drawn, redrawn and deleted by the sessions, read from the series' last report the first
//! time it opens, and saved as a report where the study lives.

pub(crate) mod measuring;
mod store;

pub use measuring::Measured;
pub use store::{FindingsStore, StoreError, Stored};

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use hounsfield_findings::report::{MeasuredFinding, ReportedCalcium, SavedCalcium};
use hounsfield_findings::{Finding, MAX_FINDINGS_PER_SERIES};
use hounsfield_protocol::{CellAxes, FindingInfo};

use crate::series_volumes::TimeCurve;

/// One finding kept, with what it measured and who drew it.
#[derive(Debug, Clone)]
struct Kept {
    measured: MeasuredFinding,
    /// A region's curve over a series over time (empty otherwise, and for a finding read
    /// back from a report until it is redrawn).
    curve: TimeCurve,
    author: String,
}

/// The findings of one series.
#[derive(Debug, Default)]
struct SeriesFindings {
    /// The next finding's number.
    next_id: u32,
    kept: Vec<Kept>,
    /// The series' last calcium score (with the lesions' arteries as its reader named
    /// them), or the one its last report held until a reader scores it again: saved with
    /// the findings.
    calcium: Option<ReportedCalcium>,
}

/// Why a change to a series' findings was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// The series holds as many findings as it may.
    #[error(
        "this series holds {MAX_FINDINGS_PER_SERIES} findings, the most it may: delete one first"
    )]
    Full,
    /// No finding has that number.
    #[error("id {0}: no such finding on this series")]
    UnknownId(u32),
}

/// Every series' findings, by series id.
#[derive(Debug, Default)]
pub struct FindingsBook {
    series: Mutex<HashMap<String, SeriesFindings>>,
}

impl FindingsBook {
    /// Whether the book holds series `id` (its report was read, or a finding drawn).
    pub fn holds(&self, series: &str) -> bool {
        self.lock().contains_key(series)
    }

    /// Puts the findings and the calcium score read from a series' report in the book,
    /// unless a session put the series there first.
    pub fn restore(
        &self,
        series: &str,
        (findings, calcium): (Vec<MeasuredFinding>, Option<SavedCalcium>),
    ) {
        let mut book = self.lock();
        if book.contains_key(series) {
            return;
        }
        let next_id = findings.iter().map(|m| m.finding.id).max().unwrap_or(0);
        let kept = findings
            .into_iter()
            .take(MAX_FINDINGS_PER_SERIES)
            .map(|measured| Kept {
                measured,
                curve: TimeCurve::default(),
                author: String::new(),
            })
            .collect();
        let restored = SeriesFindings {
            next_id,
            kept,
            calcium: calcium.map(ReportedCalcium::Saved),
        };
        book.insert(series.to_string(), restored);
    }

    /// Keeps a new finding on `series`, numbered next; what the client is told.
    pub fn create(
        &self,
        series: &str,
        mut finding: Finding,
        measured: impl Into<Measured>,
        author: &str,
    ) -> Result<FindingInfo, BookError> {
        let Measured { measurement, curve } = measured.into();
        let mut book = self.lock();
        let entry = book.entry(series.to_string()).or_default();
        if entry.kept.len() >= MAX_FINDINGS_PER_SERIES {
            return Err(BookError::Full);
        }
        entry.next_id += 1;
        finding.id = entry.next_id;
        let kept = Kept {
            measured: MeasuredFinding {
                finding,
                measurement,
            },
            curve,
            author: author.to_string(),
        };
        let info = info_of(&kept);
        entry.kept.push(kept);
        Ok(info)
    }

    /// Replaces finding `finding.id` of `series` (moved, resized, its note changed).
    pub fn update(
        &self,
        series: &str,
        finding: Finding,
        measured: impl Into<Measured>,
        author: &str,
    ) -> Result<FindingInfo, BookError> {
        let Measured { measurement, curve } = measured.into();
        let mut book = self.lock();
        let id = finding.id;
        let kept = book
            .get_mut(series)
            .and_then(|entry| entry.kept.iter_mut().find(|k| k.measured.finding.id == id))
            .ok_or(BookError::UnknownId(id))?;
        *kept = Kept {
            measured: MeasuredFinding {
                finding,
                measurement,
            },
            curve,
            author: author.to_string(),
        };
        Ok(info_of(kept))
    }

    /// Deletes finding `id` of `series`.
    pub fn delete(&self, series: &str, id: u32) -> Result<(), BookError> {
        let mut book = self.lock();
        let entry = book.get_mut(series).ok_or(BookError::UnknownId(id))?;
        let before = entry.kept.len();
        entry.kept.retain(|k| k.measured.finding.id != id);
        if entry.kept.len() == before {
            return Err(BookError::UnknownId(id));
        }
        Ok(())
    }

    /// Finding `id` of `series`, if there is one.
    pub fn finding(&self, series: &str, id: u32) -> Option<Finding> {
        self.lock().get(series).and_then(|entry| {
            entry
                .kept
                .iter()
                .find(|k| k.measured.finding.id == id)
                .map(|k| k.measured.finding.clone())
        })
    }

    /// The findings of `series` as clients are told them.
    pub fn told(&self, series: &str) -> Vec<FindingInfo> {
        self.lock()
            .get(series)
            .map(|entry| entry.kept.iter().map(info_of).collect())
            .unwrap_or_default()
    }

    /// The findings of `series` with their measurements, for a report.
    pub fn measured(&self, series: &str) -> Vec<MeasuredFinding> {
        self.lock()
            .get(series)
            .map(|entry| entry.kept.iter().map(|k| k.measured.clone()).collect())
            .unwrap_or_default()
    }

    /// Keeps `report` as the series' calcium score, saved with its findings (a later
    /// score, any reader's, replaces it, as it replaces the one read from a report).
    pub fn keep_calcium(&self, series: &str, report: hounsfield_protocol::CalciumReport) {
        self.lock().entry(series.to_string()).or_default().calcium =
            Some(ReportedCalcium::Scored(Box::new(report)));
    }

    /// The series' last calcium score, scored or read from its report, if any.
    pub fn calcium(&self, series: &str) -> Option<ReportedCalcium> {
        self.lock()
            .get(series)
            .and_then(|entry| entry.calcium.clone())
    }

    /// The names of the score the series' last report held, while no reader has scored
    /// it since: regions naming its lesions again.
    pub fn saved_names(
        &self,
        series: &str,
    ) -> Option<Vec<hounsfield_findings::arteries::NamedRegion>> {
        match self.lock().get(series)?.calcium.as_ref()? {
            ReportedCalcium::Saved(saved) => Some(saved.named_regions()),
            ReportedCalcium::Scored(_) => None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, SeriesFindings>> {
        // Each change is whole between statements: a panic elsewhere leaves it usable.
        self.series
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A kept finding as clients are told it.
fn info_of(kept: &Kept) -> FindingInfo {
    FindingInfo {
        values: kept.curve.values.clone(),
        curve: kept.curve.measures,
        ..finding_info(&kept.measured, &kept.author)
    }
}

/// A finding and its measurement as the protocol tells them, drawn by `author`.
pub fn finding_info(measured: &MeasuredFinding, author: &str) -> FindingInfo {
    let finding = &measured.finding;
    let (stats, length_mm, angle_deg) = measured.measurement.parts();
    FindingInfo {
        id: finding.id,
        kind: finding.kind,
        cell: finding.plane,
        points_lps: finding.points_lps.iter().map(|p| p.to_array()).collect(),
        axes: finding.is_oblique().then(|| CellAxes {
            right: finding.axes.right.to_array(),
            down: finding.axes.down.to_array(),
        }),
        stats,
        values: Vec::new(),
        curve: None,
        length_mm,
        angle_deg,
        note: finding.note.clone(),
        author: author.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DVec3;
    use hounsfield_findings::{FindingKind, Measurement};
    use hounsfield_protocol::SlicePlane;

    fn ruler(mm: f64) -> (Finding, Measurement) {
        let finding = Finding::new(
            0,
            FindingKind::Ruler,
            SlicePlane::Axial,
            vec![DVec3::ZERO, DVec3::X * mm],
            String::new(),
        )
        .expect("a ruler");
        (finding, Measurement::Length { mm })
    }

    #[test]
    fn findings_are_numbered_redrawn_and_deleted_per_series() {
        let book = FindingsBook::default();
        let (finding, measurement) = ruler(5.0);
        let first = book
            .create("a", finding.clone(), measurement.clone(), "rita")
            .expect("kept");
        let second = book
            .create("a", finding.clone(), measurement.clone(), "rita")
            .expect("kept");
        let other = book.create("b", finding, measurement, "sam").expect("kept");
        assert_eq!((first.id, second.id, other.id), (1, 2, 1));
        let (mut longer, measurement) = ruler(7.0);
        longer.id = 2;
        let redrawn = book
            .update("a", longer, measurement, "sam")
            .expect("redrawn");
        assert_eq!(
            (redrawn.length_mm, redrawn.author.as_str()),
            (Some(7.0), "sam")
        );
        book.delete("a", 1).expect("deleted");
        assert_eq!(book.delete("a", 1), Err(BookError::UnknownId(1)));
        let told = book.told("a");
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].id, 2);
        // Numbers are not reused after a delete.
        let (finding, measurement) = ruler(1.0);
        assert_eq!(
            book.create("a", finding, measurement, "").expect("kept").id,
            3
        );
    }

    #[test]
    fn a_series_holds_a_bounded_number_and_a_report_does_not_undo_a_session() {
        let book = FindingsBook::default();
        let (finding, measurement) = ruler(5.0);
        for _ in 0..MAX_FINDINGS_PER_SERIES {
            book.create("a", finding.clone(), measurement.clone(), "")
                .expect("kept");
        }
        assert_eq!(
            book.create("a", finding.clone(), measurement.clone(), ""),
            Err(BookError::Full)
        );
        book.restore("a", (vec![], None));
        assert_eq!(book.told("a").len(), MAX_FINDINGS_PER_SERIES);
        let mut numbered = finding;
        numbered.id = 41;
        book.restore(
            "b",
            (
                vec![MeasuredFinding {
                    finding: numbered,
                    measurement,
                }],
                None,
            ),
        );
        assert!(book.holds("b"));
        let (finding, measurement) = ruler(2.0);
        assert_eq!(
            book.create("b", finding, measurement, "").expect("kept").id,
            42
        );
    }
}
