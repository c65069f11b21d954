//! A volume rendered here: one renderer on eframe's device draws the 3D view and the three
//! reformats of the two-by-two layout, which share a crosshair, the planes' frame (turned
//! by dragging a line's handle), a grey window, the series' findings and its segments.

pub mod time;
use std::sync::Arc;

use eframe::egui;
use eframe::egui_wgpu::RenderState;
use hounsfield_findings::naming::NamingGesture;
use hounsfield_protocol::{SharedView, SlicePlane};
use hounsfield_server::compose::segment_labels;
use render_core::gpu::Renderer;
use render_core::view::change::Action;
use render_core::view::{CellSlabs, SliceFrame};
use render_core::{Volume, Window};

use super::calcium::{CalciumAsk, LocalCalcium};
use super::curved_view::CurvedView;
use super::findings::{LocalFindings, PanelAction, SliceTool};
use super::over::{LocalOver, local_over_bar};
use super::segments::LocalSegments;
use super::segments::ShownSegments;
use super::segments::panel::SegmentAction;
use super::slab_control::slab_control;
use super::slice_view::{SliceLayers, SliceLink, SliceView};
use super::view3d::View3d;
use hounsfield_findings::report::SavedCalcium;
use render_core::view::Layout;

/// The views of one volume rendered locally.
pub struct LocalWorkspace {
    renderer: Renderer,
    render_state: RenderState,
    /// The 3D view.
    pub view3d: View3d,
    /// Axial, coronal and sagittal.
    pub slices: [SliceView; 3],
    /// What the slices share.
    pub link: SliceLink,
    /// 3D alone, or two by two.
    pub layout: Layout,
    /// The series' findings.
    pub findings: LocalFindings,
    /// The series' segments.
    pub segments: LocalSegments,
    /// The segments' generation the 3D view shows.
    segments_in_3d: u64,
    /// The path clicked with the Path tool and its curved reformat.
    pub curved: CurvedView,
    /// The series' calcium score and the lesions named.
    pub calcium: LocalCalcium,
    /// What the slices lay over the picture: the segments (with a threshold's preview)
    /// and the calcium lesions, and the generations of each it was made of.
    on_slices: (ShownSegments, (u64, u64)),
    /// Where the pictures were last drawn: the whole, and the 2×2 layout's cells (3D,
    /// axial, coronal, sagittal) when it shows.
    pub shown: Option<(egui::Rect, Option<[egui::Rect; 4]>)>,
    /// The volumes of a series over time, when it is one.
    pub time: Option<time::LocalTimePoints>,
    /// A second series drawn over the slices.
    pub over: Option<LocalOver>,
    /// SUV (body weight) a Bq/ml, for a PET whose header gives what it is computed from
    /// ([`Self::set_suv_factor`]).
    suv_factor: Option<f64>,
}

impl LocalWorkspace {
    /// Uploads `volume` with `renderer` (on `render_state`'s device), with the series'
    /// `findings`; returns the workspace and the upload's warnings.
    pub fn new(
        mut renderer: Renderer,
        render_state: RenderState,
        volume: Arc<Volume>,
        layout: Layout,
        findings: LocalFindings,
    ) -> (Self, Vec<String>) {
        let view3d = View3d::new(&renderer, &volume);
        let link = SliceLink {
            crosshair: volume.centre_lps(),
            frame: SliceFrame::STANDARD,
            window: volume.default_window,
            slabs: CellSlabs::default(),
            tool: SliceTool::Crosshair,
            brush_mm: 5.0,
            calcium_naming: false,
        };
        let mut segments = LocalSegments::new(&volume);
        if let Ok((subject, keeping)) = findings.where_to_keep() {
            segments.keep_in(subject.clone(), keeping.clone());
        }
        // The first score names the lesions as the series' last report did.
        let calcium = LocalCalcium::named_as(
            findings
                .saved_calcium()
                .map(SavedCalcium::named_regions)
                .unwrap_or_default(),
        );
        let warnings = renderer.load_volume(volume);
        (
            Self {
                renderer,
                render_state,
                view3d,
                slices: [
                    SliceView::new(SlicePlane::Axial),
                    SliceView::new(SlicePlane::Coronal),
                    SliceView::new(SlicePlane::Sagittal),
                ],
                link,
                layout,
                findings,
                segments,
                segments_in_3d: 0,
                time: None,
                over: None,
                suv_factor: None,
                curved: CurvedView::default(),
                calcium,
                on_slices: (ShownSegments::default(), (u64::MAX, u64::MAX)),
                shown: None,
            },
            warnings,
        )
    }

