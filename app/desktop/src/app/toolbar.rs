//! The toolbar: preset, mode, CT window, layout, slice tools and reset (for the view
//! rendered here, or sent as inputs to the server), then the panels (crop, findings,
//! studies), screenshot, share and the Local | Server switch.

use eframe::egui;
use hounsfield_protocol::Action;
use render_core::transfer::RenderMode;

use super::{DesktopApp, State};
use crate::findings::tool_choice;
use crate::session_share::ShareOptions;
use crate::thin_client::remote_view::RemoteView;
use crate::time_curve::CurveOf;
use crate::workspace::LocalWorkspace;
use crate::workspace::time::ChosenKey;
use render_core::view::{Layout, LightDirection, Lighting};

impl DesktopApp {
    /// The toolbar's row: the view's controls, the panels, screenshot, share and the
    /// Local | Server switch, then the series' label.
    pub(super) fn toolbar(&mut self, ui: &mut egui::Ui) {
        let mut changed_settings = false;
        ui.horizontal_wrapped(|ui| {
            match &mut self.state {
                State::Local(view) => {
                    local_controls(ui, view, &self.label);
                    if view.layout != self.settings.layout {
                        self.settings.layout = view.layout;
                        changed_settings = true;
                    }
                }
                State::Remote { view, .. } => {
                    if let Some(layout) = remote_controls(ui, view)
                        && layout != self.settings.layout
                    {
                        self.settings.layout = layout;
                        changed_settings = true;
                    }
                }
                _ => {
                    ui.label("Hounsfield");
                }
            }
            ui.separator();
            if matches!(self.state, State::Local(_) | State::Remote { .. })
                && ui
                    .selectable_label(self.show_crop, "Crop")
                    .on_hover_text("the crop box: limit the 3D view to part of the volume")
                    .clicked()
            {
                self.show_crop = !self.show_crop;
            }
            if matches!(self.state, State::Local(_) | State::Remote { .. })
                && ui
                    .selectable_label(self.show_transfer, "Transfer")
                    .on_hover_text(
                        "the transfer-function editor: opacity, colours and gradient opacity over the volume's histogram",
                    )
                    .clicked()
            {
                self.show_transfer = !self.show_transfer;
            }
            let quad = match &self.state {
                State::Local(view) => view.layout == Layout::Quad,
                State::Remote { view, .. } => view.layout() == Layout::Quad,
                _ => false,
            };
            if quad
                && ui
                    .selectable_label(self.show_findings, "Findings")
                    .on_hover_text(
                        "the findings panel: the series' findings, their numbers, saving, key images and snapshots",
                    )
                    .clicked()
            {
                self.show_findings = !self.show_findings;
            }
            if quad
                && ui
                    .selectable_label(self.show_segments, "Segments")
                    .on_hover_text(
                        "the segments panel: segments drawn and grown on the slices, measured in mL, saved as DICOM SEG",
                    )
                    .clicked()
            {
                self.show_segments = !self.show_segments;
            }
            if ui
                .selectable_label(self.show_browser, "Studies")
                .on_hover_text("the studies panel: open a folder, pick a series (key B)")
                .clicked()
            {
                self.show_browser = !self.show_browser;
            }
            if ui
                .selectable_label(self.settings.show_overlay, "Overlay")
                .on_hover_text("patient and study text over the view (key O)")
                .clicked()
            {
                self.settings.show_overlay = !self.settings.show_overlay;
                changed_settings = true;
            }
            if ui
                .button("Screenshot")
                .on_hover_text("save the window as PNG in the pictures folder (key S)")
                .clicked()
            {
                self.request_user_screenshot(ui.ctx());
            }
            if matches!(self.state, State::Local(_)) {
                let text = if self.sharing.is_some() {
                    "Sharing…"
                } else {
                    "Share…"
                };
                if ui
                    .selectable_label(self.sharing.is_some() || self.share_dialog.is_some(), text)
                    .on_hover_text("let a colleague's browser or app see this view")
                    .clicked()
                {
                    self.share_dialog = Some(ShareOptions::default());
                }
                if ui
                    .selectable_label(self.movie_dialog.is_some(), "Export movie…")
                    .on_hover_text("write an MP4 of this series: an orbit of the 3D view or a sweep of slices")
                    .clicked()
                    && self.movie_dialog.is_none()
                {
                    self.movie_dialog = Some(super::movie_dialog::MovieDialog::new(&self.label));
                }
            }
            ui.separator();
            self.rendering_switch(ui);
            ui.label(&self.label);
        });
        if changed_settings {
            self.save_settings();
        }
    }
}

