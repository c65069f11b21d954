//! Findings on the server's slices: drawn and edited with the desktop's tools, sent as
//! `finding` requests (points as fractions of the cell, as `measure` takes them), shown
//! as the server measured them, placed in their cells as the rulers are, and saved by the
//! server (`save_findings`), which also keeps key images of a slice cell (`key_image`)
//! and snapshots of its 3D view (`snapshot`).

use std::collections::BTreeMap;

use eframe::egui;
use glam::DVec3;
use hounsfield_findings::outline::PlaneAxes;
use hounsfield_findings::report::MeasuredFinding;
use hounsfield_findings::{Finding, Measurement};
use hounsfield_protocol::{
    Action, CurveInfo, FindingAction, FindingInfo, FindingKind, FindingRequest, Layout, Saved,
    SlicePlane,
};
use render_core::view::layout::cell_index;

use super::RemoteView;
use crate::findings::paint::paint_slice;
use crate::findings::{
    Entry, FindingList, Gesture, PanelAction, PanelState, Placed, SaveOffer, Sketch, SketchOutcome,
};
use crate::thin_client::connection::{FindingNews, LinkStatus};
use crate::thin_client::rulers::cell_axes;

/// The findings of the series the server shows, as it told them.
#[derive(Debug, Default)]
pub struct RemoteFindings {
    /// The findings, measured by the server.
    pub list: FindingList,
    /// What is being drawn or moved.
    pub sketch: Sketch,
    /// The panel's state.
    pub panel: PanelState,
    /// The note the next arrow gets.
    pub note: String,
    /// The last finding the server refused, and why.
    pub problem: Option<String>,
    /// A save asked for and not answered yet.
    pub saving: bool,
    /// What the last save did.
    pub last_save: Option<Result<String, String>>,
    /// A key image or a snapshot asked for and not answered yet.
    pub storing: bool,
    /// What the last key image or snapshot did.
    pub last_document: Option<Result<String, String>>,
    /// The curves of the regions of a series over time (their mean in every volume), by
    /// finding.
    pub curves: BTreeMap<u32, TimeValues>,
}

/// A curve the server told: values in every volume, their unit and the curve's measures.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeValues {
    /// A value a volume, in order.
    pub values: Vec<f64>,
    /// The values' unit (`HU` for CT).
    pub unit: String,
    /// The curve's measures.
    pub measures: Option<CurveInfo>,
}

impl RemoteFindings {
    /// Keeps the curve `info` tells (a region of a series over time), or forgets its own.
    fn keep_curve(&mut self, info: &FindingInfo) {
        if info.values.len() > 1 {
            let values = TimeValues {
                values: info.values.clone(),
                unit: info
                    .stats
                    .as_ref()
                    .map(|stats| stats.unit.clone())
                    .unwrap_or_default(),
                measures: info.curve,
            };
            self.curves.insert(info.id, values);
        } else {
            self.curves.remove(&info.id);
        }
    }
}

impl RemoteFindings {
    /// Takes what the server told of the findings.
    pub fn take(&mut self, news: FindingNews) {
        match news {
            FindingNews::Told(info) => {
                self.keep_curve(&info);
                if let Some(entry) = entry_of(*info) {
                    let id = entry.id();
                    self.list.put(entry);
                    self.list.selected = Some(id);
                    self.problem = None;
                }
            }
            FindingNews::Deleted(id) => {
                self.list.remove(id);
                self.curves.remove(&id);
            }
            FindingNews::All { findings, .. } => {
                self.sketch.cancel();
                self.curves.clear();
                for info in &findings {
                    self.keep_curve(info);
                }
                self.list
                    .replace_all(findings.into_iter().filter_map(entry_of).collect());
            }
            FindingNews::Refused(why) => self.problem = Some(format!("the server refused: {why}")),
            FindingNews::Saved(result) => {
                self.saving = false;
                if result.is_ok() {
                    self.list.mark_saved();
                }
                self.last_save = Some(result.map(|saved| saved_text(&saved)));
            }
            FindingNews::Stored(result) => {
                self.storing = false;
                self.last_document = Some(result.map(|saved| stored_text(&saved)));
            }
        }
    }
}

/// What a key image or a snapshot stored, as the panel says it.
fn stored_text(saved: &Saved) -> String {
    format!(
        "Stored a {} in the server's {}: {}",
        saved.document, saved.stored_in, saved.location
    )
}

