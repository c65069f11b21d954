//! A user's change to a view (an [`Action`] that changes the view alone) checked and
//! applied in one place: the server applies its clients' actions with
//! [`ViewState::apply`], the thin client mirrors what it sends with [`mirror`], and the
//! desktop applies its own gestures the same way. A change that is refused (not finite,
//! out of bounds, an unknown name) leaves the view as it was and says which field was
//! wrong.

use glam::DVec3;

pub use hounsfield_vocabulary::Action;

use super::{
    CropBox, Interpolation, Quality, SegmentsIn3d, SharedView, Slab, SlabMode, SliceFrame,
    SlicePlane, ViewState, WindowInfo,
};
use crate::camera::NamedView;
use crate::transfer::{PresetLibrary, RenderMode};
use hounsfield_volume::Window;

/// How far from the origin (mm, along each axis) a view's focal point may be: patient
/// coordinates lie within metres of it.
pub const MAX_POSITION_MM: f64 = 1.0e5;
/// The largest orbit one change may turn (degrees).
const MAX_ORBIT_DEG: f64 = 360.0;
/// The largest pan one change may move (view heights).
const MAX_PAN_VIEWS: f64 = 10.0;
/// The zoom factors one change may apply.
const ZOOM_FACTORS: std::ops::RangeInclusive<f64> = 0.01..=100.0;

impl ViewState {
    /// Applies `action`, a change of the view alone ([`Action::changes_view`]), its
    /// preset looked up in `presets`; nothing changes when it is refused, and the error
    /// names the field and what would be accepted. An action on the session (a reset, a
    /// whole view handed over, a size, the layout, the slices, the crosshair) is refused:
    /// the session applies those.
    pub fn apply(&mut self, action: &Action, presets: &PresetLibrary) -> Result<(), String> {
        match *action {
            Action::Orbit { dx, dy } => {
                check_finite_within("orbit dx, dy (degrees)", &[dx, dy], MAX_ORBIT_DEG)?;
                self.camera.orbit(dx, dy);
            }
            Action::Pan { dx, dy } => {
                check_finite_within("pan dx, dy (view heights)", &[dx, dy], MAX_PAN_VIEWS)?;
                self.camera.pan(dx, dy);
                // Kept where a shared view may take it back: pans add up, and a wide,
                // distant camera moves by kilometres per pan.
                let bound = DVec3::splat(MAX_POSITION_MM);
                self.camera.focal_point = self.camera.focal_point.clamp(-bound, bound);
            }
            Action::Zoom { factor } => {
                if !(factor.is_finite() && ZOOM_FACTORS.contains(&factor)) {
                    return Err(format!(
                        "zoom factor {factor:?}: must be {}..={}",
                        ZOOM_FACTORS.start(),
                        ZOOM_FACTORS.end()
                    ));
                }
                self.camera.zoom_by(factor);
            }
            Action::Window { width, center } => {
                self.window = Some(checked_window("window", width, center)?);
            }
            Action::Preset { ref name } => {
                let preset = presets.get(name).ok_or_else(|| {
                    format!(
                        "unknown preset \"{}\" (known: {})",
                        shortened_for_message(name),
                        presets.names().join(", ")
                    )
                })?;
                self.preset = preset.name.clone();
                self.transfer = None;
                self.mode = preset.mode;
            }
            Action::Transfer { ref preset } => {
                use crate::transfer::PresetRules;
                preset
                    .validate()
                    .map_err(|error| format!("transfer: {error}"))?;
                self.preset = preset.name.clone();
                self.mode = preset.mode;
                self.transfer = Some(preset.clone());
            }
            Action::Mode { ref mode } => self.mode = checked_mode(mode)?,
            Action::View { ref name } => {
                let named = NamedView::from_name(name).ok_or_else(|| {
                    format!(
                        "unknown view \"{}\" (known: anterior, posterior, left, right, superior, inferior)",
                        shortened_for_message(name)
                    )
                })?;
                self.camera.set_view(named);
            }
            Action::Crop { min, max } => {
                self.crop =
                    CropBox::checked(min, max).map_err(|problem| format!("crop {problem}"))?;
            }
            Action::TurnPlanes { ref plane, degrees } => {
                let plane = checked_plane(plane)?;
                self.slice_frame = self.slice_frame.turned(plane, degrees)?;
            }
            Action::ResetPlanes => self.slice_frame = SliceFrame::STANDARD,
            Action::Slab {
                ref plane,
                mm,
                ref mode,
            } => {
                let cell = checked_plane(plane)?;
                let mode = SlabMode::from_name(mode).ok_or_else(|| {
                    format!(
                        "unknown slab mode \"{}\" (known: mip, minip, average)",
                        shortened_for_message(mode)
                    )
                })?;
                *self.cell_slabs.of_mut(cell) = Slab::checked(mm, mode)?;
            }
            Action::Segments3d { ref show } => {
                self.segments_3d = SegmentsIn3d::from_name(show).ok_or_else(|| {
                    format!(
                        "unknown segments_3d show \"{}\" (known: {})",
                        shortened_for_message(show),
                        SegmentsIn3d::NAMES.join(", ")
                    )
                })?;
            }
            Action::Light(lighting) => self.lighting = lighting,
            Action::Reset
            | Action::SetView { .. }
            | Action::Resize { .. }
            | Action::Interact { .. }
            | Action::Layout { .. }
            | Action::Slice { .. }
            | Action::Crosshair { .. }
            | Action::TimePoint { .. }
            | Action::Cine { .. } => {
                return Err("the action acts on the session, not on the view alone".to_string());
            }
        }
        Ok(())
    }
}

