//! A client's inputs applied to its session's view: each action checked (finite, within
//! bounds, a known name) before anything changes, and a shared view adopted only whole.
//! A refused input leaves the view as it was and tells the client which field was wrong.

use glam::DVec3;
use render_core::camera::Camera;
use render_core::transfer::PresetRules;
use render_core::view::change::{self, MAX_POSITION_MM, shortened_for_message};
use render_core::view::{ViewState, layout};

use super::{MIN_VIEWPORT, Pending, Refusal, Session};
use hounsfield_protocol::{Action, ErrorCode, Layout, SharedView, SlicePlane};

impl Session {
    /// Changes the view as `action` says; what kind of frame that calls for.
    pub(super) fn change_view(&mut self, action: &Action) -> Result<Pending, Refusal> {
        // While interacting, even discrete changes get interactive frames.
        let at_rest = |interacting: bool| {
            if interacting {
                Pending::Interactive
            } else {
                Pending::Final
            }
        };
        match action {
            Action::Interact { active } => {
                self.interacting = *active;
                // The end of a drag owes its final still now, not after the pause.
                if !*active && self.final_owed {
                    return Ok(Pending::Final);
                }
                return Ok(Pending::Nothing);
            }
            Action::Resize { width, height } => {
                let max = self.limits.max_viewport;
                if !(MIN_VIEWPORT..=max).contains(width) || !(MIN_VIEWPORT..=max).contains(height) {
                    return Err(bad_value(format!(
                        "resize {width}×{height}: each side must be {MIN_VIEWPORT}..={max} pixels"
                    )));
                }
                self.set_size([*width, *height]);
                return Ok(at_rest(self.interacting));
            }
            Action::SetView { view: shared } => {
                self.adopt(shared)?;
                return Ok(at_rest(self.interacting));
            }
            Action::Layout { name } => {
                self.layout = Layout::from_name(name).ok_or_else(|| {
                    bad_value(format!(
                        "layout name \"{}\": must be 1x1 or 2x2",
                        shortened_for_message(name)
                    ))
                })?;
                return Ok(at_rest(self.interacting));
            }
            _ => {}
        }
        let interacting = self.interacting;
        let size = self.size;
        let open = self.open.as_mut().ok_or_else(not_open)?;
        if action.changes_view() {
            open.view.apply(action, &self.presets).map_err(bad_value)?;
            return Ok(if action.is_drag_step() {
                Pending::Interactive
            } else {
                at_rest(interacting)
            });
        }
        match action {
            Action::Reset => {
                open.view = open.initial.clone();
                open.cine = None;
                open.crosshair_lps = open.volume().centre_lps();
                Ok(at_rest(interacting))
            }
            Action::Slice { plane, delta_mm } => {
                let plane = slice_plane("slice", plane)?;
                check_finite_within("slice delta_mm", &[*delta_mm], 1.0e4)?;
                let moved = open.crosshair_lps + open.view.slice_frame.normal(plane) * *delta_mm;
                open.crosshair_lps = layout::clamp_to_volume(open.volume(), moved);
                Ok(Pending::Interactive)
            }
            Action::Crosshair { plane, x, y } => {
                let plane = slice_plane("crosshair", plane)?;
                for (field, value) in [("x", x), ("y", y)] {
                    if !(value.is_finite() && (0.0..=1.0).contains(value)) {
                        return Err(bad_value(format!(
                            "crosshair {field} {value:?}: must be a fraction 0..=1 of the cell"
                        )));
                    }
                }
                let point = layout::lps_in_cell(
                    open.volume(),
                    &open.view.slice_frame,
                    plane,
                    open.crosshair_lps,
                    size,
                    [*x, *y],
                );
                open.crosshair_lps = layout::clamp_to_volume(open.volume(), point);
                Ok(at_rest(interacting))
            }
            // The view's changes and the session's own actions were applied above.
            _ => Ok(Pending::Nothing),
        }
    }

    /// Adopts `shared` as the open view, its layout and crosshair; nothing changes when a
    /// field is refused.
    pub(super) fn adopt(&mut self, shared: &SharedView) -> Result<(), Refusal> {
        let (view, crosshair_lps) = self.adopted_view(shared)?;
        self.layout = shared.layout;
        if let Some(open) = self.open.as_mut() {
            // The view's time point was checked against the series' volumes.
            open.view = view;
            open.crosshair_lps = crosshair_lps;
        }
        Ok(())
    }

