//! The segments of each series the server serves, shared by every session that opens it
//! (as findings are): added, described and deleted by the sessions, edited by the tools
//! in the measuring lane, each with the last [`UNDO_STEPS`] edits kept (packed) to take
//! back and make again, and saved as a DICOM Segmentation where the study lives.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use hounsfield_findings::uptake::segment_uptake;
use hounsfield_protocol::{SegmentInfo, SegmentNumbers};
use hounsfield_segment::segment::{Algorithm, Code, SEGMENT_COLOURS};
use hounsfield_segment::{Grid, Mask, Segment, SegmentMeasures};

use crate::compose::SegmentOverlay;
use crate::series_volumes::SeriesVolumes;

/// The most segments one series keeps.
pub const MOST_SEGMENTS_PER_SERIES: usize = 32;
/// The edits of a segment kept to take back (and made again after).
pub const UNDO_STEPS: usize = 20;
/// The most bytes a series' kept edits take (packed); past it, the oldest are let go.
pub const MOST_UNDO_BYTES_PER_SERIES: usize = 64 << 20;
/// The longest segment name (characters).
pub const MOST_LABEL_CHARS: usize = 64;

/// Why a change to a series' segments was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentsError {
    /// The series holds as many segments as it may.
    #[error(
        "this series holds {MOST_SEGMENTS_PER_SERIES} segments, the most it may: delete one first"
    )]
    Full,
    /// No segment has that number.
    #[error("id {0}: no such segment on this series")]
    UnknownId(u32),
    /// The segment is locked against the tools.
    #[error("segment {0} is locked: unlock it first")]
    Locked(u32),
    /// Nothing to take back, or to make again.
    #[error("segment {id}: no edit to {what}")]
    NothingTo {
        /// The segment.
        id: u32,
        /// `undo` or `redo`.
        what: &'static str,
    },
}

/// A segment's voxels as they were before (or after) an edit, packed.
#[derive(Debug, Clone)]
struct Packed {
    /// The mask's words, zstd-compressed (a segment's bits compress a hundredfold).
    words: Vec<u8>,
    numbers: SegmentNumbers,
    algorithm: Algorithm,
}

/// One segment kept.
#[derive(Debug, Clone)]
struct Kept {
    id: u32,
    segment: Segment,
    numbers: SegmentNumbers,
    author: String,
    undo: VecDeque<Packed>,
    redo: Vec<Packed>,
}

impl Kept {
    fn info(&self) -> SegmentInfo {
        let code = |c: &Code| format!("{}:{}:{}", c.scheme, c.value, c.meaning);
        SegmentInfo {
            id: self.id,
            label: self.segment.label.clone(),
            colour: self.segment.colour,
            category: code(&self.segment.category),
            property_type: code(&self.segment.property_type),
            algorithm: self.segment.algorithm.dicom_type().to_string(),
            visible: self.segment.visible,
            opacity: self.segment.opacity,
            locked: self.segment.locked,
            numbers: self.numbers.clone(),
            undo: self.undo.len(),
            redo: self.redo.len(),
            author: self.author.clone(),
        }
    }

    fn packed_bytes(&self) -> usize {
        self.undo
            .iter()
            .chain(&self.redo)
            .map(|p| p.words.len())
            .sum()
    }
}

/// The segments of one series.
#[derive(Debug, Default)]
struct SeriesSegments {
    next_id: u32,
    kept: Vec<Kept>,
    /// What the slice cells show of them, made once after each change.
    shown: Option<Arc<[SegmentOverlay]>>,
}

impl SeriesSegments {
    /// What the slice cells show: the visible segments that hold a voxel.
    fn shown(&mut self) -> Arc<[SegmentOverlay]> {
        if let Some(shown) = &self.shown {
            return shown.clone();
        }
        let shown: Arc<[SegmentOverlay]> = self
            .kept
            .iter()
            .filter(|k| k.segment.visible && k.numbers.voxels > 0)
            .map(|k| SegmentOverlay {
                mask: k.segment.mask.clone(),
                colour: k.segment.colour,
                opacity: k.segment.opacity,
            })
            .collect();
        self.shown = Some(shown.clone());
        shown
    }

    fn find(&mut self, id: u32) -> Result<&mut Kept, SegmentsError> {
        self.kept
            .iter_mut()
            .find(|k| k.id == id)
            .ok_or(SegmentsError::UnknownId(id))
    }

