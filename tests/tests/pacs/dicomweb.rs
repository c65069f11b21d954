//! Series from a real PACS (Debian's Orthanc with its DICOMweb plugin, started by the test
//! on free loopback ports): loaded over QIDO-RS and WADO-RS through the cache, each equals
//! the same series loaded from disk (id, geometry, warnings, voxels) and dcm2niix's corners;
//! searches return what Orthanc holds, page by page; a second open fetches nothing; a
//! replaced instance is fetched again; a PACS answering errors, or stopped mid-retrieval,
//! gives an error naming the series and URL within a bounded time.

use hounsfield_test_support as support;

use std::path::Path;
use std::time::{Duration, Instant};

use std::sync::Arc;

use glam::DVec3;
use hounsfield_client::Client;
use hounsfield_dicomweb::{DicomWeb, Limits, SeriesCache, StudyQuery};
use hounsfield_protocol::{StudyRequest, Viewport};
use hounsfield_server::Library;
use hounsfield_server::library::PacsLibrary;
use render_core::dicom::{Catalog, LoadedSeries, Series, VoxelBudget};
use render_core::progress::no_progress;
use support::faulty_proxy::FaultyProxy;
use support::orthanc::{Orthanc, series_retrieval_pattern};

/// dcm2niix's corners against ours (as in reference_geometry.rs).
const CORNER_TOLERANCE_MM: f64 = 0.05;
/// Longest a failing retrieval may take before its error.
const FAILURE_LIMIT: Duration = Duration::from_secs(60);

/// The study UID of a catalogued series.
fn study_of(catalog: &Catalog, series: &Series) -> String {
    catalog
        .studies
        .iter()
        .find(|study| study.series.iter().any(|s| s.id == series.id))
        .map(|study| study.uid.clone())
        .unwrap_or_else(|| panic!("series {} has no study", series.id))
}

/// Retrieves a series into `cache` and loads it as the app does: catalog of the cache
/// folder, the series of the same id, the file loader.
fn load_over_dicomweb(
    source: &DicomWeb,
    cache: &SeriesCache,
    study_uid: &str,
    id: &str,
    series_uid: &str,
) -> (LoadedSeries, usize) {
    let retrieved = cache
        .retrieve(source, study_uid, series_uid, &|_, _| {})
        .unwrap_or_else(|e| panic!("series {series_uid} retrieved: {e}"));
    let catalog = Catalog::scan(std::slice::from_ref(&retrieved.folder), &no_progress);
    let series = catalog
        .find(id)
        .unwrap_or_else(|e| panic!("series {id} in the retrieved catalog: {e}"));
    (support::load(series), retrieved.fetched)
}

