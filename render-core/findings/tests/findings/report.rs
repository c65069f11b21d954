//! The Measurement Report: written, checked by independent DICOM tools (dicom3tools'
//! `dciodvfy`, DCMTK's `dsrdump`), and read back to the same findings and numbers.

use std::process::Command;

use glam::DVec3;
use hounsfield_findings::outline::PlaneAxes;
use hounsfield_findings::report::{
    Authorship, ImageRef, MeasuredFinding, ReportSubject, ReportedCalcium, SavedCalcium,
    measurement_report, read_report, read_report_file,
};
use hounsfield_findings::{Finding, FindingKind, Measurement, folder};
use hounsfield_scene::view::SliceFrame;
use hounsfield_vocabulary::SlicePlane;
use hounsfield_volume::Volume;
use hounsfield_volume::phantom::ct_phantom;

fn subject(volume: &Volume) -> ReportSubject {
    let images: Vec<ImageRef> = (0..volume.dims[2])
        .map(|k| ImageRef {
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".into(),
            sop_instance_uid: format!("2.25.2000{k}"),
            frame: None,
        })
        .collect();
    ReportSubject {
        patient_name: "Phantom^Findings".into(),
        patient_id: "PHANTOM-7".into(),
        patient_birth_date: "19700101".into(),
        patient_sex: "O".into(),
        study_uid: "2.25.1001".into(),
        study_date: "20260101".into(),
        study_time: "120000".into(),
        study_id: "7".into(),
        accession_number: "A7".into(),
        referring_physician: String::new(),
        study_description: "Phantom study".into(),
        series_uid: "2.25.1002".into(),
        frame_of_reference_uid: "2.25.1003".into(),
        modality: "CT".into(),
        slice_images: images.clone(),
        volumes_slice_images: Vec::new(),
        instances: images,
    }
}

/// The calcium of ten slices about the phantom's centre, the lesions left of the middle
/// named LAD.
fn calcium(volume: &Volume) -> hounsfield_vocabulary::CalciumReport {
    use hounsfield_findings::arteries::{Artery, NamedRegion};
    use hounsfield_findings::calcium::{DEFAULT_MG_PER_CM3_PER_HU, VoxelBox};
    let k = volume.lps_to_voxel(volume.centre_lps()).z.round() as usize;
    let region = VoxelBox {
        from: [0, 0, k - 5],
        to: [volume.dims[0], volume.dims[1], k + 5],
    };
    let c = volume.centre_lps();
    let left = NamedRegion {
        artery: Artery::LeftAnteriorDescending,
        a: c - DVec3::new(0.0, 500.0, 500.0),
        b: c + DVec3::new(500.0, 500.0, 500.0),
    };
    let scored = hounsfield_findings::scoring::calcium_report(
        volume,
        "phantom",
        region,
        DEFAULT_MG_PER_CM3_PER_HU,
        false,
        &[left],
    )
    .expect("scored");
    assert!(
        scored.lesions.iter().any(|l| l.artery.is_some()),
        "LAD's lesions"
    );
    scored
}

/// A report of `written` with the calcium of [`calcium`].
fn report_with_calcium(
    volume: &Volume,
    written: &[MeasuredFinding],
) -> dicom_object::FileDicomObject<dicom_object::InMemDicomObject> {
    let calcium = ReportedCalcium::Scored(Box::new(calcium(volume)));
    measurement_report(
        &subject(volume),
        volume,
        written,
        Some(&calcium),
        &authorship(),
    )
    .expect("a report")
}