    /// Lets the oldest kept edits go until the series is within its bytes.
    fn trim(&mut self) {
        let mut total: usize = self.kept.iter().map(Kept::packed_bytes).sum();
        while total > MOST_UNDO_BYTES_PER_SERIES {
            let Some(oldest) = self
                .kept
                .iter_mut()
                .filter(|k| !k.undo.is_empty())
                .max_by_key(|k| k.undo.len())
            else {
                break;
            };
            if let Some(dropped) = oldest.undo.pop_front() {
                total -= dropped.words.len();
            }
        }
    }
}

/// The numbers of a segment's measures, as the protocol tells them.
pub fn numbers_of(measures: &SegmentMeasures, unit: &str) -> SegmentNumbers {
    SegmentNumbers {
        voxels: measures.voxels,
        volume_ml: measures.volume_ml,
        mean: measures.mean,
        sd: measures.sd,
        min: measures.min,
        max: measures.max,
        median: measures.median,
        surface_mm2: measures.surface_mm2,
        extent_mm: measures.extent_mm,
        unit: unit.to_string(),
        suv: None,
        values: Vec::new(),
        curve: None,
    }
}

/// The numbers of segment `mask` of a series whose shown volume is `volume`, measured
/// (`measures`, values in `unit`), with what its series adds: a PET's uptake in SUV, and
/// in a series over time the segment's mean in every volume with the curve's measures.
pub fn series_numbers(
    measures: &SegmentMeasures,
    mask: &Mask,
    volume: &render_core::Volume,
    series: &SeriesVolumes,
    unit: &str,
) -> SegmentNumbers {
    let mut numbers = numbers_of(measures, unit);
    if measures.voxels == 0 {
        return numbers;
    }
    numbers.suv = series
        .suv_factor()
        .and_then(|factor| segment_uptake(volume, mask, factor))
        .map(|uptake| uptake.told());
    if series.is_over_time() {
        let indices: Vec<usize> = mask.indices().collect();
        let curve = series.curve_of(&indices);
        numbers.values = curve.values;
        numbers.curve = curve.measures;
    }
    numbers
}

/// A segmentation model's classes (`labels`, a class a voxel of `volume`, by the model
/// `model`) as segments, each measured, its values in `unit`: what a model's run adds on
/// the server and the desktop alike.
pub fn measured_classes(
    labels: &[u8],
    volume: &render_core::Volume,
    model: &str,
    unit: &str,
) -> Result<Vec<(Segment, SegmentNumbers)>, hounsfield_segment::SegmentError> {
    hounsfield_model::segments_of(labels, volume, model)
        .into_iter()
        .map(|segment| {
            hounsfield_segment::measure(volume, &segment.mask)
                .map(|measures| (segment, numbers_of(&measures, unit)))
        })
        .collect()
}

fn pack(mask: &Mask, numbers: SegmentNumbers, algorithm: Algorithm) -> Packed {
    Packed {
        words: packed_words(mask),
        numbers,
        algorithm,
    }
}

/// A mask's words packed. They stay in this process's memory, so in this machine's byte
/// order, read in place. Level 1: packing is on the edit's path; a failure keeps the bytes
/// as they are.
fn packed_words(mask: &Mask) -> Vec<u8> {
    let bytes: &[u8] = bytemuck::cast_slice(mask.words());
    zstd::bulk::compress(bytes, 1).unwrap_or_else(|_| bytes.to_vec())
}

fn unpack(packed: &Packed, grid: Grid) -> Option<Mask> {
    let expected = grid.len().div_ceil(usize::BITS as usize) * std::mem::size_of::<usize>();
    let bytes = zstd::bulk::decompress(&packed.words, expected).ok()?;
    // Copied into words: the bytes need not be aligned as words are.
    let words: Vec<usize> = bytemuck::pod_collect_to_vec(&bytes);
    Mask::from_words(grid, &words)
}

/// What a session asks to change of a segment's description (absent: kept).
#[derive(Debug, Clone, Default)]
pub struct Description {
    /// Its name.
    pub label: Option<String>,
    /// Its colour.
    pub colour: Option<[u8; 3]>,
    /// Its category.
    pub category: Option<Code>,
    /// Its type.
    pub property_type: Option<Code>,
    /// Whether it is drawn.
    pub visible: Option<bool>,
    /// Its opacity.
    pub opacity: Option<f32>,
    /// Whether it is locked.
    pub locked: Option<bool>,
}

