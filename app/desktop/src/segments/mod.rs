//! The segments of a series rendered here: kept in the server's own book of segments
//! (each with its last edits to take back), edited by the segment crate's tools off the
//! UI thread one edit at a time, painted over the slices ([`overlay`]) and into the 3D
//! view, listed with their numbers in a panel ([`panel`]), and saved as a Segmentation
//! with its Measurement Report where the series keeps its findings, where those saved
//! before are found again and can be shown.

mod model_run;
pub mod overlay;
pub mod panel;
mod saved;
mod threshold_preview;

use std::collections::VecDeque;
use std::sync::Arc;

use eframe::egui;
use glam::DVec3;
use hounsfield_findings::report::ReportSubject;
use hounsfield_findings::unit_of;
use hounsfield_findings::uptake::segment_uptake;
use hounsfield_protocol::{SegmentInfo, SegmentNumbers};
use hounsfield_segment::segment::Algorithm;
use hounsfield_segment::{Brush, Edit, FillPlane, Grid, Mask};
use hounsfield_server::compose::SegmentOverlay;
use hounsfield_server::segments::{Description, SegmentsBook, numbers_of};
use hounsfield_workstation::authorship::observer_name;
use render_core::Volume;

use crate::findings::pending::Pending;
use crate::findings::store::{self, Keeping, place_text};
use model_run::LocalModel;
use panel::{SegmentTools, SegmentsOffer};
use saved::SavedSegmentations;
use threshold_preview::ThresholdPreview;

/// The most edits waiting behind the one under way (a stroke more is refused, and said).
pub const MOST_WAITING_EDITS: usize = 8;

/// The book's key for the series shown (one series a workspace).
const SERIES: &str = "shown";

/// What a slice's tool does with the active segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentBrush {
    /// A drag paints a disc of the brush's radius along its path, in the slice.
    Paint,
    /// A drag erases the same.
    Erase,
    /// A click adds the region grown from it within the panel's range.
    Grow,
}

/// A gesture of a segment tool on a slice: its points (LPS) and the slice's normal.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentGesture {
    /// The tool.
    pub brush: SegmentBrush,
    /// The points under the pointer (one for a click).
    pub points_lps: Vec<DVec3>,
    /// The normal of the slice drawn on (LPS).
    pub normal_lps: DVec3,
}

/// What the segments show now: the visible segments that hold a voxel, and a number that
/// changes whenever they do.
#[derive(Debug, Clone, Default)]
pub struct ShownSegments {
    /// The segments, earlier under later.
    pub segments: Arc<[SegmentOverlay]>,
    /// Changes with every change of them.
    pub generation: u64,
}

/// An edit that came back, to keep.
struct Done {
    id: u32,
    mask: Mask,
    numbers: SegmentNumbers,
    algorithm: Algorithm,
}

/// The segments of the series shown, and the tools' settings.
pub struct LocalSegments {
    book: SegmentsBook,
    grid: Grid,
    unit: &'static str,
    /// The tools' settings, the segment they edit and what the panel says.
    pub tools: SegmentTools,
    shown: ShownSegments,
    editing: Option<Pending<Done>>,
    waiting: VecDeque<(u32, Edit)>,
    saving: Option<Pending<String>>,
    /// The Segmentations saved before on the series, where they are, and the one being
    /// read.
    saved: SavedSegmentations,
    /// The normal of the slice last painted or erased on (fill between fills across it).
    drawn_across: Option<DVec3>,
    /// The site's segmentation model (`open --model`), when given.
    model: Option<LocalModel>,
    /// SUV (body weight) a Bq/ml, for a PET: an edited segment's numbers then carry its
    /// SUVmax, SUVmean and SUVpeak.
    suv_factor: Option<f64>,
    /// The threshold's preview over the slices, while the panel's Preview is on.
    preview: ThresholdPreview,
    /// What the slices show: the segments, and the threshold's preview over them.
    on_slices: ShownSegments,
}

