//! The size a compressed frame declares of itself, read from its own markers before any
//! decoder sees it: JPEG 2000's SIZ segment (in a bare codestream or a JP2 file's `jp2c`
//! box), the start-of-frame segment of JPEG and JPEG-LS, and RLE's segment header.
//!
//! Decoders allocate by these numbers, not by the DICOM header's: OpenJPEG sizes its tile
//! and image buffers from SIZ, jpeg-decoder, GDCM's IJG codec and CharLS theirs from the
//! frame header, and dicom-pixeldata's RLE reader its offset table from the segment count.
//! So a 4 × 4 image whose codestream says 60000 × 60000 costs tens of gigabytes before
//! its short data is noticed. [`super::checked_pixels`] compares what is read here with
//! the header.
//!
//! Read by hand, a few dozen bytes of fixed layout: jpeg2k reads a header only through
//! OpenJPEG's `opj_read_header`, which already allocates per tile and component by the
//! very numbers to be checked, and no JPEG crate here reads JPEG-LS's frame header or
//! RLE's segment table without decoding.

/// The codestream syntax of a transfer syntax's encapsulated frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codestream {
    /// JPEG 2000 (Part 1, Part 2 multi-component, High-Throughput): SIZ.
    Jpeg2000,
    /// JPEG (ITU-T T.81: baseline, extended, lossless): the SOFn segment.
    Jpeg,
    /// JPEG-LS (ITU-T T.87): the SOF55 segment.
    JpegLs,
    /// RLE Lossless (PS3.5 annex G): the header of segment offsets.
    Rle,
    /// Encapsulated uncompressed (1.2.840.10008.1.2.1.98): a frame's bytes are its samples.
    Uncompressed,
}

impl Codestream {
    /// The codestream of a transfer syntax's encapsulated frames; `None` for a syntax
    /// whose frames no decoder here reads.
    pub fn of_transfer_syntax(uid: &str) -> Option<Codestream> {
        match uid {
            "1.2.840.10008.1.2.4.90"
            | "1.2.840.10008.1.2.4.91"
            | "1.2.840.10008.1.2.4.92"
            | "1.2.840.10008.1.2.4.93"
            | "1.2.840.10008.1.2.4.201"
            | "1.2.840.10008.1.2.4.202"
            | "1.2.840.10008.1.2.4.203" => Some(Codestream::Jpeg2000),
            "1.2.840.10008.1.2.4.50"
            | "1.2.840.10008.1.2.4.51"
            | "1.2.840.10008.1.2.4.57"
            | "1.2.840.10008.1.2.4.70" => Some(Codestream::Jpeg),
            "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => Some(Codestream::JpegLs),
            "1.2.840.10008.1.2.5" => Some(Codestream::Rle),
            "1.2.840.10008.1.2.1.98" => Some(Codestream::Uncompressed),
            _ => None,
        }
    }

    /// How messages name it.
    pub fn name(self) -> &'static str {
        match self {
            Codestream::Jpeg2000 => "JPEG 2000 codestream",
            Codestream::Jpeg => "JPEG frame header",
            Codestream::JpegLs => "JPEG-LS frame header",
            Codestream::Rle => "RLE header",
            Codestream::Uncompressed => "uncompressed fragment",
        }
    }

    /// What `frame` declares of itself; the reason when its markers cannot be read.
    pub fn declared_size(self, frame: &[u8]) -> Result<DeclaredSize, String> {
        match self {
            Codestream::Jpeg2000 => jpeg_2000_size(frame).map(DeclaredSize::Image),
            Codestream::Jpeg => jpeg_size(frame, is_t81_start_of_frame).map(DeclaredSize::Image),
            Codestream::JpegLs => {
                jpeg_size(frame, |marker| marker == SOF55).map(DeclaredSize::Image)
            }
            Codestream::Rle => rle_segments(frame).map(DeclaredSize::RleSegments),
            Codestream::Uncompressed => Ok(DeclaredSize::Bytes(frame.len() as u64)),
        }
    }
}

/// What a compressed frame declares of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclaredSize {
    /// An image's size (JPEG 2000, JPEG, JPEG-LS).
    Image(ImageSize),
    /// RLE: the number of segments (one per byte of a sample, per sample of a pixel).
    RleSegments(u32),
    /// Encapsulated uncompressed: the fragment's length.
    Bytes(u64),
}

