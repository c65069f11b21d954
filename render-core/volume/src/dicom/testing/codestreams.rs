//! Small compressed frames built byte by byte, telling the truth about their size or not:
//! a JPEG 2000 codestream (bare or in a JP2 file), a baseline JPEG and an RLE frame. Each
//! decodes, when true, to a flat image; each declares whatever size it is given.

/// What a JPEG 2000 codestream's SIZ segment declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jpeg2000Siz {
    /// Xsiz (XOsiz is 0).
    pub columns: u32,
    /// Ysiz (YOsiz is 0).
    pub rows: u32,
    /// Csiz.
    pub components: u16,
    /// Bits a sample (Ssiz + 1), unsigned.
    pub bits: u8,
}

impl Jpeg2000Siz {
    /// A grey image of `columns × rows` samples of `bits` bits.
    pub fn grey(columns: u32, rows: u32, bits: u8) -> Self {
        Self {
            columns,
            rows,
            components: 1,
            bits,
        }
    }
}

/// A JPEG 2000 codestream declaring `siz`: one tile the image's size, no wavelet levels,
/// reversible, and every packet empty, so that OpenJPEG decodes it to zeros (the packets
/// are the image's precincts of 32768 a side, one layer, one resolution).
pub fn jpeg_2000(siz: Jpeg2000Siz) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0x4F, 0xFF, 0x51];
    push_u16(&mut bytes, 38 + 3 * siz.components);
    push_u16(&mut bytes, 0);
    for value in [siz.columns, siz.rows, 0, 0, siz.columns, siz.rows, 0, 0] {
        push_u32(&mut bytes, value);
    }
    push_u16(&mut bytes, siz.components);
    for _ in 0..siz.components {
        bytes.extend_from_slice(&[siz.bits.saturating_sub(1), 1, 1]);
    }
    // COD: layer-resolution-component-position order, one layer, no colour transform; no
    // decomposition levels, code-blocks of 64 × 64, the reversible 5-3 wavelet.
    bytes.extend_from_slice(&[0xFF, 0x52, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x01, 0x00]);
    bytes.extend_from_slice(&[0x00, 0x04, 0x04, 0x00, 0x01]);
    // QCD: no quantisation, two guard bits, one sub-band of `bits` bits.
    bytes.extend_from_slice(&[0xFF, 0x5C, 0x00, 0x04, 0x40, siz.bits.min(31) << 3]);
    let precincts =
        u64::from(siz.columns.div_ceil(1 << 15)) * u64::from(siz.rows.div_ceil(1 << 15));
    let packets = precincts * u64::from(siz.components);
    // SOT: tile 0, its only tile-part, Psot from the SOT marker to the tile's end.
    let psot = 12 + 2 + packets;
    bytes.extend_from_slice(&[0xFF, 0x90, 0x00, 0x0A, 0x00, 0x00]);
    push_u32(&mut bytes, u32::try_from(psot).unwrap_or(0));
    bytes.extend_from_slice(&[0x00, 0x01]);
    // SOD, then each packet's header: one zero byte, an empty packet.
    bytes.extend_from_slice(&[0xFF, 0x93]);
    bytes.extend(std::iter::repeat_n(0u8, packets as usize));
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    pad_even(bytes)
}

/// A JP2 file holding `codestream`, its header box saying `columns × rows` of `bits`-bit
/// grey samples: the signature, file type, header (image header and greyscale colour
/// specification) and contiguous codestream boxes.
pub fn jp2(columns: u32, rows: u32, bits: u8, codestream: &[u8]) -> Vec<u8> {
    let mut bytes = vec![
        0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A,
    ];
    push_u32(&mut bytes, 20);
    bytes.extend_from_slice(b"ftypjp2 ");
    push_u32(&mut bytes, 0);
    bytes.extend_from_slice(b"jp2 ");
    push_u32(&mut bytes, 8 + 22 + 15);
    bytes.extend_from_slice(b"jp2h");
    push_u32(&mut bytes, 22);
    bytes.extend_from_slice(b"ihdr");
    push_u32(&mut bytes, rows);
    push_u32(&mut bytes, columns);
    push_u16(&mut bytes, 1);
    bytes.extend_from_slice(&[bits.saturating_sub(1), 7, 0, 0]);
    push_u32(&mut bytes, 15);
    bytes.extend_from_slice(b"colr");
    bytes.extend_from_slice(&[1, 0, 0]);
    push_u32(&mut bytes, 17);
    push_u32(&mut bytes, 8 + codestream.len() as u32);
    bytes.extend_from_slice(b"jp2c");
    bytes.extend_from_slice(codestream);
    pad_even(bytes)
}

/// A baseline JPEG whose frame header declares `columns × rows` of 8-bit grey samples:
/// one Huffman code for "no difference" and one for "end of block", so every block is
/// flat. Its entropy-coded data is one byte (one block): a 4 × 4 image is whole, and a
/// decoder that trusts a larger header allocates the whole image before it runs out
/// (jpeg-decoder reached 3.5 GB on 60000 × 60000).
pub fn jpeg_baseline(columns: u16, rows: u16) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8];
    // DQT: table 0, all ones.
    bytes.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    bytes.extend(std::iter::repeat_n(1u8, 64));
    // SOF0: 8 bits, rows, columns, one component sampled 1 × 1 with table 0.
    bytes.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 0x08]);
    push_u16(&mut bytes, rows);
    push_u16(&mut bytes, columns);
    bytes.extend_from_slice(&[0x01, 0x01, 0x11, 0x00]);
    // DHT: DC table 0 and AC table 0, each one code of one bit for symbol 0.
    for class in [0x00, 0x10] {
        bytes.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, class, 0x01]);
        bytes.extend(std::iter::repeat_n(0u8, 15));
        bytes.push(0x00);
    }
    // SOS: one component, tables 0, the whole spectrum.
    bytes.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    // Two zero bits for one block, padded with ones, then the end of image.
    bytes.extend_from_slice(&[0x3F, 0xFF, 0xD9]);
    pad_even(bytes)
}

/// An RLE frame of `columns × rows` zero samples of 16 bits (two segments: high bytes,
/// then low), its header declaring `segments`.
pub fn rle_16_bit(columns: u16, rows: u16, segments: u32) -> Vec<u8> {
    let pixels = usize::from(columns) * usize::from(rows);
    // PackBits: runs of at most 128 zeros, each a control byte (1 − run) and the byte.
    let mut segment = Vec::new();
    let mut left = pixels;
    while left > 0 {
        let run = left.min(128);
        segment.extend_from_slice(&[(1i16 - run as i16) as u8, 0x00]);
        left -= run;
    }
    let mut bytes = Vec::with_capacity(64 + 2 * segment.len());
    bytes.extend_from_slice(&segments.to_le_bytes());
    for index in 0..15u32 {
        let offset = match index {
            0 => 64,
            1 => 64 + segment.len() as u32,
            _ => 0,
        };
        bytes.extend_from_slice(&offset.to_le_bytes());
    }
    bytes.extend_from_slice(&segment);
    bytes.extend_from_slice(&segment);
    pad_even(bytes)
}

fn push_u16(bytes: &mut Vec<u8>, value: u16) {
    bytes.extend_from_slice(&value.to_be_bytes());
}

fn push_u32(bytes: &mut Vec<u8>, value: u32) {
    bytes.extend_from_slice(&value.to_be_bytes());
}

/// DICOM fragments have an even length.
fn pad_even(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.len() % 2 == 1 {
        bytes.push(0);
    }
    bytes
}
