//! A change a user makes to a view ([`ViewChange`]), whoever draws it: the server applies
//! its clients' actions as these, the thin client mirrors what it sends with them, and the
//! desktop applies its own gestures with them. The render core says what each does to a
//! view (`ViewState::apply`); here it is plain data.

/// A change a user makes to a view: the camera moved, the grey window, the preset, the
/// render mode, a named view or the crop box. Names are checked where they are applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ViewChange<'a> {
    /// Turn the camera about the focal point (degrees).
    Orbit {
        /// Azimuth.
        dx: f64,
        /// Elevation.
        dy: f64,
    },
    /// Move the focal point (view heights).
    Pan {
        /// Rightwards.
        dx: f64,
        /// Upwards.
        dy: f64,
    },
    /// Multiply the magnification.
    Zoom {
        /// Above 1 zooms in.
        factor: f64,
    },
    /// Set the grey window.
    Window {
        /// Width, in the volume's values.
        width: f64,
        /// Centre (level).
        center: f64,
    },
    /// Choose a transfer-function preset (and its render mode) by name.
    Preset {
        /// The preset's name.
        name: &'a str,
    },
    /// Choose the render mode by name (`composite`, `mip`, `minip`, `average`).
    Mode {
        /// The mode's name.
        name: &'a str,
    },
    /// Look from a named direction (`anterior`, `left`, …).
    View {
        /// The view's name.
        name: &'a str,
    },
    /// Limit the 3D rendering to a box (fractions 0..=1 of the volume along i, j, k).
    Crop {
        /// The lower corner.
        min: [f64; 3],
        /// The upper corner.
        max: [f64; 3],
    },
    /// Turn the slice planes of the 2×2 layout together about the normal of one of them
    /// (`axial`, `coronal`, `sagittal`): the other two tilt, that one stays.
    TurnPlanes {
        /// The plane turned about.
        plane: &'a str,
        /// Counter-clockwise as that plane's cell shows it (degrees).
        degrees: f64,
    },
    /// Back to the standard slice planes.
    ResetPlanes,
    /// Thicken one slice cell's slice into a slab (0 mm: a thin slice again).
    Slab {
        /// The cell's plane (`axial`, `coronal`, `sagittal`).
        plane: &'a str,
        /// Thickness (mm).
        mm: f64,
        /// `mip`, `minip` or `average`.
        mode: &'a str,
    },
}

impl ViewChange<'_> {
    /// Whether the change is part of a motion (a drag or a wheel turn), which interactive
    /// frames follow; the others are discrete and call for a final still at rest.
    pub fn is_motion(&self) -> bool {
        matches!(
            self,
            Self::Orbit { .. }
                | Self::Pan { .. }
                | Self::Zoom { .. }
                | Self::Window { .. }
                | Self::TurnPlanes { .. }
        )
    }
}