/// An image size as a codestream declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSize {
    /// Samples a line (JPEG 2000: Xsiz − XOsiz; JPEG: X).
    pub columns: u32,
    /// Lines (JPEG 2000: Ysiz − YOsiz; JPEG: Y).
    pub rows: u32,
    /// Components (JPEG 2000: Csiz; JPEG: Nf).
    pub components: u32,
    /// The most bits a sample of any component has (JPEG 2000: Ssiz + 1; JPEG: P).
    pub bits: u32,
    /// Tiles in the image (JPEG 2000); 1 for JPEG.
    pub tiles: u64,
    /// JPEG's start-of-frame marker (0xC0 baseline, 0xC1 extended, …); 0 for JPEG 2000.
    pub frame_marker: u8,
}

impl ImageSize {
    /// JPEG coded lossily (DCT) with more than 8 bits a sample: GDCM's 12-bit codec's.
    pub fn is_lossy_jpeg_above_8_bits(&self) -> bool {
        is_t81_start_of_frame(self.frame_marker)
            && !matches!(self.frame_marker, 0xC3 | 0xC7 | 0xCB | 0xCF)
            && self.bits > 8
    }
}

/// A JP2 file's signature box, as jpeg2k and OpenJPEG recognise a JP2 file.
const JP2_SIGNATURE: [u8; 12] = [
    0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
];
/// Start of codestream, then SIZ: how every JPEG 2000 codestream begins.
const SOC_SIZ: [u8; 4] = [0xFF, 0x4F, 0xFF, 0x51];
/// SIZ's fixed part after its marker: Lsiz to Csiz.
const SIZ_FIXED_BYTES: usize = 38;
/// JPEG-LS's start of frame (ITU-T T.87, C.2.2).
const SOF55: u8 = 0xF7;

/// SIZ of a JPEG 2000 codestream, bare or in a JP2 file's contiguous codestream box.
fn jpeg_2000_size(frame: &[u8]) -> Result<ImageSize, String> {
    let codestream = if frame.starts_with(&JP2_SIGNATURE) {
        jp2_codestream(frame)?
    } else {
        frame
    };
    if codestream.len() < SOC_SIZ.len() || codestream[..SOC_SIZ.len()] != SOC_SIZ {
        return Err("it does not begin with the SOC and SIZ markers (FF4F FF51)".to_string());
    }
    let siz = &codestream[SOC_SIZ.len()..];
    let truncated = || {
        format!(
            "its SIZ segment is cut short ({} bytes after the marker)",
            siz.len()
        )
    };
    let u16_at = |at: usize| -> Option<u32> {
        Some(u32::from(u16::from_be_bytes(
            siz.get(at..at + 2)?.try_into().ok()?,
        )))
    };
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(siz.get(at..at + 4)?.try_into().ok()?))
    };
    let field = |at: usize| u32_at(at).ok_or_else(truncated);
    let length = u16_at(0).ok_or_else(truncated)? as usize;
    // Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz: after Lsiz and Rsiz.
    let mut fields = [0u32; 8];
    for (index, value) in fields.iter_mut().enumerate() {
        *value = field(4 + 4 * index)?;
    }
    let [x, y, x0, y0, tile_x, tile_y, tile_x0, tile_y0] = fields;
    let components = u16_at(SIZ_FIXED_BYTES - 2).ok_or_else(truncated)?;
    let component_bytes = siz
        .get(SIZ_FIXED_BYTES..SIZ_FIXED_BYTES + 3 * components as usize)
        .ok_or_else(truncated)?;
    if length != SIZ_FIXED_BYTES + 3 * components as usize {
        return Err(format!(
            "its SIZ segment's length Lsiz {length} does not fit its {components} components"
        ));
    }
    if components == 0 {
        return Err("its SIZ segment declares no component".to_string());
    }
    if x <= x0 || y <= y0 {
        return Err(format!(
            "its SIZ segment declares an empty image (Xsiz {x}, XOsiz {x0}, Ysiz {y}, YOsiz {y0})"
        ));
    }
    if tile_x == 0 || tile_y == 0 || tile_x0 > x0 || tile_y0 > y0 {
        return Err(format!(
            "its SIZ segment declares tiles of {tile_x} × {tile_y} from ({tile_x0}, {tile_y0}), outside the image"
        ));
    }
    let mut bits = 0;
    for component in component_bytes.chunks_exact(3) {
        if component[1] == 0 || component[2] == 0 {
            return Err("its SIZ segment declares a component subsampled by 0".to_string());
        }
        bits = bits.max(u32::from(component[0] & 0x7F) + 1);
    }
    let tiles_across = u64::from(x - tile_x0).div_ceil(u64::from(tile_x));
    let tiles_down = u64::from(y - tile_y0).div_ceil(u64::from(tile_y));
    Ok(ImageSize {
        columns: x - x0,
        rows: y - y0,
        components,
        bits,
        tiles: tiles_across * tiles_down,
        frame_marker: 0,
    })
}

