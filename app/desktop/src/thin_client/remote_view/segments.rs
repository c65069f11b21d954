//! Segments on the server's slices: the same panel as for a series rendered here, its
//! actions sent as `segment`, `segment_edit`, `segment_undo` and `save_segments`; the
//! brush, the eraser and growing from a click drawn on the streamed slice cells and sent
//! with their points as fractions of the cell (as `measure` takes them). The server edits,
//! measures and paints the segments into the frames; the panel lists them as it tells
//! them, another participant's edits included.

use eframe::egui;
use hounsfield_protocol::{
    BrushShape, ClientMessage, IslandsKeep, LogicalOperation, SavedSegmentation,
    SegmentAction as Request, SegmentEdit, SegmentInfo, SegmentPreview, SegmentRequest,
    SegmentTool, SlicePlane,
};
use hounsfield_segment::Edit;
use hounsfield_segment::edit::MOST_STROKE_POINTS;
use render_core::view::layout::cell_index;

use super::RemoteView;
use crate::findings::SliceTool;
use crate::segments::SegmentBrush;
use crate::segments::panel::{SegmentAction, SegmentTools, SegmentsOffer, segments_panel};
use crate::thin_client::connection::SegmentNews;
use crate::thin_client::rulers::scale_of;

/// The threshold's preview goes to the server at most this often while its range changes.
const PREVIEW_EVERY: std::time::Duration = std::time::Duration::from_millis(120);

/// A threshold's preview as asked of the server: the range, and the segment whose colour
/// it takes.
type PreviewAsked = ([f64; 2], Option<u32>);

/// The brush's colour along a stroke under way.
const STROKE_COLOUR: egui::Color32 = egui::Color32::from_rgba_premultiplied(90, 90, 90, 90);

/// The segments of the series the server shows, as it told them.
#[derive(Debug, Default)]
pub struct RemoteSegments {
    /// The segments, in the order they were added.
    pub list: Vec<SegmentInfo>,
    /// The tools' settings, the segment they edit and what the panel says.
    pub tools: SegmentTools,
    /// Edits sent and not answered yet.
    waiting: usize,
    /// A save sent and not answered yet.
    saving: bool,
    /// A segment asked for: the next new one told is selected.
    adding: bool,
    /// A brush stroke under way: its cell and its points (egui points).
    stroke: Option<(SlicePlane, Vec<egui::Pos2>)>,
    /// The Segmentations saved on the series, as the server listed them.
    pub saved: Vec<SavedSegmentation>,
    /// A save went through: the list of those saved is asked for again.
    relist: bool,
    /// How the server's model's last run stands.
    pub model: Option<String>,
    /// The cell last painted or erased on (fill between fills between its slices).
    drawn_on: Option<SlicePlane>,
    /// The threshold's preview last sent, and when.
    preview_sent: Option<(Option<PreviewAsked>, std::time::Instant)>,
}

impl RemoteSegments {
    /// The threshold's preview last asked of the server (`Some(None)`: taken away).
    #[cfg(test)]
    pub fn preview_asked(&self) -> Option<Option<PreviewAsked>> {
        self.preview_sent.map(|(asked, _)| asked)
    }