    /// Takes the series' SUV factor (a PET's, a Bq/ml): the probe and the segments tell
    /// SUV from then on.
    pub fn set_suv_factor(&mut self, factor: Option<f64>) {
        self.suv_factor = factor;
        self.segments.measure_in_suv(factor);
    }

    /// The renderer (presets, adapter, the volume).
    pub fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    /// Shows `preset` in the 3D view in place of its preset (the reader's edit), drawn at
    /// interactive quality while `dragging`; why not, when the render core refuses it.
    pub fn set_transfer(
        &mut self,
        preset: render_core::transfer::Preset,
        dragging: bool,
    ) -> Result<(), String> {
        let change = Action::Transfer {
            preset: Box::new(preset),
        };
        self.view3d.view.apply(&change, self.renderer.presets())?;
        self.view3d.changed(dragging);
        Ok(())
    }

    /// Offers `preset` from now on (a preset the reader saved).
    pub fn add_preset(&mut self, preset: render_core::transfer::Preset) {
        self.renderer.add_preset(preset);
    }

    /// Takes the preset `name` (and its render mode) for the 3D view, as the render core
    /// applies a view change; here a new preset brings its own window (a server keeps the
    /// one set). A name the renderer does not know changes nothing.
    pub fn set_preset(&mut self, name: &str) {
        let change = Action::Preset {
            name: name.to_string(),
        };
        if let Err(why) = self.view3d.view.apply(&change, self.renderer.presets()) {
            tracing::debug!(%why, "preset not taken");
            return;
        }
        self.view3d.view.window = None;
        self.view3d.refresh();
    }

    /// Sets the grey window of the slices and of the projection modes in 3D.
    pub fn set_window(&mut self, window: Window) {
        self.link.window = Some(window);
        self.view3d.view.window = Some(window);
        self.view3d.refresh();
    }

    /// The view as it travels to a server: the 3D view, the layout, the crosshair, the
    /// slice planes' turn and the cells' slabs.
    pub fn shared_view(&self) -> SharedView {
        SharedView {
            layout: self.layout,
            crosshair_lps: Some(self.link.crosshair),
            slice_rotation: self.link.frame.quaternion(),
            slabs: self.link.slabs,
            ..self.view3d.view.shared()
        }
    }

    /// Takes the layout, crosshair, slice planes, slabs and slice window of a view a server
    /// was showing.
    pub fn adopt_layout(&mut self, shared: &SharedView) {
        self.layout = shared.layout;
        self.link.slabs = shared.slabs.checked().unwrap_or_else(|why| {
            tracing::warn!(%why, "the server's slabs not taken");
            CellSlabs::default()
        });
        self.link.frame = match shared.slice_rotation.map(SliceFrame::from_quaternion) {
            Some(Ok(frame)) => frame,
            Some(Err(why)) => {
                tracing::warn!(%why, "the server's slice planes not taken");
                SliceFrame::STANDARD
            }
            None => SliceFrame::STANDARD,
        };
        if let Some(crosshair) = shared.crosshair_lps
            && crosshair.is_finite()
        {
            self.link.crosshair = crosshair;
        }
        if let Some(window) = shared.window {
            self.link.window = Some(Window {
                width: window.width,
                center: window.center,
            });
        }
    }