/// Largest distance from each of dcm2niix's corners of `name` to the nearest of ours,
/// over the reference volumes of the same voxel count.
fn reference_corner_error(name: &str, loaded: &LoadedSeries) -> Option<f64> {
    let path = support::data(&format!("reference/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reference: serde_json::Value = serde_json::from_str(&text).expect("reference JSON");
    let ours = loaded.volume.corner_centres_lps();
    let voxels: usize = loaded.volume.dims.iter().product();
    reference["volumes"]
        .as_array()
        .expect("reference volumes")
        .iter()
        .filter(|volume| {
            volume["dims"].as_array().map(|dims| {
                dims.iter()
                    .filter_map(serde_json::Value::as_u64)
                    .product::<u64>()
            }) == Some(voxels as u64)
        })
        .map(|volume| {
            volume["corner_centres_lps_mm"]
                .as_array()
                .expect("corners")
                .iter()
                .map(|corner| {
                    let c: Vec<f64> = corner
                        .as_array()
                        .expect("a corner")
                        .iter()
                        .filter_map(serde_json::Value::as_f64)
                        .collect();
                    let corner = DVec3::new(c[0], c[1], c[2]);
                    ours.iter()
                        .map(|o| o.distance(corner))
                        .fold(f64::INFINITY, f64::min)
                })
                .fold(0.0, f64::max)
        })
        .min_by(f64::total_cmp)
}

/// Every loadable series of a data folder, uploaded to Orthanc and loaded back over
/// DICOMweb, equals the disk load: same id, warnings and volume (geometry and every voxel),
/// and its corners match dcm2niix's within 0.05 mm.
fn check_folder_round_trip(name: &str) {
    let orthanc = Orthanc::start(None);
    orthanc.upload_folder(&support::data(name));
    let source = DicomWeb::new(&orthanc.dicomweb_url(), None).expect("the source");
    let cache_dir = tempfile::tempdir().expect("a cache folder");
    let cache = SeriesCache::new(cache_dir.path(), 8 << 30);
    let disk = support::scan(name);
    let mut checked = 0;
    for series in disk.series().filter(|s| s.plan.is_ok()) {
        let from_disk = support::load(series);
        let study = study_of(&disk, series);
        let (over_web, _) = load_over_dicomweb(&source, &cache, &study, &series.id, &series.uid);
        assert_eq!(
            over_web.volume.dims, from_disk.volume.dims,
            "{name} {}: dims",
            series.id
        );
        assert_eq!(
            over_web.volume.voxel_to_lps, from_disk.volume.voxel_to_lps,
            "{name} {}: geometry",
            series.id
        );
        assert!(
            over_web.volume == from_disk.volume,
            "{name} {}: the volume over DICOMweb differs from the disk load",
            series.id
        );
        let words = |loaded: &LoadedSeries| {
            loaded
                .warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            words(&over_web),
            words(&from_disk),
            "{name} {}: warnings",
            series.id
        );
        if let Some(error) = reference_corner_error(name, &over_web) {
            assert!(
                error <= CORNER_TOLERANCE_MM,
                "{name} {}: corners {error:.4} mm from dcm2niix's",
                series.id
            );
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "{name}: no series was checked against the reference"
    );
}

#[test]
fn ct_head_neck_over_dicomweb_equals_the_disk_load() {
    check_folder_round_trip("ct-head-neck");
}

#[test]
fn mr_sag_oblique_over_dicomweb_equals_the_disk_load() {
    check_folder_round_trip("mr-sag-oblique");
}

#[test]
fn mr_lumbar_every_series_over_dicomweb_equals_the_disk_load() {
    check_folder_round_trip("mr-lumbar");
}

#[test]
fn search_by_patient_date_and_modality_returns_what_orthanc_holds_page_by_page() {
    let orthanc = Orthanc::start(None);
    let folders = ["ct-head-neck", "mr-sag-oblique", "mr-lumbar"];
    let catalogs: Vec<Catalog> = folders
        .iter()
        .map(|name| {
            orthanc.upload_folder(&support::data(name));
            support::scan(name)
        })
        .collect();
    let source = DicomWeb::new(&orthanc.dicomweb_url(), None).expect("the source");
    let all_query = StudyQuery {
        limit: 100,
        ..StudyQuery::default()
    };
    let search = |query: &StudyQuery| {
        let mut uids: Vec<String> = source
            .search_studies(query)
            .unwrap_or_else(|e| panic!("search {query:?}: {e}"))
            .into_iter()
            .map(|study| study.uid)
            .collect();
        uids.sort();
        uids
    };
    let mut every: Vec<String> = catalogs
        .iter()
        .flat_map(|c| c.studies.iter().map(|s| s.uid.clone()))
        .collect();
    every.sort();
    every.dedup();
    assert_eq!(search(&all_query), every, "every study");
    // Each series of the CT with its body part, as its files say (BodyPartExamined NECK):
    // what a site's hanging protocol may choose a PACS's series by.
    let ct = &catalogs[0].studies[0];
    let listed = source.study_series(&ct.uid).expect("the CT's series");
    for series in &ct.series {
        let files_say = series
            .images
            .first()
            .map(|image| image.identity.body_part.clone())
            .unwrap_or_default();
        let found = listed
            .iter()
            .find(|found| found.uid == series.uid)
            .unwrap_or_else(|| panic!("{} is listed: {listed:?}", series.uid));
        assert_eq!(found.body_part, files_say, "{found:?}");
    }
    assert!(
        listed.iter().any(|found| found.body_part == "NECK"),
        "{listed:?}"
    );
    // Paging: one study a page, every study once.
    let mut paged = Vec::new();
    for offset in 0..every.len() + 1 {
        let page = search(&StudyQuery {
            limit: 1,
            offset,
            ..StudyQuery::default()
        });
        assert!(page.len() <= 1, "a page of one holds {page:?}");
        paged.extend(page);
    }
    paged.sort();
    assert_eq!(paged, every, "pages of one cover every study once");
    // Each study found by its own patient name, patient id, date and modality.
    for catalog in &catalogs {
        for study in &catalog.studies {
            let modalities: Vec<&str> = study.series.iter().map(|s| s.modality.as_str()).collect();
            let expect = |query: StudyQuery, what: &str| {
                let found = search(&query);
                assert!(
                    found.contains(&study.uid),
                    "{what} {query:?} misses study {}: {found:?}",
                    study.uid
                );
                // Nothing that does not match: checked against the catalogs' own values.
                for uid in &found {
                    let other = catalogs
                        .iter()
                        .flat_map(|c| c.studies.iter())
                        .find(|s| &s.uid == uid)
                        .unwrap_or_else(|| panic!("{what}: study {uid} not uploaded"));
                    let ok = match what {
                        "patient name" => other.patient_name == study.patient_name,
                        "patient id" => other.patient_id == study.patient_id,
                        "date" => other.date == study.date,
                        _ => other.series.iter().any(|s| s.modality == modalities[0]),
                    };
                    assert!(ok, "{what} {query:?} also returned study {uid}");
                }
            };
            expect(
                StudyQuery {
                    patient_name: Some(study.patient_name.clone()),
                    limit: 100,
                    ..StudyQuery::default()
                },
                "patient name",
            );
            expect(
                StudyQuery {
                    patient_id: Some(study.patient_id.clone()),
                    limit: 100,
                    ..StudyQuery::default()
                },
                "patient id",
            );
            expect(
                StudyQuery {
                    date_from: Some(study.date.clone()),
                    date_to: Some(study.date.clone()),
                    limit: 100,
                    ..StudyQuery::default()
                },
                "date",
            );
            expect(
                StudyQuery {
                    modality: Some(modalities[0].to_string()),
                    limit: 100,
                    ..StudyQuery::default()
                },
                "modality",
            );
        }
    }
    // A date range before every study finds none; one that spans them finds all.
    let none = search(&StudyQuery {
        date_to: Some("19000101".to_string()),
        limit: 100,
        ..StudyQuery::default()
    });
    assert!(none.is_empty(), "studies before 1900: {none:?}");
    let spanning = search(&StudyQuery {
        date_from: Some("19000101".to_string()),
        date_to: Some("29991231".to_string()),
        limit: 100,
        ..StudyQuery::default()
    });
    assert_eq!(spanning, every, "a range over every date");
    // A bad field is refused before any request, naming it.
    let error = source
        .search_studies(&StudyQuery {
            date_from: Some("2013-03-08".to_string()),
            limit: 10,
            ..StudyQuery::default()
        })
        .expect_err("a bad date is refused");
    assert!(error.to_string().contains("date_from"), "{error}");
}

/// The single series of mr-sag-oblique: its study, id and disk load.
fn sagittal() -> (Catalog, String, String) {
    let catalog = support::scan("mr-sag-oblique");
    let series = catalog.series().next().expect("a series");
    let study = study_of(&catalog, series);
    let id = series.id.clone();
    (catalog, study, id)
}

#[test]
fn a_second_open_fetches_nothing_and_a_replaced_instance_is_fetched_again() {
    let orthanc = Orthanc::start(None);
    let uploaded = orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let (catalog, study, id) = sagittal();
    let series = catalog.find(&id).expect("the series");
    let from_disk = support::load(series);
    let source = DicomWeb::new(&orthanc.dicomweb_url(), None).expect("the source");
    let cache_dir = tempfile::tempdir().expect("a cache folder");
    let cache = SeriesCache::new(cache_dir.path(), 8 << 30);

    let (first, fetched) = load_over_dicomweb(&source, &cache, &study, &id, &series.uid);
    assert_eq!(fetched, uploaded, "the first open fetches every instance");
    assert_eq!(
        (orthanc.series_retrievals(), orthanc.instance_retrievals()),
        (1, 0),
        "the first open asks for the whole series in one request"
    );
    assert!(first.volume == from_disk.volume);

    let (second, fetched) = load_over_dicomweb(&source, &cache, &study, &id, &series.uid);
    assert_eq!(fetched, 0, "the second open is served from the cache");
    assert_eq!(
        (orthanc.series_retrievals(), orthanc.instance_retrievals()),
        (1, 0),
        "Orthanc saw no retrieval for the second open"
    );
    assert!(second.volume == from_disk.volume);

    // Replace one instance on the PACS: a new SOPInstanceUID (DICOM's rule for changed
    // pixels) and one pixel changed.
    let file = support::dcm_files("mr-sag-oblique")[50].clone();
    let (replacement, old_sop) = replaced_instance(&file);
    let old_id = orthanc.instance_id(&old_sop);
    orthanc.upload(replacement);
    orthanc.delete_instance(&old_id);
    let (third, fetched) = load_over_dicomweb(&source, &cache, &study, &id, &series.uid);
    assert_eq!(fetched, 1, "only the replaced instance is fetched again");
    assert_eq!(
        (orthanc.series_retrievals(), orthanc.instance_retrievals()),
        (1, 1),
        "one instance request, no whole-series one"
    );
    let differing = voxel_differences(&third, &from_disk);
    assert_eq!(differing, 1, "the changed pixel, and only it, differs");
}

#[test]
fn a_series_stream_broken_off_keeps_what_arrived_and_fetches_the_rest_one_by_one() {
    let orthanc = Orthanc::start(None);
    let uploaded = orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let (catalog, study, id) = sagittal();
    let series = catalog.find(&id).expect("the series");
    let from_disk = support::load(series);
    // The whole-series answer breaks off about half way through the series' bytes.
    let bytes: u64 = support::dcm_files("mr-sag-oblique")
        .iter()
        .map(|file| std::fs::metadata(file).expect("a file size").len())
        .sum();
    let proxy = FaultyProxy::start(&orthanc.rest_url());
    proxy.break_series_after(usize::try_from(bytes / 2).expect("a size"));
    let source = DicomWeb::new(&proxy.dicomweb_url(), None).expect("the source");
    let cache_dir = tempfile::tempdir().expect("a cache folder");
    let cache = SeriesCache::new(cache_dir.path(), 8 << 30);

    let (loaded, fetched) = load_over_dicomweb(&source, &cache, &study, &id, &series.uid);
    assert_eq!(
        fetched, uploaded,
        "every instance arrived, one way or the other"
    );
    assert!(
        loaded.volume == from_disk.volume,
        "the volume read from disk"
    );
    assert_eq!(orthanc.series_retrievals(), 1, "one whole-series request");
    let one_by_one = orthanc.instance_retrievals();
    assert!(
        one_by_one > 0 && one_by_one < uploaded,
        "{one_by_one} of {uploaded} instances asked for one by one: the stream's share is kept"
    );
    // Nothing but instances in the folder the loader reads (no partial part left).
    let retrieved = cache
        .retrieve(&source, &study, &series.uid, &|_, _| {})
        .expect("retrieved from the cache");
    let files = std::fs::read_dir(&retrieved.folder)
        .expect("the instances folder")
        .count();
    assert_eq!(files, uploaded, "one file per instance");
}

/// A copy of `file` with a new SOPInstanceUID and its first pixel changed; and the old UID.
fn replaced_instance(file: &Path) -> (Vec<u8>, String) {
    use dicom_core::value::PrimitiveValue;
    use dicom_core::{DataElement, VR};
    use dicom_dictionary_std::tags;
    let mut object = dicom_object::open_file(file).expect("the instance opens");
    let old = object
        .element(tags::SOP_INSTANCE_UID)
        .expect("a SOPInstanceUID")
        .to_str()
        .expect("a SOPInstanceUID as text")
        .trim_end_matches('\0')
        .to_string();
    let new = format!("{old}.9");
    object.put(DataElement::new(
        tags::SOP_INSTANCE_UID,
        VR::UI,
        PrimitiveValue::from(new.as_str()),
    ));
    object.meta_mut().media_storage_sop_instance_uid = new;
    object.meta_mut().update_information_group_length();
    let mut pixels = object
        .element(tags::PIXEL_DATA)
        .expect("pixel data")
        .to_bytes()
        .expect("native pixel data")
        .to_vec();
    pixels[0] = pixels[0].wrapping_add(7);
    object.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::from(pixels),
    ));
    let mut bytes = Vec::new();
    object
        .write_all(&mut bytes)
        .expect("the replacement is written");
    (bytes, old)
}

/// How many voxels differ between two loads of the same geometry.
fn voxel_differences(a: &LoadedSeries, b: &LoadedSeries) -> usize {
    assert_eq!(a.volume.dims, b.volume.dims);
    (0..a.volume.voxels.len())
        .filter(|&i| a.volume.voxels.get(i) != b.volume.voxels.get(i))
        .count()
}

#[test]
fn an_instance_answering_errors_gives_an_error_naming_it_then_only_it_is_fetched() {
    let orthanc = Orthanc::start(None);
    let uploaded = orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let (catalog, study, id) = sagittal();
    let series_uid = catalog.find(&id).expect("the series").uid.clone();
    let file = support::dcm_files("mr-sag-oblique")[10].clone();
    let (_, sop) = replaced_instance(&file);
    // The instance fails, and so does the whole-series request that would carry it.
    let whole_series = series_retrieval_pattern(&series_uid);
    orthanc.fail_requests_matching(&[sop.as_str(), whole_series.as_str()]);
    let source = DicomWeb::new(&orthanc.dicomweb_url(), None).expect("the source");
    let cache_dir = tempfile::tempdir().expect("a cache folder");
    let cache = SeriesCache::new(cache_dir.path(), 8 << 30);
    let start = Instant::now();
    let error = cache
        .retrieve(&source, &study, &series_uid, &|_, _| {})
        .expect_err("an instance refused");
    assert!(
        start.elapsed() < FAILURE_LIMIT,
        "took {:?}",
        start.elapsed()
    );
    let message = error.to_string();
    for expected in [series_uid.as_str(), sop.as_str(), "403", "1 of"] {
        assert!(message.contains(expected), "{expected:?} not in: {message}");
    }
    // Once the PACS answers again, only the missing instance is fetched.
    orthanc.fail_requests_matching(&[]);
    let before = orthanc.instance_retrievals();
    let retrieved = cache
        .retrieve(&source, &study, &series_uid, &|_, _| {})
        .expect("retrieved once the PACS answers");
    assert_eq!(retrieved.fetched, 1);
    assert_eq!(retrieved.instances, uploaded);
    assert_eq!(orthanc.instance_retrievals(), before + 1);
}

#[test]
fn orthanc_stopped_mid_retrieval_gives_an_error_naming_the_series_in_bounded_time() {
    let mut orthanc = Orthanc::start(None);
    orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let (catalog, study, id) = sagittal();
    let series_uid = catalog.find(&id).expect("the series").uid.clone();
    // The whole-series request is held by the PACS until it is killed.
    let held = series_retrieval_pattern(&series_uid);
    orthanc.hold_requests_matching(&[held.as_str()]);
    let source = DicomWeb::new(&orthanc.dicomweb_url(), None)
        .expect("the source")
        .with_limits(Limits {
            attempts: 2,
            read_timeout: Duration::from_secs(10),
            ..Limits::default()
        });
    let cache_dir = tempfile::tempdir().expect("a cache folder");
    let cache = SeriesCache::new(cache_dir.path(), 8 << 30);
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    let worker = {
        let (cache, source, study, series_uid) = (
            cache.clone(),
            source.clone(),
            study.clone(),
            series_uid.clone(),
        );
        std::thread::spawn(move || {
            let start = Instant::now();
            let result = cache.retrieve(&source, &study, &series_uid, &|_, _| {});
            let _ = sender.send((result, start.elapsed()));
        })
    };
    let deadline = Instant::now() + FAILURE_LIMIT;
    while orthanc.series_retrievals() == 0 {
        assert!(
            Instant::now() < deadline,
            "the held series was never asked for"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    orthanc.stop();
    let (result, took) = receiver
        .recv_timeout(FAILURE_LIMIT)
        .expect("the retrieval ends within the limit after Orthanc stops");
    let _ = worker.join();
    let error = result.expect_err("a retrieval cut off by a stopped PACS fails");
    let message = error.to_string();
    assert!(message.contains(&series_uid), "series not named: {message}");
    assert!(
        message.contains("/dicom-web/studies/"),
        "URL not named: {message}"
    );
    assert!(took < FAILURE_LIMIT, "took {took:?}");
}

#[test]
fn a_pacs_that_wants_a_token_gets_it_as_bearer() {
    let orthanc = Orthanc::start(Some("s3cret"));
    orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let query = StudyQuery {
        limit: 10,
        ..StudyQuery::default()
    };
    let without = DicomWeb::new(&orthanc.dicomweb_url(), None).expect("the source");
    let error = without
        .search_studies(&query)
        .expect_err("refused without the token");
    assert!(error.to_string().contains("403"), "{error}");
    let with = DicomWeb::new(&orthanc.dicomweb_url(), Some("s3cret".to_string())).expect("source");
    assert_eq!(with.search_studies(&query).expect("found").len(), 1);
}

/// Runs the `hounsfield` binary with `cache` as its DICOMweb cache (and no settings file);
/// its standard output when it succeeds.
fn hounsfield(cache: &Path, args: &[&str]) -> String {
    let output = std::process::Command::new(support::hounsfield_binary())
        .args(args)
        .env("HOUNSFIELD_DICOMWEB_CACHE", cache)
        .env("HOUNSFIELD_SETTINGS", cache.join("no-such-settings.toml"))
        .output()
        .expect("hounsfield runs");
    assert!(
        output.status.success(),
        "hounsfield {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn info_url_json_gives_each_study_its_series_count_and_its_series() {
    let orthanc = Orthanc::start(None);
    orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let (catalog, study, id) = sagittal();
    let series_uid = catalog.find(&id).expect("the series").uid.clone();
    let cache = tempfile::tempdir().expect("a cache folder");
    let text = hounsfield(cache.path(), &["info", &orthanc.dicomweb_url(), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&text).expect("info --json is JSON");
    let studies = json["studies"].as_array().expect("studies");
    assert_eq!(studies.len(), 1, "{text}");
    assert_eq!(studies[0]["uid"], study.as_str());
    assert_eq!(studies[0]["series_count"], 1, "{text}");
    let series = studies[0]["series"].as_array().expect("a list of series");
    assert_eq!(series.len(), 1, "{text}");
    assert_eq!(series[0]["uid"], series_uid.as_str());
    // No object holds one key twice (serde_json keeps the last of two silently).
    let keys = text
        .lines()
        .filter(|line| line.trim_start().starts_with("\"series\":"))
        .count();
    assert_eq!(keys, 1, "one study, one series key: {text}");
}

/// A point `fraction` of the way from the first voxel's centre to the last one's, as
/// `X,Y,Z` for `--at`.
fn point_between(series: &LoadedSeries, fraction: f64) -> String {
    let corners = series.volume.corner_centres_lps();
    let (first, last) = (corners[0], corners[corners.len() - 1]);
    let point = first + (last - first) * fraction;
    format!("{:.3},{:.3},{:.3}", point.x, point.y, point.z)
}

#[test]
fn probe_and_render_of_a_url_equal_those_of_the_folder() {
    let orthanc = Orthanc::start(None);
    orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let (catalog, _, id) = sagittal();
    let from_disk = support::load(catalog.find(&id).expect("the series"));
    let url = orthanc.dicomweb_url();
    let folder = support::data("mr-sag-oblique");
    let folder = folder.to_str().expect("a UTF-8 path");
    let cache = tempfile::tempdir().expect("a cache folder");
    let points = [
        point_between(&from_disk, 0.5),
        point_between(&from_disk, 0.3),
    ];
    let probe = |source: &str| -> serde_json::Value {
        let text = hounsfield(
            cache.path(),
            &[
                "probe", source, "--series", &id, "--at", &points[0], "--at", &points[1], "--json",
            ],
        );
        serde_json::from_str(&text).expect("probe --json is JSON")
    };
    let (over_web, on_disk) = (probe(&url), probe(folder));
    assert_eq!(over_web, on_disk, "probe of the URL and of the folder");
    assert!(
        on_disk[0]["value"].as_f64().is_some(),
        "the centre is inside: {on_disk}"
    );

    let out = tempfile::tempdir().expect("an output folder");
    let render = |source: &str, name: &str| -> image::RgbaImage {
        let png = out.path().join(name);
        let png_text = png.to_str().expect("a UTF-8 path");
        hounsfield(
            cache.path(),
            &[
                "render", source, "--series", &id, "--mpr", "sagittal", "--size", "96x96", "--out",
                png_text,
            ],
        );
        image::open(&png).expect("a PNG").to_rgba8()
    };
    let (over_web, on_disk) = (render(&url, "url.png"), render(folder, "folder.png"));
    assert_eq!(over_web.dimensions(), (96, 96));
    // The same voxels rendered the same way: equal within one grey level.
    let differing = over_web
        .pixels()
        .zip(on_disk.pixels())
        .filter(|(a, b)| a.0.iter().zip(b.0).any(|(x, y)| x.abs_diff(y) > 1))
        .count();
    assert_eq!(differing, 0, "pixels differing by more than one level");
    let lit = on_disk.pixels().filter(|p| p.0[0] > 30).count();
    assert!(
        lit > 500,
        "only {lit} lit pixels: the slice should show the head"
    );
}

/// A library of the PACS at `url` alone, its series cached in `cache`.
fn pacs_library(url: &str, cache: &Path) -> Library {
    let source = DicomWeb::new(url, None).expect("the source");
    Library::scan_with_pacs(
        &[],
        vec![PacsLibrary::new(source, SeriesCache::new(cache, 8 << 30))],
        1 << 30,
        VoxelBudget::for_machine(),
    )
    .expect("the PACS's catalog is listed")
}

#[test]
fn a_server_on_a_pacs_lists_searches_and_opens_a_series_with_progress_and_frames() {
    let orthanc = Orthanc::start(None);
    for name in ["mr-sag-oblique", "mr-lumbar"] {
        orthanc.upload_folder(&support::data(name));
    }
    let (sagittal_catalog, sagittal_study, id) = sagittal();
    let series = sagittal_catalog.find(&id).expect("the series");
    let (series_uid, images, dims) = (
        series.uid.clone(),
        series.images.len(),
        support::load(series).volume.dims,
    );
    let patient_name = sagittal_catalog.studies[0].patient_name.clone();
    let lumbar = support::scan("mr-lumbar");
    let mut every: Vec<String> = lumbar.studies.iter().map(|s| s.uid.clone()).collect();
    every.push(sagittal_study.clone());
    every.sort();
    // Slowed down a little, so that the retrieval outlasts the progress messages' period.
    let proxy = FaultyProxy::start(&orthanc.rest_url());
    proxy.slow_retrievals(Duration::from_millis(15));
    let cache = tempfile::tempdir().expect("a cache folder");
    let library = pacs_library(&proxy.dicomweb_url(), cache.path());
    assert_eq!(
        orthanc.instance_retrievals(),
        0,
        "listing the catalog retrieves no instance"
    );
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    let address = support::server::start_with_library(Arc::new(library), vec![config])[0];
    support::server::run_within(Duration::from_secs(180), async move {
        let mut client = Client::connect(&format!("ws://{address}/ws"))
            .await
            .expect("connects");
        let viewport = Viewport {
            width: 160,
            height: 120,
        };
        client.hello(None, viewport).await.expect("welcome");
        let all = client
            .find_studies(StudyRequest::default())
            .await
            .expect("a page of studies");
        let mut listed: Vec<String> = all.studies.iter().map(|s| s.id.clone()).collect();
        listed.sort();
        assert_eq!(listed, every, "every study of the PACS");
        assert_eq!(all.total, every.len());
        // By patient name (its first part, as a user types it).
        let typed = patient_name
            .split('^')
            .next()
            .unwrap_or_default()
            .to_string();
        let found = client
            .find_studies(StudyRequest {
                query: hounsfield_protocol::StudyQuery {
                    patient_name: typed.clone(),
                    ..hounsfield_protocol::StudyQuery::default()
                },
                ..StudyRequest::default()
            })
            .await
            .expect("a page of studies");
        assert!(
            found.studies.iter().any(|s| s.id == sagittal_study),
            "{typed:?} finds the sagittal study: {:?}",
            found.studies
        );
        assert!(
            found.studies.iter().all(|s| s.patient_name == patient_name),
            "{typed:?} finds only that patient's studies"
        );
        let study = found
            .studies
            .iter()
            .find(|s| s.id == sagittal_study)
            .expect("the study");
        assert_eq!(study.series.len(), 1);
        assert_eq!(study.series[0].id, series_uid);
        assert_eq!(study.series[0].images, images);
        // Opened: retrieved with progress, then decoded, then framed.
        let mut steps = Vec::new();
        let opened = client
            .open_reporting(&series_uid, |step| steps.push(step))
            .await
            .expect("the series opens");
        assert_eq!(opened.dims, dims, "the same volume as from disk");
        let retrieving: Vec<_> = steps.iter().filter(|s| s.stage == "retrieving").collect();
        assert!(
            !retrieving.is_empty(),
            "progress while retrieving: {steps:?}"
        );
        assert!(
            retrieving
                .iter()
                .all(|s| s.total == images && s.done <= s.total),
            "images received of the series': {steps:?}"
        );
        let frame = client.next_frame().await.expect("a frame");
        let (width, height, rgba) = frame.decode_rgba().expect("a JPEG or PNG frame");
        assert_eq!((width, height), (160, 120));
        let lit = rgba.chunks(4).filter(|p| p[0] > 30).count();
        assert!(lit > 200, "only {lit} lit pixels: the series should show");
    });
}

#[test]
fn an_instance_answering_500_leaves_a_gap_reported_as_a_warning() {
    let orthanc = Orthanc::start(None);
    orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let (catalog, _, id) = sagittal();
    let series = catalog.find(&id).expect("the series");
    let from_disk = support::load(series);
    // An instance from the middle of the stack (along its normal), so that its absence is
    // a gap.
    let along = |image: &render_core::dicom::header::ImageHeader| {
        let [rx, ry, rz, cx, cy, cz] = image.orientation.expect("an orientation");
        let normal = DVec3::new(rx, ry, rz).cross(DVec3::new(cx, cy, cz));
        DVec3::from(image.position.expect("a position")).dot(normal)
    };
    let mut by_position: Vec<_> = series.images.iter().collect();
    by_position.sort_by(|a, b| along(a).total_cmp(&along(b)));
    let sop = by_position[by_position.len() / 2].sop_instance_uid.clone();
    let proxy = FaultyProxy::start(&orthanc.rest_url());
    proxy.fail_with_500(&format!("/instances/{sop}"));
    proxy.fail_with_500(&format!("/series/{}", series.uid));
    let url = proxy.dicomweb_url();

    // The command line: the series loads, the warnings name the instance and the gap.
    let cache = tempfile::tempdir().expect("a cache folder");
    let centre = point_between(&from_disk, 0.5);
    let start = Instant::now();
    let output = std::process::Command::new(support::hounsfield_binary())
        .args(["probe", &url, "--series", &id, "--at", &centre, "--json"])
        .env("HOUNSFIELD_DICOMWEB_CACHE", cache.path())
        .env(
            "HOUNSFIELD_SETTINGS",
            cache.path().join("no-such-settings.toml"),
        )
        .output()
        .expect("hounsfield runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "probe failed: {stderr}");
    assert!(
        start.elapsed() < FAILURE_LIMIT,
        "took {:?}",
        start.elapsed()
    );
    for expected in [sop.as_str(), "500", "not retrieved", "missing slice"] {
        assert!(stderr.contains(expected), "{expected:?} not in: {stderr}");
    }
    let probed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(probed[0]["value"].as_f64().is_some(), "{probed}");

    // The server's library: the series opens on the disk's grid, the gap filled.
    let cache = tempfile::tempdir().expect("a cache folder");
    let library = pacs_library(&url, cache.path());
    let volume = library
        .open(&series.uid)
        .expect("opened with the instance missing");
    assert_eq!(volume.dims, from_disk.volume.dims, "the grid is kept");
    assert_eq!(
        volume.corner_centres_lps(),
        from_disk.volume.corner_centres_lps()
    );
    assert!(
        *volume != from_disk.volume,
        "one slice is interpolated, not the PACS's"
    );
    // What `opened` tells the reader: the image the PACS did not deliver and the gap,
    // without the PACS's URLs.
    let warnings = library.warnings(&series.uid).join("\n");
    let expected = format!(
        "1 of {} images were not delivered by the PACS",
        series.images.len()
    );
    assert!(warnings.contains(&expected), "{warnings}");
    assert!(warnings.contains("missing slice"), "{warnings}");
    assert!(!warnings.contains("http"), "{warnings}");
}

#[test]
fn the_served_library_and_the_command_line_ask_a_pacs_with_basic_credentials() {
    const USER: &str = "reader";
    const PASSWORD: &str = "pacs-basic-pw-7c1e";
    let orthanc = Orthanc::start_with_basic_auth(USER, PASSWORD);
    orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let (_, study, _) = sagittal();
    let url = orthanc.dicomweb_url();
    let folder = tempfile::tempdir().expect("a folder");
    let cache = folder.path().join("cache");
    let no_settings = folder.path().join("no-such-settings.toml");
    let env = [
        ("HOUNSFIELD_DICOMWEB_CACHE", cache.as_os_str()),
        ("HOUNSFIELD_SETTINGS", no_settings.as_os_str()),
    ];

    // The command line: refused without credentials, saying how the PACS answered; let in
    // with the user and the password from the environment.
    let run = |args: &[&str], password: Option<&str>| {
        let mut command = std::process::Command::new(support::hounsfield_binary());
        command
            .args(args)
            .envs(env)
            .env_remove("HOUNSFIELD_DICOMWEB_PASSWORD");
        if let Some(password) = password {
            command.env("HOUNSFIELD_DICOMWEB_PASSWORD", password);
        }
        command.output().expect("hounsfield runs")
    };
    let refused = run(&["info", &url], None);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && said.contains("403"), "{said}");
    let no_password = run(&["info", &url, "--dicomweb-user", USER], None);
    let said = String::from_utf8_lossy(&no_password.stderr);
    assert!(
        !no_password.status.success() && said.contains("HOUNSFIELD_DICOMWEB_PASSWORD"),
        "{said}"
    );
    let listed = run(
        &["info", &url, "--json", "--dicomweb-user", USER],
        Some(PASSWORD),
    );
    let said = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.status.success() && said.contains(&study), "{said}");

    // `--serve` with the credentials in its configuration file (the password in a file of
    // its own): the PACS's study is listed to a client.
    let password_file = folder.path().join("pacs-password");
    std::fs::write(&password_file, format!("{PASSWORD}\n")).expect("written");
    let config = folder.path().join("hounsfield.toml");
    std::fs::write(
        &config,
        format!(
            "library = [{url:?}]\ndicomweb_user = {USER:?}\ndicomweb_password_file = \"pacs-password\"\nh264 = \"off\"\n"
        ),
    )
    .expect("written");
    let config = config.to_string_lossy().into_owned();
    let served = support::served::start(&["--config", &config], &env)
        .unwrap_or_else(|stderr| panic!("the server did not start: {stderr}"));
    let ws = served.ws_url("");
    support::server::run_within(FAILURE_LIMIT, async move {
        let mut client = Client::connect(&ws).await.expect("connects");
        let viewport = Viewport {
            width: 160,
            height: 120,
        };
        client.hello(None, viewport).await.expect("welcome");
        let page = client
            .find_studies(StudyRequest::default())
            .await
            .expect("a page of studies");
        let listed: Vec<&str> = page.studies.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(listed, [study.as_str()], "the PACS's one study");
    });
    drop(served);

    // A wrong password in the file: the server does not start, and says why.
    std::fs::write(&password_file, "wrong\n").expect("written");
    let stderr = match support::served::start(&["--config", &config], &env) {
        Ok(_) => panic!("served with a wrong password"),
        Err(stderr) => stderr,
    };
    assert!(stderr.contains("403") && stderr.contains(&url), "{stderr}");
}

#[test]
fn listed_again_the_library_shows_new_studies_and_retrieves_a_changed_series_again() {
    let orthanc = Orthanc::start(None);
    orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let (catalog, _, id) = sagittal();
    let series = catalog.find(&id).expect("the series");
    let cache = tempfile::tempdir().expect("a cache folder");
    let library = pacs_library(&orthanc.dicomweb_url(), cache.path());
    assert_eq!(library.studies().len(), 1);
    let first = library.open(&series.uid).expect("opened");
    let again = library.open(&series.uid).expect("opened again");
    assert!(
        Arc::ptr_eq(&first, &again),
        "the second open is the cache's"
    );

    // The PACS receives a study and loses an image of the listed series.
    let lumbar = support::scan("mr-lumbar");
    orthanc.upload_folder(&support::data("mr-lumbar"));
    let sop = &series.images[series.images.len() / 2].sop_instance_uid;
    orthanc.delete_instance(&orthanc.instance_id(sop));
    let listed = library.list_pacs().expect("listed again");
    assert_eq!(listed, 1 + lumbar.studies.len());
    assert_eq!(library.studies().len(), listed);
    let images = |library: &Library| {
        library
            .studies()
            .iter()
            .flat_map(|study| study.series.iter())
            .find(|listed| listed.id == series.uid)
            .map(|listed| listed.images)
    };
    assert_eq!(images(&library), Some(series.images.len() - 1));
    let changed = library.open(&series.uid).expect("opened once changed");
    assert!(
        !Arc::ptr_eq(&first, &changed),
        "the changed series is retrieved again, not served from memory"
    );
}

#[test]
fn a_served_pacs_is_listed_again_and_its_studies_stay_listed_while_it_is_down() {
    let mut orthanc = Orthanc::start(None);
    orthanc.upload_folder(&support::data("mr-sag-oblique"));
    let lumbar = support::scan("mr-lumbar");
    let folder = tempfile::tempdir().expect("a folder");
    let cache = folder.path().join("cache");
    let no_settings = folder.path().join("no-such-settings.toml");
    let url = orthanc.dicomweb_url();
    let served = support::served::start(
        &["--library", &url, "--pacs-refresh", "1", "--h264", "off"],
        &[
            ("HOUNSFIELD_DICOMWEB_CACHE", cache.as_os_str()),
            ("HOUNSFIELD_SETTINGS", no_settings.as_os_str()),
        ],
    )
    .unwrap_or_else(|stderr| panic!("the server did not start: {stderr}"));
    let ws = served.ws_url("");
    let connect = async || {
        let mut client = Client::connect(&ws).await.expect("connects");
        let viewport = Viewport {
            width: 160,
            height: 120,
        };
        client.hello(None, viewport).await.expect("welcome");
        client
    };
    let total = async |client: &mut Client| {
        client
            .find_studies(StudyRequest::default())
            .await
            .expect("a page of studies")
            .total
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let mut client = connect().await;
        assert_eq!(total(&mut client).await, 1);
    });
    orthanc.upload_folder(&support::data("mr-lumbar"));
    let expected = 1 + lumbar.studies.len();
    let started = Instant::now();
    runtime.block_on(async {
        let mut client = connect().await;
        while total(&mut client).await != expected {
            assert!(
                started.elapsed() < FAILURE_LIMIT,
                "the new studies were not listed"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    });
    // Down: listings fail, the studies listed stay (three refresh periods later).
    orthanc.stop();
    std::thread::sleep(Duration::from_secs(3));
    runtime.block_on(async {
        let mut client = connect().await;
        assert_eq!(total(&mut client).await, expected);
    });
}

/// The small view the served-PACS tests' clients ask for.
const SMALL_VIEW: Viewport = Viewport {
    width: 160,
    height: 120,
};

/// Orthanc holding `ct-head-neck`, behind a proxy that waits `delay` before each chunk of
/// a retrieval.
fn slowed_ct_pacs(delay: Duration) -> (Orthanc, FaultyProxy) {
    let orthanc = Orthanc::start(None);
    orthanc.upload_folder(&support::data("ct-head-neck"));
    let proxy = FaultyProxy::start(&orthanc.rest_url());
    proxy.slow_retrievals(delay);
    (orthanc, proxy)
}

/// Connects to the server at `ws`, asks it to open its PACS's first series, and returns
/// the series' id once the server has told that at least `done` of its images arrived
/// (the retrieval is slowed: the series must not open first).
fn open_while_retrieving(ws: &str, done: usize) -> String {
    let mut series = String::new();
    support::server::run_within(FAILURE_LIMIT, async {
        let mut client = Client::connect(ws).await.expect("connects");
        client.hello(None, SMALL_VIEW).await.expect("welcome");
        let studies = client.list_studies().await.expect("the PACS's studies");
        series.clone_from(&studies[0].series[0].id);
        client
            .send(&hounsfield_protocol::ClientMessage::Open {
                series: series.clone(),
            })
            .await
            .expect("sent");
        loop {
            match client.next_event().await.expect("the session lives") {
                hounsfield_client::Event::Message(
                    hounsfield_protocol::ServerMessage::Progress(step),
                ) if step.done >= done => break,
                hounsfield_client::Event::Message(hounsfield_protocol::ServerMessage::Opened(
                    _,
                )) => panic!("opened before the retrieval was slowed"),
                _ => {}
            }
        }
    });
    series
}

#[test]
fn the_server_stops_within_seconds_of_sigterm_while_a_series_is_retrieved() {
    // Retrieved at about 128 KiB a second: well above the minimum rate, and a minute
    // for the series.
    let (_orthanc, proxy) = slowed_ct_pacs(Duration::from_millis(500));
    let cache = tempfile::tempdir().expect("a cache folder");
    let mut served = support::served::start(
        &["--library", &proxy.dicomweb_url(), "--h264", "off"],
        &[("HOUNSFIELD_DICOMWEB_CACHE", cache.path().as_os_str())],
    )
    .unwrap_or_else(|stderr| panic!("the server did not start: {stderr}"));
    // Its retrieval is under way once the server tells how far it has come.
    open_while_retrieving(&served.ws_url(""), 0);
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &served.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let asked = Instant::now();
    // Connections get 5 s to close, the rest one more: the process is gone within
    // seconds, whatever it was doing (it waited for the retrieval to end before).
    let ended = served.exited_within(Duration::from_secs(20));
    assert!(
        ended.is_some(),
        "still running {:?} after SIGTERM",
        asked.elapsed()
    );
    eprintln!("stopped {:?} after SIGTERM", asked.elapsed());
}

#[test]
fn killed_while_a_series_arrives_the_server_restarts_and_loads_it_whole() {
    let (_orthanc, proxy) = slowed_ct_pacs(Duration::from_millis(200));
    let cache = tempfile::tempdir().expect("a cache folder");
    let env = [("HOUNSFIELD_DICOMWEB_CACHE", cache.path().as_os_str())];
    let args = ["--library", &proxy.dicomweb_url(), "--h264", "off"];
    let served = support::served::start(&args, &env)
        .unwrap_or_else(|stderr| panic!("the server did not start: {stderr}"));
    // Killed once part of the series has arrived in the cache.
    let series = open_while_retrieving(&served.ws_url(""), 21);
    // Dropped: killed with SIGKILL mid-retrieval, and waited for.
    drop(served);
    proxy.slow_retrievals(Duration::ZERO);
    let served = support::served::start(&args, &env).expect("restarted on the same cache");
    let ws = served.ws_url("");
    support::server::run_within(FAILURE_LIMIT, async move {
        let mut client = Client::connect(&ws).await.expect("connects");
        client.hello(None, SMALL_VIEW).await.expect("welcome");
        let opened = client
            .open(&series)
            .await
            .expect("opened after the restart");
        assert_eq!(
            opened.dims,
            [512, 512, 295],
            "every slice, none half-written"
        );
        assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
    });
}