/// Preset, mode, CT window, layout, tool and reset for views rendered here.
fn local_controls(ui: &mut egui::Ui, workspace: &mut LocalWorkspace, label: &str) {
    let names: Vec<String> = workspace
        .renderer()
        .presets()
        .names()
        .into_iter()
        .map(str::to_string)
        .collect();
    if let Some(preset) = preset_choice(ui, &workspace.view3d.view.preset, &names) {
        // Offered from the renderer's own presets: it knows the name.
        workspace.set_preset(&preset);
    }
    if let Some(mode) = mode_choice(ui, workspace.view3d.view.mode) {
        workspace.view3d.view.mode = mode;
        workspace.view3d.refresh();
    }
    if let Some(window) = window_choice(ui) {
        workspace.set_window(window);
    }
    if let Some(lighting) = light_menu(ui, workspace.view3d.view.lighting) {
        workspace.view3d.view.lighting = lighting;
        workspace.view3d.refresh();
    }
    ui.separator();
    ui.selectable_value(&mut workspace.layout, Layout::Single, "1×1")
        .on_hover_text("the 3D view alone (key 1)");
    ui.selectable_value(&mut workspace.layout, Layout::Quad, "2×2")
        .on_hover_text("3D, axial, coronal and sagittal (key 2)");
    if workspace.layout == Layout::Quad {
        ui.separator();
        tool_choice(
            ui,
            &mut workspace.link.tool,
            &mut workspace.findings.note,
            true,
        );
        if reset_planes_button(ui, !workspace.link.frame.is_standard()) {
            workspace.reset_planes();
        }
    }
    if ui.button("Reset").on_hover_text("key R").clicked() {
        workspace.reset();
    }
    local_time_controls(ui, workspace, label);
}

/// A series over time's controls: the previous and next volume, the slider, the volume's
/// label, Play and the rate, then the curve under the cursor; nothing for a series of one
/// volume.
fn local_time_controls(ui: &mut egui::Ui, workspace: &mut LocalWorkspace, label: &str) {
    use crate::workspace::time::{CINE_FPS, volume_text};
    let Some(time) = &mut workspace.time else {
        return;
    };
    ui.separator();
    let (count, shown, playing) = (time.volumes.len(), time.shown, time.playing());
    let mut step = None;
    if ui
        .button("<")
        .on_hover_text("the volume before (key [)")
        .clicked()
    {
        step = Some(-1);
    }
    let mut index = shown;
    let slider = egui::Slider::new(&mut index, 0..=count - 1).show_value(false);
    if ui.add(slider).on_hover_text("the volume shown").changed() {
        step = Some(isize::try_from(index).unwrap_or(0) - isize::try_from(shown).unwrap_or(0));
    }
    if ui
        .button(">")
        .on_hover_text("the next volume (key ])")
        .clicked()
    {
        step = Some(1);
    }
    let volume = &time.volumes[shown];
    ui.label(format!(
        "{} ({} of {count})",
        volume_text(&volume.label, volume.time_s),
        shown + 1
    ));
    let play = ui
        .selectable_label(playing, if playing { "Pause" } else { "Play" })
        .on_hover_text("play the volumes in turn (cine), or pause (key P)")
        .clicked();
    ui.add(
        egui::DragValue::new(&mut time.fps)
            .range(CINE_FPS)
            .speed(0.2)
            .suffix(" /s"),
    )
    .on_hover_text("volumes a second while the cine plays");
    local_curve(ui, workspace, label);
    if let Some(by) = step {
        workspace.step_volume(by);
    }
    if play {
        workspace.play_or_pause(std::time::Instant::now());
    }
}

