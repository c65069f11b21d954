//! Property test: random bytes, truncated and corrupted real files fed to the header reader
//! and the pixel decoder give errors or images, never a panic.

mod common;

use std::path::Path;

use proptest::prelude::*;
use render_core::dicom::header::{FileKind, read_file_headers};
use render_core::dicom::pixels::{FrameTarget, decode_frames};

/// Real files of several transfer syntaxes to cut and corrupt.
const SEEDS: [&str; 6] = [
    "transfer-syntaxes/In/1.dcm",
    "transfer-syntaxes/In/4.dcm",
    "pydicom-test-files/pydicom/data/test_files/MR_small_jpeg_ls_lossless.dcm",
    "pydicom-test-files/pydicom/data/test_files/MR_small_jp2klossless.dcm",
    "pydicom-test-files/pydicom/data/test_files/JPEG2000.dcm",
    "pydicom-test-files/pydicom/data/test_files/JPGExtended.dcm",
];

/// Reads and decodes whatever the file holds; only a panic fails.
fn read_everything(path: &Path) {
    let Ok(FileKind::Images(headers)) = read_file_headers(path) else {
        return;
    };
    for header in headers.iter().take(2) {
        let pixels = (header.rows as usize)
            .saturating_mul(header.columns as usize)
            .min(1 << 24);
        let mut out = vec![0f32; pixels];
        let mut targets = [FrameTarget {
            frame: header.frame,
            rescale: header.rescale,
            out: &mut out,
        }];
        let _ = decode_frames(path, header.pixel_format, &mut targets);
    }
}

fn seed_bytes(index: usize) -> Vec<u8> {
    std::fs::read(common::data(SEEDS[index % SEEDS.len()])).expect("seed file")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096), with_preamble in any::<bool>()) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("random.dcm");
        let mut content = Vec::new();
        if with_preamble {
            content.extend_from_slice(&[0u8; 128]);
            content.extend_from_slice(b"DICM");
        }
        content.extend_from_slice(&bytes);
        std::fs::write(&path, &content).expect("write");
        read_everything(&path);
    }

    #[test]
    fn truncated_real_files_never_panic(seed in 0usize..SEEDS.len(), keep in 0.0f64..1.0) {
        let bytes = seed_bytes(seed);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("cut.dcm");
        std::fs::write(&path, &bytes[..(bytes.len() as f64 * keep) as usize]).expect("write");
        read_everything(&path);
    }

    #[test]
    fn corrupted_real_files_never_panic(
        seed in 0usize..SEEDS.len(),
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 1..16),
    ) {
        let mut bytes = seed_bytes(seed);
        let len = bytes.len();
        for (at, value) in flips {
            bytes[((len as f64 * at) as usize).min(len - 1)] = value;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("corrupt.dcm");
        std::fs::write(&path, &bytes).expect("write");
        read_everything(&path);
    }
}