    /// Does what the findings panel asked: shows a finding (its slice through the
    /// crosshair), deletes one, changes a note, saves, keeps a key image of a slice cell
    /// or a snapshot of the 3D view (those three off the UI thread, woken through `ctx`).
    pub fn take_panel_actions(&mut self, ctx: &egui::Context, actions: Vec<PanelAction>) {
        let Some(volume) = self.renderer.volume().cloned() else {
            return;
        };
        for action in actions {
            match action {
                PanelAction::GoTo(id) => {
                    if let Some(entry) = self.findings.list.get(id) {
                        self.link.crosshair = entry.centre_lps();
                        self.findings.list.selected = Some(id);
                        self.layout = Layout::Quad;
                    }
                }
                PanelAction::Delete(id) => self.findings.delete(id),
                PanelAction::Note(id, note) => self.findings.renote(&volume, id, note),
                PanelAction::Save => {
                    let calcium = self.calcium.report.clone();
                    self.findings.save(ctx, &volume, calcium);
                }
                PanelAction::KeyImage { cell, description } => {
                    let crosshair = self.link.crosshair;
                    self.findings
                        .key_image(ctx, &volume, cell, crosshair, description);
                }
                PanelAction::Snapshot { description } => self.snapshot(ctx, &description),
            }
        }
    }

    /// Keeps the 3D view as it is drawn now (its pixels read back at full quality) as a
    /// snapshot described by `description`.
    fn snapshot(&mut self, ctx: &egui::Context, description: &str) {
        match self.view3d.read_back(&mut self.renderer) {
            Ok(frame) => {
                self.findings
                    .snapshot(ctx, frame, &self.view3d.view, description);
            }
            Err(why) => {
                self.findings.last_document = Some(Err(format!("snapshot not kept: {why}")));
            }
        }
    }

    /// Deletes the selected finding, when one is.
    pub fn delete_selected_finding(&mut self) {
        if let Some(id) = self.findings.list.selected {
            self.findings.delete(id);
        }
    }

    /// Back to the views the volume opened with (the standard planes and thin slices too).
    pub fn reset(&mut self) {
        self.view3d.reset();
        self.reset_planes();
        self.link.slabs = CellSlabs::default();
        if let Some(volume) = self.renderer.volume() {
            self.link.crosshair = volume.centre_lps();
            self.link.window = volume.default_window;
        }
    }

    /// Back to the standard axial, coronal and sagittal planes (the crosshair stays).
    pub fn reset_planes(&mut self) {
        self.link.frame = SliceFrame::STANDARD;
    }

    /// The pixels of slice view `index` (axial, coronal, sagittal) as last drawn,
    /// rendered again.
    #[cfg(test)]
    pub fn slice_pixels(&mut self, index: usize) -> Option<Vec<u8>> {
        self.slices[index].read_back(&mut self.renderer, &self.view3d.view)
    }

    /// Does what the segments panel asked, on the selected segment.
    pub fn take_segment_actions(&mut self, ctx: &egui::Context, actions: Vec<SegmentAction>) {
        let Some(volume) = self.renderer.volume().cloned() else {
            return;
        };
        for action in actions {
            match action {
                SegmentAction::Add => self.segments.add(),
                SegmentAction::Select(id) => self.segments.tools.selected = Some(id),
                SegmentAction::Delete(id) => self.segments.delete(id),
                SegmentAction::Visible(id, visible) => self.segments.set_visible(id, visible),
                SegmentAction::Edit(edit) => self.segments.edit(ctx, &volume, edit),
                SegmentAction::Show(index) => self.segments.show_saved(ctx, &volume, index),
                SegmentAction::FillBetween => self.segments.fill_between(ctx, &volume),
                SegmentAction::RunModel => self.segments.run_model(ctx, &volume),
                SegmentAction::StopModel => self.segments.stop_model(),
                SegmentAction::Undo => self.segments.undo(false),
                SegmentAction::Redo => self.segments.undo(true),
                SegmentAction::Save => match self.findings.where_to_keep() {
                    Ok((subject, keeping)) => {
                        let (subject, keeping) = (subject.clone(), keeping.clone());
                        self.segments.save(ctx, &volume, subject, keeping);
                    }
                    Err(why) => self.segments.tools.last_save = Some(Err(why)),
                },
            }
        }
    }

