//! DICOMDIR (Media Storage Directory) reading: the patient → study → series → image tree of
//! a DICOMDIR file and the image files its records reference.
//!
//! Records are linked by byte offsets (PS3.10 §8.5, PS3.3 F.3), which dicom-object does not
//! expose, so the items of the Directory Record Sequence are located by walking the raw bytes.
//! When those offsets are unusable the tree is rebuilt from the order of the records.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::{DefaultDicomObject, InMemDicomObject, OpenFileOptions};

use super::declared::{Reach, check_declared_lengths_in};
use super::error::{Attribute, DicomError};

/// Media Storage Directory Storage SOP class.
const MEDIA_STORAGE_DIRECTORY: &str = "1.2.840.10008.1.3.10";
/// Deepest record nesting (and sequence nesting) accepted; real directories use about five.
const MAX_DEPTH: usize = 32;
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

/// A DICOMDIR file and its tree of directory records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    /// The DICOMDIR file.
    pub path: PathBuf,
    /// The root directory entity: PATIENT records, normally.
    pub roots: Vec<DirectoryRecord>,
}

/// One directory record with the attributes the catalog needs, and its lower-level records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryRecord {
    /// DirectoryRecordType (0004,1430): "PATIENT", "STUDY", "SERIES", "IMAGE" or what the file says.
    pub record_type: String,
    /// PatientID (0010,0020).
    pub patient_id: Option<String>,
    /// PatientName (0010,0010).
    pub patient_name: Option<String>,
    /// StudyInstanceUID (0020,000D).
    pub study_instance_uid: Option<String>,
    /// StudyDate (0008,0020).
    pub study_date: Option<String>,
    /// StudyDescription (0008,1030).
    pub study_description: Option<String>,
    /// SeriesInstanceUID (0020,000E).
    pub series_instance_uid: Option<String>,
    /// SeriesNumber (0020,0011).
    pub series_number: Option<i32>,
    /// Modality (0008,0060).
    pub modality: Option<String>,
    /// ReferencedFileID (0004,1500) joined onto the DICOMDIR's folder.
    pub referenced_file: Option<PathBuf>,
    /// The records of the referenced lower-level directory entity.
    pub children: Vec<DirectoryRecord>,
}

/// The largest DICOMDIR read (a million records take about 300 MB).
const MAX_DICOMDIR_BYTES: u64 = 512 << 20;