/// The slice plane `name` names; the error lists the known ones.
fn checked_plane(name: &str) -> Result<SlicePlane, String> {
    SlicePlane::from_name(name).ok_or_else(|| {
        format!(
            "unknown plane \"{}\" (known: axial, coronal, sagittal)",
            shortened_for_message(name)
        )
    })
}

/// Applies `action` to `shared`, the view as it travels, as [`ViewState::apply`] applies
/// it to a view (the thin client's copy of the server's view); layout and crosshair stay.
pub fn mirror(
    shared: &mut SharedView,
    action: &Action,
    presets: &PresetLibrary,
) -> Result<(), String> {
    let mut view = ViewState {
        camera: shared.camera,
        mode: shared.mode,
        preset: shared.preset.clone(),
        transfer: shared.transfer.clone(),
        window: shared.window.map(|w| Window {
            width: w.width,
            center: w.center,
        }),
        crop: shared
            .crop
            .as_ref()
            .and_then(|crop| CropBox::from_info(crop).ok())
            .unwrap_or_default(),
        quality: Quality::Full,
        interpolation: Interpolation::Linear,
        mpr: None,
        slice_frame: match shared.slice_rotation {
            Some(rotation) => SliceFrame::from_quaternion(rotation)?,
            None => SliceFrame::STANDARD,
        },
        cell_slabs: shared.slabs.checked()?,
        segments_3d: SegmentsIn3d::default(),
        lighting: shared.lighting,
        time_point: shared.time_point,
    };
    view.apply(action, presets)?;
    shared.camera = view.camera;
    shared.preset = view.preset;
    shared.transfer = view.transfer;
    shared.mode = view.mode;
    shared.window = view.window.map(|w| WindowInfo {
        width: w.width,
        center: w.center,
    });
    shared.crop = view.crop.to_info();
    shared.slice_rotation = view.slice_frame.quaternion();
    shared.slabs = view.cell_slabs;
    shared.lighting = view.lighting;
    Ok(())
}

/// The render mode `name` names, or why not.
fn checked_mode(name: &str) -> Result<RenderMode, String> {
    RenderMode::from_name(name).ok_or_else(|| {
        format!(
            "unknown mode \"{}\" (known: composite, mip, minip, average)",
            shortened_for_message(name)
        )
    })
}

/// A grey window of positive, finite width and finite centre; `what` names the field.
pub fn checked_window(what: &str, width: f64, center: f64) -> Result<Window, String> {
    if !width.is_finite() || !center.is_finite() || width <= 0.0 {
        return Err(format!(
            "{what} {width:?}, {center:?}: the width must be positive and both finite"
        ));
    }
    Ok(Window { width, center })
}