/// What a save stored, as the panel says it.
fn saved_text(saved: &Saved) -> String {
    format!(
        "Saved {} finding{} as a {} in the server's {}: {}",
        saved.findings,
        if saved.findings == 1 { "" } else { "s" },
        saved.document,
        saved.stored_in,
        saved.location
    )
}

/// A finding as the server told it, with its numbers; `None` for one that does not hold
/// together (logged).
pub fn entry_of(info: FindingInfo) -> Option<Entry> {
    let points = info
        .points_lps
        .iter()
        .map(|p| DVec3::from_array(*p))
        .collect();
    let measurement = match info.kind {
        FindingKind::Ellipse | FindingKind::Rectangle | FindingKind::Polygon => {
            info.stats.map(Measurement::Region)
        }
        FindingKind::Ruler => info.length_mm.map(|mm| Measurement::Length { mm }),
        FindingKind::Angle => info.angle_deg.map(|degrees| Measurement::Angle { degrees }),
        FindingKind::Arrow => Some(Measurement::Pointer),
    };
    let axes = match info.axes {
        None => Some(PlaneAxes::of(info.cell)),
        Some(told) => PlaneAxes::from_right_and_down(
            DVec3::from_array(told.right),
            DVec3::from_array(told.down),
        ),
    };
    let Some(axes) = axes else {
        tracing::warn!(
            id = info.id,
            "a finding the server told has axes of no plane"
        );
        return None;
    };
    let finding = Finding::on_axes(info.id, info.kind, info.cell, axes, points, info.note);
    match (finding, measurement) {
        (Ok(finding), Some(measurement)) => Some(Entry::new(
            MeasuredFinding {
                finding,
                measurement,
            },
            info.author,
        )),
        (Err(error), _) => {
            tracing::warn!(id = info.id, %error, "a finding the server told is left out");
            None
        }
        (Ok(_), None) => {
            tracing::warn!(
                id = info.id,
                "a finding the server told came without its figures"
            );
            None
        }
    }
}

/// Fractions of `cell` (0..=1 from its top left) at `pos`.
fn fractions_in(cell: egui::Rect, pos: egui::Pos2) -> [f64; 2] {
    let fraction =
        |at: f32, min: f32, extent: f32| f64::from(((at - min) / extent.max(1.0)).clamp(0.0, 1.0));
    [
        fraction(pos.x, cell.min.x, cell.width()),
        fraction(pos.y, cell.min.y, cell.height()),
    ]
}

impl RemoteView {
    /// The findings on `plane`'s slice of the frame shown in `rect`, where they show.
    pub(super) fn placed_findings(&self, rect: egui::Rect, plane: SlicePlane) -> Vec<Placed> {
        let Some(placement) = &self.placement else {
            return Vec::new();
        };
        // A finding shows while the cell faces the way its slice faced, turned or not.
        let (right, down) = cell_axes(placement.planes.as_ref(), plane);
        let normal = right.cross(down);
        let cell = self.cells_on_screen(rect)[cell_index(plane)];
        let size = self.frame_size();
        let depth = placement.crosshair_lps.dot(normal);
        self.findings
            .list
            .placed_on(plane, normal, depth, self.slice_step_mm() / 2.0, |lps| {
                let [x, y] = placement.spot_of(plane, lps, size);
                egui::pos2(
                    cell.left() + x as f32 * cell.width(),
                    cell.top() + y as f32 * cell.height(),
                )
            })
    }

    /// Paints the findings on each slice cell, and the one being drawn.
    pub(super) fn paint_findings(&self, painter: &egui::Painter, rect: egui::Rect) {
        let cells = self.cells_on_screen(rect);
        for plane in SlicePlane::ALL {
            let placed = self.placed_findings(rect, plane);
            let painter = painter.with_clip_rect(cells[cell_index(plane)]);
            paint_slice(
                &painter,
                &self.findings.list,
                &self.findings.sketch,
                plane,
                &placed,
            );
        }
    }

