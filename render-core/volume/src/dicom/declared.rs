//! Declared lengths checked against the file before the parser trusts them.
//!
//! dicom-rs reads an element by allocating the length its header declares and then
//! filling it from the file, so a 200-byte file whose OB element declares 0xFFFFFFFE bytes
//! costs 4 GiB before the short read is noticed. [`open_checked`] walks the
//! element headers first, with dicom-parser's lazy reader (values are skipped, never
//! read), and refuses any value that claims more bytes than remain in the file. Only then
//! is the file handed to dicom-object. The walk also tells how many bytes the pixel data
//! occupies, which bounds the frames a header may claim.
//!
//! It is also where a DICOM file is opened ([`open_checked`]): once, as a regular file
//! (a named pipe or device is refused at once, not waited on), and the parser reads the
//! handle the walk checked. And it is where nesting is bounded: dicom-object reads a
//! sequence within a sequence by recursion, so a file nesting thousands deep would
//! overflow the stack; the walk, which keeps its depth in a counter, refuses any past
//! [`MAX_SEQUENCE_DEPTH`] first.

use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use dicom_core::header::{HasLength, Header};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_parser::dataset::LazyDataToken;
use dicom_parser::dataset::lazy_read::LazyDataSetReader;
use dicom_parser::stateful::decode::{DynStatefulDecoder, StatefulDecode};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::error::DicomError;
use super::text::trim_value;

/// Preamble and `DICM` before the file meta group.
const META_START: u64 = 132;
/// `DICM` alone before the file meta group (a file written without its preamble).
const META_START_WITHOUT_PREAMBLE: u64 = 4;
/// The deepest nesting of sequences a file may have. Image objects nest a handful deep
/// (enhanced multi-frame functional groups: 2; RT structure sets: 4 to 5) and structured
/// reports rarely past 20; each level of dicom-object's recursive parse takes stack, and
/// files are parsed on worker threads of 2 MiB.
pub const MAX_SEQUENCE_DEPTH: usize = 32;
/// An item of a sequence or of encapsulated pixel data.
const ITEM: Tag = Tag(0xFFFE, 0xE000);
/// Deflated data sets may inflate to this many times their file size, and no more.
const DEFLATE_RATIO_LIMIT: u64 = 64;
/// Transfer syntaxes whose data set is deflated.
const DEFLATED: [&str; 2] = ["1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.95"];

/// How far the walk goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Up to the pixel data's header (a header-only read).
    UntilPixelData,
    /// Up to this top-level element's header.
    Until(Tag),
    /// Through the whole file, pixel fragments included.
    WholeFile,
}

/// What the walk learnt about the file's pixel data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelDataExtent {
    /// No PixelData element was met.
    Absent,
    /// Native pixel data of this many bytes.
    Native {
        /// The element's declared (and checked) length.
        bytes: u64,
    },
    /// Encapsulated pixel data: fragments in items.
    Encapsulated {
        /// Bytes from the start of the pixel data to the end of the data set.
        bytes_left: u64,
    },
}

/// The file's size and its pixel data, once every declared length fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeclaredLayout {
    /// Bytes in the (inflated) data set and meta group.
    pub bytes: u64,
    /// The pixel data found.
    pub pixel_data: PixelDataExtent,
}

/// A DICOM file opened once its kind, declared lengths and nesting were checked, at its
/// first byte: the parser reads this handle, not the path again.
#[derive(Debug)]
pub struct CheckedFile {
    /// The open file, at its start.
    pub file: File,
    /// What the walk learnt.
    pub layout: DeclaredLayout,
}

/// Opens the file at `path` as a regular file and walks its element headers, refusing any
/// declared length that reaches past the end of the file and any nesting past
/// [`MAX_SEQUENCE_DEPTH`].
pub fn open_checked(path: &Path, reach: Reach) -> Result<CheckedFile, DicomError> {
    let io = |source: std::io::Error| DicomError::Io {
        file: path.to_path_buf(),
        source,
    };
    let mut file = hounsfield_files::open_regular(path).map_err(io)?;
    let bytes = file.metadata().map_err(io)?.len();
    let layout = check_source(path, BufReader::new(&file), bytes, reach)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(CheckedFile { file, layout })
}

/// [`open_checked`]'s walk over bytes already in memory (a DICOMDIR).
pub fn check_declared_lengths_in(
    path: &Path,
    data: &[u8],
    reach: Reach,
) -> Result<DeclaredLayout, DicomError> {
    check_source(path, Cursor::new(data), data.len() as u64, reach)
}