/// `Ok` when every value is finite and within ±`limit`; else why, naming `what`.
pub fn check_finite_within(what: &str, values: &[f64], limit: f64) -> Result<(), String> {
    if values.iter().all(|v| v.is_finite() && v.abs() <= limit) {
        Ok(())
    } else {
        Err(format!(
            "{what}: {values:?} must be finite and within ±{limit}"
        ))
    }
}

/// A client's string cut short, control characters dropped, for echoing in a message.
pub fn shortened_for_message(text: &str) -> String {
    /// Characters of a client's value echoed.
    const SHOWN: usize = 40;
    let printable: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(SHOWN + 1)
        .collect();
    hounsfield_vocabulary::text::cut_with_mark(&printable, SHOWN).into_owned()
}

#[cfg(test)]
mod tests {
    use glam::{DMat4, DVec4};

    use super::*;
    use hounsfield_volume::Volume;
    use hounsfield_volume::volume::{Modality, Voxels};

    fn view() -> ViewState {
        let voxels = Voxels::I16(vec![0; 512]);
        let volume = Volume::new(
            voxels,
            [8, 8, 8],
            DMat4::from_diagonal(DVec4::ONE),
            Modality::CT,
            None,
        )
        .expect("a valid volume");
        ViewState::initial(&volume, "ct-bone", RenderMode::Composite)
    }

    #[test]
    fn refused_changes_leave_the_view_as_it_was() {
        let presets = PresetLibrary::builtin();
        let before = view();
        let refused = [
            (
                Action::Orbit {
                    dx: f64::NAN,
                    dy: 0.0,
                },
                "orbit",
            ),
            (Action::Pan { dx: 11.0, dy: 0.0 }, "pan"),
            (Action::Zoom { factor: 0.0 }, "zoom factor"),
            (
                Action::Window {
                    width: -1.0,
                    center: 40.0,
                },
                "window",
            ),
            (
                Action::Preset {
                    name: "no-such".into(),
                },
                "unknown preset",
            ),
            (
                Action::Mode {
                    mode: "xray".into(),
                },
                "unknown mode",
            ),
            (
                Action::View {
                    name: "below".into(),
                },
                "unknown view",
            ),
            (Action::Reset, "the action acts on the session"),
            (
                Action::Crop {
                    min: [0.5; 3],
                    max: [0.4; 3],
                },
                "crop",
            ),
        ];
        for (change, field) in refused {
            let mut after = before.clone();
            let error = after.apply(&change, &presets).expect_err("refused");
            assert!(error.starts_with(field), "{change:?}: {error}");
            assert_eq!(after, before, "{change:?} changed the view");
        }
    }

    #[test]
    fn a_mirror_moves_as_the_view_it_mirrors() {
        let presets = PresetLibrary::builtin();
        let mut view = view();
        let mut shared = view.shared();
        for change in [
            Action::Orbit {
                dx: 30.0,
                dy: -10.0,
            },
            Action::Pan { dx: 0.2, dy: 0.1 },
            Action::Zoom { factor: 1.5 },
            Action::Window {
                width: 400.0,
                center: 40.0,
            },
            Action::Preset {
                name: "ct-soft-tissue".into(),
            },
            Action::Mode { mode: "mip".into() },
            Action::Crop {
                min: [0.1; 3],
                max: [0.9; 3],
            },
        ] {
            view.apply(&change, &presets).expect("applied");
            mirror(&mut shared, &change, &presets).expect("mirrored");
        }
        let expected = view.shared();
        assert_eq!(shared.preset, expected.preset);
        assert_eq!(shared.mode, expected.mode);
        assert_eq!(shared.window, expected.window);
        assert_eq!(shared.crop, expected.crop);
        let (a, b) = (shared.camera, view.camera);
        assert!((a.focal_point - b.focal_point).length() < 1e-9);
        assert!((a.direction - b.direction).length() < 1e-9);
        assert!((a.zoom - b.zoom).abs() < 1e-12);
    }
}
