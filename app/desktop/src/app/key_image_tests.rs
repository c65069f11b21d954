//! Key images and snapshots in the desktop window, driven through egui_kittest as a user
//! would: the findings panel's "Key image" and "Send snapshot" clicked on a series rendered
//! here (the documents read back from the findings folder with dicom-object), on a
//! server's series (the server's `saved` answer in the panel), and on a series retrieved
//! from a real Orthanc, whose report, key image and snapshot go back to the PACS and whose
//! report is found there when the series opens again.

use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject, open_file};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use hounsfield_findings::FindingKind;
use hounsfield_findings::report::{KEY_OBJECT_SELECTION, SECONDARY_CAPTURE};
use hounsfield_protocol::SlicePlane;

use super::findings_tests::{drag, findings, measured_again, quad_settings};
use super::ui_tests::{orthanc, remote, settle, thin_client_in_quad, window_on, workspace};
use super::*;
use hounsfield_test_support::data;

/// A text attribute of `object`, without its padding (empty when absent).
fn text(object: &InMemDicomObject, tag: dicom_core::Tag) -> String {
    object
        .element(tag)
        .ok()
        .and_then(|element| element.to_str().ok())
        .map(|value| value.trim_end_matches('\0').trim().to_string())
        .unwrap_or_default()
}

/// A number attribute of `object` (Rows, Columns).
fn number(object: &InMemDicomObject, tag: dicom_core::Tag) -> u32 {
    object
        .element(tag)
        .ok()
        .and_then(|element| element.to_int::<u32>().ok())
        .unwrap_or_default()
}

/// The items of sequence `tag` of `object` (none when absent).
fn items(object: &InMemDicomObject, tag: dicom_core::Tag) -> &[InMemDicomObject] {
    object
        .element(tag)
        .ok()
        .and_then(|element| element.items())
        .unwrap_or(&[])
}

/// The SOP Instance UIDs a Key Object Selection's content marks, and its description.
fn marked(document: &InMemDicomObject) -> (Vec<String>, Vec<String>) {
    let content = items(document, tags::CONTENT_SEQUENCE);
    let images = content
        .iter()
        .flat_map(|item| items(item, tags::REFERENCED_SOP_SEQUENCE))
        .map(|reference| text(reference, tags::REFERENCED_SOP_INSTANCE_UID))
        .collect();
    let words = content
        .iter()
        .map(|item| text(item, tags::TEXT_VALUE))
        .filter(|words| !words.is_empty())
        .collect();
    (images, words)
}

/// Every document kept in `folder` for `study_uid`, read back, with its SOP class.
fn documents(folder: &Path, study_uid: &str) -> Vec<(String, DefaultDicomObject)> {
    let Ok(entries) = std::fs::read_dir(folder.join(study_uid)) else {
        return Vec::new();
    };
    entries
        .map(|entry| entry.expect("a folder entry").path())
        .map(|path| {
            let document = open_file(&path).expect("a DICOM file");
            (text(&document, tags::SOP_CLASS_UID), document)
        })
        .collect()
}

/// The one document of `class` in `folder` for `study_uid`.
fn the_document(folder: &Path, study_uid: &str, class: &str) -> DefaultDicomObject {
    let mut found: Vec<_> = documents(folder, study_uid)
        .into_iter()
        .filter(|(kept, _)| kept == class)
        .collect();
    assert_eq!(found.len(), 1, "one document of class {class}");
    found.remove(0).1
}

/// Types `words` into the text field labelled `label`.
fn type_into(harness: &mut Harness<'_, DesktopApp>, label: &str, words: &str) {
    harness.get_by_label(label).focus();
    harness.step();
    harness.get_by_label(label).type_text(words);
    harness.step();
}

/// The panel's line about the last key image or snapshot of the series rendered here,
/// once it has come.
fn local_document(app: &DesktopApp) -> Option<Result<String, String>> {
    workspace(app).and_then(|w| w.findings.last_document.clone())
}