    /// The open view and crosshair changed to `shared`, after checking every field; the
    /// scene radius stays the server's own, a crosshair is moved into the volume, and a
    /// view without one keeps the current crosshair.
    fn adopted_view(&self, shared: &SharedView) -> Result<(ViewState, DVec3), Refusal> {
        let open = self.open.as_ref().ok_or_else(not_open)?;
        let crosshair_lps = match shared.crosshair_lps {
            Some(point) => {
                check_finite_within(
                    "set_view crosshair_lps (mm)",
                    &point.to_array(),
                    MAX_POSITION_MM,
                )?;
                layout::clamp_to_volume(open.volume(), point)
            }
            None => open.crosshair_lps,
        };
        let camera = &shared.camera;
        let vectors = [camera.focal_point, camera.direction, camera.up];
        let components: Vec<f64> = vectors.iter().flat_map(|v| v.to_array()).collect();
        check_finite_within("set_view camera vectors (mm)", &components, MAX_POSITION_MM)?;
        let unit = |v: glam::DVec3| (v.length() - 1.0).abs() < 1e-3;
        if !unit(camera.direction)
            || !unit(camera.up)
            || camera.direction.dot(camera.up).abs() > 1e-3
        {
            return Err(bad_value(
                "set_view camera: direction and up must be orthogonal unit vectors".to_string(),
            ));
        }
        let positive = |x: f64, max: f64| x.is_finite() && x > 0.0 && x <= max;
        if !positive(camera.distance_mm, 1.0e6) || !positive(camera.view_angle_deg, 179.0) {
            return Err(bad_value(format!(
                "set_view camera: distance_mm {:?} (at most 1e6) and view_angle_deg {:?} (at most 179) must be positive and finite",
                camera.distance_mm, camera.view_angle_deg
            )));
        }
        // The camera's own range: a zoom near 0 widens the view to nothing but a point.
        if !(Camera::MIN_ZOOM..=Camera::MAX_ZOOM).contains(&camera.zoom) {
            return Err(bad_value(format!(
                "set_view camera zoom {:?}: must be {}..={}",
                camera.zoom,
                Camera::MIN_ZOOM,
                Camera::MAX_ZOOM
            )));
        }
        let preset = match &shared.transfer {
            Some(edited) => {
                edited
                    .validate()
                    .map_err(|error| bad_value(format!("set_view transfer: {error}")))?;
                edited.as_ref()
            }
            None => self.presets.get(&shared.preset).ok_or_else(|| {
                bad_value(format!(
                    "set_view: unknown preset \"{}\" (known: {})",
                    shortened_for_message(&shared.preset),
                    self.presets.names().join(", ")
                ))
            })?,
        };
        let window = shared
            .window
            .map(|w| change::checked_window("set_view window", w.width, w.center))
            .transpose()
            .map_err(bad_value)?;
        // No crop: the whole volume.
        let crop = match &shared.crop {
            Some(crop) => render_core::view::CropBox::from_info(crop)
                .map_err(|problem| bad_value(format!("set_view crop {problem}")))?,
            None => render_core::view::CropBox::default(),
        };
        let slice_frame = match shared.slice_rotation {
            Some(rotation) => render_core::view::SliceFrame::from_quaternion(rotation)
                .map_err(|problem| bad_value(format!("set_view {problem}")))?,
            None => render_core::view::SliceFrame::STANDARD,
        };
        let cell_slabs = shared
            .slabs
            .checked()
            .map_err(|problem| bad_value(format!("set_view {problem}")))?;
        let volumes = open.volumes.count();
        if shared.time_point >= volumes {
            return Err(bad_value(format!(
                "set_view time_point {}: the series has {volumes} volume(s)",
                shared.time_point
            )));
        }
        let mut view = open.view.clone();
        view.crop = crop;
        view.slice_frame = slice_frame;
        view.cell_slabs = cell_slabs;
        view.camera = render_core::camera::Camera {
            scene_radius_mm: view.camera.scene_radius_mm,
            ..(*camera)
        };
        view.preset = preset.name.clone();
        view.transfer = shared.transfer.clone();
        view.mode = shared.mode;
        view.lighting = shared.lighting;
        view.time_point = shared.time_point;
        view.window = window;
        Ok((view, crosshair_lps))
    }
}

pub(super) fn not_open() -> Refusal {
    Refusal::new(ErrorCode::NotOpen, "open a series first (see list_studies)")
}

pub(super) fn bad_value(message: String) -> Refusal {
    Refusal::new(ErrorCode::BadValue, message)
}

/// The plane `name` names, or a refusal of `action`'s `plane` field.
pub(super) fn slice_plane(action: &str, name: &str) -> Result<SlicePlane, Refusal> {
    SlicePlane::from_name(name).ok_or_else(|| {
        bad_value(format!(
            "{action} plane \"{}\": must be axial, coronal or sagittal",
            shortened_for_message(name)
        ))
    })
}

/// `Ok` when every value is finite and within ±`limit`; else a refusal naming `what`.
fn check_finite_within(what: &str, values: &[f64], limit: f64) -> Result<(), Refusal> {
    change::check_finite_within(what, values, limit).map_err(bad_value)
}
