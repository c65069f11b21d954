//! Stored pixel values to volume values: the value bits of each raw sample (BitsStored,
//! HighBit, PixelRepresentation), then the modality rescale, written into a slice.
//!
//! Stored values are read from the bits DICOM says carry them and sign-extended for
//! PixelRepresentation 1, so 12-bit data with junk in its unused high bits reads right.
//! Whole-number rescales of up to 16-bit data (CT's slope 1, intercept −1024) take an
//! integer path; anything else goes through `f64`. Both give the same values.

use std::path::Path;

use super::error::DicomError;
use super::header::{PixelFormat, Rescale};
use crate::volume::ValueRange;

/// A voxel type the loader can write rescaled values into.
pub trait Sample: Copy + Send + Sync + Default + 'static {
    /// Converts a rescaled value (already known to fit when the type is integral).
    fn from_rescaled(value: f64) -> Self;
    /// Converts a whole rescaled value.
    fn from_whole(value: i32) -> Self;
    /// The smallest and largest of some values, or `None` when there are none.
    fn value_range(values: &[Self]) -> Option<ValueRange>;
}

impl Sample for i16 {
    fn from_rescaled(value: f64) -> Self {
        // Rounds half away from zero; `as` truncates (and is inlined, where `round` is a
        // library call on baseline x86-64).
        let rounded = (value + 0.5_f64.copysign(value)) as i64;
        rounded.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
    }

    fn from_whole(value: i32) -> Self {
        value.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
    }

    fn value_range(values: &[Self]) -> Option<ValueRange> {
        ValueRange::of_i16(values)
    }
}

impl Sample for f32 {
    fn from_rescaled(value: f64) -> Self {
        value as f32
    }

    fn from_whole(value: i32) -> Self {
        value as f32
    }

    fn value_range(values: &[Self]) -> Option<ValueRange> {
        ValueRange::of_f32(values)
    }
}

/// Reads stored values from native little-endian bytes and writes them rescaled.
pub fn write_rescaled<T: Sample>(
    file: &Path,
    bytes: &[u8],
    format: PixelFormat,
    rescale: Rescale,
    out: &mut [T],
) -> Result<(), DicomError> {
    let bytes_per_sample = usize::from(format.bits_allocated / 8).max(1);
    check_length(file, bytes.len() / bytes_per_sample, out.len())?;
    match bytes_per_sample {
        1 => rescale_into(bytes.iter().map(|&b| u32::from(b)), format, rescale, out),
        2 => rescale_into(
            bytes
                .chunks_exact(2)
                .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]]))),
            format,
            rescale,
            out,
        ),
        _ => rescale_into(
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            format,
            rescale,
            out,
        ),
    }
    Ok(())
}

/// Writes decoder samples (one `i32` each, as OpenJPEG gives them) rescaled: each is
/// first cut to BitsAllocated bits, as it would be in the uncompressed pixel data.
pub fn write_rescaled_samples<T: Sample>(
    file: &Path,
    samples: &[i32],
    format: PixelFormat,
    rescale: Rescale,
    out: &mut [T],
) -> Result<(), DicomError> {
    check_length(file, samples.len(), out.len())?;
    let allocated = u32::from(format.bits_allocated.clamp(1, 32));
    let mask = u32::MAX >> (32 - allocated);
    rescale_into(
        samples.iter().map(|&s| s as u32 & mask),
        format,
        rescale,
        out,
    );
    Ok(())
}

fn check_length(file: &Path, samples: usize, needed: usize) -> Result<(), DicomError> {
    if samples < needed {
        return Err(DicomError::Decode {
            file: file.to_path_buf(),
            reason: format!(
                "pixel data holds {samples} values, the image needs {needed} (truncated?)"
            ),
        });
    }
    Ok(())
}

/// The value bits of each raw sample, rescaled, into `out`.
fn rescale_into<T: Sample>(
    raw: impl Iterator<Item = u32>,
    format: PixelFormat,
    rescale: Rescale,
    out: &mut [T],
) {
    let stored = StoredValue::new(format);
    match WholeRescale::of(rescale, format) {
        Some(WholeRescale {
            slope: 1,
            intercept,
        }) => out
            .iter_mut()
            .zip(raw)
            .for_each(|(o, r)| *o = T::from_whole(stored.value_i32(r) + intercept)),
        Some(WholeRescale { slope, intercept }) => out
            .iter_mut()
            .zip(raw)
            .for_each(|(o, r)| *o = T::from_whole(stored.value_i32(r) * slope + intercept)),
        None if rescale == Rescale::IDENTITY => out
            .iter_mut()
            .zip(raw)
            .for_each(|(o, r)| *o = T::from_rescaled(stored.value(r) as f64)),
        None => out
            .iter_mut()
            .zip(raw)
            .for_each(|(o, r)| *o = T::from_rescaled(rescale.apply(stored.value(r) as f64))),
    }
}

/// A modality rescale in whole numbers small enough that no value of up to 16 stored
/// bits overflows `i32`: |value| ≤ 65535 × 1024 + 2^24.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WholeRescale {
    slope: i32,
    intercept: i32,
}

impl WholeRescale {
    fn of(rescale: Rescale, format: PixelFormat) -> Option<Self> {
        (rescale.is_integral()
            && format.bits_stored <= 16
            && rescale.slope.abs() <= 1024.0
            && rescale.intercept.abs() <= f64::from(1 << 24))
        .then_some(Self {
            slope: rescale.slope as i32,
            intercept: rescale.intercept as i32,
        })
    }
}

