//! The raw walk of a DICOMDIR's bytes to its Directory Record Sequence and through its
//! items, header by header without decoding values: the byte offset of every record (what
//! the records' links count in, and what dicom-object does not expose), and the length
//! fields to rewrite where an item claims more bytes than its sequence holds.
//!
//! It is not `declared`'s walk (dicom-parser's lazy reader, which checks declared lengths
//! before dicom-object reads a file, and which the DICOMDIR goes through too): that one
//! tells neither where items start nor which item lengths overrun their sequence.

use std::borrow::Cow;

use super::records::MAX_DEPTH;

/// The value length of an element or item whose end is marked by a delimiter.
const UNDEFINED_LENGTH: u32 = u32::MAX;
/// Item (FFFE,E000).
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
/// Item Delimitation Item (FFFE,E00D).
const ITEM_DELIMITATION: (u16, u16) = (0xFFFE, 0xE00D);
/// Sequence Delimitation Item (FFFE,E0DD).
const SEQUENCE_DELIMITATION: (u16, u16) = (0xFFFE, 0xE0DD);
/// Directory Record Sequence (0004,1220).
const DIRECTORY_RECORD_SEQUENCE: (u16, u16) = (0x0004, 0x1220);
/// Explicit VRs whose length field takes 4 bytes after 2 reserved ones.
const LONG_VRS: [&[u8; 2]; 13] = [
    b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV",
];

/// How the data set after the file meta group is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    /// Implicit VR Little Endian.
    ImplicitLittle,
    /// Explicit VR Little Endian (also every encapsulated transfer syntax).
    ExplicitLittle,
    /// Explicit VR Big Endian.
    ExplicitBig,
}

/// One element, item or delimiter header.
#[derive(Debug, Clone, Copy)]
struct Header {
    /// Group and element.
    tag: (u16, u16),
    /// Whether the explicit VR is UN (whose undefined-length content is implicit VR LE).
    unknown_vr: bool,
    /// Value length, [`UNDEFINED_LENGTH`] when delimited.
    length: u32,
    /// Bytes taken by the header.
    size: usize,
}

impl Encoding {
    /// The encoding of a transfer syntax; `None` for deflated ones, whose bytes on disk
    /// are not the data set the offsets count in.
    pub(super) fn of_transfer_syntax(uid: &str) -> Option<Self> {
        match uid.trim_end_matches(['\0', ' ']) {
            "1.2.840.10008.1.2" => Some(Self::ImplicitLittle),
            "1.2.840.10008.1.2.2" => Some(Self::ExplicitBig),
            "1.2.840.10008.1.2.1.99" | "1.2.840.10008.1.2.4.95" => None,
            _ => Some(Self::ExplicitLittle),
        }
    }

    /// A 16-bit number at `pos`.
    fn u16_at(self, bytes: &[u8], pos: usize) -> Option<u16> {
        let raw: [u8; 2] = bytes.get(pos..pos.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Self::ExplicitBig => u16::from_be_bytes(raw),
            _ => u16::from_le_bytes(raw),
        })
    }

    /// A 32-bit number as bytes in this encoding.
    fn u32_bytes(self, value: u32) -> [u8; 4] {
        match self {
            Self::ExplicitBig => value.to_be_bytes(),
            _ => value.to_le_bytes(),
        }
    }

    /// A 32-bit number at `pos`.
    fn u32_at(self, bytes: &[u8], pos: usize) -> Option<u32> {
        let raw: [u8; 4] = bytes.get(pos..pos.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Self::ExplicitBig => u32::from_be_bytes(raw),
            _ => u32::from_le_bytes(raw),
        })
    }

    /// The header starting at `pos`.
    fn header_at(self, bytes: &[u8], pos: usize) -> Option<Header> {
        let tag = (self.u16_at(bytes, pos)?, self.u16_at(bytes, pos + 2)?);
        if tag.0 == 0xFFFE || self == Self::ImplicitLittle {
            let length = self.u32_at(bytes, pos + 4)?;
            return Some(Header {
                tag,
                unknown_vr: false,
                length,
                size: 8,
            });
        }
        let vr = bytes.get(pos + 4..pos + 6)?;
        let unknown_vr = vr == b"UN";
        if LONG_VRS.iter().any(|long| long.as_slice() == vr) {
            let length = self.u32_at(bytes, pos + 8)?;
            return Some(Header {
                tag,
                unknown_vr,
                length,
                size: 12,
            });
        }
        let length = u32::from(self.u16_at(bytes, pos + 6)?);
        Some(Header {
            tag,
            unknown_vr,
            length,
            size: 8,
        })
    }
}