#[test]
fn a_key_image_of_the_axial_ct_slice_and_a_snapshot_are_kept_in_the_findings_folder() {
    let (folder, settings) = quad_settings();
    let ct = data("ct-head-neck");
    let mut harness = window_on(Some(ct.clone()), None, settings);
    settle(&mut harness, "the CT in 2×2", |app| {
        app.full_frame_shown() && workspace(app).is_some_and(|w| w.slices[0].rect().is_some())
    });
    // Away from the volume's centre, between two slices.
    if let State::Local(workspace) = &mut harness.state_mut().state {
        workspace.link.crosshair.z += 20.3;
    }
    harness.run_steps(3);
    harness.get_by_label("Findings").click();
    harness.run_steps(2);
    type_into(&mut harness, "Description", "hyoid level");

    harness.get_by_label("Key image").click();
    settle(&mut harness, "the key image kept", |app| {
        local_document(app).is_some()
    });
    let said = local_document(harness.state())
        .expect("an answer")
        .expect("kept");
    let catalog = render_core::dicom::Catalog::scan(
        std::slice::from_ref(&ct),
        &render_core::progress::no_progress,
    );
    let series = catalog
        .series()
        .find(|series| series.id == harness.state().label)
        .expect("the series shown");
    let study_uid = series.images[0].identity.study_uid.clone();
    let findings_folder = folder.path().join("findings");
    let document = the_document(&findings_folder, &study_uid, KEY_OBJECT_SELECTION);
    // The stored image whose position is nearest the crosshair: the slice shown.
    let z = workspace(harness.state()).expect("local").link.crosshair.z;
    let shown = series
        .images
        .iter()
        .min_by(|a, b| {
            let distance = |image: &render_core::dicom::header::ImageHeader| {
                (image.position.expect("positioned")[2] - z).abs()
            };
            distance(a).total_cmp(&distance(b))
        })
        .expect("images");
    let (images, words) = marked(&document);
    assert_eq!(images, std::slice::from_ref(&shown.sop_instance_uid));
    assert_eq!(words, ["hyoid level"]);
    assert_eq!(text(&document, tags::STUDY_INSTANCE_UID), study_uid);
    assert!(
        said.contains("axial") && said.contains(&findings_folder.display().to_string()),
        "{said}"
    );
    harness.get_by_label(&said);

    // The coronal slice is a reformat of this axial CT: no stored image to mark.
    harness.get_by_label("coronal").click();
    harness.run_steps(2);
    harness.get_by_label("Key image").click();
    settle(&mut harness, "the coronal key image refused", |app| {
        local_document(app).is_some_and(|answer| answer.is_err())
    });
    harness.get_by_label_contains("the coronal slice is a reformat");

    harness.get_by_label("Send snapshot").click();
    settle(&mut harness, "the snapshot kept", |app| {
        local_document(app).is_some_and(|answer| answer.is_ok())
    });
    let said = local_document(harness.state())
        .expect("an answer")
        .expect("kept");
    let image = the_document(&findings_folder, &study_uid, SECONDARY_CAPTURE);
    let [width, height] = workspace(harness.state())
        .and_then(|w| w.view3d.drawn_size())
        .expect("drawn");
    assert_eq!(text(&image, tags::STUDY_INSTANCE_UID), study_uid);
    assert_eq!(
        (number(&image, tags::ROWS), number(&image, tags::COLUMNS)),
        (height, width)
    );
    let pixels = image
        .element(tags::PIXEL_DATA)
        .expect("pixels")
        .to_bytes()
        .expect("bytes");
    assert!(pixels.len() >= (width * height * 3) as usize);
    assert!(
        pixels.iter().any(|&value| value != pixels[0]),
        "the rendered view, not a blank image"
    );
    assert!(
        text(&image, tags::IMAGE_COMMENTS).starts_with("hyoid level. 3D view of series"),
        "{}",
        text(&image, tags::IMAGE_COMMENTS)
    );
    harness.get_by_label(&said);
}

