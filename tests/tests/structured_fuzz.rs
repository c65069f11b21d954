//! Structure-aware fuzzing of the DICOM path: real explicit-VR files whose element
//! headers are mutated where they matter (a declared length, a VR, a tag, a small
//! numeric value such as Rows or NumberOfFrames), then read through the whole path a
//! library folder takes: header reader, catalog grouping, stack planning and the loader
//! with a voxel budget. Every case must end in an error or a volume, never a panic, and
//! the process's peak memory must stay bounded (a declared length followed blindly costs
//! gigabytes).
//!
//! CI runs a bounded number of cases; `PROPTEST_CASES=20000 cargo test --release -p
//! hounsfield-e2e --test structured_fuzz` runs longer. Failing cases proptest finds are
//! kept in `structured_fuzz.proptest-regressions` and replayed first.

mod common;

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

/// How far one case may raise the resident memory above where it started (kB). The
/// largest seed's volume is a few MB; a declared length followed blindly is gigabytes.
const GROWTH_LIMIT_KB: u64 = 512 * 1024;

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

/// Starts a new peak: writing 5 to clear_refs resets VmHWM (Linux 4.0 and later).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A field of /proc/self/status in kB: `VmHWM` (peak resident set) or `VmRSS` (now).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with(field))?.to_string();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

/// Cases per run: 64 in CI, `PROPTEST_CASES` when set.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

#[test]
fn every_seed_walks_into_elements() {
    for seed in SEEDS {
        let bytes = std::fs::read(common::data(seed)).expect("seed file");
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
        reset_peak();
        let before = status_kb("VmRSS:");
        let mut bytes = std::fs::read(common::data(SEEDS[seed])).expect("seed file");
        let found = elements(&bytes);
        for (pick, mutation) in &picks {
            mutate(&mut bytes, found[pick.index(found.len())], mutation);
        }
        let dir = tempfile::tempdir().expect("temp dir");
        // Several copies at other positions make a series for grouping and planning.
        for copy in 0..copies {
            std::fs::write(dir.path().join(format!("copy{copy}.dcm")), &bytes).expect("write");
        }
        let catalog = Catalog::scan(&[dir.path().to_path_buf()], &no_progress);
        for series in catalog.series() {
            let _ = load_series_within(series, VoxelBudget::new(64 << 20), &no_progress);
        }
        let growth = status_kb("VmHWM:").saturating_sub(before);
        prop_assert!(growth < GROWTH_LIMIT_KB, "memory grew by {growth} kB after {picks:?}");
    }
}