/// The contents of a JP2 file's first top-level contiguous codestream box (`jp2c`),
/// where OpenJPEG reads the codestream from.
fn jp2_codestream(file: &[u8]) -> Result<&[u8], String> {
    let mut at = 0usize;
    while at < file.len() {
        let header = file
            .get(at..at + 8)
            .ok_or_else(|| format!("its JP2 box at byte {at} is cut short"))?;
        let length = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let kind = &header[4..8];
        let (content_at, end) = match length {
            // To the end of the file.
            0 => (at + 8, file.len() as u64),
            // The length follows as 64 bits.
            1 => {
                let wide = file
                    .get(at + 8..at + 16)
                    .ok_or_else(|| format!("its JP2 box at byte {at} is cut short"))?;
                let wide = u64::from_be_bytes(wide.try_into().map_err(|_| "cut short")?);
                (at + 16, (at as u64).saturating_add(wide))
            }
            _ => (at + 8, at as u64 + length),
        };
        if end < content_at as u64 || end > file.len() as u64 {
            return Err(format!(
                "its JP2 box '{}' at byte {at} declares {length} bytes, past the frame's end",
                String::from_utf8_lossy(kind)
            ));
        }
        let end = end as usize;
        if kind == b"jp2c" {
            return Ok(&file[content_at..end]);
        }
        at = end;
    }
    Err("its JP2 file holds no codestream box (jp2c)".to_string())
}

/// SOF0–SOF15 of ITU-T T.81, less DHT (C4), JPG (C8) and DAC (CC), which share the range.
fn is_t81_start_of_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// The next marker of a JPEG codestream from `at`, as IJG's decoder finds one: any bytes up
/// to an 0xFF, fill bytes (more 0xFF), then its code; the code and where its segment (if
/// any) begins. `None` where the codestream ends first.
pub(super) fn next_marker(codestream: &[u8], at: usize) -> Option<(u8, usize)> {
    let ff = at + codestream.get(at..)?.iter().position(|&b| b == 0xFF)?;
    let code = ff + codestream.get(ff..)?.iter().position(|&b| b != 0xFF)?;
    Some((codestream[code], code + 1))
}

/// The first frame header of a JPEG or JPEG-LS codestream (`is_frame` tells its markers):
/// markers are walked from the start of image as jpeg-decoder and IJG walk them, skipping
/// fill bytes and stuffed zeros, each segment by its length, until a frame header, a start
/// of scan or the end of image.
fn jpeg_size(codestream: &[u8], is_frame: impl Fn(u8) -> bool) -> Result<ImageSize, String> {
    if codestream.get(..2) != Some(&[0xFF, 0xD8]) {
        return Err("it does not begin with a start-of-image marker (FFD8)".to_string());
    }
    let cut = |at: usize| format!("it ends at byte {at} before any frame header");
    let byte = |at: usize| codestream.get(at).copied().ok_or_else(|| cut(at));
    let mut at = 2;
    loop {
        let (marker, after) = next_marker(codestream, at).ok_or_else(|| cut(codestream.len()))?;
        at = after;
        match marker {
            // A stuffed zero, and markers without a segment.
            0x00 | 0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => {
                return Err(format!(
                    "it reaches its {} at byte {} before any frame header",
                    if marker == 0xD9 {
                        "end of image"
                    } else {
                        "first scan"
                    },
                    at - 2
                ));
            }
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([byte(at)?, byte(at + 1)?]));
        if is_frame(marker) {
            let segment = codestream
                .get(at..at + 8)
                .ok_or_else(|| format!("its frame header at byte {} is cut short", at - 2))?;
            let rows = u32::from(u16::from_be_bytes([segment[3], segment[4]]));
            let columns = u32::from(u16::from_be_bytes([segment[5], segment[6]]));
            return Ok(ImageSize {
                columns,
                rows,
                components: u32::from(segment[7]),
                bits: u32::from(segment[2]),
                tiles: 1,
                frame_marker: marker,
            });
        }
        if length < 2 {
            return Err(format!(
                "its segment FF{marker:02X} at byte {} declares a length of {length}",
                at - 2
            ));
        }
        at += length;
    }
}