fn check_source<S: Read + Seek>(
    path: &Path,
    mut source: S,
    bytes: u64,
    reach: Reach,
) -> Result<DeclaredLayout, DicomError> {
    let refuse = |reason: String| DicomError::NotDicom {
        file: path.to_path_buf(),
        reason,
    };
    // Where dicom-object looks for the magic code: after a preamble, or at the start.
    let Some(meta_start) = [META_START, META_START_WITHOUT_PREAMBLE]
        .into_iter()
        .find(|&start| has_magic_before(&mut source, bytes, start))
    else {
        return Err(refuse(
            "no DICOM Part 10 header ('DICM' at byte 128 missing)".to_string(),
        ));
    };
    let (dataset_start, transfer_syntax) =
        walk_meta(&mut source, bytes, meta_start).map_err(refuse)?;
    if transfer_syntax.is_empty() {
        return Err(refuse(
            "its file meta group has no TransferSyntaxUID (0002,0010)".to_string(),
        ));
    }
    let Some(syntax) = TransferSyntaxRegistry.get(&transfer_syntax) else {
        return Err(refuse(format!(
            "its transfer syntax {transfer_syntax} is not one this reader knows"
        )));
    };
    source
        .seek(SeekFrom::Start(dataset_start))
        .map_err(|e| refuse(e.to_string()))?;
    if DEFLATED.contains(&syntax.uid()) {
        let limit = bytes.saturating_mul(DEFLATE_RATIO_LIMIT);
        let mut inflated = Vec::new();
        flate2::read::DeflateDecoder::new(source)
            .take(limit.saturating_add(1))
            .read_to_end(&mut inflated)
            .map_err(|e| refuse(format!("its deflated data set does not inflate: {e}")))?;
        if inflated.len() as u64 > limit {
            return Err(refuse(format!(
                "its deflated data set inflates past {DEFLATE_RATIO_LIMIT} times the file's size"
            )));
        }
        let size = inflated.len() as u64;
        let explicit = explicit_vr_le().map_err(refuse)?;
        return walk_isolated(Cursor::new(inflated), size, explicit, reach).map_err(refuse);
    }
    walk_isolated(source, bytes, syntax, reach).map_err(refuse)
}

/// [`walk_dataset`], its panics turned into the file's error: dicom-parser's reader
/// panics on some malformed input (an item header outside any sequence, found by
/// `report_fuzz.rs`) instead of answering an error, and every file opened passes here.
fn walk_isolated<S: Read + Seek>(
    source: S,
    bytes: u64,
    syntax: &dicom_encoding::TransferSyntax,
    reach: Reach,
) -> Result<DeclaredLayout, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        walk_dataset(source, bytes, syntax, reach)
    }))
    .unwrap_or_else(|panic| {
        Err(format!(
            "its data set is broken: {}",
            crate::panics::message(&*panic).unwrap_or("the parser gave up")
        ))
    })
}

/// Whether `DICM` ends at byte `meta_start`.
fn has_magic_before<S: Read + Seek>(source: &mut S, bytes: u64, meta_start: u64) -> bool {
    let mut magic = [0u8; 4];
    bytes >= meta_start
        && source.seek(SeekFrom::Start(meta_start - 4)).is_ok()
        && source.read_exact(&mut magic).is_ok()
        && &magic == b"DICM"
}

/// Checks the meta group's lengths from `meta_start`; returns where the data set starts
/// and its transfer syntax.
fn walk_meta<S: Read + Seek>(
    source: &mut S,
    bytes: u64,
    meta_start: u64,
) -> Result<(u64, String), String> {
    let mut position = meta_start;
    let mut transfer_syntax = String::new();
    // Where FileMetaInformationGroupLength (0002,0000) says the group ends.
    let mut declared_end: Option<u64> = None;
    loop {
        source
            .seek(SeekFrom::Start(position))
            .map_err(|e| e.to_string())?;
        let mut group = [0u8; 2];
        if source.read_exact(&mut group).is_err() || u16::from_le_bytes(group) != 0x0002 {
            // dicom-object reads the group by its length; both readers must agree.
            if let Some(end) = declared_end
                && end != position
            {
                return Err(format!(
                    "its file meta group length says the group ends at byte {end}, but its elements end at byte {position}"
                ));
            }
            return Ok((position, transfer_syntax));
        }
        source
            .seek(SeekFrom::Start(position))
            .map_err(|e| e.to_string())?;
        let mut parser = DynStatefulDecoder::new_with_ts(&mut *source, explicit_vr_le()?, position)
            .map_err(|e| e.to_string())?;
        let header = parser
            .decode_header()
            .map_err(|e| format!("its file meta group is broken at byte {position}: {e}"))?;
        let header_end = parser.position();
        drop(parser);
        let length = u64::from(header.length().get().ok_or_else(|| {
            format!(
                "{} in the file meta group has an undefined length",
                header.tag()
            )
        })?);
        if length > bytes.saturating_sub(header_end) {
            return Err(too_long(header.tag(), length, bytes, header_end));
        }
        if header.tag() == tags::FILE_META_INFORMATION_GROUP_LENGTH && length == 4 {
            let mut value = [0u8; 4];
            source.read_exact(&mut value).map_err(|e| e.to_string())?;
            declared_end = Some(header_end + 4 + u64::from(u32::from_le_bytes(value)));
        }
        if header.tag() == tags::TRANSFER_SYNTAX_UID {
            let mut value = vec![0u8; length as usize];
            source.read_exact(&mut value).map_err(|e| e.to_string())?;
            transfer_syntax = trim_value(&String::from_utf8_lossy(&value)).to_string();
        }
        position = header_end + length;
    }
}

