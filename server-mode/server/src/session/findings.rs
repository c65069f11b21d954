//! Findings drawn in a session: a client's `finding` request turned into a shape in
//! patient millimetres on the slice it was drawn on, with the open volume it is measured
//! on (the connection measures it in the server's measuring lane: [`measured`] is that
//! measuring).

use std::sync::Arc;

use hounsfield_findings::outline::PlaneAxes;
use hounsfield_findings::{Finding, FindingKind, Measurement};
use hounsfield_protocol::{FindingRequest, cut_with_mark};
use render_core::Volume;

use crate::series_volumes::SeriesVolumes;

use super::input::{bad_value, not_open, slice_plane};
use super::{Refusal, Session};

impl Session {
    /// The finding `request` draws (numbered `id`; the book numbers new ones), measured on
    /// the open volume; a refusal names the field that was wrong.
    pub fn draw_finding(
        &self,
        request: &FindingRequest,
        id: u32,
    ) -> Result<(Finding, Arc<Volume>), Refusal> {
        let open = self.open.as_ref().ok_or_else(not_open)?;
        let kind_name = request
            .kind
            .as_deref()
            .ok_or_else(|| bad_value("finding kind: missing".to_string()))?;
        let kind = FindingKind::from_name(kind_name).ok_or_else(|| {
            let known: Vec<_> = FindingKind::ALL.iter().map(|k| k.name()).collect();
            bad_value(format!(
                "finding kind {:?}: must be one of {}",
                cut_with_mark(kind_name, 40),
                known.join(", ")
            ))
        })?;
        let cell = request
            .cell
            .as_deref()
            .ok_or_else(|| bad_value("finding cell: missing".to_string()))?;
        let plane = slice_plane("finding", cell)?;
        // Drawn on the cell as it shows its plane now: turned planes give an oblique finding.
        let axes = PlaneAxes::turned(&open.view.slice_frame, plane);
        let expected = kind.point_count();
        if !expected.contains(&request.points.len()) {
            return Err(bad_value(format!(
                "finding points: {} takes {}, not {}",
                kind.name(),
                if expected.start() == expected.end() {
                    expected.start().to_string()
                } else {
                    format!("{} to {}", expected.start(), expected.end())
                },
                request.points.len()
            )));
        }
        let points = request
            .points
            .iter()
            .map(|at| self.point_in_cell("finding", cell, *at))
            .collect::<Result<Vec<_>, _>>()?;
        let note = request.note.clone().unwrap_or_default();
        let finding = Finding::on_axes(id, kind, plane, axes, points, note)
            .map_err(|error| bad_value(format!("finding {error}")))?;
        Ok((finding, open.volume().clone()))
    }

    /// `before` with a new note, with the open volume to measure it on again.
    pub fn renote_finding(
        &self,
        before: Finding,
        note: String,
    ) -> Result<(Finding, Arc<Volume>), Refusal> {
        let open = self.open.as_ref().ok_or_else(not_open)?;
        let finding = Finding::on_axes(
            before.id,
            before.kind,
            before.plane,
            before.axes,
            before.points_lps,
            note,
        )
        .map_err(|error| bad_value(format!("finding {error}")))?;
        Ok((finding, open.volume().clone()))
    }

    /// The open series' volumes (every volume of a series over time, a PET's SUV
    /// factor), for what a region or a segment measures across them.
    pub fn series_volumes(&self) -> Option<SeriesVolumes> {
        Some(self.open.as_ref()?.volumes.clone())
    }

    /// The open volume, for saving its findings.
    pub fn volume(&self) -> Option<Arc<Volume>> {
        self.open.as_ref().map(|open| open.volume().clone())
    }
}

/// What `finding` measures on `volume`, or a refusal naming its points.
pub fn measured(volume: &Volume, finding: &Finding) -> Result<Measurement, Refusal> {
    finding
        .measure(volume)
        .map_err(|error| bad_value(format!("finding {error}")))
}