/// Reads a DICOMDIR file into its tree of records.
pub fn read_dicomdir(path: &Path) -> Result<Directory, DicomError> {
    let io = |source| DicomError::Io {
        file: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_DICOMDIR_BYTES {
        return Err(DicomError::NotDicom {
            file: path.to_path_buf(),
            reason: format!(
                "a DICOMDIR of {size} bytes is over the {MAX_DICOMDIR_BYTES} bytes one may have"
            ),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let head = parse(path, &bytes, Some(tags::DIRECTORY_RECORD_SEQUENCE))?;
    check_sop_class(path, &head)?;
    let layout = Encoding::of_transfer_syntax(head.meta().transfer_syntax())
        .and_then(|encoding| ItemLayout::find(&bytes, encoding));
    let repaired = match &layout {
        Some(layout) => layout.repair(&bytes),
        None => Cow::Borrowed(bytes.as_slice()),
    };
    let object = parse(path, &repaired, None)?;
    let entries = read_entries(path, &object)?;
    let links = link(path, &object, &entries, layout);
    Ok(Directory {
        path: path.to_path_buf(),
        roots: assemble(links, entries),
    })
}

impl Directory {
    /// Every record's referenced file, depth first.
    pub fn referenced_files(&self) -> Vec<PathBuf> {
        self.records()
            .filter_map(|record| record.referenced_file.clone())
            .collect()
    }

    /// How many records of this type the tree holds.
    pub fn count(&self, record_type: &str) -> usize {
        self.records()
            .filter(|record| record.record_type == record_type)
            .count()
    }

    /// All records, depth first, parents before their children.
    fn records(&self) -> impl Iterator<Item = &DirectoryRecord> {
        let mut stack: Vec<&DirectoryRecord> = self.roots.iter().rev().collect();
        std::iter::from_fn(move || {
            let record = stack.pop()?;
            stack.extend(record.children.iter().rev());
            Some(record)
        })
    }
}

/// Whether a SOP class UID is Media Storage Directory Storage, ignoring NUL/space padding.
pub fn is_dicomdir_sop_class(uid: &str) -> bool {
    uid.trim_end_matches(['\0', ' ']) == MEDIA_STORAGE_DIRECTORY
}

/// Parses the file with dicom-object, up to (without) `until` if given.
fn parse(path: &Path, bytes: &[u8], until: Option<Tag>) -> Result<DefaultDicomObject, DicomError> {
    check_declared_lengths_in(path, bytes, until.map_or(Reach::WholeFile, Reach::Until))?;
    let options = OpenFileOptions::new();
    let options = match until {
        Some(tag) => options.read_until(tag),
        None => options,
    };
    options
        .from_reader(bytes)
        .map_err(|error| DicomError::NotDicom {
            file: path.to_path_buf(),
            reason: error.to_string(),
        })
}

/// Fails unless the file meta says Media Storage Directory.
fn check_sop_class(path: &Path, object: &DefaultDicomObject) -> Result<(), DicomError> {
    let uid = object.meta().media_storage_sop_class_uid();
    if is_dicomdir_sop_class(uid) {
        return Ok(());
    }
    Err(DicomError::InvalidAttribute {
        file: path.to_path_buf(),
        attribute: Attribute::new("MediaStorageSOPClassUID", 0x0002, 0x0002),
        reason: format!("{uid} is not Media Storage Directory ({MEDIA_STORAGE_DIRECTORY})"),
    })
}

/// The records of the Directory Record Sequence, in file order.
fn read_entries(path: &Path, object: &DefaultDicomObject) -> Result<Vec<Entry>, DicomError> {
    let folder = path.parent().unwrap_or(Path::new(""));
    let items = directory_records(path, object)?;
    Ok(items.iter().map(|item| Entry::read(item, folder)).collect())
}

/// The items of the Directory Record Sequence, in file order.
fn directory_records<'a>(
    path: &Path,
    object: &'a DefaultDicomObject,
) -> Result<&'a [InMemDicomObject], DicomError> {
    let attribute = Attribute::new("DirectoryRecordSequence", 0x0004, 0x1220);
    let element = object.get(tags::DIRECTORY_RECORD_SEQUENCE).ok_or_else(|| {
        DicomError::MissingAttribute {
            file: path.to_path_buf(),
            attribute,
        }
    })?;
    match element.items() {
        Some(items) => Ok(items),
        None if element.value().multiplicity() == 0 => Ok(&[]),
        None => Err(DicomError::InvalidAttribute {
            file: path.to_path_buf(),
            attribute,
            reason: "not a sequence".to_owned(),
        }),
    }
}

/// A directory record without children, and its links to other records.
#[derive(Debug, Clone, Default)]
struct Entry {
    /// The record's attributes.
    record: DirectoryRecord,
    /// OffsetOfTheNextDirectoryRecord (0004,1400); 0 for none.
    next: u32,
    /// OffsetOfReferencedLowerLevelDirectoryEntity (0004,1420); 0 for none.
    lower: u32,
}

impl Entry {
    /// Reads one item of the Directory Record Sequence.
    fn read(item: &InMemDicomObject, folder: &Path) -> Self {
        let record = DirectoryRecord {
            record_type: text(item, tags::DIRECTORY_RECORD_TYPE).unwrap_or_default(),
            patient_id: text(item, tags::PATIENT_ID),
            patient_name: text(item, tags::PATIENT_NAME),
            study_instance_uid: text(item, tags::STUDY_INSTANCE_UID),
            study_date: text(item, tags::STUDY_DATE),
            study_description: text(item, tags::STUDY_DESCRIPTION),
            series_instance_uid: text(item, tags::SERIES_INSTANCE_UID),
            series_number: item
                .get(tags::SERIES_NUMBER)
                .and_then(|element| element.to_int::<i32>().ok()),
            modality: text(item, tags::MODALITY),
            referenced_file: referenced_file(item, folder),
            children: Vec::new(),
        };
        Self {
            record,
            next: offset(item, tags::OFFSET_OF_THE_NEXT_DIRECTORY_RECORD),
            lower: offset(
                item,
                tags::OFFSET_OF_REFERENCED_LOWER_LEVEL_DIRECTORY_ENTITY,
            ),
        }
    }
}

/// A text attribute without padding; `None` when absent or empty.
fn text(object: &InMemDicomObject, tag: Tag) -> Option<String> {
    let value = object.get(tag)?.to_str().ok()?;
    let value = value.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!value.is_empty()).then(|| value.to_owned())
}

/// An offset attribute; 0 (none) when absent or unreadable.
fn offset(object: &InMemDicomObject, tag: Tag) -> u32 {
    object
        .get(tag)
        .and_then(|element| element.to_int::<u32>().ok())
        .unwrap_or(0)
}

/// ReferencedFileID (0004,1500) resolved against the DICOMDIR's folder.
fn referenced_file(item: &InMemDicomObject, folder: &Path) -> Option<PathBuf> {
    let values = item.get(tags::REFERENCED_FILE_ID)?.to_multi_str().ok()?;
    let components: Vec<&str> = values
        .iter()
        .flat_map(|value| value.split('\\'))
        .map(|component| component.trim_matches(|c: char| c == '\0' || c == ' '))
        .filter(|component| !component.is_empty())
        .collect();
    if components.is_empty() {
        return None;
    }
    if let Some(bad) = components.iter().find(|c| !is_plain_component(c)) {
        tracing::warn!("ignoring ReferencedFileID with component {bad:?}");
        return None;
    }
    Some(
        components
            .iter()
            .fold(folder.to_path_buf(), |path, c| path.join(c)),
    )
}

/// Whether a file ID component names an entry inside its folder (no `..`, no separators).
fn is_plain_component(component: &str) -> bool {
    component != "." && component != ".." && !component.contains(['/', ':', '\0'])
}

/// A record by its index in the sequence, with its lower-level records.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Link {
    /// Index in the Directory Record Sequence.
    index: usize,
    /// The linked lower-level records.
    children: Vec<Link>,
}