/// One finding of each kind on the phantom, measured.
fn findings(volume: &Volume) -> Vec<MeasuredFinding> {
    let c = volume.centre_lps();
    let k = volume.lps_to_voxel(c).z.round();
    let z = volume.voxel_to_lps_point(DVec3::new(0.0, 0.0, k)).z;
    let on = |x: f64, y: f64| DVec3::new(c.x + x, c.y + y, z);
    let coronal = |x: f64, zz: f64| DVec3::new(c.x + x, c.y, c.z + zz);
    let drawn = [
        (
            FindingKind::Ellipse,
            SlicePlane::Axial,
            vec![on(-20.0, -10.0), on(25.0, 12.0)],
            "",
        ),
        (
            FindingKind::Rectangle,
            SlicePlane::Coronal,
            vec![coronal(-10.0, -5.0), coronal(15.0, 20.0)],
            "",
        ),
        (
            FindingKind::Polygon,
            SlicePlane::Axial,
            vec![on(0.0, 0.0), on(30.0, 0.0), on(30.0, 20.0), on(10.0, 35.0)],
            "",
        ),
        (
            FindingKind::Angle,
            SlicePlane::Axial,
            vec![on(10.0, 0.0), on(0.0, 0.0), on(0.0, 10.0)],
            "",
        ),
        (
            FindingKind::Arrow,
            SlicePlane::Axial,
            vec![on(-30.0, -30.0), on(-5.0, -5.0)],
            "Nodule, 8 mm — follow up",
        ),
        (
            FindingKind::Ruler,
            SlicePlane::Axial,
            vec![on(-12.0, 3.0), on(12.0, 3.0)],
            // Trailing spaces and a NUL, which a report cannot keep: kept without them.
            "measured twice  \0",
        ),
    ];
    drawn
        .into_iter()
        .enumerate()
        .map(|(n, (kind, plane, points, note))| {
            let finding = Finding::new(n as u32 + 1, kind, plane, points, note.to_string())
                .expect("a finding");
            let measurement = finding.measure(volume).expect("measured");
            MeasuredFinding {
                finding,
                measurement,
            }
        })
        .collect()
}

fn authorship() -> Authorship {
    Authorship {
        observer: "Reader^Rita".into(),
        date: "20261124".into(),
        time: "101500".into(),
        series_uid: None,
    }
}

#[test]
fn a_note_is_kept_as_a_report_gives_it_back_and_a_control_character_is_refused() {
    let volume = ct_phantom();
    let centre = volume.centre_lps();
    let ruler = |note: &str| {
        Finding::new(
            1,
            FindingKind::Ruler,
            SlicePlane::Axial,
            vec![centre, centre + DVec3::X * 10.0],
            note.to_string(),
        )
    };
    let kept = |note: &str| ruler(note).expect("kept").note;
    assert_eq!(kept("seen twice  \0\0"), "seen twice");
    assert_eq!(kept("  two lines\nand a tab\t"), "  two lines\nand a tab\t");
    let refused = ruler("bell\u{7} here").expect_err("refused").to_string();
    assert!(
        refused.contains("character 4") && refused.contains("U+0007"),
        "{refused}"
    );
}

#[test]
fn a_report_reads_back_to_the_findings_and_numbers_written() {
    let volume = ct_phantom();
    let written = findings(&volume);
    // The calcium score's groups are read as no findings, nor as another program's.
    let report = report_with_calcium(&volume, &written);
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder::keep_report(folder.path(), "2.25.1001", "2.25.1002", &report).expect("kept");
    let read = read_report_file(&path).expect("read back");
    assert_eq!(read.observer, "Reader^Rita");
    assert_eq!(read.study_uid, "2.25.1001");
    assert_eq!(read.image_series_uids, ["2.25.1002"]);
    assert_eq!(read.foreign_groups, 0);
    assert_eq!(read.findings.len(), written.len());
    a_saved_calcium_score_is_read_back_and_carried_into_the_next_report(&volume, &read);
    for (back, sent) in read.findings.iter().zip(&written) {
        let (b, s) = (&back.finding, &sent.finding);
        assert_eq!(
            (b.id, b.kind, b.plane, &b.note),
            (s.id, s.kind, s.plane, &s.note)
        );
        assert_eq!(back.measurement, sent.measurement, "{:?}", s.kind);
        assert_eq!(b.points_lps.len(), s.points_lps.len());
        for (p, q) in b.points_lps.iter().zip(&s.points_lps) {
            // Graphic data are 32-bit floats.
            assert!(p.distance(*q) < 1e-3, "{:?}: {p} vs {q}", s.kind);
        }
        // Measured again from the points read back, a region holds the same voxels.
        assert_eq!(b.measure(&volume).expect("measured"), sent.measurement);
    }
    let kept = folder::kept_report(folder.path(), "2.25.1001", "2.25.1002")
        .expect("readable")
        .expect("kept");
    assert_eq!(kept.sop_instance_uid, read.sop_instance_uid);
    assert!(
        folder::kept_report(folder.path(), "2.25.1001", "2.25.9")
            .expect("readable")
            .is_none()
    );
}