/// Every series' segments, by series id.
#[derive(Debug, Default)]
pub struct SegmentsBook {
    series: Mutex<HashMap<String, SeriesSegments>>,
}

impl SegmentsBook {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, SeriesSegments>> {
        // A panic while holding the lock leaves whole entries behind: the map stays usable.
        self.series
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds an empty segment on `grid` to `series`, described as asked.
    pub fn create(
        &self,
        series: &str,
        grid: Grid,
        description: Description,
        numbers: SegmentNumbers,
        author: &str,
    ) -> Result<SegmentInfo, SegmentsError> {
        self.push(series, author, numbers, |id| {
            let colour = SEGMENT_COLOURS[(id as usize - 1) % SEGMENT_COLOURS.len()];
            let mut segment = Segment::new(
                &format!("Segment {id}"),
                colour,
                Algorithm::Manual,
                Mask::empty(grid),
            );
            describe(&mut segment, description);
            segment
        })
    }

    /// Adds `segment` (read from a saved Segmentation, on `series`' grid) as it is: its
    /// name, colour, codes and algorithm; no edit to take back yet.
    pub fn add(
        &self,
        series: &str,
        segment: Segment,
        numbers: SegmentNumbers,
        author: &str,
    ) -> Result<SegmentInfo, SegmentsError> {
        self.push(series, author, numbers, |_| segment)
    }

    /// Adds the segment `made` makes of its new number to `series`, within the series'
    /// room, with no edit to take back.
    fn push(
        &self,
        series: &str,
        author: &str,
        numbers: SegmentNumbers,
        made: impl FnOnce(u32) -> Segment,
    ) -> Result<SegmentInfo, SegmentsError> {
        let mut book = self.lock();
        let entry = book.entry(series.to_string()).or_default();
        if entry.kept.len() >= MOST_SEGMENTS_PER_SERIES {
            return Err(SegmentsError::Full);
        }
        entry.next_id += 1;
        let kept = Kept {
            id: entry.next_id,
            segment: made(entry.next_id),
            numbers,
            author: author.to_string(),
            undo: VecDeque::new(),
            redo: Vec::new(),
        };
        let info = kept.info();
        entry.kept.push(kept);
        entry.shown = None;
        Ok(info)
    }

    /// Changes segment `id`'s description.
    pub fn describe(
        &self,
        series: &str,
        id: u32,
        description: Description,
        author: &str,
    ) -> Result<SegmentInfo, SegmentsError> {
        let mut book = self.lock();
        let entry = book.get_mut(series).ok_or(SegmentsError::UnknownId(id))?;
        entry.shown = None;
        let kept = entry.find(id)?;
        describe(&mut kept.segment, description);
        kept.author = author.to_string();
        Ok(kept.info())
    }

    /// Deletes segment `id`.
    pub fn delete(&self, series: &str, id: u32) -> Result<(), SegmentsError> {
        let mut book = self.lock();
        let entry = book.get_mut(series).ok_or(SegmentsError::UnknownId(id))?;
        let before = entry.kept.len();
        entry.kept.retain(|k| k.id != id);
        if entry.kept.len() == before {
            return Err(SegmentsError::UnknownId(id));
        }
        entry.shown = None;
        Ok(())
    }

    /// Segment `id`'s voxels now (shared, not copied), for a tool to edit; refused when
    /// it is locked.
    pub fn mask_to_edit(&self, series: &str, id: u32) -> Result<Arc<Mask>, SegmentsError> {
        let mut book = self.lock();
        let kept = book
            .get_mut(series)
            .ok_or(SegmentsError::UnknownId(id))?
            .find(id)?;
        if kept.segment.locked {
            return Err(SegmentsError::Locked(id));
        }
        Ok(kept.segment.mask.clone())
    }

    /// Segment `id`'s voxels now (another segment a logical tool reads), shared.
    pub fn mask(&self, series: &str, id: u32) -> Result<Arc<Mask>, SegmentsError> {
        let mut book = self.lock();
        let kept = book
            .get_mut(series)
            .ok_or(SegmentsError::UnknownId(id))?
            .find(id)?;
        Ok(kept.segment.mask.clone())
    }