/// Where the Directory Record Sequence items lie in the raw file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ItemLayout {
    /// Byte offset of each item, from the first byte of the file.
    pub(super) offsets: Vec<usize>,
    /// Item length fields to rewrite, as (position, encoded length), for items that claim more
    /// bytes than their sequence holds (pydicom reads such files; dicom-object does not).
    patches: Vec<(usize, [u8; 4])>,
}

impl ItemLayout {
    /// Walks the file's bytes to the Directory Record Sequence and through its items.
    pub(super) fn find(bytes: &[u8], encoding: Encoding) -> Option<Self> {
        let mut walker = Walker {
            bytes,
            patches: Vec::new(),
        };
        let offsets = walker.directory_record_items(encoding)?;
        let patches = walker.patches;
        Some(Self { offsets, patches })
    }

    /// The file's bytes with overrunning item lengths cut to fit their sequence.
    pub(super) fn repair<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        if self.patches.is_empty() {
            return Cow::Borrowed(bytes);
        }
        let mut repaired = bytes.to_vec();
        for (pos, length) in &self.patches {
            if let Some(field) = repaired.get_mut(*pos..pos + 4) {
                field.copy_from_slice(length);
            }
        }
        Cow::Owned(repaired)
    }
}

/// Walks raw data set bytes header by header, without decoding values.
struct Walker<'a> {
    /// The whole file.
    bytes: &'a [u8],
    /// Item length fields to rewrite, see [`ItemLayout::patches`].
    patches: Vec<(usize, [u8; 4])>,
}

impl Walker<'_> {
    /// Byte offsets of the Directory Record Sequence items.
    fn directory_record_items(&mut self, encoding: Encoding) -> Option<Vec<usize>> {
        let mut pos = dataset_start(self.bytes)?;
        loop {
            let header = encoding.header_at(self.bytes, pos)?;
            let value = pos.checked_add(header.size)?;
            if header.tag == DIRECTORY_RECORD_SEQUENCE {
                let (offsets, _) = self.walk_items(value, header.length, encoding, 0)?;
                return Some(offsets);
            }
            pos = self.skip_value(value, header, encoding, 0)?;
        }
    }

    /// The position after the value of `header`, which starts at `value`.
    fn skip_value(
        &mut self,
        value: usize,
        header: Header,
        encoding: Encoding,
        depth: usize,
    ) -> Option<usize> {
        if header.length != UNDEFINED_LENGTH {
            return value.checked_add(usize::try_from(header.length).ok()?);
        }
        let inner = if header.unknown_vr {
            Encoding::ImplicitLittle
        } else {
            encoding
        };
        let (_, end) = self.walk_items(value, UNDEFINED_LENGTH, inner, depth + 1)?;
        Some(end)
    }

    /// The offsets of a sequence's items and the position after the sequence.
    fn walk_items(
        &mut self,
        start: usize,
        length: u32,
        encoding: Encoding,
        depth: usize,
    ) -> Option<(Vec<usize>, usize)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let end = match length {
            UNDEFINED_LENGTH => None,
            length => Some(start.checked_add(usize::try_from(length).ok()?)?),
        };
        let mut offsets = Vec::new();
        let mut pos = start;
        loop {
            match end {
                Some(end) if pos == end => return Some((offsets, pos)),
                Some(end) if pos > end => return None,
                _ => {}
            }
            let header = encoding.header_at(self.bytes, pos)?;
            match header.tag {
                ITEM => {
                    offsets.push(pos);
                    pos = self.item_end(pos, header, end, encoding, depth)?;
                }
                SEQUENCE_DELIMITATION if end.is_none() => return Some((offsets, pos + 8)),
                _ => return None,
            }
        }
    }

    /// The position after the item at `item`; one that overruns `sequence_end` is cut to it.
    fn item_end(
        &mut self,
        item: usize,
        header: Header,
        sequence_end: Option<usize>,
        encoding: Encoding,
        depth: usize,
    ) -> Option<usize> {
        let value = item.checked_add(header.size)?;
        if header.length == UNDEFINED_LENGTH {
            return self.skip_delimited_item(value, encoding, depth);
        }
        let end = value.checked_add(usize::try_from(header.length).ok()?)?;
        match sequence_end {
            Some(limit) if end > limit => {
                let fitting = u32::try_from(limit.checked_sub(value)?).ok()?;
                self.patches.push((item + 4, encoding.u32_bytes(fitting)));
                Some(limit)
            }
            _ => Some(end),
        }
    }

    /// The position after the Item Delimitation Item ending the item content at `start`.
    fn skip_delimited_item(
        &mut self,
        start: usize,
        encoding: Encoding,
        depth: usize,
    ) -> Option<usize> {
        let mut pos = start;
        loop {
            let header = encoding.header_at(self.bytes, pos)?;
            let value = pos.checked_add(header.size)?;
            if header.tag == ITEM_DELIMITATION {
                return Some(value);
            }
            pos = self.skip_value(value, header, encoding, depth)?;
        }
    }
}