    /// A drawing or select tool's gesture on a slice: a finding drawn or redrawn is sent
    /// to the server (which measures it), a click selects.
    pub(super) fn findings_gesture(&mut self, ui: &egui::Ui, response: &egui::Response) {
        let rect = response.rect;
        let gesture = Gesture::of(ui, response);
        // The slice a drag began on, else the one clicked or hovered.
        let origin = ui.input(|input| input.pointer.press_origin());
        let held = gesture.began.is_some() || gesture.dragging || gesture.ended;
        let spot = if held { origin } else { None }
            .or(gesture.clicked)
            .or(gesture.hover);
        let Some((plane, _, _)) = spot.and_then(|pos| self.slice_at(rect, pos)) else {
            return;
        };
        let cell = self.cells_on_screen(rect)[cell_index(plane)];
        let placed = self.placed_findings(rect, plane);
        let selected = self.findings.list.selected;
        let outcomes = self
            .findings
            .sketch
            .handle(plane, self.tool, &gesture, cell, &placed, selected);
        for outcome in outcomes {
            let request = match outcome {
                SketchOutcome::Selected(id) => {
                    self.findings.list.selected = id;
                    continue;
                }
                SketchOutcome::Drawn {
                    plane,
                    kind,
                    points,
                } => FindingRequest {
                    action: FindingAction::Create,
                    id: None,
                    kind: Some(kind.name().to_string()),
                    cell: Some(plane.name().to_string()),
                    points: points.iter().map(|p| fractions_in(cell, *p)).collect(),
                    note: (kind == FindingKind::Arrow)
                        .then(|| self.findings.note.trim().to_string()),
                },
                SketchOutcome::Reshaped { id, points } => FindingRequest {
                    action: FindingAction::Update,
                    id: Some(id),
                    kind: None,
                    cell: None,
                    points: points.iter().map(|p| fractions_in(cell, *p)).collect(),
                    // Redrawn with points, a finding takes the note sent: its own.
                    note: self.findings.list.get(id).map(|e| e.finding().note.clone()),
                },
            };
            self.send_finding(request);
        }
    }

    fn send_finding(&mut self, request: FindingRequest) {
        if !self.link.finding(request) {
            self.findings.problem =
                Some("the finding was not sent: the link is busy or stopped".to_string());
        }
    }

    /// Deletes the selected finding (the server is asked; its answer removes it).
    pub fn delete_selected_finding(&mut self) {
        if let Some(id) = self.findings.list.selected {
            self.delete_finding(id);
        }
    }

    fn delete_finding(&mut self, id: u32) {
        self.send_finding(FindingRequest {
            action: FindingAction::Delete,
            id: Some(id),
            kind: None,
            cell: None,
            points: Vec::new(),
            note: None,
        });
    }

    /// Shows finding `id`: selected, the crosshair at its centre (its slice shows in the
    /// 2×2 layout).
    fn go_to_finding(&mut self, id: u32) {
        let Some(centre) = self.findings.list.get(id).map(Entry::centre_lps) else {
            return;
        };
        self.findings.list.selected = Some(id);
        if let Some(mirror) = &self.mirror {
            let mut view = mirror.clone();
            view.crosshair_lps = Some(centre);
            view.layout = Layout::Quad;
            self.act(Action::SetView {
                view: Box::new(view),
            });
        }
    }

    /// Asks the server to save the series' findings.
    pub fn save_findings(&mut self) {
        if self.link.save_findings() {
            self.findings.saving = true;
            self.findings.last_save = None;
        } else {
            self.findings.last_save = Some(Err(
                "the save was not sent: the link is busy or stopped".to_string(),
            ));
        }
    }

    /// Asks the server to keep a key image of `cell` or, without one, a snapshot of its 3D
    /// view, described by `description`.
    fn keep_document(&mut self, cell: Option<SlicePlane>, description: &str) {
        let sent = match cell {
            Some(cell) => self.link.key_image(cell, description),
            None => self.link.snapshot(description),
        };
        if sent {
            self.findings.storing = true;
            self.findings.last_document = None;
        } else {
            self.findings.last_document = Some(Err(
                "the request was not sent: the link is busy or stopped".to_string(),
            ));
        }
    }

    /// Whether the server can be asked now (connected), what is awaited and what the
    /// last answer was.
    fn offer(&self, waiting: bool, last: &Option<Result<String, String>>) -> SaveOffer {
        let connected = matches!(self.link.state().status, Some(LinkStatus::Connected));
        SaveOffer {
            ready: if connected {
                Ok(())
            } else {
                Err("not connected to the server".to_string())
            },
            waiting,
            last: last.clone(),
        }
    }