/// The calcium score `read` from the report of [`report_with_calcium`] is its groups as
/// written: LAD's and the total's, each with its scores and the stored slice of its
/// largest lesion; written again in a report of no findings, it reads back the same.
fn a_saved_calcium_score_is_read_back_and_carried_into_the_next_report(
    volume: &Volume,
    read: &hounsfield_findings::report::ReadReport,
) {
    let scored = calcium(volume);
    let subject = subject(volume);
    let saved = read.calcium.as_ref().expect("the calcium score read back");
    assert_eq!(*saved, SavedCalcium::of_report(&subject, volume, &scored));
    let groups = saved.groups();
    assert_eq!(groups.len(), 2, "LAD's and the total's: {groups:?}");
    assert_eq!(
        groups[0].artery,
        Some(hounsfield_findings::arteries::Artery::LeftAnteriorDescending)
    );
    assert_eq!(saved.total(), Some(&scored.total));
    // LAD's group names each of its lesions by its centre: regions that name them again.
    let lad = scored
        .lesions
        .iter()
        .filter(|l| l.artery.as_deref() == Some("LAD"));
    assert_eq!(groups[0].named_centres.len(), lad.count());
    assert!(groups[1].named_centres.is_empty(), "the total names none");
    assert_eq!(saved.named_regions().len(), groups[0].named_centres.len());
    for group in groups {
        let image = group.key_image.as_ref().expect("a key image");
        assert!(subject.slice_images.contains(image), "{image:?}");
    }

    let carried = measurement_report(
        &subject,
        volume,
        &[],
        Some(&ReportedCalcium::Saved(saved.clone())),
        &authorship(),
    )
    .expect("a report of the saved score");
    let again = read_report("the next report", &carried).expect("read");
    assert!(again.findings.is_empty());
    assert_eq!(again.calcium.as_ref(), Some(saved));
    assert_eq!(again.foreign_groups, 0);
}

#[test]
fn independent_tools_find_no_error_in_a_report_and_read_its_numbers() {
    let volume = ct_phantom();
    let written = findings(&volume);
    let report = report_with_calcium(&volume, &written);
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("report.dcm");
    report.write_to_file(&path).expect("written");

    let verify = Command::new("dciodvfy")
        .arg(&path)
        .output()
        .expect("dciodvfy runs (Debian's dicom3tools; scripts/setup-debian.sh installs it)");
    let said = String::from_utf8_lossy(&verify.stderr).to_string()
        + &String::from_utf8_lossy(&verify.stdout);
    let errors: Vec<_> = said.lines().filter(|l| l.starts_with("Error")).collect();
    assert!(errors.is_empty(), "dciodvfy found errors:\n{said}");
    assert!(
        said.contains("Comprehensive3DSR"),
        "dciodvfy checked it as 3D SR:\n{said}"
    );

    let dump = Command::new("dsrdump")
        .arg(&path)
        .output()
        .expect("dsrdump runs (Debian's dcmtk)");
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.status.success(),
        "dsrdump: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert!(text.contains("Imaging Measurement Report"), "{text}");
    let hounsfield_findings::Measurement::Region(ellipse) = &written[0].measurement else {
        panic!("the first finding is a region");
    };
    for number in [ellipse.mean, ellipse.sd, ellipse.area_mm2] {
        assert!(
            text.contains(&format!("\"{number}\"")),
            "dsrdump shows {number}:\n{text}"
        );
    }
    assert!(text.contains("Nodule, 8 mm"), "the note");
    // The calcium score: its total's Agatston score by Agatston's method.
    assert!(text.contains("Agatston scoring method"), "{text}");
    assert!(text.contains("Coronary calcium total"), "{text}");

    // And a report is read back from its parsed object as from its file.
    let reopened = dicom_object::open_file(&path).expect("parsed");
    let read = read_report("report", &reopened).expect("read");
    assert_eq!(read.findings.len(), written.len());
}