/// Extracts the value bits of a raw sample: shift, mask, sign-extend.
#[derive(Debug, Clone, Copy)]
struct StoredValue {
    shift: u32,
    mask: u32,
    sign_bit: u32,
    signed: bool,
    /// For `value_i32`: moves the sign bit to bit 31 and back (0 when unsigned).
    sign_shift: u32,
}

impl StoredValue {
    fn new(format: PixelFormat) -> Self {
        let bits = u32::from(format.bits_stored.clamp(1, format.bits_allocated.max(1)));
        let high_bit = u32::from(format.high_bit).max(bits - 1);
        let shift = (high_bit + 1 - bits).min(31);
        Self {
            shift,
            mask: if bits >= 32 {
                u32::MAX
            } else {
                (1 << bits) - 1
            },
            sign_bit: 1 << (bits - 1),
            signed: format.signed,
            sign_shift: if format.signed { 32 - bits } else { 0 },
        }
    }

    fn value(&self, raw: u32) -> i64 {
        let v = (raw >> self.shift) & self.mask;
        // Two's complement within the stored bits: subtract twice the sign bit when set.
        let negative = u32::from(self.signed) & (v >> self.sign_bit.trailing_zeros());
        i64::from(v) - 2 * i64::from(self.sign_bit) * i64::from(negative)
    }

    /// The same as `value` for up to 16 stored bits, in `i32` (vectorises).
    fn value_i32(&self, raw: u32) -> i32 {
        let v = (raw >> self.shift) & self.mask;
        ((v << self.sign_shift) as i32) >> self.sign_shift
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn format(bits_stored: u16, signed: bool) -> PixelFormat {
        PixelFormat {
            bits_allocated: 16,
            bits_stored,
            high_bit: bits_stored - 1,
            signed,
            samples_per_pixel: 1,
        }
    }

    #[test]
    fn twelve_bit_values_ignore_high_bits_and_sign_extend() {
        let bytes: Vec<u8> = [0x0F0Fu16, 0xFFFF, 0x0800, 0x07FF]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut unsigned = [0f32; 4];
        write_rescaled(
            Path::new("t"),
            &bytes,
            format(12, false),
            Rescale::IDENTITY,
            &mut unsigned,
        )
        .expect("decodes");
        assert_eq!(unsigned, [3855.0, 4095.0, 2048.0, 2047.0]);
        let mut signed = [0f32; 4];
        write_rescaled(
            Path::new("t"),
            &bytes,
            format(12, true),
            Rescale::IDENTITY,
            &mut signed,
        )
        .expect("decodes");
        assert_eq!(signed, [-241.0, -1.0, -2048.0, 2047.0]);
    }

    #[test]
    fn rescale_gives_hounsfield_units() {
        let bytes: Vec<u8> = [0u16, 1024, 4095]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let mut hu = [0i16; 3];
        let ct = Rescale {
            slope: 1.0,
            intercept: -1024.0,
        };
        write_rescaled(Path::new("t"), &bytes, format(12, false), ct, &mut hu).expect("decodes");
        assert_eq!(hu, [-1024, 0, 3071]);
    }

    #[test]
    fn decoder_samples_are_cut_to_bits_allocated_like_bytes() {
        // A signed codestream in unsigned pixel data: −1 reads as 4095 in 12 bits.
        let samples = [-1i32, 0x1_0005, 7];
        let mut out = [0f32; 3];
        write_rescaled_samples(
            Path::new("t"),
            &samples,
            format(12, false),
            Rescale::IDENTITY,
            &mut out,
        )
        .expect("decodes");
        assert_eq!(out, [4095.0, 5.0, 7.0]);
    }

    #[test]
    fn short_buffer_is_an_error_naming_the_file() {
        let mut out = [0i16; 4];
        let error = write_rescaled(
            Path::new("IMG0042.dcm"),
            &[0u8; 6],
            format(16, true),
            Rescale::IDENTITY,
            &mut out,
        )
        .expect_err("too short");
        assert!(error.to_string().contains("IMG0042.dcm"), "{error}");
        let error = write_rescaled_samples(
            Path::new("IMG0043.dcm"),
            &[0; 3],
            format(16, true),
            Rescale::IDENTITY,
            &mut out,
        )
        .expect_err("too short");
        assert!(error.to_string().contains("IMG0043.dcm"), "{error}");
    }

    proptest! {
        /// The integer path gives what the `f64` path gives, for every layout it takes.
        #[test]
        fn whole_number_path_equals_float_path(
            raw in proptest::collection::vec(any::<u16>(), 1..64),
            bits_stored in 1u16..=16,
            extra_high in 0u16..4,
            signed in any::<bool>(),
            slope in -1024i32..=1024,
            intercept in -(1i32 << 24)..=(1 << 24),
        ) {
            let high_bit = (bits_stored - 1 + extra_high).min(15);
            let format = PixelFormat { high_bit, ..format(bits_stored, signed) };
            let rescale = Rescale { slope: f64::from(slope), intercept: f64::from(intercept) };
            prop_assert!(WholeRescale::of(rescale, format).is_some());
            let stored = StoredValue::new(format);
            for &r in &raw {
                let r = u32::from(r);
                prop_assert_eq!(i64::from(stored.value_i32(r)), stored.value(r));
                let whole = stored.value_i32(r) * slope + intercept;
                let float = rescale.apply(stored.value(r) as f64);
                prop_assert_eq!(i16::from_whole(whole), i16::from_rescaled(float));
                prop_assert_eq!(f32::from_whole(whole), f32::from_rescaled(float));
            }
        }
    }
}
