//! Measurements a thin client asks of the server, where the voxels are: the value under a
//! point of a slice cell (`probe`) and the distance between two points of one (`measure`).
//! Points are fractions of the cell in the 2×2 layout at the session's size, as the
//! `crosshair` input takes them, on the slices through the session's crosshair.

use glam::DVec3;
use render_core::view::layout;

use super::input::{bad_value, not_open, slice_plane};
use super::{Refusal, Session};
use hounsfield_findings::unit_of;
use hounsfield_protocol::ServerMessage;

use crate::series_volumes::curve_info;

impl Session {
    /// The voxel under fractions `x`, `y` of `cell`'s slice: where it is (LPS mm), its
    /// nearest voxel and that voxel's value (none outside the volume), in HU for CT; in a
    /// series over time, its value in every volume too.
    pub fn probe(&self, cell: &str, x: f64, y: f64) -> Result<ServerMessage, Refusal> {
        let point = self.point_in_cell("probe", cell, [x, y])?;
        let open = self.open.as_ref().ok_or_else(not_open)?;
        let nearest = open.volume().nearest_voxel(point);
        let over_value = open
            .over
            .as_ref()
            .and_then(|shown| shown.drawn.value_at(point));
        // The volumes share one grid: the same voxel in each.
        let values = match nearest {
            Some(_) if open.volumes.is_over_time() => open
                .volumes
                .iter()
                .filter_map(|time_point| time_point.volume.nearest_voxel(point))
                .map(|(_, value)| value)
                .collect(),
            _ => Vec::new(),
        };
        let curve = (!values.is_empty())
            .then(|| {
                let times_s: Vec<Option<f64>> = open
                    .volumes
                    .iter()
                    .map(|time_point| time_point.time_s)
                    .collect();
                curve_info(&times_s, &values)
            })
            .flatten();
        Ok(ServerMessage::Probe {
            values,
            curve,
            over_value,
            suv: open
                .volumes
                .suv_factor()
                .zip(nearest)
                .map(|(factor, (_, value))| value * factor),
            over_suv: open
                .over
                .as_ref()
                .and_then(|shown| shown.suv_factor)
                .zip(over_value)
                .map(|(factor, value)| value * factor),
            cell: cell.to_string(),
            lps_mm: point.to_array(),
            voxel: nearest.map(|(voxel, _)| voxel),
            value: nearest.map(|(_, value)| value),
            unit: unit_of(&open.volume().modality).to_string(),
        })
    }

    /// The distance between fractions `from` and `to` of `cell`'s slice (mm), and both
    /// points (LPS mm).
    pub fn measure(
        &self,
        cell: &str,
        from: [f64; 2],
        to: [f64; 2],
    ) -> Result<ServerMessage, Refusal> {
        let start = self.point_in_cell("measure", cell, from)?;
        let end = self.point_in_cell("measure", cell, to)?;
        Ok(ServerMessage::Measure {
            cell: cell.to_string(),
            mm: start.distance(end),
            from_lps: start.to_array(),
            to_lps: end.to_array(),
        })
    }

    /// The unit normal (LPS) of `cell`'s slice as it is turned now: the disc brush's
    /// plane.
    pub(crate) fn cell_normal(&self, what: &str, cell: &str) -> Result<DVec3, Refusal> {
        let open = self.open.as_ref().ok_or_else(not_open)?;
        let plane = slice_plane(what, cell)?;
        Ok(open.view.slice_frame.normal(plane))
    }

    /// Whether the slice cells stand turned from the scan's planes (oblique slices).
    pub(crate) fn slices_turned(&self) -> bool {
        self.open
            .as_ref()
            .is_some_and(|open| open.view.slice_frame != render_core::view::SliceFrame::STANDARD)
    }

    /// The patient point at fractions `at` of `cell`'s slice, after checking them.
    pub(crate) fn point_in_cell(
        &self,
        what: &str,
        cell: &str,
        at: [f64; 2],
    ) -> Result<DVec3, Refusal> {
        let open = self.open.as_ref().ok_or_else(not_open)?;
        let plane = slice_plane(what, cell)?;
        for (field, value) in ["x", "y"].into_iter().zip(at) {
            if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
                return Err(bad_value(format!(
                    "{what} {field} {value:?}: must be a fraction 0..=1 of the cell"
                )));
            }
        }
        Ok(layout::lps_in_cell(
            open.volume(),
            &open.view.slice_frame,
            plane,
            open.crosshair_lps,
            self.size,
            at,
        ))
    }
}