/// A server of the GE EPI series (axial, a study of its own) on loopback, in this
/// process, keeping documents in `folder` (plain WebSocket, JPEG).
pub(super) fn epi_server(folder: &Path) -> hounsfield_server::BackgroundServer {
    let mut config =
        hounsfield_server::ServerConfig::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    config.h264_encoders = Vec::new();
    config.findings_folder = Some(folder.to_path_buf());
    let library = Arc::new(hounsfield_server::Library::scan(
        &[data("ge-epi")],
        256 << 20,
    ));
    let scheduler = Arc::new(
        hounsfield_server::Scheduler::start(PresetLibrary::builtin(), 1).expect("a render thread"),
    );
    hounsfield_server::BackgroundServer::start("key-image-server", config, library, scheduler)
        .expect("listens")
}

/// The panel's line about the last key image or snapshot of the server's series.
fn remote_document(app: &DesktopApp) -> Option<Result<String, String>> {
    remote(app).and_then(|view| view.findings.last_document.clone())
}

#[test]
fn connect_sends_key_image_and_snapshot_and_shows_where_the_server_kept_them() {
    let state = tempfile::tempdir().expect("temp folder");
    let kept = state.path().join("findings");
    let server = epi_server(&kept);
    let url = format!("http://127.0.0.1:{}", server.address().port());
    let mut harness = thin_client_in_quad(url, state.path().join("settings.toml"));
    harness.get_by_label("Findings").click();
    harness.run_steps(2);

    harness.get_by_label("Key image").click();
    settle(&mut harness, "the server's answer to key_image", |app| {
        remote_document(app).is_some()
    });
    let said = remote_document(harness.state())
        .expect("an answer")
        .expect("kept by the server");
    assert!(
        said.contains("key object selection") && said.contains("findings folder"),
        "{said}"
    );
    harness.get_by_label(&said);
    let catalog =
        render_core::dicom::Catalog::scan(&[data("ge-epi")], &render_core::progress::no_progress);
    let series = catalog.series().next().expect("the EPI series");
    let study_uid = series.images[0].identity.study_uid.clone();
    let document = the_document(&kept, &study_uid, KEY_OBJECT_SELECTION);
    assert!(said.contains(&kept.display().to_string()), "{said}");
    // The image marked lies on the axial slice through the server's crosshair.
    let crosshair = remote(harness.state())
        .and_then(|view| view.opened.as_ref())
        .and_then(|opened| opened.view.as_ref())
        .and_then(|view| view.crosshair_lps)
        .expect("the crosshair");
    let (images, _) = marked(&document);
    assert_eq!(images.len(), 1, "{images:?}");
    let image = series
        .images
        .iter()
        .find(|image| image.sop_instance_uid == images[0])
        .expect("one of the series' images");
    let z = image.position.expect("positioned")[2];
    assert!(
        (z - crosshair.z).abs() < 2.5,
        "slice at {z}, crosshair at {}",
        crosshair.z
    );

    harness.get_by_label("Send snapshot").click();
    settle(&mut harness, "the server's answer to snapshot", |app| {
        remote_document(app).is_some_and(|answer| {
            answer.as_ref().is_err()
                || answer
                    .as_ref()
                    .is_ok_and(|said| said.contains("secondary capture"))
        })
    });
    let said = remote_document(harness.state())
        .expect("an answer")
        .expect("kept by the server");
    harness.get_by_label(&said);
    let image = the_document(&kept, &study_uid, SECONDARY_CAPTURE);
    assert_eq!(text(&image, tags::STUDY_INSTANCE_UID), study_uid);
    assert!(number(&image, tags::ROWS) > 16 && number(&image, tags::COLUMNS) > 16);
    drop(harness);
    server.stop().expect("served");
}