/// The record tree by offsets when they can be followed, else by record order.
fn link(
    path: &Path,
    object: &DefaultDicomObject,
    entries: &[Entry],
    layout: Option<ItemLayout>,
) -> Vec<Link> {
    if entries.is_empty() {
        return Vec::new();
    }
    let root = offset(
        object,
        tags::OFFSET_OF_THE_FIRST_DIRECTORY_RECORD_OF_THE_ROOT_DIRECTORY_ENTITY,
    );
    layout
        .and_then(|layout| link_records(entries, &layout.offsets, root))
        .unwrap_or_else(|| {
            tracing::warn!(
                "{}: record offsets unusable, using record order",
                path.display()
            );
            link_by_order(entries)
        })
}

/// Links records given each one's byte offset and the offset of the first root record.
///
/// A root offset that is missing or points at a lower-level record is replaced by the records
/// no other record points at. Offsets pointing nowhere, cycles and runaway depth give `None`.
fn link_records(entries: &[Entry], item_offsets: &[usize], root: u32) -> Option<Vec<Link>> {
    if item_offsets.len() != entries.len() {
        return None;
    }
    let by_offset: HashMap<u32, usize> = item_offsets
        .iter()
        .enumerate()
        .filter_map(|(index, &offset)| Some((u32::try_from(offset).ok()?, index)))
        .collect();
    let mut linker = Linker {
        entries,
        by_offset,
        visited: vec![false; entries.len()],
    };
    let mut roots = Vec::new();
    for first in root_chain_starts(entries, item_offsets, root) {
        roots.extend(linker.chain(first, 0)?);
    }
    (!roots.is_empty() || entries.is_empty()).then_some(roots)
}

/// Where the root chain starts: the root offset when it names a record nothing else points at,
/// otherwise every such record in file order.
fn root_chain_starts(entries: &[Entry], item_offsets: &[usize], root: u32) -> Vec<u32> {
    let pointed_at: HashSet<u32> = entries
        .iter()
        .flat_map(|entry| [entry.next, entry.lower])
        .filter(|&offset| offset != 0)
        .collect();
    let heads: Vec<u32> = item_offsets
        .iter()
        .filter_map(|&offset| u32::try_from(offset).ok())
        .filter(|offset| !pointed_at.contains(offset))
        .collect();
    if heads.contains(&root) {
        vec![root]
    } else {
        heads
    }
}

/// Follows next/lower offsets, using each record at most once.
struct Linker<'a> {
    /// The records, in sequence order.
    entries: &'a [Entry],
    /// Sequence index of the record at each byte offset.
    by_offset: HashMap<u32, usize>,
    /// Records already placed in the tree.
    visited: Vec<bool>,
}

