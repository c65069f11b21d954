//! Compressed frames that lie about their size ([`HostileFrame`]: JPEG 2000 and JP2
//! declaring 60000 × 60000 in 4 × 4 images, more components or bits than the header, a
//! baseline JPEG declaring 60000 × 60000, a codestream cut inside its SIZ, an RLE header
//! of 4294967295 segments) through every entry point of this crate that decodes: the
//! checked pixel data itself, `decode_frames`, a series' load (and the packed copy made of
//! it), files decoded ahead of a load, and thumbnails. Each must be refused naming the
//! file, the frame and the lie, while the catalogue lists the series from headers alone
//! and the honest twins load. One test runs the whole library in a child process capped
//! at 4 GiB of address space and reads its peak resident memory from the kernel.

use std::path::{Path, PathBuf};
use std::process::Command;

use hounsfield_volume::dicom::checked_pixels::CheckedPixelData;
use hounsfield_volume::dicom::pixels::{FrameTarget, decode_frames};
use hounsfield_volume::dicom::testing::{
    HOSTILE_SERIES_IMAGES, HostileFrame, write_honest_series, write_hostile_library,
    write_hostile_series,
};
use hounsfield_volume::dicom::thumbnail::series_thumbnail;
use hounsfield_volume::dicom::{
    Catalog, DicomError, PreDecoded, Series, VoxelBudget, load_series_predecoded,
    load_series_within,
};
use hounsfield_volume::progress::no_progress;

/// The budget loads run within: far above a 4 × 4 × 3 series, far below what a lie costs.
const BUDGET_BYTES: u64 = 2 << 30;
/// Set in the child process of the memory test: the folder of its hostile library.
const CHILD_LIBRARY: &str = "HOUNSFIELD_HOSTILE_FRAMES_CHILD";
/// The child's address space (KiB): a lie followed allocates gigabytes and fails here
/// instead of taking the machine.
const CHILD_ADDRESS_SPACE_KB: u64 = 4 << 20;
/// The child's peak resident memory must stay under this.
const CHILD_PEAK_LIMIT_KB: u64 = 500 * 1024;

fn budget() -> VoxelBudget {
    VoxelBudget::new(BUDGET_BYTES)
}

/// The catalogue of `folder` and its one series.
fn only_series(catalog: &Catalog) -> &Series {
    let mut series = catalog.series();
    let first = series.next().expect("a series");
    assert!(series.next().is_none(), "one series");
    first
}

/// Asserts that `error` refuses a file of `case` before decoding, and says why.
fn assert_refused(case: HostileFrame, error: &DicomError, entry: &str) {
    let text = error.to_string();
    assert!(
        text.contains(&format!("{}-", case.name())) && text.contains(".dcm"),
        "{entry}, {case:?}: the refusal names no file of the series: {text}"
    );
    assert!(
        text.contains("frame 0 refused before decoding") && text.contains(case.refusal()),
        "{entry}, {case:?}: not the refusal expected ({}): {text}",
        case.refusal()
    );
}

/// Every entry point that decodes, on the series of `case` written in `folder`; panics
/// unless each refuses with the case's reason.
fn refuse_everywhere(case: HostileFrame, folder: &Path) {
    let catalog = Catalog::scan(&[folder.to_path_buf()], &no_progress);
    assert!(
        catalog.skipped.is_empty(),
        "{case:?}: the catalogue reads headers only: {:?}",
        catalog.skipped
    );
    let series = only_series(&catalog);
    assert_eq!(series.uid, case.series_uid());
    assert_eq!(series.images.len(), HOSTILE_SERIES_IMAGES, "{case:?}");
    for image in &series.images {
        let refused = CheckedPixelData::open(&image.file, budget()).expect_err("refused");
        assert!(
            matches!(&refused, DicomError::FrameRefused { file, frame: 0, .. } if *file == image.file),
            "{case:?}: {refused:?}"
        );
        assert_refused(case, &refused, "CheckedPixelData::open");
        let mut values = vec![0f32; (image.rows * image.columns) as usize];
        let mut targets = [FrameTarget {
            frame: image.frame,
            rescale: image.rescale,
            out: &mut values,
            tile: None,
        }];
        let refused = decode_frames(&image.file, image.pixel_format, &mut targets)
            .expect_err("decode_frames refuses");
        assert_refused(case, &refused, "decode_frames");
    }
    let refused = load_series_within(series, budget(), &no_progress).expect_err("load refused");
    assert_refused(case, &refused, "load_series_within");
    let ahead = PreDecoded::new(BUDGET_BYTES);
    for image in &series.images {
        ahead.decode(&image.file);
    }
    assert_eq!(ahead.files(), 0, "{case:?}: nothing is decoded ahead");
    let refused = load_series_predecoded(series, budget(), &no_progress, Some(&ahead))
        .expect_err("load refused");
    assert_refused(case, &refused, "load_series_predecoded");
    let refused = series_thumbnail(series, 64).expect_err("thumbnail refused");
    assert_refused(case, &refused, "series_thumbnail");
}

#[test]
fn every_hostile_frame_is_refused_through_every_entry_point_that_decodes() {
    let scratch = tempfile::tempdir().expect("a folder");
    for (case, folder) in write_hostile_library(scratch.path()).expect("the library") {
        refuse_everywhere(case, &folder);
    }
}