/// Where the data set starts: after "DICM" and the group 0002 elements (explicit VR LE).
fn dataset_start(bytes: &[u8]) -> Option<usize> {
    let mut pos = if bytes.get(128..132) == Some(b"DICM".as_slice()) {
        132
    } else if bytes.get(..4) == Some(b"DICM".as_slice()) {
        4
    } else {
        return None;
    };
    let meta = Encoding::ExplicitLittle;
    while let Some(header) = meta.header_at(bytes, pos) {
        if header.tag.0 != 0x0002 || header.length == UNDEFINED_LENGTH {
            break;
        }
        pos = pos
            .checked_add(header.size)?
            .checked_add(usize::try_from(header.length).ok()?)?;
    }
    Some(pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dicom::dicomdir::tests::data;

    #[test]
    fn item_offsets_point_at_item_tags() {
        let cases = [
            ("DICOMDIR", Encoding::ExplicitLittle, 52, 396),
            ("DICOMDIR-implicit", Encoding::ImplicitLittle, 52, 390),
            ("DICOMDIR-bigEnd", Encoding::ExplicitBig, 52, 396),
            ("DICOMDIR-reordered", Encoding::ExplicitLittle, 52, 396),
            ("TINY_ALPHA/DICOMDIR", Encoding::ExplicitLittle, 53, 422),
        ];
        for (name, encoding, count, first) in cases {
            let bytes = std::fs::read(data(name)).expect(name);
            let layout = ItemLayout::find(&bytes, encoding).expect(name);
            assert_eq!(layout.offsets.len(), count, "{name}");
            assert_eq!(layout.offsets[0], first, "{name}");
            assert!(layout.patches.is_empty(), "{name}");
            for offset in layout.offsets {
                let header = encoding.header_at(&bytes, offset).expect("header");
                assert_eq!(header.tag, ITEM, "{name} at {offset}");
            }
        }
    }

    #[test]
    fn an_item_overrunning_its_sequence_is_cut_to_fit() {
        // DICOMDIR-nooffset lost 24 bytes from its last item but kept the item's length.
        let bytes = std::fs::read(data("DICOMDIR-nooffset")).expect("nooffset");
        let layout = ItemLayout::find(&bytes, Encoding::ExplicitLittle).expect("layout");
        assert_eq!(layout.offsets.len(), 52);
        assert_eq!(layout.offsets[51], 10860);
        assert_eq!(layout.patches, vec![(10864, (248u32 - 24).to_le_bytes())]);
        let repaired = layout.repair(&bytes);
        assert_eq!(repaired.len(), bytes.len());
        assert_eq!(repaired[10864..10868], (224u32).to_le_bytes());
    }

    /// Explicit VR LE element bytes with a 4-byte length (the SQ form).
    fn long_element(group: u16, element: u16, vr: &[u8; 2], length: u32) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(group.to_le_bytes());
        out.extend(element.to_le_bytes());
        out.extend(vr);
        out.extend([0, 0]);
        out.extend(length.to_le_bytes());
        out
    }

    /// Item or delimiter bytes.
    fn marker(tag: (u16, u16), length: u32) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(tag.0.to_le_bytes());
        out.extend(tag.1.to_le_bytes());
        out.extend(length.to_le_bytes());
        out
    }

    #[test]
    fn undefined_length_items_and_nested_sequences_are_walked() {
        // Item 1: undefined length, holding a CS element and an undefined-length SQ with one
        // undefined-length item; item 2: defined length, empty.
        let mut bytes = Vec::new();
        bytes.extend(marker(ITEM, UNDEFINED_LENGTH));
        bytes.extend([0x04, 0x00, 0x30, 0x14, b'C', b'S', 2, 0, b'X', b' ']);
        bytes.extend(long_element(0x0088, 0x0200, b"SQ", UNDEFINED_LENGTH));
        bytes.extend(marker(ITEM, UNDEFINED_LENGTH));
        bytes.extend(marker(ITEM_DELIMITATION, 0));
        bytes.extend(marker(SEQUENCE_DELIMITATION, 0));
        bytes.extend(marker(ITEM_DELIMITATION, 0));
        let second = bytes.len();
        bytes.extend(marker(ITEM, 0));
        bytes.extend(marker(SEQUENCE_DELIMITATION, 0));
        let walk = |bytes: &[u8]| {
            let mut walker = Walker {
                bytes,
                patches: Vec::new(),
            };
            walker.walk_items(0, UNDEFINED_LENGTH, Encoding::ExplicitLittle, 0)
        };
        assert_eq!(walk(&bytes), Some((vec![0, second], bytes.len())));
        assert_eq!(walk(&bytes[..bytes.len() - 4]), None);
    }
}
