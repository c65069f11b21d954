//! GDCM's 12-bit IJG codec, called through the shim in `native/jpeg12.cc` against the
//! distribution's libgdcm (`libgdcm-dev`, installed by `scripts/setup-debian.sh`).
//!
//! Why a shim of our own and not a binding crate: the one on crates.io (gdcm-rs) builds
//! the whole of GDCM from its sources with cmake, about 6 minutes of both cores in every
//! cold build, for this one call, which Debian's and Ubuntu's GDCM answers as it is.

use std::ffi::{CString, c_char, c_int};

use super::super::header::PixelFormat;

#[allow(unsafe_code)]
unsafe extern "C" {
    /// Decodes `frame` (one whole JPEG extended codestream) into `out`, which must hold
    /// exactly the frame's native samples; writes the length GDCM computes into
    /// `gdcm_len`. Returns one of the outcomes below.
    fn hounsfield_gdcm_decode_jpeg12(
        frame: *const u8,
        frame_len: usize,
        columns: u32,
        rows: u32,
        photometric: *const c_char,
        samples_per_pixel: u16,
        bits_allocated: u16,
        bits_stored: u16,
        high_bit: u16,
        pixel_representation: u16,
        out: *mut u8,
        out_len: usize,
        gdcm_len: *mut usize,
    ) -> c_int;
}

/// The shim's outcomes (`Jpeg12Outcome` in `native/jpeg12.cc`).
const DECODED: c_int = 0;
const UNKNOWN_PHOTOMETRIC: c_int = 1;
const OUTPUT_SIZE_DIFFERS: c_int = 2;
const CORRUPT: c_int = 3;
const THREW: c_int = 4;
const FRAME_TOO_LONG: c_int = 5;

/// A frame's size in pixels and its photometric interpretation, as its file declares.
pub(super) struct FrameLayout<'a> {
    /// Pixels across.
    pub columns: u32,
    /// Pixels down.
    pub rows: u32,
    /// PhotometricInterpretation, e.g. `MONOCHROME2`.
    pub photometric: &'a str,
}

/// Decodes one 12-bit lossy JPEG frame into `frame_len` bytes of native little-endian
/// samples of `format`, or says why not. `frame_len` comes from the checked pixel data,
/// so nothing here allocates a size GDCM or the file chose.
pub(super) fn decode(
    frame: &[u8],
    layout: &FrameLayout<'_>,
    format: PixelFormat,
    frame_len: usize,
) -> Result<Vec<u8>, String> {
    let photometric = CString::new(layout.photometric).map_err(|_| {
        format!(
            "PhotometricInterpretation {:?} holds a NUL byte",
            layout.photometric
        )
    })?;
    let mut out = vec![0u8; frame_len];
    let mut gdcm_len = 0usize;
    // SAFETY: `frame` and `out` are live slices whose lengths are passed with them, the
    // photometric name is a NUL-terminated string alive for the call, and `gdcm_len` a
    // live `usize`. The shim writes into `out` only when its length equals GDCM's buffer
    // length, and catches every C++ exception.
    #[allow(unsafe_code)]
    let outcome = unsafe {
        hounsfield_gdcm_decode_jpeg12(
            frame.as_ptr(),
            frame.len(),
            layout.columns,
            layout.rows,
            photometric.as_ptr(),
            format.samples_per_pixel,
            format.bits_allocated,
            format.bits_stored,
            format.high_bit,
            u16::from(format.signed),
            out.as_mut_ptr(),
            out.len(),
            &raw mut gdcm_len,
        )
    };
    match outcome {
        DECODED => Ok(out),
        UNKNOWN_PHOTOMETRIC => Err(format!(
            "PhotometricInterpretation {} is not supported for 12-bit JPEG",
            layout.photometric
        )),
        OUTPUT_SIZE_DIFFERS => Err(format!(
            "GDCM would decode {gdcm_len} bytes, the pixel data's attributes declare \
             {frame_len}"
        )),
        CORRUPT => Err("12-bit JPEG (JPEG extended) data is corrupt".to_string()),
        THREW => Err("12-bit JPEG (JPEG extended) data made GDCM fail".to_string()),
        FRAME_TOO_LONG => Err(format!(
            "a frame of {} bytes is longer than a DICOM fragment can be",
            frame.len()
        )),
        other => Err(format!("GDCM's 12-bit JPEG decoder answered {other}")),
    }
}
