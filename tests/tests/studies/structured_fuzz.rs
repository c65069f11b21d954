//! Structure-aware fuzzing of the DICOM path: real explicit-VR files whose element
//! headers are mutated where they matter (a declared length, a VR, a tag, a small
//! numeric value such as Rows or NumberOfFrames), then read through the whole path a
//! library folder takes: header reader, catalog grouping, stack planning and the loader
//! with a voxel budget. Every case must end in an error or a volume, never a panic, and
//! its peak memory must stay bounded (a declared length followed blindly costs
//! gigabytes). Each case is read in a child process of its own (this test binary, running
//! only [`read_one_case`]) under GNU time, so that the peak is the kernel's for that case
//! alone.
//!
//! A second property writes what is odd in kind rather than in value: sequences nested
//! from none to far past the reader's bound of 32 (a parser that recursed once per level
//! would overflow its stack), folders nested around the walk's bound of 32, a named pipe
//! (a plain open would wait for a writer for good) and a link looping back to the folder.
//!
//! CI runs a bounded number of cases; `PROPTEST_CASES=20000 cargo test --release -p
//! hounsfield-e2e --test end_to_end studies::structured_fuzz` runs longer. Failing cases proptest finds are
//! kept in `structured_fuzz.proptest-regressions` and replayed first.

use hounsfield_test_support as support;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use proptest::prelude::*;
use render_core::dicom::{Catalog, VoxelBudget, load_series_within};
use render_core::progress::no_progress;

/// Explicit VR little endian seeds of different kinds.
const SEEDS: [&str; 4] = [
    "transfer-syntaxes/In/1.dcm",
    "mr-sag-oblique/0001-1.3.12.2.1107.5.2.19.45152.2013030808110258929186035.dcm",
    "pydicom-test-files/pydicom/data/test_files/CT_small.dcm",
    "pydicom-test-files/pydicom/data/test_files/MR_small.dcm",
];

/// How far one case may raise the peak resident memory above that of reading no file at
/// all (kB). The largest seed's volume is a few MB; a declared length followed blindly is
/// gigabytes.
const GROWTH_LIMIT_KB: u64 = 512 * 1024;

/// Names the folder [`read_one_case`] reads, in the child process that runs it.
const CASE_FOLDER_VARIABLE: &str = "HOUNSFIELD_FUZZ_CASE_FOLDER";

/// VRs whose length field is four bytes (after two reserved ones) in explicit VR.
const LONG_VRS: [&[u8; 2]; 9] = [
    b"OB", b"OD", b"OF", b"OL", b"OW", b"SQ", b"UC", b"UN", b"UT",
];
const SOME_VRS: [&[u8; 2]; 12] = [
    b"OB", b"OW", b"SQ", b"UN", b"US", b"UL", b"IS", b"DS", b"CS", b"UI", b"LO", b"XX",
];
/// Tags a hostile file would aim at.
const TARGET_TAGS: [(u16, u16); 7] = [
    (0x0028, 0x0010),
    (0x0028, 0x0011),
    (0x0028, 0x0008),
    (0x0028, 0x0100),
    (0x0020, 0x0032),
    (0x7FE0, 0x0010),
    (0x5200, 0x9230),
];

/// One top-level element header of an explicit VR little endian file.
#[derive(Debug, Clone, Copy)]
struct ElementAt {
    offset: usize,
    long: bool,
    length: usize,
}

/// The top-level element headers after the meta group (walked here, in the test, so the
/// code under test does not judge its own input).
fn elements(bytes: &[u8]) -> Vec<ElementAt> {
    let mut found = Vec::new();
    let mut at = 132;
    while at + 8 <= bytes.len() {
        let vr: [u8; 2] = [bytes[at + 4], bytes[at + 5]];
        let long = LONG_VRS.iter().any(|v| **v == vr);
        let (length, header) = if long {
            let Some(field) = bytes.get(at + 8..at + 12) else {
                break;
            };
            (u32::from_le_bytes(field.try_into().expect("4 bytes")), 12)
        } else {
            (
                u32::from(u16::from_le_bytes([bytes[at + 6], bytes[at + 7]])),
                8,
            )
        };
        found.push(ElementAt {
            offset: at,
            long,
            length: length as usize,
        });
        if length == u32::MAX {
            break;
        }
        at += header + length as usize;
    }
    found
}