#[test]
fn findings_on_turned_planes_read_back_on_their_axes_and_dsrdump_names_them_oblique() {
    let volume = ct_phantom();
    let c = volume.centre_lps();
    let frame = SliceFrame::STANDARD
        .turned(SlicePlane::Axial, 35.0)
        .and_then(|f| f.turned(SlicePlane::Sagittal, -20.0))
        .expect("double oblique");
    let measured = |id, kind, plane, spots: &[(f64, f64)]| {
        let axes = PlaneAxes::turned(&frame, plane);
        let points = spots
            .iter()
            .map(|(r, d)| c + axes.right * *r + axes.down * *d)
            .collect();
        let finding =
            Finding::on_axes(id, kind, plane, axes, points, String::new()).expect("a finding");
        let measurement = finding.measure(&volume).expect("measured");
        MeasuredFinding {
            finding,
            measurement,
        }
    };
    let written = vec![
        measured(
            1,
            FindingKind::Ellipse,
            SlicePlane::Coronal,
            &[(-25.0, -10.0), (15.0, 18.0)],
        ),
        measured(
            2,
            FindingKind::Rectangle,
            SlicePlane::Sagittal,
            &[(-12.0, -6.0), (20.0, 9.0)],
        ),
        measured(
            3,
            FindingKind::Ruler,
            SlicePlane::Axial,
            &[(-30.0, 4.0), (22.0, -7.0)],
        ),
    ];
    assert!(written.iter().all(|m| m.finding.is_oblique()));
    let report = measurement_report(&subject(&volume), &volume, &written, None, &authorship())
        .expect("a report");
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder::keep_report(folder.path(), "2.25.1001", "2.25.1002", &report).expect("kept");
    verified(&path);
    let read = read_report_file(&path).expect("read back");
    assert_eq!(read.findings.len(), written.len());
    for (back, sent) in read.findings.iter().zip(&written) {
        let (b, s) = (&back.finding, &sent.finding);
        assert_eq!((b.id, b.kind, b.plane), (s.id, s.kind, s.plane));
        assert!(b.is_oblique(), "{:?} read back oblique", s.kind);
        for (read, drawn) in [
            (b.axes.right, s.axes.right),
            (b.axes.down, s.axes.down),
            (b.axes.normal, s.axes.normal),
        ] {
            assert!(
                read.distance(drawn) < 1e-5,
                "{:?}: {read} vs {drawn}",
                s.kind
            );
        }
        assert_eq!(back.measurement, sent.measurement, "{:?}", s.kind);
        // Measured again on the axes and points read back (32-bit graphic data, a tenth of
        // a micrometre off), a region holds as many samples; a sample lying on the border
        // between two voxels may take the other, so the mean moves by under 1 HU.
        match (b.measure(&volume).expect("measured"), &sent.measurement) {
            (Measurement::Region(again), Measurement::Region(first)) => {
                assert_eq!(again.voxels, first.voxels);
                assert!(
                    (again.mean - first.mean).abs() < 1.0,
                    "{again:?} vs {first:?}"
                );
                assert!((again.area_mm2 - first.area_mm2).abs() < 1e-3, "{again:?}");
            }
            (again, first) => assert_eq!(&again, first),
        }
    }
    let dump = Command::new("dsrdump")
        .arg("--print-long-values")
        .arg(&path)
        .output()
        .expect("dsrdump runs (Debian's dcmtk)");
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        text.contains("1 ellipse on oblique coronal (right "),
        "{text}"
    );
    assert!(text.contains("3 ruler on oblique axial (right "), "{text}");
}