impl LocalSegments {
    /// No segments yet on `volume`'s grid.
    pub fn new(volume: &Volume) -> Self {
        Self {
            book: SegmentsBook::default(),
            grid: Grid::of(volume),
            unit: unit_of(&volume.modality),
            tools: SegmentTools::default(),
            shown: ShownSegments::default(),
            editing: None,
            waiting: VecDeque::new(),
            saving: None,
            saved: SavedSegmentations::default(),
            drawn_across: None,
            model: None,
            suv_factor: None,
            preview: ThresholdPreview::default(),
            on_slices: ShownSegments::default(),
        }
    }

    /// Measures each segment edited from now on in SUV too, `factor` a Bq/ml (a PET's).
    pub fn measure_in_suv(&mut self, factor: Option<f64>) {
        self.suv_factor = factor;
    }

    /// Offers the site's segmentation model: Run model runs it on the series.
    pub fn offer_model(&mut self, model: Arc<hounsfield_model::SegmentationModel>) {
        self.model = Some(LocalModel::new(model));
    }

    /// Runs the site's model on `volume`; its classes are added as segments when it ends.
    pub fn run_model(&mut self, ctx: &egui::Context, volume: &Arc<Volume>) {
        let started = match &mut self.model {
            Some(model) => model.start(ctx, volume, self.unit),
            None => Err("no segmentation model: open the series with --model FILE.onnx".into()),
        };
        self.tools.problem = started.err();
    }

    /// Stops the model's run after its patch.
    pub fn stop_model(&self) {
        if let Some(model) = &self.model {
            model.stop();
        }
    }

    /// Every segment with its numbers, in the order they were added.
    pub fn list(&self) -> Vec<SegmentInfo> {
        self.book.told(SERIES)
    }

    /// Segment `id`'s voxels.
    #[cfg(test)]
    pub fn mask(&self, id: u32) -> Option<Mask> {
        self.book
            .mask(SERIES, id)
            .ok()
            .map(|mask| Mask::clone(&mask))
    }

    /// The flat indices of segment `id`'s voxels (none when there is no such segment).
    pub fn voxel_indices(&self, id: u32) -> Vec<usize> {
        self.book
            .mask(SERIES, id)
            .map(|mask| mask.indices().collect())
            .unwrap_or_default()
    }

    /// What the 3D view shows.
    pub fn shown(&self) -> &ShownSegments {
        &self.shown
    }

    /// What the slices show: the segments, and the threshold's preview over them.
    pub fn on_slices(&self) -> &ShownSegments {
        &self.on_slices
    }

    /// Follows the panel's threshold preview (made again off the window's thread when its
    /// range changes).
    fn follow_preview(&mut self, ctx: &egui::Context, volume: &Arc<Volume>) {
        let wanted = if self.tools.preview {
            self.tools.interval().ok()
        } else {
            None
        };
        let colour = self
            .list()
            .into_iter()
            .find(|info| Some(info.id) == self.tools.selected)
            .map_or(hounsfield_segment::segment::SEGMENT_COLOURS[0], |info| {
                info.colour
            });
        match self.preview.follow(ctx, volume, wanted, colour) {
            Ok(true) => self.slices_changed(),
            Ok(false) => {}
            Err(why) => self.tools.problem = Some(format!("preview: {why}")),
        }
    }

    /// The slices' segments and preview made again.
    fn slices_changed(&mut self) {
        let mut segments: Vec<SegmentOverlay> = self.shown.segments.to_vec();
        segments.extend(self.preview.overlay().cloned());
        self.on_slices = ShownSegments {
            segments: segments.into(),
            generation: self.on_slices.generation + 1,
        };
    }

    /// Whether an edit (or a saved Segmentation's reading) is under way or waiting.
    pub fn busy(&self) -> bool {
        self.editing.is_some() || !self.waiting.is_empty() || self.saved.reading()
    }

    /// Whether the segments can be edited and saved now (`save_ready`: whether the series
    /// has somewhere to keep them).
    pub fn offer(&self, save_ready: Result<(), String>) -> SegmentsOffer {
        SegmentsOffer {
            busy: self.busy(),
            saving: self.saving.is_some(),
            save_ready,
            saved: self.saved.lines(),
            model: self.model.as_ref().map(LocalModel::status),
        }
    }

    /// The segments changed: what they show is made again.
    fn changed(&mut self) {
        self.shown = ShownSegments {
            segments: self.book.shown(SERIES),
            generation: self.shown.generation + 1,
        };
        self.slices_changed();
    }