/// Walks the data set's element headers, skipping values without reading them into
/// memory.
fn walk_dataset<S: Read + Seek>(
    source: S,
    bytes: u64,
    syntax: &dicom_encoding::TransferSyntax,
    reach: Reach,
) -> Result<DeclaredLayout, String> {
    let mut reader = LazyDataSetReader::new_with_ts(source, syntax)
        .map_err(|e| format!("its data set cannot be read: {e}"))?;
    let stop_at = match reach {
        Reach::UntilPixelData => Some(tags::PIXEL_DATA),
        Reach::Until(tag) => Some(tag),
        Reach::WholeFile => None,
    };
    let mut pixel_data = PixelDataExtent::Absent;
    let mut depth = 0usize;
    // Bytes moved over by seeking rather than reading.
    let mut sought = 0u64;
    while let Some(token) = reader.advance() {
        let token = token.map_err(|e| format!("its data set is broken: {e}"))?;
        match token {
            LazyDataToken::ElementHeader(header) if depth == 0 => {
                if header.tag() == tags::PIXEL_DATA {
                    // A header-only read stops here, before the pixel data; a load walks
                    // the whole file and refuses pixel data cut short.
                    let length = u64::from(header.length().get().unwrap_or(0));
                    pixel_data = PixelDataExtent::Native { bytes: length };
                }
                if stop_at == Some(header.tag()) {
                    return Ok(DeclaredLayout { bytes, pixel_data });
                }
            }
            LazyDataToken::PixelSequenceStart => {
                depth += 1;
                if stop_at == Some(tags::PIXEL_DATA) {
                    let position = reader.into_decoder().position() + sought;
                    pixel_data = PixelDataExtent::Encapsulated {
                        bytes_left: bytes.saturating_sub(position),
                    };
                    return Ok(DeclaredLayout { bytes, pixel_data });
                }
                pixel_data = PixelDataExtent::Encapsulated { bytes_left: bytes };
            }
            LazyDataToken::SequenceStart { tag, .. } => {
                if depth == 0 && stop_at == Some(tag) {
                    return Ok(DeclaredLayout { bytes, pixel_data });
                }
                depth += 1;
                if depth > MAX_SEQUENCE_DEPTH {
                    return Err(format!(
                        "its sequences nest deeper than {MAX_SEQUENCE_DEPTH} levels (sequence {tag} is level {depth})"
                    ));
                }
            }
            LazyDataToken::SequenceEnd => depth = depth.saturating_sub(1),
            LazyDataToken::LazyValue { header, decoder } => {
                let position = decoder.position() + sought;
                let length = u64::from(header.length().get().unwrap_or(0));
                if length > bytes.saturating_sub(position) {
                    return Err(too_long(header.tag(), length, bytes, position));
                }
                if let Some(size) = binary_value_size(header.vr())
                    && length % size != 0
                {
                    // dicom-parser reads whole values only and would resume reading
                    // mid-value, at headers this walk never saw.
                    return Err(format!(
                        "element {} of VR {} declares {length} bytes, not a whole number of {size}-byte values",
                        header.tag(),
                        header.vr()
                    ));
                }
                if depth == 0 {
                    // Top-level values (the pixel data among them) are sought over, not
                    // read; the decoder's count stays behind by what was sought, and no
                    // enclosing sequence checks it.
                    decoder.seek(position + length).map_err(|e| e.to_string())?;
                    sought += length;
                } else {
                    let length = u32::try_from(length).map_err(|e| e.to_string())?;
                    decoder.skip_bytes(length).map_err(|e| e.to_string())?;
                }
            }
            LazyDataToken::LazyItemValue { len, decoder } => {
                let position = decoder.position() + sought;
                if u64::from(len) > bytes.saturating_sub(position) {
                    return Err(too_long(ITEM, u64::from(len), bytes, position));
                }
                decoder.skip_bytes(len).map_err(|e| e.to_string())?;
            }
            _ => {}
        }
    }
    Ok(DeclaredLayout { bytes, pixel_data })
}

