//! Pixel decoding: any transfer syntax (through dicom-pixeldata) to stored values, then
//! the modality rescale, written straight into a volume's slice.
//!
//! Stored values are read from the bits DICOM says carry them (BitsStored, HighBit) and
//! sign-extended for PixelRepresentation 1, so 12-bit data with junk in its unused high
//! bits reads right.

use std::path::Path;

use dicom_object::OpenFileOptions;
use dicom_pixeldata::PixelDecoder;

use super::error::DicomError;
use super::header::{PIXEL_DATA, PixelFormat, Rescale, error_chain, open_error};
use super::jpeg12;

/// A voxel type the loader can write rescaled values into.
pub trait Sample: Copy + Send + Sync + Default + 'static {
    /// Converts a rescaled value (already known to fit when the type is integral).
    fn from_rescaled(value: f64) -> Self;
}

impl Sample for i16 {
    fn from_rescaled(value: f64) -> Self {
        // Rounds half away from zero; `as` truncates (and is inlined, where `round` is a
        // library call on baseline x86-64).
        let rounded = (value + 0.5_f64.copysign(value)) as i64;
        rounded.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
    }
}

impl Sample for f32 {
    fn from_rescaled(value: f64) -> Self {
        value as f32
    }
}

/// One frame to decode and where its rescaled values go.
pub struct FrameTarget<'a, T> {
    /// Frame index in the file.
    pub frame: u32,
    /// The modality rescale of this frame.
    pub rescale: Rescale,
    /// Destination: rows × columns values.
    pub out: &'a mut [T],
}

/// Decodes the listed frames of one file into their targets.
pub fn decode_frames<T: Sample>(
    file: &Path,
    format: PixelFormat,
    targets: &mut [FrameTarget<'_, T>],
) -> Result<(), DicomError> {
    let object = OpenFileOptions::new()
        .open_file(file)
        .map_err(|e| open_error(file, e))?;
    if object.get(dicom_dictionary_std::tags::PIXEL_DATA).is_none() {
        return Err(DicomError::MissingAttribute {
            file: file.to_path_buf(),
            attribute: PIXEL_DATA,
        });
    }
    let transfer_syntax = object.meta().transfer_syntax();
    if let Some(fragments) = jpeg12::twelve_bit_fragments(&object, transfer_syntax) {
        let frames = jpeg12::decode_all_frames(file, &object, &fragments, format)?;
        for target in targets.iter_mut() {
            let bytes = frames
                .frame(target.frame)
                .ok_or_else(|| DicomError::Decode {
                    file: file.to_path_buf(),
                    reason: format!("frame {} is past the end of the pixel data", target.frame),
                })?;
            write_rescaled(file, bytes, format, target.rescale, target.out)?;
        }
        return Ok(());
    }
    let decode_error = |e: dicom_pixeldata::Error| DicomError::Decode {
        file: file.to_path_buf(),
        reason: error_chain(&e),
    };
    let whole_file = targets.len() > 1;
    let first_frame = targets.first().map_or(0, |t| t.frame);
    // Some decoders index past the end of malformed data instead of returning an error:
    // a broken file must cost its slice, never the program.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if whole_file {
            object.decode_pixel_data()
        } else {
            object.decode_pixel_data_frame(first_frame)
        }
    }))
    .map_err(|panic| DicomError::Decode {
        file: file.to_path_buf(),
        reason: format!("malformed compressed data ({})", panic_message(&panic)),
    })?
    .map_err(decode_error)?;
    for target in targets.iter_mut() {
        let frame_in_decoded = if whole_file { target.frame } else { 0 };
        let bytes = decoded.frame_data(frame_in_decoded).map_err(decode_error)?;
        write_rescaled(file, bytes, format, target.rescale, target.out)?;
    }
    Ok(())
}

/// The text of a caught panic, when it has one.
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "decoder failed".to_string())
}

/// Reads stored values from native little-endian bytes and writes them rescaled.
pub fn write_rescaled<T: Sample>(
    file: &Path,
    bytes: &[u8],
    format: PixelFormat,
    rescale: Rescale,
    out: &mut [T],
) -> Result<(), DicomError> {
    let bytes_per_sample = usize::from(format.bits_allocated / 8);
    let needed = out.len() * bytes_per_sample;
    if bytes.len() < needed {
        return Err(DicomError::Decode {
            file: file.to_path_buf(),
            reason: format!(
                "pixel data holds {} bytes, the image needs {needed} (truncated?)",
                bytes.len()
            ),
        });
    }
    let stored = StoredValue::new(format);
    let identity = rescale == Rescale::IDENTITY;
    let write = |raw: u32, o: &mut T| {
        let value = stored.value(raw) as f64;
        *o = T::from_rescaled(if identity {
            value
        } else {
            rescale.apply(value)
        });
    };
    match bytes_per_sample {
        1 => bytes
            .iter()
            .zip(out.iter_mut())
            .for_each(|(&b, o)| write(u32::from(b), o)),
        2 => bytes
            .chunks_exact(2)
            .zip(out.iter_mut())
            .for_each(|(b, o)| write(u32::from(u16::from_le_bytes([b[0], b[1]])), o)),
        _ => bytes
            .chunks_exact(4)
            .zip(out.iter_mut())
            .for_each(|(b, o)| write(u32::from_le_bytes([b[0], b[1], b[2], b[3]]), o)),
    }
    Ok(())
}

/// Extracts the value bits of a raw sample: shift, mask, sign-extend.
#[derive(Debug, Clone, Copy)]
struct StoredValue {
    shift: u32,
    mask: u32,
    sign_bit: u32,
    signed: bool,
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
        }
    }

    fn value(&self, raw: u32) -> i64 {
        let v = (raw >> self.shift) & self.mask;
        // Two's complement within the stored bits: subtract twice the sign bit when set.
        let negative = u32::from(self.signed) & (v >> self.sign_bit.trailing_zeros());
        i64::from(v) - 2 * i64::from(self.sign_bit) * i64::from(negative)
    }
}

#[cfg(test)]
mod tests {
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
    }
}