#[test]
fn a_document_that_is_not_a_report_is_refused_by_name() {
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("not-a-report.dcm");
    std::fs::write(&path, b"plain text").expect("written");
    let error = read_report_file(&path).expect_err("refused").to_string();
    assert!(error.contains("not-a-report.dcm"), "{error}");
}

/// `dciodvfy`'s verdict on `path`: its output, after asserting no line is an error.
fn verified(path: &std::path::Path) -> String {
    let verify = Command::new("dciodvfy")
        .arg(path)
        .output()
        .expect("dciodvfy runs (Debian's dicom3tools)");
    let said = String::from_utf8_lossy(&verify.stderr).to_string()
        + &String::from_utf8_lossy(&verify.stdout);
    let errors: Vec<_> = said.lines().filter(|l| l.starts_with("Error")).collect();
    assert!(errors.is_empty(), "dciodvfy found errors:\n{said}");
    said
}

#[test]
fn a_key_image_selection_names_its_images_and_passes_the_tools() {
    let volume = ct_phantom();
    let subject = subject(&volume);
    let marked = vec![
        subject.slice_images[40].clone(),
        subject.slice_images[41].clone(),
    ];
    let document = hounsfield_findings::report::key_object_selection(
        &subject,
        &marked,
        "Nodule, right upper lobe",
        &authorship(),
    )
    .expect("a document");
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("key-images.dcm");
    document.write_to_file(&path).expect("written");
    let said = verified(&path);
    assert!(said.contains("KeyObjectSelectionDocument"), "{said}");
    let dump = Command::new("dsrdump")
        .arg(&path)
        .output()
        .expect("dsrdump runs");
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert!(
        text.contains("Of Interest") && text.contains("Nodule, right upper lobe"),
        "{text}"
    );
    assert_eq!(text.matches("<contains IMAGE:").count(), 2, "{text}");
}

#[test]
fn a_snapshot_is_a_secondary_capture_whose_pixels_dcmtk_reads_back() {
    let volume = ct_phantom();
    let (width, height) = (37u32, 21u32);
    let rgb: Vec<u8> = (0..width * height)
        .flat_map(|n| [(n % 251) as u8, (n / 7 % 256) as u8, 200])
        .collect();
    let snapshot = hounsfield_findings::report::Snapshot {
        width,
        height,
        rgb: &rgb,
        description: "3D, preset ct-bone, anterior view",
    };
    let image =
        hounsfield_findings::report::secondary_capture(&subject(&volume), snapshot, &authorship())
            .expect("an image");
    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("snapshot.dcm");
    image.write_to_file(&path).expect("written");
    let said = verified(&path);
    assert!(said.contains("SCImage"), "{said}");
    // DCMTK writes the pixels as a binary PPM: its raster must be ours.
    let ppm = folder.path().join("snapshot.ppm");
    let converted = Command::new("dcm2pnm")
        .arg(&path)
        .arg(&ppm)
        .output()
        .expect("dcm2pnm runs (Debian's dcmtk)");
    assert!(
        converted.status.success(),
        "{}",
        String::from_utf8_lossy(&converted.stderr)
    );
    let bytes = std::fs::read(&ppm).expect("the PPM");
    let header = format!("P6\n{width} {height}\n255\n");
    assert!(bytes.starts_with(header.as_bytes()), "{:?}", &bytes[..20]);
    assert_eq!(&bytes[header.len()..], &rgb[..]);
}