#[test]
fn a_pacs_series_sends_its_report_key_image_and_snapshot_to_the_pacs_and_reads_its_report_back() {
    let pacs = orthanc::Orthanc::start(None);
    pacs.upload_folder(&data("ct-head-neck"));
    let url = pacs.dicomweb_url();
    let catalog = render_core::dicom::Catalog::scan(
        &[data("ct-head-neck")],
        &render_core::progress::no_progress,
    );
    let series = catalog.series().next().expect("the CT series");
    let study_uid = series.images[0].identity.study_uid.clone();
    let (folder, settings) = quad_settings();
    let mut harness = window_on(
        Some(PathBuf::from(&url)),
        Some(series.uid.clone()),
        settings.clone(),
    );
    settle(&mut harness, "the PACS series in 2×2", |app| {
        app.full_frame_shown() && workspace(app).is_some_and(|w| w.slices[0].rect().is_some())
    });
    assert!(
        findings(&harness).is_empty(),
        "the PACS holds no report yet"
    );

    // An ellipse on the axial slice.
    harness.get_by_label("Ellipse").click();
    harness.run_steps(2);
    let rect = workspace(harness.state())
        .and_then(|w| w.slices[0].rect())
        .expect("the axial slice");
    drag(
        &mut harness,
        rect.center() + egui::vec2(-30.0, -20.0),
        rect.center() + egui::vec2(30.0, 25.0),
    );
    settle(&mut harness, "the ellipse kept", |app| {
        workspace(app).is_some_and(|w| w.findings.list.len() == 1)
    });
    let drawn = findings(&harness).remove(0);
    assert_eq!(
        (drawn.finding().kind, drawn.finding().plane),
        (FindingKind::Ellipse, SlicePlane::Axial)
    );
    assert_eq!(drawn.measured.measurement, measured_again(&harness, &drawn));

    harness.get_by_label("Save findings").click();
    settle(&mut harness, "the report sent", |app| {
        workspace(app).is_some_and(|w| w.findings.last_save.is_some())
    });
    let said = workspace(harness.state())
        .and_then(|w| w.findings.last_save.clone())
        .expect("an answer")
        .expect("sent");
    assert!(said.contains("the PACS") && said.contains(&url), "{said}");

    harness.get_by_label("Key image").click();
    settle(&mut harness, "the key image sent", |app| {
        local_document(app).is_some()
    });
    let said = local_document(harness.state())
        .expect("an answer")
        .expect("sent");
    assert!(
        said.contains("axial") && said.contains("the PACS"),
        "{said}"
    );
    harness.get_by_label("Send snapshot").click();
    settle(&mut harness, "the snapshot sent", |app| {
        local_document(app)
            .is_some_and(|answer| answer.as_ref().is_ok_and(|s| s.contains("Snapshot")))
    });

    // On the PACS: a report, key images and a snapshot in the series' study, each stored
    // with STOW-RS; nothing in the findings folder.
    let stored = pacs
        .requests()
        .iter()
        .filter(|line| line.starts_with(&format!("POST /dicom-web/studies/{study_uid}")))
        .count();
    assert_eq!(stored, 3, "{:?}", pacs.requests());
    let source = hounsfield_dicomweb::DicomWeb::new(&url, None).expect("the PACS");
    let mut modalities: Vec<_> = source
        .study_series(&study_uid)
        .expect("the study's series")
        .into_iter()
        .map(|series| series.modality)
        .collect();
    modalities.sort();
    assert_eq!(modalities, ["CT", "KO", "OT", "SR"]);
    assert!(documents(&folder.path().join("findings"), &study_uid).is_empty());
    drop(harness);

    // Opened again: the ellipse comes back from the PACS's newest report.
    let mut harness = window_on(
        Some(PathBuf::from(&url)),
        Some(series.uid.clone()),
        settings,
    );
    settle(&mut harness, "the PACS series again", |app| {
        app.full_frame_shown() && workspace(app).is_some()
    });
    let back = findings(&harness);
    assert_eq!(back.len(), 1, "the ellipse is back from the PACS");
    assert_eq!(back[0].measured.measurement, drawn.measured.measurement);
    assert_eq!(back[0].finding().plane, SlicePlane::Axial);
}