/// The number of segments of an RLE frame's header (PS3.5 G.5): 1 to 15, the first at
/// byte 64, each within the frame and after the last.
fn rle_segments(frame: &[u8]) -> Result<u32, String> {
    let word = |index: usize| -> Option<u32> {
        Some(u32::from_le_bytes(
            frame.get(index * 4..index * 4 + 4)?.try_into().ok()?,
        ))
    };
    let (Some(segments), true) = (word(0), frame.len() >= 64) else {
        return Err(format!(
            "its 64-byte header is cut short ({} bytes)",
            frame.len()
        ));
    };
    if !(1..=15).contains(&segments) {
        return Err(format!(
            "its header declares {segments} segments; RLE has 1 to 15"
        ));
    }
    let mut previous = 0;
    for index in 1..=segments as usize {
        let offset = word(index).unwrap_or(0);
        let first_at_64 = index > 1 || offset == 64;
        if !first_at_64 || offset < previous || offset as usize > frame.len() {
            return Err(format!(
                "its segment {index} starts at byte {offset}, outside the frame's {} bytes or before segment {}",
                frame.len(),
                index - 1
            ));
        }
        previous = offset;
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A J2K main header: SOC, then SIZ with these fields and `components` of 12 bits.
    fn siz(size: [u32; 2], tile: [u32; 2], components: u16) -> Vec<u8> {
        let mut bytes = SOC_SIZ.to_vec();
        bytes.extend_from_slice(&(38 + 3 * components).to_be_bytes());
        bytes.extend_from_slice(&0u16.to_be_bytes());
        for value in [size[0], size[1], 0, 0, tile[0], tile[1], 0, 0] {
            bytes.extend_from_slice(&value.to_be_bytes());
        }
        bytes.extend_from_slice(&components.to_be_bytes());
        for _ in 0..components {
            bytes.extend_from_slice(&[11, 1, 1]);
        }
        bytes
    }

    #[test]
    fn siz_gives_size_components_bits_and_tiles() {
        let size = Codestream::Jpeg2000
            .declared_size(&siz([512, 256], [128, 128], 3))
            .expect("a SIZ");
        assert_eq!(
            size,
            DeclaredSize::Image(ImageSize {
                columns: 512,
                rows: 256,
                components: 3,
                bits: 12,
                tiles: 8,
                frame_marker: 0,
            })
        );
    }

    #[test]
    fn a_jp2_files_codestream_box_is_read() {
        let mut file = JP2_SIGNATURE.to_vec();
        // ftyp, then jp2c running to the end of the file (length 0).
        file.extend_from_slice(&[0, 0, 0, 12]);
        file.extend_from_slice(b"ftypjp2 ");
        file.extend_from_slice(&[0, 0, 0, 0]);
        file.extend_from_slice(b"jp2c");
        file.extend_from_slice(&siz([60000, 60000], [60000, 60000], 1));
        let Ok(DeclaredSize::Image(size)) = Codestream::Jpeg2000.declared_size(&file) else {
            panic!("a codestream in its box");
        };
        assert_eq!((size.columns, size.rows), (60000, 60000));
        assert!(Codestream::Jpeg2000.declared_size(&file[..30]).is_err());
    }

    #[test]
    fn a_siz_cut_anywhere_or_inconsistent_is_refused() {
        let whole = siz([4, 4], [4, 4], 1);
        for cut in 0..whole.len() {
            let refused = Codestream::Jpeg2000
                .declared_size(&whole[..cut])
                .expect_err("cut short");
            assert!(
                refused.contains("cut short") || refused.contains("FF4F FF51"),
                "{cut}: {refused}"
            );
        }
        let mut wrong_length = whole.clone();
        wrong_length[5] = 50;
        assert!(Codestream::Jpeg2000.declared_size(&wrong_length).is_err());
        let empty = siz([0, 4], [4, 4], 1);
        assert!(Codestream::Jpeg2000.declared_size(&empty).is_err());
        let no_tile = siz([4, 4], [0, 4], 1);
        assert!(Codestream::Jpeg2000.declared_size(&no_tile).is_err());
    }

    /// SOI, an APP0 segment, then a frame header with the given marker and precision.
    fn jpeg(marker: u8, precision: u8, size: [u16; 2]) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB];
        bytes.extend_from_slice(&[0xFF, marker, 0x00, 0x0B, precision]);
        bytes.extend_from_slice(&size[1].to_be_bytes());
        bytes.extend_from_slice(&size[0].to_be_bytes());
        bytes.extend_from_slice(&[0x01, 0x01, 0x11, 0x00]);
        bytes
    }

    fn jpeg_image(codestream: Codestream, bytes: &[u8]) -> Option<ImageSize> {
        match codestream.declared_size(bytes) {
            Ok(DeclaredSize::Image(size)) => Some(size),
            _ => None,
        }
    }

    #[test]
    fn the_frame_header_gives_size_and_precision_past_other_segments() {
        let size = jpeg_image(Codestream::Jpeg, &jpeg(0xC1, 12, [640, 480])).expect("SOF1");
        assert_eq!((size.columns, size.rows, size.components), (640, 480, 1));
        assert_eq!((size.bits, size.frame_marker), (12, 0xC1));
        assert!(size.is_lossy_jpeg_above_8_bits());
        for (marker, precision) in [(0xC0, 8), (0xC1, 8), (0xC3, 12), (0xC3, 16)] {
            let size = jpeg_image(Codestream::Jpeg, &jpeg(marker, precision, [4, 4]));
            assert!(
                !size.expect("a frame").is_lossy_jpeg_above_8_bits(),
                "{marker:#x} {precision}"
            );
        }
    }

    #[test]
    fn segments_that_share_the_range_and_jpeg_ls_frames_are_told_apart() {
        // A Huffman table (C4) is no frame header; a stuffed zero is no marker.
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x03, 0x00, 0xFF, 0x00];
        bytes.extend_from_slice(&jpeg(0xC1, 12, [4, 4])[2..]);
        assert_eq!(
            jpeg_image(Codestream::Jpeg, &bytes).map(|s| s.frame_marker),
            Some(0xC1)
        );
        // T.81 decoders skip a SOF55 segment; a JPEG-LS decoder reads only that one.
        let mut both = jpeg(SOF55, 16, [4, 4]);
        both.extend_from_slice(&jpeg(0xC0, 8, [60000, 60000])[2..]);
        let t81 = jpeg_image(Codestream::Jpeg, &both).expect("SOF0");
        assert_eq!((t81.columns, t81.frame_marker), (60000, 0xC0));
        let t87 = jpeg_image(Codestream::JpegLs, &both).expect("SOF55");
        assert_eq!((t87.columns, t87.bits), (4, 16));
    }

    #[test]
    fn truncated_or_foreign_bytes_have_no_frame_header() {
        let full = jpeg(0xC1, 12, [4, 4]);
        // SOI and APP0 (8 bytes), then FFC1 and the header through Nf.
        let needed = 8 + 2 + 8;
        assert!(Codestream::Jpeg.declared_size(&full[..needed]).is_ok());
        for cut in 0..needed {
            assert!(
                Codestream::Jpeg.declared_size(&full[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        assert!(Codestream::Jpeg.declared_size(b"not a jpeg").is_err());
        let scan_first = [0xFF, 0xD8, 0xFF, 0xDA, 0, 2];
        let refused = Codestream::Jpeg
            .declared_size(&scan_first)
            .expect_err("no frame header");
        assert!(refused.contains("first scan"), "{refused}");
        let zero_length = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0, 0xFF, 0xD9];
        assert!(Codestream::Jpeg.declared_size(&zero_length).is_err());
    }

    /// An RLE header of `segments`, each 2 bytes long, and their bytes.
    fn rle(segments: u32) -> Vec<u8> {
        let mut bytes = segments.to_le_bytes().to_vec();
        for index in 0..15u32 {
            let offset = if index < segments { 64 + 2 * index } else { 0 };
            bytes.extend_from_slice(&offset.to_le_bytes());
        }
        bytes.extend(std::iter::repeat_n(0u8, 2 * segments as usize));
        bytes
    }

    #[test]
    fn rle_headers_give_their_segments_and_hostile_ones_are_refused() {
        assert_eq!(
            Codestream::Rle.declared_size(&rle(2)),
            Ok(DeclaredSize::RleSegments(2))
        );
        let mut many = rle(2);
        many[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let refused = Codestream::Rle.declared_size(&many).expect_err("too many");
        assert!(refused.contains("4294967295 segments"), "{refused}");
        let mut outside = rle(2);
        outside[8..12].copy_from_slice(&1000u32.to_le_bytes());
        assert!(Codestream::Rle.declared_size(&outside).is_err());
        assert!(Codestream::Rle.declared_size(&rle(1)[..40]).is_err());
    }

    #[test]
    fn transfer_syntaxes_map_to_their_codestreams() {
        assert_eq!(
            Codestream::of_transfer_syntax("1.2.840.10008.1.2.4.91"),
            Some(Codestream::Jpeg2000)
        );
        assert_eq!(
            Codestream::of_transfer_syntax("1.2.840.10008.1.2.4.50"),
            Some(Codestream::Jpeg)
        );
        assert_eq!(
            Codestream::of_transfer_syntax("1.2.840.10008.1.2.4.80"),
            Some(Codestream::JpegLs)
        );
        assert_eq!(
            Codestream::of_transfer_syntax("1.2.840.10008.1.2.4.100"),
            None
        );
    }
}
