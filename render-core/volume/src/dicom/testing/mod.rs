//! DICOM bytes no real file holds, for the tests of what a hostile one cannot do (this
//! crate's and, behind the `test-support` feature, other crates').

pub mod codestreams;
pub mod hostile_frames;

pub use hostile_frames::{
    HOSTILE_DECLARED_SIDE, HOSTILE_IMAGE_SIDE, HOSTILE_SERIES_IMAGES, HOSTILE_STUDY_UID,
    HostileFrame, write_honest_series, write_hostile_library, write_hostile_series,
};

/// `levels` sequences (ContentSequence, explicit VR little endian, undefined lengths),
/// each inside the last one's item, then all closed again: the bytes to insert between
/// two top-level elements of a data set.
pub fn nested_sequences(levels: usize) -> Vec<u8> {
    let undefined = 0xFFFF_FFFFu32.to_le_bytes();
    let mut bytes = Vec::with_capacity(levels * 32);
    for _ in 0..levels {
        bytes.extend_from_slice(&[0x40, 0x00, 0x30, 0xA7, b'S', b'Q', 0, 0]);
        bytes.extend_from_slice(&undefined);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        bytes.extend_from_slice(&undefined);
    }
    for _ in 0..levels {
        // Item delimitation, then sequence delimitation.
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    }
    bytes
}