    /// Takes the segment edits that came back, and shows the segments in 3D when they
    /// changed.
    fn follow_segments(&mut self, ctx: &egui::Context) {
        let Some(volume) = self.renderer.volume().cloned() else {
            return;
        };
        self.segments.take_answers(ctx, &volume);
        let shown = self.segments.shown().clone();
        if shown.generation == self.segments_in_3d {
            return;
        }
        let labels = segment_labels(&volume, &shown.segments);
        match self.renderer.show_segments(labels.as_ref()) {
            Ok(()) => self.view3d.refresh(),
            Err(why) => {
                self.segments.tools.problem = Some(format!("segments not shown in 3D: {why}"))
            }
        }
        self.segments_in_3d = shown.generation;
    }

    /// Draws the series over the slices over the 3D view too (or none there when none
    /// is), redrawing the 3D view when that changed.
    fn follow_over(&mut self) {
        let before = self.renderer.segments_generation();
        // Refused only before a volume is loaded, with nothing to draw over.
        let shown = self
            .renderer
            .show_over(self.over.as_ref().map(|over| &over.drawn));
        if shown.is_ok() && self.renderer.segments_generation() != before {
            self.view3d.refresh();
        }
    }

    /// Edits the selected segment with each segment tool's gesture on a slice.
    fn take_segment_gestures(&mut self, ctx: &egui::Context) {
        let Some(volume) = self.renderer.volume().cloned() else {
            return;
        };
        for slice in &mut self.slices {
            if let Some(gesture) = slice.take_segment_gesture() {
                match self.segments.edit_of(gesture) {
                    Ok(edit) => self.segments.edit(ctx, &volume, edit),
                    Err(why) => self.segments.tools.problem = Some(why),
                }
            }
        }
    }

    /// The 3D view's cinematic picture as its last whole pass left it, and what
    /// `render_cinematic` draws of the same view, size and paths from the same seed.
    #[cfg(test)]
    pub fn cinematic_pictures(&mut self) -> Option<[render_core::gpu::FrameImage; 2]> {
        let shown = self.view3d.cinematic_image(&mut self.renderer)?;
        let (passes, _) = self.view3d.cinematic_passes()?;
        let size = self.view3d.drawn_size()?;
        let mut view = self.view3d.view.clone();
        view.quality = render_core::view::Quality::Full;
        let settings = render_core::gpu::CinematicSettings {
            samples: passes,
            seed: render_core::gpu::CinematicSettings::RESTING_SEED,
        };
        let drawn = self.renderer.render_cinematic(&view, size, settings).ok()?;
        Some([shown, drawn])
    }

    /// The 3D view's pixels as last drawn, rendered again at full quality.
    #[cfg(test)]
    pub fn view3d_pixels(&mut self) -> Option<Vec<u8>> {
        self.view3d
            .read_back(&mut self.renderer)
            .ok()
            .map(|frame| frame.rgba)
    }