/// What to change in the chosen element.
#[derive(Debug, Clone)]
enum Mutation {
    Length(u32),
    Vr(usize),
    Tag(usize),
    ShortValue(u16),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        prop_oneof![
            Just(0xFFFF_FFFEu32),
            Just(u32::MAX),
            Just(0x7FFF_FFFF),
            Just(0),
            Just(1),
            any::<u32>(),
            0u32..100_000,
        ]
        .prop_map(Mutation::Length),
        (0..SOME_VRS.len()).prop_map(Mutation::Vr),
        (0..TARGET_TAGS.len()).prop_map(Mutation::Tag),
        prop_oneof![Just(0u16), Just(1), Just(u16::MAX), any::<u16>()]
            .prop_map(Mutation::ShortValue),
    ]
}

fn mutate(bytes: &mut [u8], element: ElementAt, mutation: &Mutation) {
    let at = element.offset;
    match *mutation {
        Mutation::Length(length) if element.long => {
            bytes[at + 8..at + 12].copy_from_slice(&length.to_le_bytes());
        }
        Mutation::Length(length) => {
            bytes[at + 6..at + 8].copy_from_slice(&(length as u16).to_le_bytes());
        }
        Mutation::Vr(index) => bytes[at + 4..at + 6].copy_from_slice(SOME_VRS[index]),
        Mutation::Tag(index) => {
            let (group, element_number) = TARGET_TAGS[index];
            bytes[at..at + 2].copy_from_slice(&group.to_le_bytes());
            bytes[at + 2..at + 4].copy_from_slice(&element_number.to_le_bytes());
        }
        Mutation::ShortValue(value) => {
            let value_at = at + if element.long { 12 } else { 8 };
            if element.length >= 2 && value_at + 2 <= bytes.len() {
                bytes[value_at..value_at + 2].copy_from_slice(&value.to_le_bytes());
            }
        }
    }
}

/// Reads the files of `folder` as a library folder is read: catalog, grouping, stack
/// planning, then each series loaded within a voxel budget.
fn read_folder(folder: &Path) {
    let catalog = Catalog::scan(&[folder.to_path_buf()], &no_progress);
    for series in catalog.series() {
        let _ = load_series_within(series, VoxelBudget::new(64 << 20), &no_progress);
    }
}

