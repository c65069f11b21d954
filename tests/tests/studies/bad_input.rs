//! Bad input: broken files are skipped or refused with a reason naming the file and the
//! attribute, what is good still loads, and nothing panics.

use hounsfield_test_support as support;

use std::path::{Path, PathBuf};

use dicom_dictionary_std::tags;
use dicom_object::open_file;
use render_core::dicom::{Catalog, load_series};
use render_core::progress::no_progress;

/// The first `n` files of a series, by name.
fn series_files(relative: &str, n: usize) -> Vec<PathBuf> {
    let mut files = support::dcm_files(relative);
    files.truncate(n);
    files
}

fn copy_without(source: &Path, target: &Path, tag: dicom_object::Tag) {
    let mut object = open_file(source).expect("source opens");
    assert!(object.remove_element(tag), "{tag} was present");
    object.write_to_file(target).expect("copy written");
}

fn copy_truncated(source: &Path, target: &Path, keep: f64) {
    let bytes = std::fs::read(source).expect("source reads");
    let len = (bytes.len() as f64 * keep) as usize;
    std::fs::write(target, &bytes[..len]).expect("copy written");
}

fn skipped_reason<'a>(
    catalog_skipped: &'a [render_core::dicom::SkippedFile],
    name: &str,
) -> &'a str {
    catalog_skipped
        .iter()
        .find(|s| s.file.file_name().is_some_and(|f| f == name))
        .map(|s| s.reason.as_str())
        .unwrap_or_else(|| panic!("{name} not reported: {catalog_skipped:?}"))
}

#[test]
fn folder_with_broken_files_loads_the_good_ones_and_names_the_bad() {
    let folder = tempfile::tempdir().expect("temp folder");
    let sources = series_files("mr-sag-oblique", 8);
    for source in &sources[..4] {
        std::fs::copy(
            source,
            folder.path().join(source.file_name().expect("name")),
        )
        .expect("copy");
    }
    let dir = folder.path();
    copy_without(
        &sources[4],
        &dir.join("no-position.dcm"),
        tags::IMAGE_POSITION_PATIENT,
    );
    copy_without(&sources[5], &dir.join("no-pixels.dcm"), tags::PIXEL_DATA);
    copy_truncated(&sources[6], &dir.join("cut-header.dcm"), 0.01);
    copy_truncated(&sources[7], &dir.join("cut-pixels.dcm"), 0.8);
    std::fs::write(dir.join("notes.txt"), "not an image").expect("text file");

    let catalog = Catalog::scan(&[dir.to_path_buf()], &no_progress);
    assert!(skipped_reason(&catalog.skipped, "notes.txt").contains("not a readable DICOM file"));
    assert!(
        skipped_reason(&catalog.skipped, "no-position.dcm")
            .contains("ImagePositionPatient (0020,0032)")
    );
    assert!(!skipped_reason(&catalog.skipped, "cut-header.dcm").is_empty());

    let series = catalog
        .default_series()
        .expect("the good images form a series");
    let loaded = load_series(series, &no_progress).expect("good slices load");
    assert_eq!(loaded.slices, 4, "four good slices");
    assert!(skipped_reason(&loaded.skipped, "no-pixels.dcm").contains("PixelData (7FE0,0010)"));
    let cut = skipped_reason(&loaded.skipped, "cut-pixels.dcm");
    assert!(
        cut.contains("truncated") || cut.contains("Premature") || cut.contains("end"),
        "{cut}"
    );
    assert!(loaded.volume.value_range.max > 0.0);
}

#[test]
fn a_lone_file_without_position_is_refused_naming_file_and_attribute() {
    let folder = tempfile::tempdir().expect("temp folder");
    let source = &series_files("mr-sag-oblique", 1)[0];
    let target = folder.path().join("IMG0042.dcm");
    copy_without(source, &target, tags::IMAGE_POSITION_PATIENT);
    let catalog = Catalog::scan(&[target], &no_progress);
    assert_eq!(catalog.series().count(), 0);
    let reason = skipped_reason(&catalog.skipped, "IMG0042.dcm");
    assert!(
        reason.contains("ImagePositionPatient (0020,0032) missing in")
            && reason.contains("IMG0042.dcm"),
        "{reason}"
    );
}

#[test]
fn pydicom_broken_files_give_reasons_not_panics() {
    let folder = support::data("pydicom-test-files/pydicom/data/test_files");
    let catalog = Catalog::scan(std::slice::from_ref(&folder), &no_progress);
    for name in [
        "no_meta.dcm",
        "meta_missing_tsyntax.dcm",
        "rtplan_truncated.dcm",
        "no_meta_group_length.dcm",
        "liver_1frame.dcm",
    ] {
        let reason = skipped_reason(&catalog.skipped, name);
        assert!(reason.len() > 10, "{name}: reason too vague: {reason}");
    }
    // The truncated MR header reads, its pixel data does not: the load says so.
    let truncated = Catalog::scan(&[folder.join("MR_truncated.dcm")], &no_progress);
    let series = truncated
        .series()
        .next()
        .expect("MR_truncated.dcm has a readable header");
    let error = load_series(series, &no_progress).expect_err("its pixel data is cut");
    assert!(error.to_string().contains("MR_truncated.dcm"), "{error}");
    // Loading every series of the folder returns, whatever each result is.
    for series in catalog.series() {
        let _ = load_series(series, &no_progress);
    }
}

#[test]
fn empty_folder_has_no_series_and_nothing_skipped() {
    let folder = tempfile::tempdir().expect("temp folder");
    let catalog = Catalog::scan(&[folder.path().to_path_buf()], &no_progress);
    assert_eq!(catalog.series().count(), 0);
    assert!(catalog.skipped.is_empty());
}