#[test]
fn every_honest_twin_loads_packs_and_gives_a_thumbnail() {
    let scratch = tempfile::tempdir().expect("a folder");
    for case in HostileFrame::ALL {
        let folder = scratch.path().join(case.name());
        let files = write_honest_series(&folder, case).expect("the twin");
        assert_eq!(files.len(), HOSTILE_SERIES_IMAGES);
        let catalog = Catalog::scan(std::slice::from_ref(&folder), &no_progress);
        let series = only_series(&catalog);
        assert_eq!(series.uid, case.honest_series_uid());
        let loaded = load_series_within(series, budget(), &no_progress)
            .unwrap_or_else(|e| panic!("{case:?}: the honest twin loads: {e}"));
        assert!(loaded.skipped.is_empty(), "{case:?}: {:?}", loaded.skipped);
        assert_eq!(loaded.volume.dims, [4, 4, 3], "{case:?}");
        let packed = loaded.volume.packed();
        assert_eq!(packed.voxels.len(), 4 * 4 * 3, "{case:?}");
        let thumbnail = series_thumbnail(series, 64)
            .unwrap_or_else(|e| panic!("{case:?}: the twin's thumbnail: {e}"));
        assert_eq!((thumbnail.width, thumbnail.height), (4, 4));
        let ahead = PreDecoded::new(BUDGET_BYTES);
        for file in &files {
            ahead.decode(file);
        }
        assert_eq!(
            ahead.files(),
            HOSTILE_SERIES_IMAGES,
            "{case:?}: decoded ahead"
        );
    }
}

#[test]
fn one_hostile_file_among_honest_ones_is_left_out_by_name() {
    let scratch = tempfile::tempdir().expect("a folder");
    let folder = scratch.path();
    write_honest_series(folder, HostileFrame::Jpeg2000Oversized).expect("the twin");
    let elsewhere = tempfile::tempdir().expect("a folder");
    let hostile =
        write_hostile_series(elsewhere.path(), HostileFrame::Jpeg2000Oversized).expect("the lie");
    // The lie takes the middle slice of the honest series.
    let honest_middle = folder.join("honest-1.dcm");
    std::fs::remove_file(&honest_middle).expect("removed");
    let lie: PathBuf = folder.join("j2k-60000-1.dcm");
    let bytes = std::fs::read(&hostile[1]).expect("read");
    let honest_uid = HostileFrame::Jpeg2000Oversized.honest_series_uid();
    let hostile_uid = HostileFrame::Jpeg2000Oversized.series_uid();
    assert_eq!(
        honest_uid.len(),
        hostile_uid.len(),
        "the same length, swapped in place"
    );
    let swapped = replace_all(&bytes, hostile_uid.as_bytes(), honest_uid.as_bytes());
    std::fs::write(&lie, swapped).expect("written");
    let catalog = Catalog::scan(&[folder.to_path_buf()], &no_progress);
    let series = only_series(&catalog);
    let loaded = load_series_within(series, budget(), &no_progress).expect("the rest loads");
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].file, lie);
    assert!(
        loaded.skipped[0]
            .reason
            .contains("frame 0 refused before decoding: its JPEG 2000 codestream declares 60000 × 60000, but Columns × Rows (0028,0011/0010) say 4 × 4"),
        "{}",
        loaded.skipped[0].reason
    );
}

fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at..].starts_with(from) {
            out.extend_from_slice(to);
            at += from.len();
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    out
}

/// The child of [`a_hostile_library_costs_a_child_process_under_500_mb`]: does nothing
/// unless [`CHILD_LIBRARY`] names a library; then refuses every case through every entry
/// point and prints its peak resident memory (VmHWM) as the kernel kept it.
#[test]
fn hostile_library_in_a_child_process() {
    let Some(folder) = std::env::var_os(CHILD_LIBRARY) else {
        return;
    };
    let folder = PathBuf::from(folder);
    for case in HostileFrame::ALL {
        refuse_everywhere(case, &folder.join(case.name()));
    }
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let peak = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .expect("VmHWM");
    println!("child {peak}");
}

#[test]
fn a_hostile_library_costs_a_child_process_under_500_mb() {
    let scratch = tempfile::tempdir().expect("a folder");
    write_hostile_library(scratch.path()).expect("the library");
    let test_binary = std::env::current_exe().expect("this test binary");
    // The shell caps the child's address space, then becomes the child.
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {CHILD_ADDRESS_SPACE_KB} && exec \"$0\" \"$@\""
        ))
        .arg(&test_binary)
        .args([
            "hostile_library_in_a_child_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_LIBRARY, scratch.path())
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the child failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let peak_kb: u64 = stdout
        .lines()
        .find_map(|line| Some(&line[line.find("child VmHWM:")? + "child VmHWM:".len()..]))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak from the child:\n{stdout}\n{stderr}"));
    println!("the child's peak resident memory: {peak_kb} kB");
    assert!(
        peak_kb < CHILD_PEAK_LIMIT_KB,
        "the child peaked at {peak_kb} kB, over {CHILD_PEAK_LIMIT_KB} kB"
    );
}