    /// The findings panel: the list, the selected one's note, deleting, saving, key
    /// images and snapshots.
    pub fn findings_panel(&mut self, ui: &mut egui::Ui) {
        let offer = self.offer(self.findings.saving, &self.findings.last_save);
        let documents = self.offer(self.findings.storing, &self.findings.last_document);
        let findings = &mut self.findings;
        let actions = findings.panel.ui(
            ui,
            &findings.list,
            &offer,
            &documents,
            findings.problem.as_deref(),
        );
        for action in actions {
            match action {
                PanelAction::GoTo(id) => self.go_to_finding(id),
                PanelAction::Delete(id) => self.delete_finding(id),
                PanelAction::Note(id, note) => self.send_finding(FindingRequest {
                    action: FindingAction::Update,
                    id: Some(id),
                    kind: None,
                    cell: None,
                    points: Vec::new(),
                    note: Some(note),
                }),
                PanelAction::Save => self.save_findings(),
                PanelAction::KeyImage { cell, description } => {
                    self.keep_document(Some(cell), &description);
                }
                PanelAction::Snapshot { description } => self.keep_document(None, &description),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hounsfield_findings::RegionStatistics;
    use hounsfield_protocol::CellAxes;

    #[test]
    fn a_pet_regions_uptake_told_by_the_server_is_listed_in_suv() {
        let info = FindingInfo {
            id: 1,
            kind: FindingKind::Rectangle,
            cell: SlicePlane::Axial,
            points_lps: vec![[0.0, 0.0, 0.0], [20.0, 20.0, 0.0]],
            axes: None,
            stats: Some(RegionStatistics {
                mean: 12_000.0,
                sd: 900.0,
                min: 8_000.0,
                max: 25_000.0,
                area_mm2: 400.0,
                voxels: 25,
                unit: String::new(),
                suv: Some(hounsfield_findings::RegionSuv {
                    suv_max: 7.123,
                    suv_mean: 3.4,
                    suv_peak: 5.857,
                }),
            }),
            values: Vec::new(),
            curve: None,
            length_mm: None,
            angle_deg: None,
            note: String::new(),
            author: String::new(),
        };
        let entry = entry_of(info).expect("an entry");
        assert!(
            entry
                .figures()
                .contains(&"SUVmax 7.12 · SUVmean 3.40 · SUVpeak 5.86".to_string()),
            "{:?}",
            entry.figures()
        );
    }

    #[test]
    fn a_finding_told_by_the_server_keeps_its_numbers_and_a_bad_one_is_left_out() {
        let stats = RegionStatistics {
            mean: 40.5,
            sd: 3.25,
            min: 30.0,
            max: 52.0,
            area_mm2: 120.0,
            voxels: 410,
            unit: "HU".into(),
            suv: None,
        };
        let info = FindingInfo {
            id: 3,
            kind: FindingKind::Ellipse,
            cell: SlicePlane::Axial,
            points_lps: vec![[1.0, 2.0, 3.0], [14.0, 15.0, 3.0]],
            axes: None,
            stats: Some(stats.clone()),
            values: Vec::new(),
            curve: None,
            length_mm: None,
            angle_deg: None,
            note: String::new(),
            author: "rita".into(),
        };
        let entry = entry_of(info.clone()).expect("an entry");
        assert_eq!(entry.measured.measurement, Measurement::Region(stats));
        assert_eq!(entry.author, "rita");
        assert_eq!(entry.finding().points_lps[1], DVec3::new(14.0, 15.0, 3.0));
        let flat = FindingInfo {
            points_lps: vec![[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]],
            ..info.clone()
        };
        assert!(entry_of(flat).is_none(), "no area");
        let bare = FindingInfo {
            stats: None,
            ..info.clone()
        };
        assert!(entry_of(bare).is_none(), "a region without its statistics");
        // An oblique finding keeps the axes told; axes of no plane leave it out.
        let tilted = FindingInfo {
            axes: Some(CellAxes {
                right: [1.0, 0.0, 0.0],
                down: [0.0, 0.8, -0.6],
            }),
            points_lps: vec![[1.0, 2.0, 3.0], [14.0, 10.0, 9.0]],
            ..info.clone()
        };
        let entry = entry_of(tilted.clone()).expect("an oblique entry");
        assert!(entry.finding().is_oblique());
        assert!(
            entry
                .finding()
                .axes
                .normal
                .distance(DVec3::new(0.0, 0.6, 0.8))
                < 1e-12
        );
        let flat_axes = FindingInfo {
            axes: Some(CellAxes {
                right: [1.0, 0.0, 0.0],
                down: [2.0, 0.0, 0.0],
            }),
            ..tilted
        };
        assert!(entry_of(flat_axes).is_none(), "axes of no plane");

        let mut findings = RemoteFindings::default();
        findings.take(FindingNews::All {
            series: "s".into(),
            findings: Vec::new(),
        });
        findings.saving = true;
        findings.take(FindingNews::Saved(
            Err("forbidden: a viewer may not".into()),
        ));
        assert!(!findings.saving);
        assert!(matches!(&findings.last_save, Some(Err(why)) if why.contains("viewer")));
    }
}