    /// Draws the layout in `ui`'s remaining space.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.findings.take_answers();
        self.link.brush_mm = self.segments.tools.brush_mm;
        self.follow_segments(ui.ctx());
        if let Some(over) = &mut self.over
            && local_over_bar(ui, over)
        {
            self.over = None;
        }
        self.follow_over();
        match self.layout {
            Layout::Single => {
                self.shown = Some((ui.available_rect_before_wrap(), None));
                self.view3d.ui(ui, &mut self.renderer, &self.render_state);
            }
            Layout::Quad => {
                let whole = ui.available_rect_before_wrap();
                let gap = 2.0;
                let half = egui::vec2((whole.width() - gap) * 0.5, (whole.height() - gap) * 0.5);
                let cell = |column: f32, row: f32| {
                    egui::Rect::from_min_size(
                        whole.min + egui::vec2(column * (half.x + gap), row * (half.y + gap)),
                        half,
                    )
                };
                let quad = [
                    cell(0.0, 0.0),
                    cell(1.0, 0.0),
                    cell(0.0, 1.0),
                    cell(1.0, 1.0),
                ];
                self.shown = Some((whole, Some(quad)));
                let mut cells = quad.into_iter();
                if let Some(rect) = cells.next() {
                    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect));
                    self.view3d
                        .ui(&mut child, &mut self.renderer, &self.render_state);
                }
                let base = self.view3d.view.clone();
                let on_slices = self.on_slices();
                let layers = SliceLayers {
                    over: self.over.as_ref(),
                    segments: &on_slices,
                    suv_factor: self.suv_factor,
                };
                for (slice, rect) in self.slices.iter_mut().zip(cells) {
                    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect));
                    slice.ui(
                        &mut child,
                        &mut self.renderer,
                        &self.render_state,
                        &base,
                        &mut self.link,
                        &mut self.findings,
                        &layers,
                    );
                    let plane = slice.plane;
                    let slab = self.link.slabs.of(plane);
                    if let Some(chosen) = slab_control(ui, rect, plane, slab) {
                        *self.link.slabs.of_mut(plane) = chosen;
                        ui.ctx().request_repaint();
                    }
                }
                self.take_segment_gestures(ui.ctx());
                self.take_calcium_gestures(ui.ctx());
                self.curved_path(ui);
                ui.allocate_rect(whole, egui::Sense::hover());
            }
        }
    }

    /// What the slices lay over the picture: the segments, then the calcium lesions,
    /// made again when either changed.
    fn on_slices(&mut self) -> ShownSegments {
        self.calcium.take_answer();
        self.link.calcium_naming = self.calcium.naming || self.calcium.calibrating.marking;
        let segments = self.segments.on_slices();
        let (lesions, lesions_generation) = self.calcium.lesions();
        let made_of = (segments.generation, lesions_generation);
        if self.on_slices.1 != made_of {
            let both: Vec<_> = segments
                .segments
                .iter()
                .chain(lesions.iter())
                .cloned()
                .collect();
            self.on_slices = (
                ShownSegments {
                    segments: both.into(),
                    generation: self.on_slices.0.generation.wrapping_add(1),
                },
                made_of,
            );
        }
        self.on_slices.0.clone()
    }

    /// Scores the series' calcium (the panel's Score, Forget names or On slices).
    pub fn ask_calcium(&mut self, ctx: &egui::Context, ask: CalciumAsk) {
        let Some(volume) = self.renderer.volume().cloned() else {
            return;
        };
        let series = self.series_name();
        self.calcium
            .score(ctx, &volume, &series, None, ask == CalciumAsk::Forget);
    }

    /// Names the lesions each axial slice's click or drag took.
    fn take_calcium_gestures(&mut self, ctx: &egui::Context) {
        let Some(volume) = self.renderer.volume().cloned() else {
            return;
        };
        let series = self.series_name();
        for slice in &mut self.slices {
            match slice.take_calcium_gesture() {
                Some(NamingGesture::Box(a, b)) if self.calcium.calibrating.marking => {
                    self.calcium.calibrate(ctx, &volume, &series, (a, b));
                }
                Some(NamingGesture::Click(_)) if self.calcium.calibrating.marking => {
                    self.calcium.problem = Some("drag a box over the insert".to_string());
                }
                Some(gesture) => self
                    .calcium
                    .score(ctx, &volume, &series, Some(gesture), false),
                None => {}
            }
        }
    }

    /// The series as a calcium score names it: its Series Instance UID, else "this
    /// series" (the built-in sample).
    fn series_name(&self) -> String {
        self.findings.where_to_keep().map_or_else(
            |_| "this series".to_string(),
            |(subject, _)| subject.series_uid.clone(),
        )
    }

    /// Takes the points clicked with the Path tool, draws the path over the slices and
    /// shows its curved reformat.
    fn curved_path(&mut self, ui: &egui::Ui) {
        for slice in &mut self.slices {
            if let Some(lps) = slice.take_path_click() {
                self.curved.add(lps);
            }
        }
        for slice in &self.slices {
            slice.paint_path(ui.painter(), &self.curved.points);
        }
        if let Some(volume) = self.renderer.volume().cloned() {
            self.curved.window_ui(ui.ctx(), &volume, self.link.window);
        }
    }
}
