//! Linking directory records into the patient → study → series → image tree: by their
//! next and lower-level offsets when those can be followed, otherwise by the order and type
//! of the records.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;

use super::item_layout::ItemLayout;
use super::records::{DirectoryRecord, Entry, MAX_DEPTH, offset};

/// A record by its index in the sequence, with its lower-level records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Link {
    /// Index in the Directory Record Sequence.
    index: usize,
    /// The linked lower-level records.
    children: Vec<Link>,
}

/// The record tree by offsets when they can be followed, else by record order.
pub(super) fn link(
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
pub(super) fn assemble(links: Vec<Link>, entries: Vec<Entry>) -> Vec<DirectoryRecord> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dicom::dicomdir::item_layout::Encoding;
    use crate::dicom::dicomdir::parse;
    use crate::dicom::dicomdir::records::read_entries;
    use crate::dicom::dicomdir::tests::data;

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
}