/// The time-intensity curve read here from every volume: of the voxel under the cursor
/// (or last under it), or, chosen in **Curve of**, of a region's voxels on its slice or a
/// segment's (their mean in each volume); with its measures and Save CSV.
fn local_curve(ui: &mut egui::Ui, workspace: &mut LocalWorkspace, label: &str) {
    let pointed = workspace
        .slices
        .iter()
        .find_map(|slice| slice.probe.map(|(lps, _)| lps));
    if workspace.time.is_none() {
        return;
    }
    let volume = workspace.renderer().volume().cloned();
    // Each region's voxels on its slice (the volumes share one grid).
    let regions: Vec<(u32, Vec<usize>)> = volume
        .as_deref()
        .map(|volume| {
            workspace
                .findings
                .list
                .iter()
                .filter_map(|entry| {
                    let voxels = entry.finding().region_voxels(volume)?.ok()?;
                    (!voxels.is_empty()).then(|| (entry.id(), voxels))
                })
                .collect()
        })
        .unwrap_or_default();
    let segments: Vec<(u32, String)> = workspace
        .segments
        .list()
        .into_iter()
        .filter(|info| info.numbers.voxels > 0)
        .map(|info| (info.id, info.label))
        .collect();
    let generation = workspace.segments.shown().generation;
    let choices: Vec<(CurveOf, String)> = std::iter::once((
        CurveOf::Pointer,
        crate::time_curve::POINTER_CURVE.to_string(),
    ))
    .chain(
        regions
            .iter()
            .map(|(id, _)| (CurveOf::Region(*id), format!("region {id}"))),
    )
    .chain(
        segments
            .iter()
            .map(|(id, name)| (CurveOf::Segment(*id), format!("segment {name}"))),
    )
    .collect();
    let Some(time) = &mut workspace.time else {
        return;
    };
    if let Some(lps) = pointed {
        time.follow(lps);
    }
    crate::time_curve::curve_choice(ui, &choices, &mut time.curve_of);
    let (values, unit, measures) = match time.curve_of {
        CurveOf::Pointer => match &time.curve {
            Some(kept) => (kept.values.clone(), kept.unit, kept.measures),
            None => return,
        },
        CurveOf::Region(id) => {
            let Some((_, voxels)) = regions.into_iter().find(|(region, _)| *region == id) else {
                return;
            };
            let curve = time.voxels_curve(ChosenKey::Region(id, voxels.clone()), || voxels);
            (curve.values, time.unit(), curve.measures)
        }
        CurveOf::Segment(id) => {
            let segments = &workspace.segments;
            let curve = time.voxels_curve(ChosenKey::Segment(id, generation), || {
                segments.voxel_indices(id)
            });
            (curve.values, time.unit(), curve.measures)
        }
    };
    let volumes = time.labels();
    let curve = crate::time_curve::Shown {
        volumes: &volumes,
        values: &values,
        unit,
        shown: time.shown,
        measures,
    };
    if crate::time_curve::show(ui, &curve, time.curve_saved.as_ref()) {
        time.curve_saved = Some(crate::time_curve::save_csv(
            &curve,
            &time.curve_folder,
            label,
        ));
    }
}

/// Preset, mode, window, layout and reset for a view streamed from a server, sent as
/// inputs; the layout picked, when one was.
fn remote_controls(ui: &mut egui::Ui, view: &mut RemoteView) -> Option<Layout> {
    let Some(mirror) = view.mirror.clone() else {
        ui.label("connecting…");
        return None;
    };
    let names = view
        .opened
        .as_ref()
        .map(|opened| opened.presets.clone())
        .unwrap_or_default();
    if let Some(name) = preset_choice(ui, &mirror.preset, &names) {
        view.act(Action::Preset { name });
    }
    if let Some(mode) = mode_choice(ui, mirror.mode) {
        view.act(Action::Mode {
            mode: mode.name().to_string(),
        });
    }
    if let Some(window) = window_choice(ui) {
        view.act(Action::Window {
            width: window.width,
            center: window.center,
        });
    }
    if let Some(lighting) = light_menu(ui, mirror.lighting) {
        view.act(Action::Light(lighting));
    }
    ui.separator();
    let mut layout = mirror.layout;
    let single = ui
        .selectable_value(&mut layout, Layout::Single, "1×1")
        .on_hover_text("the 3D view alone (key 1)");
    let quad = ui
        .selectable_value(&mut layout, Layout::Quad, "2×2")
        .on_hover_text("3D, axial, coronal and sagittal, drawn by the server (key 2)");
    let picked = (single.clicked() || quad.clicked()).then_some(layout);
    if let Some(layout) = picked {
        view.set_layout(layout);
    }
    if mirror.layout == Layout::Quad {
        ui.separator();
        tool_choice(ui, &mut view.tool, &mut view.findings.note, false);
        if ui
            .button("Clear rulers")
            .on_hover_text("shift-drag on a slice measures whatever the tool; Esc cancels")
            .clicked()
        {
            view.clear_rulers();
        }
        if reset_planes_button(ui, mirror.slice_rotation.is_some()) {
            view.act(Action::ResetPlanes);
        }
    }
    if ui.button("Reset").clicked() {
        view.act(Action::Reset);
    }
    if ui
        .button("Lossless still")
        .on_hover_text("ask the server for the exact pixels (PNG) of this view")
        .clicked()
    {
        view.lossless_still();
    }
    picked
}