impl Linker<'_> {
    /// The chain of records starting at `first` and following next offsets, with their subtrees.
    fn chain(&mut self, first: u32, depth: usize) -> Option<Vec<Link>> {
        let mut links = Vec::new();
        let mut offset = first;
        while offset != 0 {
            let index = *self.by_offset.get(&offset)?;
            let entry = self.entries.get(index)?;
            let seen = std::mem::replace(self.visited.get_mut(index)?, true);
            if seen || depth > MAX_DEPTH {
                return None;
            }
            let children = self.chain(entry.lower, depth + 1)?;
            links.push(Link { index, children });
            offset = entry.next;
        }
        Some(links)
    }
}

/// The tree implied by record order and type levels (PATIENT > STUDY > SERIES > the rest).
fn link_by_order(entries: &[Entry]) -> Vec<Link> {
    let mut roots = Vec::new();
    let mut open: Vec<(u8, Link)> = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let level = record_level(&entry.record.record_type);
        while open
            .last()
            .is_some_and(|(open_level, _)| *open_level >= level)
        {
            close_last(&mut open, &mut roots);
        }
        let children = Vec::new();
        open.push((level, Link { index, children }));
    }
    while !open.is_empty() {
        close_last(&mut open, &mut roots);
    }
    roots
}

/// Moves the innermost open record into its parent, or into the roots.
fn close_last(open: &mut Vec<(u8, Link)>, roots: &mut Vec<Link>) {
    if let Some((_, link)) = open.pop() {
        match open.last_mut() {
            Some((_, parent)) => parent.children.push(link),
            None => roots.push(link),
        }
    }
}

/// Nesting level of a record type: root-level types 0, STUDY 1, SERIES 2, others 3 (leaves).
fn record_level(record_type: &str) -> u8 {
    match record_type {
        "PATIENT" | "HANGING PROTOCOL" | "PALETTE" | "IMPLANT" | "IMPLANT ASSY"
        | "IMPLANT GROUP" => 0,
        "STUDY" => 1,
        "SERIES" => 2,
        _ => 3,
    }
}

/// Builds the record tree from links.
fn assemble(links: Vec<Link>, entries: Vec<Entry>) -> Vec<DirectoryRecord> {
    let mut slots: Vec<Option<DirectoryRecord>> = entries
        .into_iter()
        .map(|entry| Some(entry.record))
        .collect();
    take_records(links, &mut slots)
}

/// The linked records with their subtrees, each taken out of its slot.
fn take_records(links: Vec<Link>, slots: &mut [Option<DirectoryRecord>]) -> Vec<DirectoryRecord> {
    links
        .into_iter()
        .filter_map(|link| {
            let mut record = slots.get_mut(link.index)?.take()?;
            record.children = take_records(link.children, slots);
            Some(record)
        })
        .collect()
}