    /// Puts an edit's voxels in segment `id`, keeping the voxels before to take back.
    pub fn edited(
        &self,
        series: &str,
        id: u32,
        mask: Mask,
        numbers: SegmentNumbers,
        algorithm: Algorithm,
        author: &str,
    ) -> Result<SegmentInfo, SegmentsError> {
        let mut book = self.lock();
        let entry = book.get_mut(series).ok_or(SegmentsError::UnknownId(id))?;
        entry.shown = None;
        let kept = entry.find(id)?;
        let before = pack(
            &kept.segment.mask,
            kept.numbers.clone(),
            kept.segment.algorithm.clone(),
        );
        kept.undo.push_back(before);
        if kept.undo.len() > UNDO_STEPS {
            kept.undo.pop_front();
        }
        kept.redo.clear();
        kept.segment.mask = Arc::new(mask);
        kept.segment.algorithm = merged(&kept.segment.algorithm, algorithm);
        kept.numbers = numbers;
        kept.author = author.to_string();
        let info = kept.info();
        entry.trim();
        Ok(info)
    }

    /// Takes segment `id`'s last edit back (`redo`: makes the last one taken back again).
    pub fn undo(
        &self,
        series: &str,
        id: u32,
        redo: bool,
        grid: Grid,
        author: &str,
    ) -> Result<SegmentInfo, SegmentsError> {
        let mut book = self.lock();
        let entry = book.get_mut(series).ok_or(SegmentsError::UnknownId(id))?;
        entry.shown = None;
        let kept = entry.find(id)?;
        let what = if redo { "redo" } else { "undo" };
        let step = if redo {
            kept.redo.pop()
        } else {
            kept.undo.pop_back()
        };
        let step = step.ok_or(SegmentsError::NothingTo { id, what })?;
        let Some(mask) = unpack(&step, grid) else {
            return Err(SegmentsError::NothingTo { id, what });
        };
        let now = pack(
            &kept.segment.mask,
            kept.numbers.clone(),
            kept.segment.algorithm.clone(),
        );
        if redo {
            kept.undo.push_back(now);
        } else {
            kept.redo.push(now);
        }
        kept.segment.mask = Arc::new(mask);
        kept.segment.algorithm = step.algorithm;
        kept.numbers = step.numbers;
        kept.author = author.to_string();
        let info = kept.info();
        entry.trim();
        Ok(info)
    }

    /// What the slice cells of `series` show: its visible segments that hold a voxel.
    pub fn shown(&self, series: &str) -> Arc<[SegmentOverlay]> {
        self.lock()
            .get_mut(series)
            .map(SeriesSegments::shown)
            .unwrap_or_default()
    }

    /// Every segment of `series`, as clients are told them.
    pub fn told(&self, series: &str) -> Vec<SegmentInfo> {
        self.lock()
            .get(series)
            .map(|entry| entry.kept.iter().map(Kept::info).collect())
            .unwrap_or_default()
    }