    fn empty_numbers(&self) -> SegmentNumbers {
        SegmentNumbers::empty(self.unit)
    }

    /// Adds an empty segment and makes it the one the tools edit.
    pub fn add(&mut self) {
        let numbers = self.empty_numbers();
        match self.book.create(
            SERIES,
            self.grid,
            Description::default(),
            numbers,
            &observer_name(),
        ) {
            Ok(info) => {
                self.tools.selected = Some(info.id);
                self.tools.problem = None;
            }
            Err(why) => self.tools.problem = Some(why.to_string()),
        }
        self.changed();
    }

    /// Deletes segment `id`.
    pub fn delete(&mut self, id: u32) {
        if let Err(why) = self.book.delete(SERIES, id) {
            self.tools.problem = Some(why.to_string());
        }
        if self.tools.selected == Some(id) {
            self.tools.selected = self.list().last().map(|info| info.id);
        }
        self.changed();
    }

    /// Shows or hides segment `id`.
    pub fn set_visible(&mut self, id: u32, visible: bool) {
        let description = Description {
            visible: Some(visible),
            ..Description::default()
        };
        if let Err(why) = self
            .book
            .describe(SERIES, id, description, &observer_name())
        {
            self.tools.problem = Some(why.to_string());
        }
        self.changed();
    }

    /// Takes the selected segment's last edit back, or (`redo`) makes it again.
    pub fn undo(&mut self, redo: bool) {
        let Some(id) = self.tools.selected else {
            self.tools.problem = Some("no segment is selected".to_string());
            return;
        };
        if self.busy() {
            self.tools.problem = Some("an edit is under way: undo when it is done".to_string());
            return;
        }
        match self
            .book
            .undo(SERIES, id, redo, self.grid, &observer_name())
        {
            Ok(_) => self.tools.problem = None,
            Err(why) => self.tools.problem = Some(why.to_string()),
        }
        self.changed();
    }

    /// The edit a tool's gesture on a slice asks of the selected segment.
    pub fn edit_of(&mut self, gesture: SegmentGesture) -> Result<Edit, String> {
        let shape = Brush::Disc {
            normal_lps: gesture.normal_lps,
        };
        if gesture.brush != SegmentBrush::Grow {
            self.drawn_across = Some(gesture.normal_lps);
        }
        Ok(match gesture.brush {
            SegmentBrush::Paint => Edit::Paint {
                points_lps: gesture.points_lps,
                radius_mm: self.tools.brush_mm,
                within: None,
                shape,
            },
            SegmentBrush::Erase => Edit::Erase {
                points_lps: gesture.points_lps,
                radius_mm: self.tools.brush_mm,
                shape,
            },
            SegmentBrush::Grow => Edit::Grow {
                seed_lps: gesture.points_lps.first().copied().unwrap_or(DVec3::NAN),
                interval: self.tools.interval()?,
            },
        })
    }

    /// Edits the selected segment (a new one when none is) with `edit` on `volume`, off
    /// the UI thread; waits behind the edit under way, up to [`MOST_WAITING_EDITS`].
    pub fn edit(&mut self, ctx: &egui::Context, volume: &Arc<Volume>, edit: Edit) {
        if self.tools.selected.is_none() {
            self.add();
        }
        let Some(id) = self.tools.selected else {
            return;
        };
        if self.waiting.len() >= MOST_WAITING_EDITS {
            self.tools.problem = Some(format!(
                "{} not done: {MOST_WAITING_EDITS} edits are waiting already",
                edit.name()
            ));
            return;
        }
        self.waiting.push_back((id, edit));
        self.start_next(ctx, volume);
    }

    /// Fills the selected segment between the slices drawn on the plane last painted or
    /// erased on, as it was turned then.
    pub fn fill_between(&mut self, ctx: &egui::Context, volume: &Arc<Volume>) {
        match self.drawn_across {
            Some(normal) => self.edit(ctx, volume, Edit::FillBetween(FillPlane::Across(normal))),
            None => {
                self.tools.problem =
                    Some("fill between: paint a segment on some slices first".to_string());
            }
        }
    }