/// Reads `folder` in a child process of its own (this binary, running [`read_one_case`])
/// under GNU time (`/usr/bin/time`, Debian package `time`), which writes the peak resident
/// set the kernel kept for that child (wait4's `ru_maxrss`): that peak in KiB, or what went
/// wrong (the child panicked, or no peak could be had), with the child's output.
fn peak_kb_reading(folder: &Path) -> Result<u64, String> {
    let report = tempfile::NamedTempFile::new().expect("a file for time's report");
    let this_binary = std::env::current_exe().expect("the test binary's path");
    let output = Command::new("/usr/bin/time")
        .args(["--format", "%M", "--output"])
        .arg(report.path())
        .arg(this_binary)
        .arg(hounsfield_test_support::test_name(
            module_path!(),
            "read_one_case",
        ))
        .args(["--exact", "--ignored", "--test-threads=1"])
        .env(CASE_FOLDER_VARIABLE, folder)
        .output()
        .map_err(|e| format!("/usr/bin/time runs (Debian package time): {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let said = || format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    if !output.status.success() || !stdout.contains("1 passed") {
        return Err(format!(
            "the case's child ended {}: {}",
            output.status,
            said()
        ));
    }
    // The peak alone on the last line of time's report.
    let text = std::fs::read_to_string(report.path()).map_err(|e| format!("time's report: {e}"))?;
    text.lines()
        .last()
        .and_then(|line| line.trim().parse::<u64>().ok())
        .filter(|&kb| kb > 0)
        .ok_or_else(|| format!("no peak memory from time ({text:?}): {}", said()))
}

/// The peak of a child that reads an empty folder: where every case starts from.
fn baseline_peak_kb() -> u64 {
    static BASELINE: OnceLock<u64> = OnceLock::new();
    *BASELINE.get_or_init(|| {
        let empty = tempfile::tempdir().expect("temp dir");
        peak_kb_reading(empty.path()).unwrap_or_else(|why| panic!("the baseline: {why}"))
    })
}

/// Cases per run: 64 in CI, `PROPTEST_CASES` when set.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// The child's part: reads the folder that [`CASE_FOLDER_VARIABLE`] names (the fuzz test
/// runs it, one case a process).
#[test]
#[ignore = "the fuzz test runs it in a child process, on the folder its environment names"]
fn read_one_case() {
    let folder = std::env::var_os(CASE_FOLDER_VARIABLE)
        .unwrap_or_else(|| panic!("{CASE_FOLDER_VARIABLE} names the folder to read"));
    read_folder(Path::new(&folder));
}

#[test]
fn every_seed_walks_into_elements() {
    for seed in SEEDS {
        let bytes = std::fs::read(support::data(seed)).expect("seed file");
        let found = elements(&bytes);
        assert!(found.len() > 10, "{seed}: {} elements", found.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_headers_give_errors_or_volumes_within_bounded_memory(
        seed in 0usize..SEEDS.len(),
        picks in proptest::collection::vec((any::<prop::sample::Index>(), mutation()), 1..4),
        copies in 1usize..4,
    ) {
        let mut bytes = std::fs::read(support::data(SEEDS[seed])).expect("seed file");
        let found = elements(&bytes);
        for (pick, mutation) in &picks {
            mutate(&mut bytes, found[pick.index(found.len())], mutation);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        // Several copies at other positions make a series for grouping and planning.
        for copy in 0..copies {
            std::fs::write(dir.path().join(format!("copy{copy}.dcm")), &bytes).expect("write");
        }
        let peak_kb = peak_kb_reading(dir.path())
            .map_err(|why| TestCaseError::fail(format!("{why} after {picks:?}")))?;
        let growth = peak_kb.saturating_sub(baseline_peak_kb());
        prop_assert!(growth < GROWTH_LIMIT_KB, "memory grew by {growth} kB after {picks:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases() / 4, ..ProptestConfig::default() })]

    #[test]
    fn odd_nesting_and_odd_entries_give_errors_or_volumes_within_bounded_memory(
        seed in 0usize..SEEDS.len(),
        at in any::<prop::sample::Index>(),
        levels in prop_oneof![0usize..8, 30usize..36, 1_000usize..100_000],
        folders in prop_oneof![0usize..3, 31usize..35],
        pipe in any::<bool>(),
        loop_link in any::<bool>(),
    ) {
        let mut bytes = std::fs::read(support::data(SEEDS[seed])).expect("seed file");
        let found = elements(&bytes);
        let offset = found[at.index(found.len())].offset;
        bytes.splice(offset..offset, hounsfield_test_support::nested_sequences(levels));
        let dir = tempfile::tempdir().expect("temp dir");
        let mut folder = dir.path().to_path_buf();
        for level in 0..folders {
            folder.push(format!("d{level}"));
        }
        std::fs::create_dir_all(&folder).expect("folders");
        std::fs::write(folder.join("nested.dcm"), &bytes).expect("write");
        if pipe {
            let made = Command::new("mkfifo").arg(dir.path().join("pipe.dcm")).status();
            prop_assert!(made.is_ok_and(|status| status.success()), "mkfifo");
        }
        if loop_link {
            std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).expect("link");
        }
        let peak_kb = peak_kb_reading(dir.path()).map_err(|why| {
            TestCaseError::fail(format!("{why} after {levels} levels, {folders} folders"))
        })?;
        let growth = peak_kb.saturating_sub(baseline_peak_kb());
        prop_assert!(growth < GROWTH_LIMIT_KB, "memory grew by {growth} kB");
    }
}
