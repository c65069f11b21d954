//! Property test: random bytes, truncated and corrupted real files fed to the header reader
//! and the pixel decoder give errors or images, never a panic; and real headers over
//! corrupted pixel data, so that every decoder (uncompressed in both byte orders, RLE,
//! JPEG baseline, extended and lossless, JPEG-LS, JPEG 2000) meets broken input itself.

use hounsfield_test_support as support;

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

/// Real files whose headers are kept while their pixel data is corrupted, one for each
/// pixel decoder.
const PIXEL_SEEDS: [&str; 10] = [
    "transfer-syntaxes/In/1.dcm",
    "transfer-syntaxes/In/2.dcm",
    "transfer-syntaxes/In/3.dcm",
    "transfer-syntaxes/In/4.dcm",
    "transfer-syntaxes/In/5.dcm",
    "transfer-syntaxes/In/7.dcm",
    "transfer-syntaxes/In/9.dcm",
    "pydicom-test-files/pydicom/data/test_files/JPEG2000.dcm",
    "pydicom-test-files/pydicom/data/test_files/JPGExtended.dcm",
    "pydicom-test-files/pydicom/data/test_files/SC_rgb_jpeg_dcmtk.dcm",
];

/// Reads and decodes whatever the file holds; only a panic fails.
fn read_everything(path: &Path) {
    let Ok(FileKind::Images(headers)) = read_file_headers(path) else {
        return;
    };
    decode_some(path, &headers);
}

/// Decodes the first frames of `headers` (of the file at `path`) and returns whether
/// each decoded.
fn decode_some(path: &Path, headers: &[render_core::dicom::header::ImageHeader]) -> Vec<bool> {
    let mut decoded = Vec::new();
    for header in headers.iter().take(2) {
        let pixels = (header.rows as usize)
            .saturating_mul(header.columns as usize)
            .min(1 << 24);
        let mut out = vec![0f32; pixels];
        let mut targets = [FrameTarget {
            frame: header.frame,
            rescale: header.rescale,
            out: &mut out,
            tile: None,
        }];
        decoded.push(decode_frames(path, header.pixel_format, &mut targets).is_ok());
    }
    decoded
}

/// Where the pixel data's bytes lie in a DICOM file, leaving its element and item headers
/// out: the whole value of native pixel data, the first fragment of encapsulated data.
/// Reads the element header at the first (7FE0,0010) tag in either byte order.
fn pixel_bytes(bytes: &[u8]) -> Option<std::ops::Range<usize>> {
    let find = |tag: [u8; 4]| bytes.windows(4).position(|window| window == tag);
    let (at, big_endian) = match find([0xE0, 0x7F, 0x10, 0x00]) {
        Some(at) => (at, false),
        None => (find([0x7F, 0xE0, 0x00, 0x10])?, true),
    };
    let u32_at = |n: usize| -> Option<u32> {
        let field: [u8; 4] = bytes.get(n..n + 4)?.try_into().ok()?;
        Some(if big_endian {
            u32::from_be_bytes(field)
        } else {
            u32::from_le_bytes(field)
        })
    };
    let explicit = matches!(bytes.get(at + 4..at + 6), Some(b"OB" | b"OW"));
    let (length_at, value_at) = if explicit {
        (at + 8, at + 12)
    } else {
        (at + 4, at + 8)
    };
    let length = u32_at(length_at)?;
    if length != u32::MAX {
        return Some(value_at..(value_at + length as usize).min(bytes.len()));
    }
    // Encapsulated: the basic offset table's item, then the first fragment's.
    let table_length = u32_at(value_at + 4)? as usize;
    let fragment_at = value_at + 8 + table_length;
    let fragment_length = u32_at(fragment_at + 4)? as usize;
    let start = fragment_at + 8;
    Some(start..(start + fragment_length).min(bytes.len()))
}

fn seed_bytes(index: usize) -> Vec<u8> {
    std::fs::read(support::data(SEEDS[index % SEEDS.len()])).expect("seed file")
}

#[test]
fn every_pixel_seed_reads_and_decodes_untouched() {
    for seed in PIXEL_SEEDS {
        let path = support::data(seed);
        let bytes = std::fs::read(&path).expect("seed file");
        assert!(
            pixel_bytes(&bytes).is_some_and(|range| range.len() > 16),
            "{seed}"
        );
        let Ok(FileKind::Images(headers)) = read_file_headers(&path) else {
            panic!("{seed}: its header reads");
        };
        let decoded = decode_some(&path, &headers);
        assert!(
            !decoded.is_empty() && decoded.iter().all(|ok| *ok),
            "{seed}: {decoded:?}"
        );
    }
}

/// A 12-bit lossy JPEG frame whose last bytes begin a marker segment (APP0) that runs
/// tens of kilobytes past the frame's end: refused before GDCM's codec sees it, where it
/// was decoded before. GDCM's stream source, read to its end, can leave libjpeg's skip of
/// such a segment looping for good (a case of the property test below spun for minutes);
/// every frame that reaches it now ends in an EOI with every segment inside.
#[test]
fn a_12_bit_jpeg_frame_whose_segment_runs_past_its_end_is_refused_in_time() {
    let seed = "pydicom-test-files/pydicom/data/test_files/JPGExtended.dcm";
    let mut bytes = std::fs::read(support::data(seed)).expect("seed file");
    let range = pixel_bytes(&bytes).expect("pixel data");
    let end_of_image = bytes[range.clone()]
        .windows(2)
        .rposition(|pair| pair == [0xFF, 0xD9])
        .expect("the frame's EOI")
        + range.start;
    // The last two bytes of the scan and the EOI become APP0 with a length of 65,535.
    bytes[end_of_image - 2..end_of_image + 2].copy_from_slice(&[0xFF, 0xE0, 0xFF, 0xFF]);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("segment-past-the-end.dcm");
    std::fs::write(&path, &bytes).expect("write");
    let Ok(FileKind::Images(headers)) = read_file_headers(&path) else {
        panic!("the header is the seed's and reads");
    };
    let (told, decoded) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = told.send(decode_some(&path, &headers));
    });
    let decoded = decoded
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the decoder answers within a minute");
    assert_eq!(decoded, [false], "the frame is refused, not decoded");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The header stays as it was, so every case reaches the pixel decoder, which gets
    /// the first `keep` of its data intact (a codec's own headers, so that decoding
    /// starts) and noise after it.
    #[test]
    fn corrupted_pixel_data_reaches_the_decoders_and_never_panics(
        seed in 0usize..PIXEL_SEEDS.len(),
        keep in 0.0f64..1.0,
        noise in proptest::collection::vec(any::<u8>(), 1..512),
    ) {
        let mut bytes = std::fs::read(support::data(PIXEL_SEEDS[seed])).expect("seed file");
        let range = pixel_bytes(&bytes).expect("pixel data");
        let from = range.start + (range.len() as f64 * keep) as usize;
        for (n, byte) in bytes[from..range.end].iter_mut().enumerate() {
            *byte = noise[n % noise.len()];
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("noisy-pixels.dcm");
        std::fs::write(&path, &bytes).expect("write");
        let headers = match read_file_headers(&path) {
            Ok(FileKind::Images(headers)) => headers,
            other => {
                return Err(TestCaseError::fail(format!(
                    "{}: the header was accepted before and must be now: {other:?}",
                    PIXEL_SEEDS[seed]
                )));
            }
        };
        let decoded = decode_some(&path, &headers);
        prop_assert!(!decoded.is_empty(), "frames were handed to the decoder");
    }

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