    /// Starts the next waiting edit when none is under way.
    fn start_next(&mut self, ctx: &egui::Context, volume: &Arc<Volume>) {
        if self.editing.is_some() {
            return;
        }
        let Some((id, edit)) = self.waiting.pop_front() else {
            return;
        };
        let mask = match self.book.mask_to_edit(SERIES, id) {
            Ok(mask) => mask,
            Err(why) => {
                self.tools.problem = Some(why.to_string());
                return;
            }
        };
        let volume = Arc::clone(volume);
        let (unit, suv_factor) = (self.unit, self.suv_factor);
        let started = Pending::start(ctx, "segment-edit", move || {
            let edited = hounsfield_segment::edited(&volume, &mask, &edit)
                .map_err(|why| format!("{}: {why}", edit.name()))?;
            let mut numbers = numbers_of(&edited.measures, unit);
            // As a server measures a PET's segment (its numbers told with SUV).
            numbers.suv = suv_factor
                .and_then(|factor| segment_uptake(&volume, &edited.mask, factor))
                .map(|uptake| uptake.told());
            Ok(Done {
                id,
                numbers,
                mask: edited.mask,
                algorithm: edited.algorithm,
            })
        });
        match started {
            Ok(pending) => self.editing = Some(pending),
            Err(why) => self.tools.problem = Some(why),
        }
    }

    /// Keeps the edits and the save that came back, and starts the next edit waiting.
    pub fn take_answers(&mut self, ctx: &egui::Context, volume: &Arc<Volume>) {
        if let Some(answer) = self.editing.as_ref().and_then(Pending::answer) {
            self.editing = None;
            match answer {
                Ok(done) => {
                    let kept = self.book.edited(
                        SERIES,
                        done.id,
                        done.mask,
                        done.numbers,
                        done.algorithm,
                        &observer_name(),
                    );
                    self.tools.problem = kept.err().map(|why| why.to_string());
                }
                Err(why) => self.tools.problem = Some(why),
            }
            self.changed();
            self.start_next(ctx, volume);
        }
        if let Some(answer) = self.saving.as_ref().and_then(Pending::answer) {
            self.saving = None;
            if answer.is_ok() {
                // The list of those saved takes the new one.
                self.saved.list_again();
            }
            self.tools.last_save = Some(answer);
        }
        self.follow_saved(ctx);
        self.take_model_segments(ctx);
        self.follow_preview(ctx, volume);
    }

    /// Adds the classes of the model's run that ended as segments, while the series has
    /// room.
    fn take_model_segments(&mut self, ctx: &egui::Context) {
        let found = match &mut self.model {
            Some(model) => model.take_found(ctx),
            None => return,
        };
        if found.is_empty() {
            return;
        }
        for (segment, numbers) in found {
            if let Err(why) = self.book.add(SERIES, segment, numbers, &observer_name()) {
                self.tools.problem = Some(format!("the model's segments not all added: {why}"));
                break;
            }
        }
        self.tools.selected = self.list().last().map(|info| info.id);
        self.changed();
    }

    /// Saves the segments that hold a voxel as a Segmentation of `subject`'s series, with
    /// the Measurement Report of their numbers, where `keeping` says.
    pub fn save(
        &mut self,
        ctx: &egui::Context,
        volume: &Arc<Volume>,
        subject: ReportSubject,
        keeping: Keeping,
    ) {
        if self.saving.is_some() {
            return;
        }
        let segments = self.book.to_save(SERIES);
        if segments.is_empty() {
            self.tools.last_save =
                Some(Err("no segment holds a voxel: nothing to save".to_string()));
            return;
        }
        let volume = Arc::clone(volume);
        let count = segments.len();
        let started = Pending::start(ctx, "segments-save", move || {
            let kept = store::segmentation(&keeping, &subject, &volume, &segments)
                .map_err(|error| format!("segments not saved: {error}"))?;
            let place = place_text(&kept.place);
            tracing::info!("segments saved: {count} to {place}");
            Ok(format!(
                "Saved {count} segment{} to {place}",
                if count == 1 { "" } else { "s" }
            ))
        });
        match started {
            Ok(pending) => {
                self.saving = Some(pending);
                self.tools.last_save = None;
            }
            Err(why) => self.tools.last_save = Some(Err(why)),
        }
    }
}