/// The button that brings the standard slice planes back, on while they are `turned`;
/// whether it was clicked.
fn reset_planes_button(ui: &mut egui::Ui, turned: bool) -> bool {
    ui.add_enabled(turned, egui::Button::new("Reset planes"))
        .on_hover_text("back to the standard axial, coronal and sagittal planes")
        .on_disabled_hover_text("drag a line's handle on a slice to turn the planes (oblique)")
        .clicked()
}

/// The preset combo box; the new name when another was picked.
fn preset_choice(ui: &mut egui::Ui, current: &str, names: &[String]) -> Option<String> {
    let mut preset = current.to_string();
    egui::ComboBox::from_label("preset")
        .selected_text(preset.as_str())
        .show_ui(ui, |ui| {
            for name in names {
                ui.selectable_value(&mut preset, name.clone(), name.as_str());
            }
        });
    (preset != current).then_some(preset)
}

/// The mode combo box; the new mode when another was picked.
fn mode_choice(ui: &mut egui::Ui, current: RenderMode) -> Option<RenderMode> {
    let mut mode = current;
    egui::ComboBox::from_label("mode")
        .selected_text(mode.name())
        .show_ui(ui, |ui| {
            for choice in RenderMode::ALL {
                ui.selectable_value(&mut mode, choice, choice.name());
            }
        });
    (mode != current).then_some(mode)
}

/// Where the Light menu offers the light from: each direction's name and its label.
const LIGHT_DIRECTIONS: [(&str, &str); 7] = [
    ("head", "from the eye"),
    ("anterior", "from the front"),
    ("posterior", "from the back"),
    ("left", "from the patient's left"),
    ("right", "from the patient's right"),
    ("superior", "from above the head"),
    ("inferior", "from below the feet"),
];

/// The Light menu: where the 3D view's light comes from (the eye, or a side of the
/// patient that stays as the camera turns), its shadows and ambient occlusion, and
/// cinematic rendering while it rests (here, or on the server that streams it); the
/// lighting picked, when it changed.
fn light_menu(ui: &mut egui::Ui, current: Lighting) -> Option<Lighting> {
    let mut lighting = current;
    ui.menu_button("Light", |ui| {
        for (name, label) in LIGHT_DIRECTIONS {
            // The menu's own names, each one LightDirection knows.
            if let Ok(direction) = LightDirection::from_name(name) {
                ui.radio_value(&mut lighting.direction, direction, label);
            }
        }
        ui.separator();
        ui.checkbox(&mut lighting.shadows, "Shadows")
            .on_hover_text("what lies between a point and the light shades it");
        ui.checkbox(&mut lighting.occlusion, "Ambient occlusion")
            .on_hover_text("creases and hollows darken, open faces do not");
        ui.separator();
        ui.checkbox(&mut lighting.cinematic, "Cinematic")
            .on_hover_text("while the view rests, path trace it: light scattered through the volume, refining as you look");
    })
    .response
    .on_hover_text("the 3D view's light (presets that shade)");
    (lighting != current).then_some(lighting)
}

/// The CT window presets radiologists use, as (name, width, centre) in HU.
pub const CT_WINDOWS: [(&str, f64, f64); 5] = [
    ("brain", 80.0, 40.0),
    ("lung", 1500.0, -600.0),
    ("bone", 2000.0, 500.0),
    ("abdomen", 400.0, 50.0),
    ("mediastinum", 350.0, 50.0),
];

/// The CT window menu; the window picked, when one was.
fn window_choice(ui: &mut egui::Ui) -> Option<render_core::Window> {
    let mut chosen = None;
    egui::ComboBox::from_label("window")
        .selected_text("CT presets")
        .show_ui(ui, |ui| {
            for (name, width, center) in CT_WINDOWS {
                if ui
                    .selectable_label(false, format!("{name} (W {width:.0} L {center:.0})"))
                    .clicked()
                {
                    chosen = Some(render_core::Window { width, center });
                }
            }
        });
    chosen
}