    /// Takes what the server told of the segments.
    pub fn take(&mut self, news: SegmentNews) {
        match news {
            SegmentNews::Told(info) => {
                self.waiting = self.waiting.saturating_sub(1);
                match self.list.iter_mut().find(|known| known.id == info.id) {
                    Some(known) => *known = *info,
                    None => {
                        if std::mem::take(&mut self.adding) || self.tools.selected.is_none() {
                            self.tools.selected = Some(info.id);
                        }
                        self.list.push(*info);
                    }
                }
                self.tools.problem = None;
            }
            SegmentNews::Deleted(id) => {
                self.waiting = self.waiting.saturating_sub(1);
                self.list.retain(|known| known.id != id);
                if self.tools.selected == Some(id) {
                    self.tools.selected = self.list.last().map(|info| info.id);
                }
            }
            SegmentNews::All(list) => {
                self.waiting = 0;
                if !list.iter().any(|info| Some(info.id) == self.tools.selected) {
                    self.tools.selected = list.last().map(|info| info.id);
                }
                self.list = list;
            }
            SegmentNews::Refused(why) => {
                self.waiting = self.waiting.saturating_sub(1);
                self.adding = false;
                self.tools.problem = Some(format!("the server refused: {why}"));
            }
            SegmentNews::Saved(result) => {
                self.saving = false;
                self.relist |= result.is_ok();
                self.tools.last_save = Some(result);
            }
            SegmentNews::Listed(saved) => self.saved = saved,
            SegmentNews::Model(line) => self.model = Some(line),
        }
    }
}

/// The `segment_edit` tool the panel's `edit` stands for (the panel's tools all have one).
fn tool_of(edit: &Edit) -> Option<SegmentTool> {
    Some(match edit {
        Edit::Threshold(interval) => SegmentTool::Threshold {
            low: interval.low,
            high: interval.high,
        },
        Edit::KeepLargest => SegmentTool::Islands(IslandsKeep::Largest),
        Edit::KeepAtLeast(min_mm3) => {
            SegmentTool::Islands(IslandsKeep::AtLeast { min_mm3: *min_mm3 })
        }
        Edit::Margin(mm) => SegmentTool::Margin { mm: *mm },
        Edit::Closing(mm) => SegmentTool::Closing { mm: *mm },
        Edit::Median(mm) => SegmentTool::Median { mm: *mm },
        Edit::Invert => SegmentTool::Logical {
            operation: LogicalOperation::Invert,
            other: None,
        },
        Edit::Clear => SegmentTool::Clear,
        _ => return None,
    })
}

impl RemoteView {
    /// The segments panel of the series the server shows.
    pub fn segments_panel(&mut self, ui: &mut egui::Ui) {
        let offer = SegmentsOffer {
            busy: self.segments.waiting > 0,
            saving: self.segments.saving,
            save_ready: Ok(()),
            saved: self
                .segments
                .saved
                .iter()
                .map(|saved| {
                    format!(
                        "{} · {} ({})",
                        saved.written,
                        saved.segments.join(", "),
                        saved.stored_in
                    )
                })
                .collect(),
            // The server says whether it has a model when one is asked for.
            model: Some(self.segments.model.clone()),
        };
        let list = self.segments.list.clone();
        let actions = segments_panel(ui, &list, &mut self.segments.tools, &mut self.tool, &offer);
        for action in actions {
            self.segment_action(action);
        }
        self.send_preview(ui.ctx());
    }

    /// Sends the threshold's preview when the panel's range, Preview or segment changed,
    /// at most every [`PREVIEW_EVERY`].
    fn send_preview(&mut self, ctx: &egui::Context) {
        let tools = &self.segments.tools;
        let wanted = tools
            .preview
            .then(|| tools.interval().ok())
            .flatten()
            .map(|interval| ([interval.low, interval.high], tools.selected));
        let now = std::time::Instant::now();
        match self.segments.preview_sent {
            Some((sent, _)) if sent == wanted => return,
            None if wanted.is_none() => return,
            Some((_, at)) if now.duration_since(at) < PREVIEW_EVERY => {
                ctx.request_repaint_after(PREVIEW_EVERY);
                return;
            }
            _ => {}
        }
        let preview = match wanted {
            Some(([low, high], id)) => SegmentPreview {
                id,
                low: Some(low),
                high: Some(high),
            },
            None => SegmentPreview {
                id: None,
                low: None,
                high: None,
            },
        };
        if self.link.segments(ClientMessage::SegmentPreview(preview)) {
            self.segments.preview_sent = Some((wanted, now));
        }
    }

