//! Reports read back that were tampered with: bytes changed, cut short or grown. Reading
//! one gives a report or an error naming the file, never a panic, and never more findings
//! than a series keeps.

use glam::DVec3;
use hounsfield_findings::report::{
    Authorship, ImageRef, MeasuredFinding, ReportSubject, measurement_report, read_report_file,
};
use hounsfield_findings::{Finding, FindingKind, MAX_FINDINGS_PER_SERIES};
use hounsfield_vocabulary::SlicePlane;
use hounsfield_volume::phantom::ct_phantom;
use proptest::prelude::*;

/// The report every case starts from, made once.
static REPORT: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();

/// A report of a few findings of each kind, as bytes.
fn report_bytes() -> Vec<u8> {
    let volume = ct_phantom();
    let c = volume.centre_lps();
    let image = ImageRef {
        sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".into(),
        sop_instance_uid: "2.25.77".into(),
        frame: None,
    };
    let subject = ReportSubject {
        study_uid: "2.25.1".into(),
        series_uid: "2.25.2".into(),
        frame_of_reference_uid: "2.25.3".into(),
        modality: "CT".into(),
        instances: vec![image],
        ..ReportSubject::default()
    };
    let drawn = [
        (
            FindingKind::Ellipse,
            vec![c, c + DVec3::new(20.0, 10.0, 0.0)],
        ),
        (
            FindingKind::Polygon,
            vec![c, c + DVec3::X * 9.0, c + DVec3::Y * 7.0],
        ),
        (FindingKind::Ruler, vec![c, c + DVec3::X * 5.0]),
    ];
    let findings: Vec<_> = drawn
        .into_iter()
        .enumerate()
        .map(|(n, (kind, points))| {
            let finding =
                Finding::new(n as u32 + 1, kind, SlicePlane::Axial, points, "note".into())
                    .expect("a finding");
            MeasuredFinding {
                measurement: finding.measure(&volume).expect("measured"),
                finding,
            }
        })
        .collect();
    let authorship = Authorship {
        observer: "Fuzz".into(),
        date: "20260101".into(),
        time: "000000".into(),
        series_uid: None,
    };
    let report =
        measurement_report(&subject, &volume, &findings, None, &authorship).expect("a report");
    let mut bytes = Vec::new();
    report.write_all(&mut bytes).expect("encoded");
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn a_tampered_report_reads_or_is_refused_by_name(
        changes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
        grow in 0usize..64,
    ) {
        let mut bytes = REPORT.get_or_init(report_bytes).clone();
        for (at, value) in &changes {
            let position = at.index(bytes.len());
            bytes[position] = *value;
        }
        if grow == 0 {
            let keep = cut.index(bytes.len()).max(1);
            bytes.truncate(keep);
        } else {
            bytes.extend(std::iter::repeat_n(0xFF, grow));
        }
        let folder = tempfile::tempdir().expect("a folder");
        let path = folder.path().join("tampered.dcm");
        std::fs::write(&path, &bytes).expect("written");
        match read_report_file(&path) {
            Ok(report) => prop_assert!(report.findings.len() <= MAX_FINDINGS_PER_SERIES),
            Err(error) => prop_assert!(error.to_string().contains("tampered.dcm"), "{error}"),
        }
    }
}