/// How the data set after the file meta group is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
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
    fn of_transfer_syntax(uid: &str) -> Option<Self> {
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
struct ItemLayout {
    /// Byte offset of each item, from the first byte of the file.
    offsets: Vec<usize>,
    /// Item length fields to rewrite, as (position, encoded length), for items that claim more
    /// bytes than their sequence holds (pydicom reads such files; dicom-object does not).
    patches: Vec<(usize, [u8; 4])>,
}

impl ItemLayout {
    /// Walks the file's bytes to the Directory Record Sequence and through its items.
    fn find(bytes: &[u8], encoding: Encoding) -> Option<Self> {
        let mut walker = Walker {
            bytes,
            patches: Vec::new(),
        };
        let offsets = walker.directory_record_items(encoding)?;
        let patches = walker.patches;
        Some(Self { offsets, patches })
    }

    /// The file's bytes with overrunning item lengths cut to fit their sequence.
    fn repair<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
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

    /// The pydicom DICOMDIR test files.
    const DATA: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/pydicom-test-files/pydicom/data/test_files/dicomdirtests"
    );

    /// Variants that hold the same 2 patients, 6 studies, 13 series and 31 images.
    const SAME_TREE: [&str; 5] = [
        "DICOMDIR",
        "DICOMDIR-implicit",
        "DICOMDIR-bigEnd",
        "DICOMDIR-reordered",
        "DICOMDIR-nooffset",
    ];

    fn data(name: &str) -> PathBuf {
        Path::new(DATA).join(name)
    }

    fn read(name: &str) -> Directory {
        read_dicomdir(&data(name)).expect(name)
    }

    fn counts(directory: &Directory) -> [usize; 4] {
        ["PATIENT", "STUDY", "SERIES", "IMAGE"].map(|kind| directory.count(kind))
    }

    /// Asserts roots of `root_type` → STUDY → SERIES → IMAGE, and nothing else.
    fn assert_shape(directory: &Directory, root_type: &str) {
        for root in &directory.roots {
            assert_eq!(root.record_type, root_type);
            for study in &root.children {
                assert_eq!(study.record_type, "STUDY", "under {root_type}");
                for series in &study.children {
                    assert_eq!(series.record_type, "SERIES", "under STUDY");
                    for image in &series.children {
                        assert_eq!(image.record_type, "IMAGE", "under SERIES");
                        assert!(image.children.is_empty());
                        assert!(image.referenced_file.is_some());
                    }
                }
            }
        }
    }

    /// Depth-first (depth, type, ids, file relative to the DICOMDIR) of every record.
    fn signature(directory: &Directory) -> Vec<String> {
        fn visit(record: &DirectoryRecord, depth: usize, folder: &Path, out: &mut Vec<String>) {
            let file = record
                .referenced_file
                .as_deref()
                .and_then(|file| file.strip_prefix(folder).ok());
            out.push(format!(
                "{depth} {} {:?} {:?} {:?} {:?} {:?} {file:?}",
                record.record_type,
                record.patient_id,
                record.study_instance_uid,
                record.series_instance_uid,
                record.series_number,
                record.modality,
            ));
            for child in &record.children {
                visit(child, depth + 1, folder, out);
            }
        }
        let folder = directory.path.parent().expect("a folder");
        let mut out = Vec::new();
        for root in &directory.roots {
            visit(root, 0, folder, &mut out);
        }
        out
    }

    #[test]
    fn variants_have_the_expected_counts_and_shape() {
        for name in SAME_TREE {
            let directory = read(name);
            assert_eq!(counts(&directory), [2, 6, 13, 31], "{name}");
            assert_eq!(directory.roots.len(), 2, "{name}");
            assert_shape(&directory, "PATIENT");
        }
    }

    #[test]
    fn variants_give_the_same_tree_as_the_plain_file() {
        let plain = signature(&read("DICOMDIR"));
        assert_eq!(plain.len(), 52);
        for name in SAME_TREE {
            assert_eq!(signature(&read(name)), plain, "{name}");
        }
    }

    #[test]
    fn reordered_records_follow_offsets_not_sequence_order() {
        let directory = read("DICOMDIR-reordered");
        let first = &directory.roots[0];
        assert_eq!(first.patient_id.as_deref(), Some("77654033"));
        assert_eq!(first.children.len(), 2);
        assert_eq!(first.children[0].children.len(), 3, "series of study 1");
    }

    #[test]
    fn nopatient_keeps_the_invalid_root_type() {
        let directory = read("DICOMDIR-nopatient");
        assert_eq!(directory.roots.len(), 2);
        let root_type = directory.roots[0].record_type.clone();
        assert_eq!(root_type, "UNKNOWN", "as written in the file");
        assert_eq!(directory.count(&root_type), 2);
        assert_eq!(counts(&directory), [0, 6, 13, 31]);
        assert_shape(&directory, &root_type);
        let strip_root_type = |lines: Vec<String>| -> Vec<String> {
            lines
                .into_iter()
                .map(|line| line.replace(&root_type, "PATIENT"))
                .collect()
        };
        assert_eq!(
            strip_root_type(signature(&directory)),
            signature(&read("DICOMDIR"))
        );
    }

    #[test]
    fn tiny_alpha_has_fifty_images_on_disk() {
        let directory = read("TINY_ALPHA/DICOMDIR");
        assert_eq!(counts(&directory), [1, 1, 1, 50]);
        assert_shape(&directory, "PATIENT");
        let files = directory.referenced_files();
        assert_eq!(files.len(), 50);
        assert!(files.iter().all(|file| file.is_file()), "{files:?}");
        assert!(files[0].ends_with("PT000000/ST000000/SE000000/IM000000"));
    }

    #[test]
    fn referenced_files_exist_and_are_depth_first() {
        let directory = read("DICOMDIR");
        let files = directory.referenced_files();
        assert_eq!(files.len(), 31);
        assert!(files.iter().all(|file| file.is_file()), "{files:?}");
        assert_eq!(files[0], data("77654033/CR1/6154"));
        assert!(
            files
                .iter()
                .take(5)
                .all(|file| file.starts_with(data("77654033")))
        );
    }

    #[test]
    fn record_attributes_are_read_without_padding() {
        let directory = read("DICOMDIR-bigEnd");
        let patient = &directory.roots[0];
        assert_eq!(patient.patient_id.as_deref(), Some("77654033"));
        assert!(patient.patient_name.is_some());
        let study = &patient.children[0];
        assert!(
            study
                .study_instance_uid
                .as_deref()
                .is_some_and(|uid| !uid.ends_with('\0'))
        );
        assert!(
            study
                .study_date
                .as_deref()
                .is_some_and(|date| date.len() == 8)
        );
        let series = &study.children[0];
        assert_eq!(series.modality.as_deref(), Some("CR"));
        assert!(series.series_number.is_some());
        assert!(series.series_instance_uid.is_some());
    }

    #[test]
    fn empty_directory_is_not_an_error() {
        let directory = read("DICOMDIR-empty.dcm");
        assert!(directory.roots.is_empty());
        assert!(directory.referenced_files().is_empty());
        assert_eq!(counts(&directory), [0; 4]);
    }

    #[test]
    fn non_dicom_file_is_not_dicom() {
        let result = read_dicomdir(&data("README.txt"));
        assert!(
            matches!(result, Err(DicomError::NotDicom { .. })),
            "{result:?}"
        );
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let result = read_dicomdir(&data("no-such-DICOMDIR"));
        assert!(matches!(result, Err(DicomError::Io { .. })), "{result:?}");
    }

    #[test]
    fn image_file_is_not_a_directory() {
        let result = read_dicomdir(&data("../CT_small.dcm"));
        match result {
            Err(DicomError::InvalidAttribute { attribute, .. }) => {
                assert_eq!(attribute.tag, (0x0002, 0x0002));
            }
            other => panic!("expected InvalidAttribute, got {other:?}"),
        }
    }

    #[test]
    fn truncated_files_give_errors_or_fall_back_without_panicking() {
        let bytes = std::fs::read(data("DICOMDIR")).expect("DICOMDIR");
        let whole = read("DICOMDIR");
        let named = |directory: &Directory| -> HashSet<PathBuf> {
            directory
                .referenced_files()
                .iter()
                .filter_map(|file| file.strip_prefix(directory.path.parent()?).ok())
                .map(Path::to_path_buf)
                .collect()
        };
        let whole_files = named(&whole);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("DICOMDIR");
        let mut errors = 0;
        for len in [
            0,
            100,
            140,
            400,
            1000,
            5000,
            bytes.len() / 2,
            bytes.len() - 1,
        ] {
            std::fs::write(&path, &bytes[..len]).expect("write");
            match read_dicomdir(&path) {
                Err(error) => {
                    errors += 1;
                    assert!(
                        error.to_string().contains(&path.display().to_string()),
                        "cut at {len}: the error names the file: {error}"
                    );
                }
                Ok(directory) => {
                    // A fallback may read the records that are whole: fewer, never others.
                    let files = named(&directory);
                    assert!(
                        files.is_subset(&whole_files) && files.len() < whole_files.len(),
                        "cut at {len}: {} of {} files, all of them in the whole file",
                        files.len(),
                        whole_files.len()
                    );
                }
            }
            // A scan of the folder reports the cut file (or the images it names, which
            // are not there) and finds no study.
            let catalog = crate::dicom::Catalog::scan(
                &[dir.path().to_path_buf()],
                &crate::progress::no_progress,
            );
            assert!(catalog.studies.is_empty(), "cut at {len}");
            assert!(
                catalog.skipped.iter().all(|skip| !skip.reason.is_empty()),
                "cut at {len}: {:?}",
                catalog.skipped
            );
            assert!(
                !catalog.skipped.is_empty(),
                "cut at {len}: nothing reported"
            );
        }
        assert!(errors > 0, "the shortest cuts are errors");
    }

    #[test]
    fn missing_record_sequence_is_reported() {
        let meta = dicom_object::FileMetaTableBuilder::new()
            .media_storage_sop_class_uid(MEDIA_STORAGE_DIRECTORY)
            .media_storage_sop_instance_uid("1.2.3.4")
            .transfer_syntax("1.2.840.10008.1.2.1")
            .build()
            .expect("meta");
        let object = InMemDicomObject::new_empty().with_exact_meta(meta);
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("DICOMDIR");
        object.write_to_file(&path).expect("write");
        match read_dicomdir(&path) {
            Err(DicomError::MissingAttribute { attribute, .. }) => {
                assert_eq!(attribute.tag, (0x0004, 0x1220));
            }
            other => panic!("expected MissingAttribute, got {other:?}"),
        }
    }

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

    fn entry(record_type: &str, next: u32, lower: u32) -> Entry {
        let record = DirectoryRecord {
            record_type: record_type.to_owned(),
            ..DirectoryRecord::default()
        };
        Entry {
            record,
            next,
            lower,
        }
    }

    #[test]
    fn cyclic_or_dangling_offsets_are_rejected() {
        let offsets = [100, 200, 300];
        let cyclic = [
            entry("PATIENT", 0, 200),
            entry("STUDY", 0, 300),
            entry("SERIES", 0, 200),
        ];
        assert_eq!(link_records(&cyclic, &offsets, 100), None);
        let no_head = [
            entry("PATIENT", 200, 0),
            entry("PATIENT", 300, 0),
            entry("PATIENT", 100, 0),
        ];
        assert_eq!(link_records(&no_head, &offsets, 100), None);
        let dangling = [
            entry("PATIENT", 0, 250),
            entry("STUDY", 0, 0),
            entry("SERIES", 0, 0),
        ];
        assert_eq!(link_records(&dangling, &offsets, 100), None);
    }

    #[test]
    fn bad_root_offset_falls_back_to_unreferenced_records() {
        let offsets = [100, 200, 300];
        let entries = [
            entry("IMAGE", 0, 0),
            entry("STUDY", 0, 100),
            entry("PATIENT", 0, 200),
        ];
        let links = link_records(&entries, &offsets, 100).expect("linked");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].index, 2);
        assert_eq!(links[0].children[0].children[0].index, 0);
    }

    #[test]
    fn record_order_gives_the_same_tree_as_offsets() {
        let path = data("DICOMDIR");
        let bytes = std::fs::read(&path).expect("DICOMDIR");
        let object = parse(&path, &bytes, None).expect("parse");
        let entries = read_entries(&path, &object).expect("records");
        let layout = ItemLayout::find(&bytes, Encoding::ExplicitLittle).expect("layout");
        let root = offset(
            &object,
            tags::OFFSET_OF_THE_FIRST_DIRECTORY_RECORD_OF_THE_ROOT_DIRECTORY_ENTITY,
        );
        let by_offsets = link_records(&entries, &layout.offsets, root).expect("offsets");
        assert_eq!(by_offsets.len(), 2);
        assert_eq!(link_by_order(&entries), by_offsets);
    }

    #[test]
    fn record_levels_nest_leaves_under_the_last_series() {
        let entries = [
            entry("PATIENT", 0, 0),
            entry("STUDY", 0, 0),
            entry("SERIES", 0, 0),
            entry("IMAGE", 0, 0),
            entry("IMAGE", 0, 0),
            entry("STUDY", 0, 0),
            entry("PATIENT", 0, 0),
        ];
        let roots = link_by_order(&entries);
        assert_eq!(roots.len(), 2);
        assert_eq!(roots[0].children.len(), 2);
        assert_eq!(roots[0].children[0].children[0].children.len(), 2);
        assert_eq!(roots[1].index, 6);
    }

    #[test]
    fn dicomdir_sop_class_ignores_padding() {
        assert!(is_dicomdir_sop_class("1.2.840.10008.1.3.10"));
        assert!(is_dicomdir_sop_class("1.2.840.10008.1.3.10\0"));
        assert!(is_dicomdir_sop_class("1.2.840.10008.1.3.10 "));
        assert!(!is_dicomdir_sop_class("1.2.840.10008.1.3.1"));
        assert!(!is_dicomdir_sop_class("1.2.840.10008.1.3.100"));
        assert!(!is_dicomdir_sop_class("1.2.840.10008.5.1.4.1.1.2"));
    }

    #[test]
    fn file_ids_stay_inside_the_folder() {
        assert!(is_plain_component("CR1"));
        assert!(!is_plain_component(".."));
        assert!(!is_plain_component("A/B"));
        assert!(!is_plain_component("C:"));
    }
}
