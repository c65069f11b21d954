//! A PACS that speaks DICOM networking alone (Orthanc with DICOMweb off): its studies and
//! series searched with C-FIND by our SCU, a series retrieved with C-MOVE into our
//! Storage SCP and with C-GET over the association that asked, every instance stored, and
//! `render dimse://…` drawing what it draws of the same files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use hounsfield_dimse::{
    AssociationReport, Callers, Reception, Refusal, RemoteAe, Scu, StorageScp, StoreFolder,
};
use hounsfield_test_support as support;
use support::orthanc::Orthanc;

/// Our AE title: the C-FIND's caller and the C-MOVE's destination.
const OURS: &str = "HFTEST";

/// What our SCP was told.
#[derive(Default)]
struct Told(Mutex<Vec<AssociationReport>>);

impl Reception for Told {
    fn refused(&self, refusal: &Refusal) {
        panic!("our SCP refused the PACS: {refusal:?}");
    }

    fn ended(&self, report: &AssociationReport) {
        self.0.lock().expect("not poisoned").push(report.clone());
    }
}

/// Each series of the DICOM files under `folder`: its UID and its files' SOP Instance UIDs,
/// and the study's UID, read from the files themselves.
fn series_in(folder: &Path) -> (String, BTreeMap<String, BTreeSet<String>>) {
    let mut study = String::new();
    let mut series: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in support::dicom_files_under(folder) {
        let object = dicom_object::OpenFileOptions::new()
            .read_until(dicom_dictionary_std::tags::PIXEL_DATA)
            .open_file(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let text = |tag| text_of(&object, tag);
        study = text(dicom_dictionary_std::tags::STUDY_INSTANCE_UID);
        series
            .entry(text(dicom_dictionary_std::tags::SERIES_INSTANCE_UID))
            .or_default()
            .insert(text(dicom_dictionary_std::tags::SOP_INSTANCE_UID));
    }
    (study, series)
}

#[test]
fn a_dicom_pacs_is_searched_with_c_find_and_a_series_moved_into_our_store() {
    // Our SCP's port first: the PACS is told where to send.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let orthanc = Orthanc::start_dicom_only(&[(OURS, port)]);
    let mr = support::data("mr-lumbar");
    let uploaded = orthanc.upload_folder(&mr);
    let (study_uid, series) = series_in(&mr);
    assert_eq!(uploaded, series.values().map(BTreeSet::len).sum::<usize>());

    let store_folder = tempfile::tempdir().expect("a folder");
    let store = Arc::new(StoreFolder::open(store_folder.path(), 1 << 30).expect("the store"));
    let scp = StorageScp::bind(
        ([127, 0, 0, 1], port).into(),
        OURS,
        Callers::default(),
        store,
        60,
    )
    .expect("bound");
    let told = Arc::new(Told::default());
    scp.serve(told.clone()).expect("serving");

    let pacs = RemoteAe::parse(&format!(
        "dimse://HOUNSFIELDTEST@127.0.0.1:{}",
        orthanc.dicom_port()
    ))
    .expect("an address");
    let scu = Scu::new(pacs, OURS);
    // C-FIND: the study, with its patient, and each series with its images.
    let studies = scu.studies().expect("studies found");
    assert_eq!(studies.len(), 1, "{studies:?}");
    assert_eq!(studies[0].uid, study_uid);
    assert!(!studies[0].patient_id.is_empty(), "{studies:?}");
    let found = scu.series(&study_uid).expect("series found");
    let found_uids: BTreeSet<&str> = found.iter().map(|s| s.uid.as_str()).collect();
    assert_eq!(found_uids, series.keys().map(String::as_str).collect());
    for each in &found {
        assert_eq!(each.images, Some(series[&each.uid].len()), "{each:?}");
    }
    // C-MOVE of the largest series: every instance arrives in our store, once.
    let (largest, instances) = series
        .iter()
        .max_by_key(|(_, sops)| sops.len())
        .expect("a series");
    let moved = scu.move_series(&study_uid, largest, OURS).expect("moved");
    assert_eq!((moved.completed, moved.failed), (instances.len(), 0));
    let stored = file_stems(&store_folder.path().join(&study_uid).join(largest));
    assert_eq!(&stored, instances);
    // The PACS's association with ours ends about when its C-MOVE answers.
    let waited = std::time::Instant::now();
    loop {
        let reports = told.0.lock().expect("not poisoned").clone();
        let stored: usize = reports.iter().map(|r| r.stored).sum();
        if stored == instances.len() {
            break;
        }
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(10),
            "{reports:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // C-GET of the same series: sent back over the association that asked (no port of
    // ours), every instance stored with the pixel data the PACS was given.
    let got_folder = tempfile::tempdir().expect("a folder");
    let got_store = StoreFolder::open(got_folder.path(), 1 << 30).expect("the store");
    let got = scu
        .get_series(&study_uid, largest, &got_store)
        .unwrap_or_else(|error| panic!("C-GET: {error}\n{}", orthanc.log()));
    assert_eq!((got.completed, got.failed), (instances.len(), 0));
    let series_folder = got_folder.path().join(&study_uid).join(largest);
    let got_sops = file_stems(&series_folder);
    assert_eq!(&got_sops, instances);
    let originals = pixel_data_by_sop(&mr);
    for (sop, pixels) in pixel_data_by_sop(&series_folder) {
        assert!(
            originals.get(&sop) == Some(&pixels),
            "{sop}: the pixel data arrived as it was sent"
        );
    }
    // A store too small for any instance refuses each; nothing half written stays.
    let tiny_folder = tempfile::tempdir().expect("a folder");
    let tiny = StoreFolder::open(tiny_folder.path(), 1024).expect("the store");
    match scu.get_series(&study_uid, largest, &tiny) {
        Ok(counts) => assert_eq!(counts.completed, 0, "{counts:?}"),
        Err(error) => assert!(error.to_string().contains("C-GET"), "{error}"),
    }
    assert!(
        support::dicom_files_under(tiny_folder.path()).is_empty(),
        "no instance stored past the store's bounds"
    );
    // The command line renders the series retrieved with C-GET, the picture it draws
    // of the same series read from its files.
    let out = tempfile::tempdir().expect("a folder");
    let render = |source: &str, png: &str| {
        let output = std::process::Command::new(support::hounsfield_binary())
            .args([
                "render",
                source,
                "--series",
                largest,
                "--size=96x96",
                "--out",
            ])
            .arg(out.path().join(png))
            .env("HOUNSFIELD_AE_TITLE", OURS)
            .env("XDG_CACHE_HOME", out.path().join("cache"))
            .output()
            .expect("hounsfield runs");
        assert!(
            output.status.success(),
            "render {source}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read(out.path().join(png)).expect("a PNG")
    };
    let address = format!("dimse://HOUNSFIELDTEST@127.0.0.1:{}", orthanc.dicom_port());
    let from_pacs = render(&address, "pacs.png");
    let from_files = render(&mr.to_string_lossy(), "files.png");
    assert!(from_pacs == from_files, "the same series, the same picture");
    assert!(
        support::dicom_files_under(&out.path().join("cache")).is_empty(),
        "the retrieved files are let go once loaded"
    );
    // The command line lists it too, calling as a title Orthanc knows.
    let listed = support::hounsfield_json(&[
        "info",
        &format!("dimse://HOUNSFIELDTEST@127.0.0.1:{}", orthanc.dicom_port()),
        "--ae-title",
        OURS,
        "--json",
    ]);
    assert_eq!(listed["studies"][0]["uid"], study_uid.as_str(), "{listed}");
    assert_eq!(
        listed["studies"][0]["series"].as_array().map(Vec::len),
        Some(series.len()),
        "{listed}"
    );
    // A series' body part comes with C-FIND (the lumbar MR's files hold none): a slice
    // of the CT, whose files say NECK, given to the PACS as a study of its own.
    let ct_slice = support::dicom_files_under(&support::data("ct-head-neck"))
        .into_iter()
        .next()
        .expect("a CT slice");
    orthanc.upload(std::fs::read(&ct_slice).expect("the slice"));
    let ct_study = text_of(
        &dicom_object::open_file(&ct_slice).expect("the slice reads"),
        dicom_dictionary_std::tags::STUDY_INSTANCE_UID,
    );
    let ct_series = scu.series(&ct_study).expect("the CT's series found");
    assert_eq!(
        ct_series
            .iter()
            .map(|s| s.body_part.as_str())
            .collect::<Vec<_>>(),
        ["NECK"],
        "{ct_series:?}"
    );
    // A PACS that does not answer is named in the error.
    let nobody = Scu::new(
        RemoteAe::parse("dimse://NOBODY@127.0.0.1:1").expect("an address"),
        OURS,
    );
    let error = nobody.studies().expect_err("no association").to_string();
    assert!(error.contains("NOBODY@127.0.0.1:1"), "{error}");
}

/// Each DICOM file's pixel data under `folder`, by its SOP Instance UID.
fn pixel_data_by_sop(folder: &Path) -> BTreeMap<String, Vec<u8>> {
    support::dicom_files_under(folder)
        .into_iter()
        .map(|path| {
            let object = dicom_object::open_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let pixels = object
                .element(dicom_dictionary_std::tags::PIXEL_DATA)
                .ok()
                .and_then(|e| e.to_bytes().ok())
                .map(|bytes| bytes.into_owned())
                .unwrap_or_default();
            (
                text_of(&object, dicom_dictionary_std::tags::SOP_INSTANCE_UID),
                pixels,
            )
        })
        .collect()
}

/// The names, less `.dcm`, of the files in a series' folder (its SOP Instance UIDs).
fn file_stems(folder: &Path) -> BTreeSet<String> {
    std::fs::read_dir(folder)
        .expect("the series' folder")
        .flatten()
        .filter_map(|e| {
            e.path()
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .collect()
}

/// A text element of `object`, without its padding (empty when absent).
fn text_of(object: &dicom_object::InMemDicomObject, tag: dicom_core::Tag) -> String {
    object
        .element(tag)
        .ok()
        .and_then(|e| e.to_str().ok())
        .map(|s| s.trim_end_matches('\0').to_string())
        .unwrap_or_default()
}