    /// Sends what the panel asked.
    fn segment_action(&mut self, action: SegmentAction) {
        let selected = self.segments.tools.selected;
        let message = match action {
            SegmentAction::Add => {
                self.segments.adding = true;
                ClientMessage::Segment(SegmentRequest::bare(Request::Create, None))
            }
            SegmentAction::Select(id) => {
                self.segments.tools.selected = Some(id);
                return;
            }
            SegmentAction::Show(index) => {
                let Some(saved) = self.segments.saved.get(index) else {
                    return;
                };
                ClientMessage::LoadSegmentation {
                    sop_instance_uid: saved.sop_instance_uid.clone(),
                }
            }
            SegmentAction::Delete(id) => {
                ClientMessage::Segment(SegmentRequest::bare(Request::Delete, Some(id)))
            }
            SegmentAction::Visible(id, visible) => ClientMessage::Segment(SegmentRequest {
                visible: Some(visible),
                ..SegmentRequest::bare(Request::Update, Some(id))
            }),
            SegmentAction::Edit(edit) => {
                let (Some(id), Some(tool)) = (selected, tool_of(&edit)) else {
                    self.segments.tools.problem =
                        Some("add a segment first: the tools edit the selected one".to_string());
                    return;
                };
                ClientMessage::SegmentEdit(SegmentEdit { id, tool })
            }
            SegmentAction::FillBetween => {
                let (Some(id), Some(plane)) = (selected, self.segments.drawn_on) else {
                    self.segments.tools.problem = Some(
                        "fill between: paint a segment on some slices of a cell first".to_string(),
                    );
                    return;
                };
                ClientMessage::SegmentEdit(SegmentEdit {
                    id,
                    tool: SegmentTool::FillBetween {
                        cell: Some(plane.name().to_string()),
                        plane: None,
                    },
                })
            }
            SegmentAction::RunModel => ClientMessage::RunModel,
            SegmentAction::StopModel => ClientMessage::StopModel,
            SegmentAction::Undo | SegmentAction::Redo => {
                let Some(id) = selected else {
                    return;
                };
                ClientMessage::SegmentUndo {
                    id,
                    redo: action == SegmentAction::Redo,
                }
            }
            SegmentAction::Save => {
                self.segments.saving = true;
                self.segments.tools.last_save = None;
                ClientMessage::SaveSegments
            }
        };
        self.send_segments(message);
    }

    /// Asks again for the Segmentations saved on the series after a save went through.
    pub(super) fn relist_after_a_save(&mut self) {
        if std::mem::take(&mut self.segments.relist) {
            self.ask_saved_segmentations();
        }
    }

    /// Asks the server for the Segmentations saved on the series (after it opens, and after
    /// each save).
    pub(super) fn ask_saved_segmentations(&mut self) {
        if !self.link.segments(ClientMessage::Segmentations) {
            tracing::debug!("segmentations not asked: the link is busy or stopped");
        }
    }

    fn send_segments(&mut self, message: ClientMessage) {
        let answered = !matches!(
            message,
            ClientMessage::SaveSegments | ClientMessage::RunModel | ClientMessage::StopModel
        );
        if self.link.segments(message) {
            if answered {
                self.segments.waiting += 1;
            }
        } else {
            self.segments.saving = false;
            self.segments.tools.problem = Some("not sent: the link is busy or stopped".to_string());
        }
    }