    /// Every segment of `series` that holds a voxel, to save.
    pub fn to_save(&self, series: &str) -> Vec<Segment> {
        self.lock()
            .get(series)
            .map(|entry| {
                entry
                    .kept
                    .iter()
                    .filter(|k| k.numbers.voxels > 0)
                    .map(|k| k.segment.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn describe(segment: &mut Segment, description: Description) {
    if let Some(label) = description.label {
        segment.label = label;
    }
    if let Some(colour) = description.colour {
        segment.colour = colour;
    }
    if let Some(category) = description.category {
        segment.category = category;
    }
    if let Some(property_type) = description.property_type {
        segment.property_type = property_type;
    }
    if let Some(visible) = description.visible {
        segment.visible = visible;
    }
    if let Some(opacity) = description.opacity {
        segment.opacity = opacity;
    }
    if let Some(locked) = description.locked {
        segment.locked = locked;
    }
}

/// How a segment was made once `edit` is applied to one made `before`: a tool's name
/// joins the ones before it; a hand edit on a tool's segment keeps it semiautomatic.
fn merged(before: &Algorithm, edit: Algorithm) -> Algorithm {
    match (before, edit) {
        (Algorithm::Manual, edit) => edit,
        (Algorithm::Semiautomatic(a), Algorithm::Semiautomatic(b)) => {
            let joined = format!("{a}, {b}");
            // SegmentAlgorithmName is an LO: 64 characters.
            Algorithm::Semiautomatic(if joined.chars().count() <= 64 {
                joined
            } else {
                b
            })
        }
        (Algorithm::Automatic(name), Algorithm::Manual | Algorithm::Semiautomatic(_)) => {
            Algorithm::Semiautomatic(name.clone())
        }
        (before, Algorithm::Manual) => before.clone(),
        (_, edit) => edit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid {
            dims: [40, 30, 20],
            spacing_mm: [1.0; 3],
        }
    }

    fn numbers(voxels: usize) -> SegmentNumbers {
        SegmentNumbers {
            voxels,
            volume_ml: voxels as f64 / 1000.0,
            ..SegmentNumbers::empty("HU")
        }
    }

    #[test]
    fn edits_are_taken_back_and_made_again_within_their_steps() {
        let book = SegmentsBook::default();
        let info = book
            .create("s", grid(), Description::default(), numbers(0), "rita")
            .expect("created");
        assert_eq!((info.id, info.label.as_str()), (1, "Segment 1"));
        for n in 1..=(UNDO_STEPS + 3) {
            let mask = Mask::from_indices(grid(), 0..n);
            let tool = Algorithm::Semiautomatic("t".to_string());
            book.edited("s", 1, mask, numbers(n), tool, "rita")
                .expect("edited");
        }
        let told = &book.told("s")[0];
        assert_eq!((told.undo, told.redo), (UNDO_STEPS, 0));
        let back = book.undo("s", 1, false, grid(), "rita").expect("undone");
        assert_eq!(back.numbers.voxels, UNDO_STEPS + 2);
        assert_eq!(book.mask("s", 1).expect("a mask").count(), UNDO_STEPS + 2);
        let again = book.undo("s", 1, true, grid(), "rita").expect("redone");
        assert_eq!(again.numbers.voxels, UNDO_STEPS + 3);
        assert!(matches!(
            book.undo("s", 1, true, grid(), "rita"),
            Err(SegmentsError::NothingTo { what: "redo", .. })
        ));
        for _ in 0..UNDO_STEPS {
            book.undo("s", 1, false, grid(), "rita").expect("undone");
        }
        assert!(book.undo("s", 1, false, grid(), "rita").is_err());
        assert_eq!(book.mask("s", 1).expect("a mask").count(), 3);
    }

    #[test]
    fn the_slices_and_an_edit_share_a_segments_voxels_without_a_copy() {
        let book = SegmentsBook::default();
        book.create("s", grid(), Description::default(), numbers(0), "rita")
            .expect("created");
        let mask = Mask::from_indices(grid(), 0..7);
        let tool = Algorithm::Semiautomatic("t".to_string());
        book.edited("s", 1, mask.clone(), numbers(7), tool, "rita")
            .expect("edited");
        let shown = book.shown("s");
        let to_edit = book.mask_to_edit("s", 1).expect("unlocked");
        assert!(Arc::ptr_eq(&shown[0].mask, &to_edit));
        assert_eq!(*to_edit, mask);
        // Another edit replaces the voxels: what was shown before stays as it was.
        let tool = Algorithm::Semiautomatic("t".to_string());
        book.edited("s", 1, Mask::empty(grid()), numbers(0), tool, "rita")
            .expect("edited");
        assert_eq!(shown[0].mask.count(), 7);
        assert!(book.shown("s").is_empty());
    }

    #[test]
    fn a_locked_segment_is_not_edited_and_a_series_holds_its_most() {
        let book = SegmentsBook::default();
        let locked = Description {
            locked: Some(true),
            ..Description::default()
        };
        book.create("s", grid(), locked, numbers(0), "")
            .expect("created");
        assert_eq!(book.mask_to_edit("s", 1), Err(SegmentsError::Locked(1)));
        for _ in 1..MOST_SEGMENTS_PER_SERIES {
            book.create("s", grid(), Description::default(), numbers(0), "")
                .expect("created");
        }
        assert_eq!(
            book.create("s", grid(), Description::default(), numbers(0), ""),
            Err(SegmentsError::Full)
        );
        book.delete("s", 1).expect("deleted");
        assert_eq!(book.delete("s", 1), Err(SegmentsError::UnknownId(1)));
    }

    #[test]
    fn tools_add_to_the_name_and_a_hand_keeps_it() {
        let semi = |name: &str| Algorithm::Semiautomatic(name.to_string());
        assert_eq!(merged(&Algorithm::Manual, semi("grow")), semi("grow"));
        assert_eq!(merged(&semi("grow"), semi("margin")), semi("grow, margin"));
        assert_eq!(merged(&semi("grow"), Algorithm::Manual), semi("grow"));
    }
}