/// Bytes of one value of a binary VR; `None` for text and byte VRs.
fn binary_value_size(vr: VR) -> Option<u64> {
    match vr {
        VR::US | VR::SS | VR::OW => Some(2),
        VR::UL | VR::SL | VR::FL | VR::AT | VR::OF | VR::OL => Some(4),
        VR::FD | VR::SV | VR::UV | VR::OD | VR::OV => Some(8),
        _ => None,
    }
}

/// The transfer syntax of every file meta group (and of inflated data sets).
fn explicit_vr_le() -> Result<&'static dicom_encoding::TransferSyntax, String> {
    TransferSyntaxRegistry
        .get("1.2.840.10008.1.2.1")
        .ok_or_else(|| "no explicit VR little endian decoder".to_string())
}

fn too_long(tag: Tag, length: u64, bytes: u64, position: u64) -> String {
    format!(
        "the file is truncated or hostile: element {tag} declares {length} bytes at byte {position}, but only {} are left before its end",
        bytes.saturating_sub(position)
    )
}

#[cfg(test)]
mod tests {
    use dicom_core::value::PrimitiveValue;
    use dicom_core::{DataElement, VR};
    use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

    use super::*;

    /// A small Part 10 file whose data set ends with `levels` sequences, each in the last
    /// one's item.
    fn nested_file(folder: &Path, levels: usize) -> std::path::PathBuf {
        let mut object = InMemDicomObject::new_empty();
        object.put(DataElement::new(
            tags::SOP_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from("2.25.1"),
        ));
        let path = folder.join(format!("nested{levels}.dcm"));
        object
            .with_meta(
                FileMetaTableBuilder::new()
                    .media_storage_sop_class_uid("1.2.840.10008.5.1.4.1.1.2")
                    .media_storage_sop_instance_uid("2.25.1")
                    .transfer_syntax("1.2.840.10008.1.2.1"),
            )
            .expect("meta group")
            .write_to_file(&path)
            .expect("written");
        let mut bytes = std::fs::read(&path).expect("read back");
        bytes.extend(crate::dicom::testing::nested_sequences(levels));
        std::fs::write(&path, bytes).expect("rewritten");
        path
    }

    #[test]
    fn an_item_outside_any_sequence_is_the_files_error_not_a_panic() {
        let folder = tempfile::tempdir().expect("a folder");
        let path = nested_file(folder.path(), 0);
        let mut bytes = std::fs::read(&path).expect("read back");
        // An item header where a top-level element should be.
        bytes.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        std::fs::write(&path, bytes).expect("rewritten");
        let error = open_checked(&path, Reach::WholeFile).expect_err("refused");
        assert!(error.to_string().contains("broken"), "{error}");
    }

    #[test]
    fn nesting_to_the_bound_parses_on_a_worker_stack_and_one_level_more_is_refused() {
        let folder = tempfile::tempdir().expect("a folder");
        let within = nested_file(folder.path(), MAX_SEQUENCE_DEPTH);
        let beyond = nested_file(folder.path(), MAX_SEQUENCE_DEPTH + 1);
        // Parsed as a scan parses it: on a thread with a rayon worker's 2 MiB stack.
        let parsed = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let checked = open_checked(&within, Reach::WholeFile).expect("within the bound");
                dicom_object::OpenFileOptions::new()
                    .read_preamble(dicom_object::file::ReadPreamble::Auto)
                    .from_reader(checked.file)
                    .map(|_| ())
                    .map_err(|error| error.to_string())
            })
            .expect("a thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(parsed, Ok(()));
        let refused = open_checked(&beyond, Reach::WholeFile).expect_err("past the bound");
        let reason = refused.reason();
        assert!(
            reason.contains("nest deeper than 32 levels") && reason.contains("(0040,A730)"),
            "{reason}"
        );
    }

    #[test]
    fn a_file_without_its_preamble_is_walked_too_and_one_without_dicm_refused() {
        let folder = tempfile::tempdir().expect("a folder");
        let whole = std::fs::read(nested_file(folder.path(), 0)).expect("read");
        let bare = folder.path().join("bare.dcm");
        // "DICM" at byte 0, then a value claiming more bytes than the file has.
        let mut bytes = whole[128..].to_vec();
        bytes.extend_from_slice(&[0x10, 0x00, 0x10, 0x00, b'P', b'N', 0xFF, 0x7F]);
        std::fs::write(&bare, bytes).expect("written");
        let refused = open_checked(&bare, Reach::WholeFile).expect_err("walked and refused");
        assert!(
            refused.reason().contains("declares 32767 bytes"),
            "{}",
            refused.reason()
        );
        let text = folder.path().join("notes.txt");
        std::fs::write(&text, "not DICOM at all").expect("written");
        let refused = open_checked(&text, Reach::WholeFile).expect_err("no DICM");
        assert!(
            refused.reason().contains("'DICM' at byte 128 missing"),
            "{}",
            refused.reason()
        );
    }
}