    /// A segment tool's gesture on a slice cell: a stroke of the brush or the eraser
    /// gathered while it is drawn and sent when it ends (in pieces of at most
    /// [`MOST_STROKE_POINTS`]), or a click to grow from.
    pub(super) fn segment_gesture(&mut self, ui: &egui::Ui, response: &egui::Response) {
        let SliceTool::Segment(brush) = self.tool else {
            self.segments.stroke = None;
            return;
        };
        let rect = response.rect;
        let primary = egui::PointerButton::Primary;
        if brush == SegmentBrush::Grow {
            if response.clicked_by(primary)
                && let Some((plane, x, y)) = response
                    .interact_pointer_pos()
                    .and_then(|pos| self.slice_at(rect, pos))
            {
                let [low, high] = self.segments.tools.range;
                self.send_edit(SegmentTool::Grow {
                    cell: plane.name().to_string(),
                    x,
                    y,
                    low,
                    high,
                });
            }
            return;
        }
        if response.drag_started_by(primary)
            && let Some(origin) = ui.input(|input| input.pointer.press_origin())
            && let Some((plane, _, _)) = self.slice_at(rect, origin)
        {
            self.segments.stroke = Some((plane, vec![origin]));
        }
        if response.clicked_by(primary)
            && let Some(pos) = response.interact_pointer_pos()
            && let Some((plane, _, _)) = self.slice_at(rect, pos)
        {
            self.segments.stroke = Some((plane, vec![pos]));
        }
        let step = self.brush_points(rect) * 0.5;
        if (response.dragged_by(primary) || response.drag_stopped_by(primary))
            && let Some(pos) = response.interact_pointer_pos()
            && let Some((_, points)) = &mut self.segments.stroke
            && let Some(&last) = points.last()
        {
            let steps = (last.distance(pos) / step.max(1.0)).ceil() as usize;
            for at in 1..=steps {
                points.push(last.lerp(pos, at as f32 / steps as f32));
            }
        }
        let ended = response.drag_stopped_by(primary) || response.clicked_by(primary);
        if ended && let Some((plane, points)) = self.segments.stroke.take() {
            self.segments.drawn_on = Some(plane);
            let cell = self.cells_on_screen(rect)[cell_index(plane)];
            let fractions: Vec<[f64; 2]> = points
                .iter()
                .map(|p| {
                    [
                        f64::from((p.x - cell.min.x) / cell.width().max(1.0)).clamp(0.0, 1.0),
                        f64::from((p.y - cell.min.y) / cell.height().max(1.0)).clamp(0.0, 1.0),
                    ]
                })
                .collect();
            let radius_mm = self.segments.tools.brush_mm;
            for piece in fractions.chunks(MOST_STROKE_POINTS) {
                let (cell, points) = (plane.name().to_string(), piece.to_vec());
                let shape = Some(BrushShape::Disc);
                self.send_edit(match brush {
                    SegmentBrush::Erase => SegmentTool::Erase {
                        cell,
                        points,
                        radius_mm,
                        shape,
                    },
                    _ => SegmentTool::Paint {
                        cell,
                        points,
                        radius_mm,
                        within: None,
                        shape,
                    },
                });
            }
        }
    }

    /// Edits the selected segment with `tool`.
    fn send_edit(&mut self, tool: SegmentTool) {
        match self.segments.tools.selected {
            Some(id) => self.send_segments(ClientMessage::SegmentEdit(SegmentEdit { id, tool })),
            None => {
                self.segments.tools.problem =
                    Some("add a segment first: the tools edit the selected one".to_string());
            }
        }
    }

    /// The brush's radius in egui points on the axial cell of the frame shown in `rect`.
    fn brush_points(&self, rect: egui::Rect) -> f32 {
        let Some(placement) = &self.placement else {
            return 4.0;
        };
        let mm_per_pixel = scale_of(&placement.mm_per_pixel, SlicePlane::Axial).max(1e-6);
        let pixels_per_point = self.frame_size()[0] as f32 / rect.width().max(1.0);
        (self.segments.tools.brush_mm / mm_per_pixel) as f32 / pixels_per_point.max(1e-6)
    }

    /// Draws the stroke under way.
    pub(super) fn paint_segment_stroke(&self, painter: &egui::Painter, rect: egui::Rect) {
        if let Some((_, points)) = &self.segments.stroke {
            let radius = self.brush_points(rect);
            for &point in points {
                painter.circle_filled(point, radius, STROKE_COLOUR);
            }
        }
    }
}
