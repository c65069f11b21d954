//! Segments in a connection: `segment` adds, describes or deletes one of the open series'
//! segments, `segment_edit` applies a tool to one (in the measuring lane, within this
//! session's share of it, as findings are measured), `segment_undo` takes an edit back,
//! `segments` lists them with their numbers (`grow_from_seeds` edits several at once,
//! each its own undo step), and `save_segments` stores them as a DICOM
//! Segmentation where the study lives. Viewers may look, not edit; the other
//! participants of a shared session are told each change as it lands.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use glam::DVec3;
use hounsfield_protocol::{
    BrushShape, ErrorCode, GridPlaneName, IslandsKeep, LogicalOperation, SegmentAction,
    SegmentEdit, SegmentRequest, SegmentTool, ServerMessage,
};
use hounsfield_segment::segment::{Algorithm, Code};
use hounsfield_segment::{
    Brush, Edit, FillPlane, Grid, GridPlane, Mask, SegmentError, ValueInterval, seeds,
};
use render_core::Volume;

use super::Connection;
use crate::segments::{Description, MOST_LABEL_CHARS, SegmentsError, numbers_of, series_numbers};
use crate::series_volumes::SeriesVolumes;

impl Connection {
    /// The open series and its volume, or the refusal already sent; `what` names the
    /// message, and a viewer's change is refused.
    pub(super) async fn series_to_change(
        &mut self,
        what: &str,
    ) -> Result<(String, Arc<Volume>), ControlFlow<()>> {
        if !self.identity.role.opens_series() {
            return Err(self
                .forbidden(what, "a viewer may look at segments, not change them")
                .await);
        }
        self.open_series().await
    }

    /// The open series' id and volume, or the `not_open` refusal sent.
    pub(super) async fn open_series(&mut self) -> Result<(String, Arc<Volume>), ControlFlow<()>> {
        match (
            self.session.series().map(str::to_string),
            self.session.volume(),
        ) {
            (Some(series), Some(volume)) => Ok((series, volume)),
            _ => Err(self
                .error(ErrorCode::NotOpen, "open a series first (see list_studies)")
                .await),
        }
    }

    /// The volumes of the open series `volume` is shown from (every volume of a series
    /// over time, a PET's SUV factor), for a segment's numbers across them.
    pub(super) fn shown_series(&self, volume: &Arc<Volume>) -> SeriesVolumes {
        self.session
            .series_volumes()
            .unwrap_or_else(|| SeriesVolumes::one(Arc::clone(volume)))
    }

    /// `segment`: adds, describes or deletes a segment.
    pub(super) async fn segment(&mut self, request: SegmentRequest) -> ControlFlow<()> {
        let (series, volume) = match self.series_to_change("segment").await {
            Ok(open) => open,
            Err(replied) => return replied,
        };
        let description = match description_of(&request) {
            Ok(description) => description,
            Err(why) => return self.error(ErrorCode::BadValue, why).await,
        };
        let author = self.identity.name.clone().unwrap_or_default();
        let book = &self.app.segments;
        let answer = match (request.action, request.id) {
            (SegmentAction::Create, _) => {
                let empty = Mask::empty(Grid::of(&volume));
                let measures = hounsfield_segment::measure(&volume, &empty);
                match measures {
                    Ok(measures) => book
                        .create(
                            &series,
                            Grid::of(&volume),
                            description,
                            numbers_of(&measures, unit(&volume)),
                            &author,
                        )
                        .map(|info| ServerMessage::Segment(Box::new(info))),
                    Err(error) => return self.error(ErrorCode::Internal, error.to_string()).await,
                }
            }
            (_, None) => {
                return self
                    .error(
                        ErrorCode::BadValue,
                        "segment id: missing (update and delete name one)",
                    )
                    .await;
            }
            (SegmentAction::Update, Some(id)) => book
                .describe(&series, id, description, &author)
                .map(|info| ServerMessage::Segment(Box::new(info))),
            (SegmentAction::Delete, Some(id)) => book
                .delete(&series, id)
                .map(|()| ServerMessage::SegmentDeleted { id }),
        };
        self.answer_segment(answer).await
    }

    /// The refusal sent when this session's share of the tools (the measuring lane) is
    /// spent, naming `what` was asked; `None` while it may edit.
    pub(super) async fn refuse_while_share_spent(&mut self, what: &str) -> Option<ControlFlow<()>> {
        if self.measuring.may_measure(Instant::now()) {
            return None;
        }
        let why = format!(
            "{what}: this session's tools used its share ({} s a second); \
             edit again in a moment",
            self.measuring.per_s()
        );
        Some(self.error(ErrorCode::RateLimited, why).await)
    }

    /// `segment_edit`: applies one tool to a segment, in the measuring lane.
    pub(super) async fn segment_edit(&mut self, edit: SegmentEdit) -> ControlFlow<()> {
        let (series, volume) = match self.series_to_change("segment_edit").await {
            Ok(open) => open,
            Err(replied) => return replied,
        };
        if let SegmentTool::Islands(IslandsKeep::Split) = &edit.tool {
            return self.split_islands(series, volume, edit.id).await;
        }
        if let SegmentTool::GrowFromSeeds { others } = &edit.tool {
            let ids: Vec<u32> = std::iter::once(edit.id)
                .chain(others.iter().copied())
                .collect();
            return self.grow_from_seeds(series, volume, ids).await;
        }
        let tool = match self.edit_of(&series, &edit.tool) {
            Ok(tool) => tool,
            Err(refusal) => return self.error(refusal.0, refusal.1).await,
        };
        let mask = match self.app.segments.mask_to_edit(&series, edit.id) {
            Ok(mask) => mask,
            Err(error) => return self.answer_segment(Err(error)).await,
        };
        if let Some(refused) = self.refuse_while_share_spent("segment_edit").await {
            return refused;
        }
        let unit = unit(&volume).to_string();
        let shown_series = self.shown_series(&volume);
        let edited = self
            .app
            .measuring
            .run(move || {
                hounsfield_segment::edited(&volume, &mask, &tool).map(|edited| {
                    let numbers = series_numbers(
                        &edited.measures,
                        &edited.mask,
                        &volume,
                        &shown_series,
                        &unit,
                    );
                    (edited.mask, numbers, edited.algorithm)
                })
            })
            .await;
        let (next, numbers, algorithm) = match edited {
            Ok((Ok(edited), took)) => {
                self.measuring.charge(took, Instant::now());
                edited
            }
            Ok((Err(error), took)) => {
                self.measuring.charge(took, Instant::now());
                let why = format!("segment_edit {}: {error}", tool_name(&edit.tool));
                return self.error(ErrorCode::BadValue, why).await;
            }
            Err(error) => return self.error(ErrorCode::Internal, error.to_string()).await,
        };
        let author = self.identity.name.clone().unwrap_or_default();
        let answer = self
            .app
            .segments
            .edited(&series, edit.id, next, numbers, algorithm, &author)
            .map(|info| ServerMessage::Segment(Box::new(info)));
        let stroke = matches!(
            edit.tool,
            SegmentTool::Paint { .. } | SegmentTool::Erase { .. }
        );
        self.answer_edit(answer, stroke).await
    }

    /// `segment_edit` `grow_from_seeds`: the segments `ids` share out the region around
    /// their seeds, in the measuring lane; each segment changed takes its own undo step
    /// and is told (to this client and the other participants) as any edit is.
    async fn grow_from_seeds(
        &mut self,
        series: String,
        volume: Arc<Volume>,
        ids: Vec<u32>,
    ) -> ControlFlow<()> {
        if let Err(error) = seeds::check_segment_count(ids.len()) {
            let why = format!("segment_edit grow_from_seeds others: {error}");
            return self.error(ErrorCode::BadValue, why).await;
        }
        let mut masks = Vec::with_capacity(ids.len());
        for &id in &ids {
            match self.app.segments.mask_to_edit(&series, id) {
                Ok(mask) => masks.push(Mask::clone(&mask)),
                Err(error) => return self.answer_segment(Err(error)).await,
            }
        }
        if let Some(refused) = self.refuse_while_share_spent("segment_edit").await {
            return refused;
        }
        let unit = unit(&volume).to_string();
        let shown_series = self.shown_series(&volume);
        let grown = self
            .app
            .measuring
            .run(move || {
                let grown = seeds::grow_from_seeds(&volume, &masks)?;
                // Only the segments the search changed are measured and kept.
                let mut changed = Vec::new();
                for (index, (before, after)) in masks.iter().zip(grown).enumerate() {
                    if *before != after {
                        let measures = hounsfield_segment::measure(&volume, &after)?;
                        let numbers =
                            series_numbers(&measures, &after, &volume, &shown_series, &unit);
                        changed.push((index, after, numbers));
                    }
                }
                Ok::<_, SegmentError>(changed)
            })
            .await;
        let changed = match grown {
            Ok((Ok(changed), took)) => {
                self.measuring.charge(took, Instant::now());
                changed
            }
            Ok((Err(error), took)) => {
                self.measuring.charge(took, Instant::now());
                let error = match error {
                    SegmentError::SeedsOverlap {
                        first,
                        second,
                        voxels,
                    } => format!(
                        "segments {} and {} share {voxels} voxels: a voxel may seed one segment only",
                        ids.get(first).copied().unwrap_or_default(),
                        ids.get(second).copied().unwrap_or_default()
                    ),
                    error => error.to_string(),
                };
                let why = format!("segment_edit grow_from_seeds: {error}");
                return self.error(ErrorCode::BadValue, why).await;
            }
            Err(error) => return self.error(ErrorCode::Internal, error.to_string()).await,
        };
        let author = self.identity.name.clone().unwrap_or_default();
        let name = format!("grow from seeds, {} segments", ids.len());
        for (index, mask, numbers) in changed {
            let id = ids.get(index).copied().unwrap_or_default();
            let answer = self
                .app
                .segments
                .edited(
                    &series,
                    id,
                    mask,
                    numbers,
                    Algorithm::Semiautomatic(name.clone()),
                    &author,
                )
                .map(|info| ServerMessage::Segment(Box::new(info)));
            self.answer_segment(answer).await?;
        }
        ControlFlow::Continue(())
    }

    /// `segment_undo`: takes a segment's last edit back, or makes one again.
    pub(super) async fn segment_undo(&mut self, id: u32, redo: bool) -> ControlFlow<()> {
        let (series, volume) = match self.series_to_change("segment_undo").await {
            Ok(open) => open,
            Err(replied) => return replied,
        };
        let author = self.identity.name.clone().unwrap_or_default();
        let app = self.app.clone();
        let grid = Grid::of(&volume);
        let undone = tokio::task::spawn_blocking(move || {
            app.segments.undo(&series, id, redo, grid, &author)
        })
        .await;
        match undone {
            Ok(answer) => {
                self.answer_segment(answer.map(|info| ServerMessage::Segment(Box::new(info))))
                    .await
            }
            Err(error) => self.error(ErrorCode::Internal, error.to_string()).await,
        }
    }

    /// Shows the open series' segments over its slice cells from the next frame on (after
    /// a change here or another participant's, and when a series opens), and in the 3D
    /// view at once, or once they rest after a `stroke` of the brush or the eraser.
    pub(super) fn show_segments(&mut self, stroke: bool) {
        if let Some(series) = self.session.series().map(str::to_string) {
            let shown = self.app.segments.shown(&series);
            self.session
                .show_segments(shown, stroke.then(std::time::Instant::now));
        }
    }

    /// Tells the client every segment of `series` (`segments`).
    pub(super) async fn tell_segments(&mut self, series: &str) -> ControlFlow<()> {
        let segments = self.app.segments.told(series);
        self.send(&ServerMessage::Segments {
            series: series.to_string(),
            segments,
        })
        .await
    }

    /// `segments`: the open series' segments.
    pub(super) async fn list_segments(&mut self) -> ControlFlow<()> {
        match self.session.series().map(str::to_string) {
            Some(series) => self.tell_segments(&series).await,
            None => {
                self.error(ErrorCode::NotOpen, "open a series first (see list_studies)")
                    .await
            }
        }
    }

    /// `save_segments`: stores the open series' segments as a DICOM Segmentation where the
    /// study lives (`saved` reply), recorded in the audit log.
    pub(super) async fn save_segments(&mut self) -> ControlFlow<()> {
        let (series, volume) = match self.series_to_change("save_segments").await {
            Ok(open) => open,
            Err(replied) => return replied,
        };
        let Some(subject) = self.app.library.report_subject(&series) else {
            let why = format!(
                "save_segments: series \"{series}\" belongs to no DICOM study to save segments in"
            );
            return self.error(ErrorCode::Unavailable, why).await;
        };
        let segments = self.app.segments.to_save(&series);
        if segments.is_empty() {
            return self
                .error(
                    ErrorCode::BadValue,
                    "save_segments: no segment of the series holds a voxel",
                )
                .await;
        }
        let authorship = self.authorship();
        let store = self.app.findings_store.clone();
        let pacs = self.app.library.pacs_of(&series);
        let count = segments.len();
        let stored = tokio::task::spawn_blocking(move || {
            store
                .store_segmentation(&subject, &volume, &segments, &authorship, pacs.as_ref())
                .map(|stored| (stored, count))
        })
        .await;
        self.tell_stored(&series, "segmentation", stored).await
    }

    /// Sends a segment change (to this client and, as it lands, to the other participants
    /// of its shared session), or the refusal; the 3D view shows it at once.
    pub(super) async fn answer_segment(
        &mut self,
        answer: Result<ServerMessage, SegmentsError>,
    ) -> ControlFlow<()> {
        self.answer_edit(answer, false).await
    }

    /// [`Self::answer_segment`], for a `stroke` of the brush or the eraser: the slices show
    /// it first, the 3D view once the segments rest.
    async fn answer_edit(
        &mut self,
        answer: Result<ServerMessage, SegmentsError>,
        stroke: bool,
    ) -> ControlFlow<()> {
        match answer {
            Ok(answer) => {
                let (session, name) = (self.slot.id(), self.participant_name());
                let told = match &answer {
                    ServerMessage::Segment(segment) => Some(ServerMessage::SharedSegment {
                        session,
                        name,
                        segment: segment.clone(),
                    }),
                    ServerMessage::SegmentDeleted { id } => {
                        Some(ServerMessage::SharedSegmentDeleted {
                            session,
                            name,
                            id: *id,
                        })
                    }
                    _ => None,
                };
                if let (Some(room), Some(told)) = (&self.room, told) {
                    room.tell_others(told);
                }
                self.show_segments(stroke);
                self.send(&answer).await
            }
            Err(error @ SegmentsError::Full) => {
                self.error(ErrorCode::TooLarge, error.to_string()).await
            }
            Err(error) => {
                self.error(ErrorCode::BadValue, format!("segment {error}"))
                    .await
            }
        }
    }

    /// The edit a tool stands for, its cell points turned into patient points and its
    /// values checked; else the code and message of the refusal.
    fn edit_of(&self, series: &str, tool: &SegmentTool) -> Result<Edit, (ErrorCode, String)> {
        let interval = |low: f64, high: f64| {
            ValueInterval::new(low, high)
                .map_err(|error| (ErrorCode::BadValue, format!("segment_edit: {error}")))
        };
        let points = |cell: &str, points: &[[f64; 2]]| -> Result<Vec<DVec3>, (ErrorCode, String)> {
            if points.is_empty() || points.len() > hounsfield_segment::edit::MOST_STROKE_POINTS {
                return Err((
                    ErrorCode::BadValue,
                    format!(
                        "segment_edit points: 1 to {} points, not {}",
                        hounsfield_segment::edit::MOST_STROKE_POINTS,
                        points.len()
                    ),
                ));
            }
            points
                .iter()
                .map(|&at| {
                    self.session
                        .point_in_cell("segment_edit", cell, at)
                        .map_err(|refusal| (refusal.code, refusal.message))
                })
                .collect()
        };
        let brush = |cell: &str, shape: Option<BrushShape>| -> Result<Brush, (ErrorCode, String)> {
            match shape.unwrap_or_default() {
                BrushShape::Sphere => Ok(Brush::Sphere),
                BrushShape::Disc => self
                    .session
                    .cell_normal("segment_edit", cell)
                    .map(|normal_lps| Brush::Disc { normal_lps })
                    .map_err(|refusal| (refusal.code, refusal.message)),
            }
        };
        let other = |id: Option<u32>| -> Result<Mask, (ErrorCode, String)> {
            let id = id.ok_or((
                ErrorCode::BadValue,
                "segment_edit other: missing (the segment to combine with)".to_string(),
            ))?;
            self.app
                .segments
                .mask(series, id)
                .map(|mask| Mask::clone(&mask))
                .map_err(|error| (ErrorCode::BadValue, format!("segment_edit other: {error}")))
        };
        Ok(match tool {
            SegmentTool::Threshold { low, high } => Edit::Threshold(interval(*low, *high)?),
            SegmentTool::Grow {
                cell,
                x,
                y,
                low,
                high,
            } => Edit::Grow {
                seed_lps: points(cell, &[[*x, *y]])?[0],
                interval: interval(*low, *high)?,
            },
            SegmentTool::Paint {
                cell,
                points: stroke,
                radius_mm,
                within,
                shape,
            } => Edit::Paint {
                points_lps: points(cell, stroke)?,
                radius_mm: *radius_mm,
                within: within.map(|[low, high]| interval(low, high)).transpose()?,
                shape: brush(cell, *shape)?,
            },
            SegmentTool::Erase {
                cell,
                points: stroke,
                radius_mm,
                shape,
            } => Edit::Erase {
                points_lps: points(cell, stroke)?,
                radius_mm: *radius_mm,
                shape: brush(cell, *shape)?,
            },
            SegmentTool::Islands(IslandsKeep::Largest) => Edit::KeepLargest,
            SegmentTool::Islands(IslandsKeep::AtLeast { min_mm3 }) => Edit::KeepAtLeast(*min_mm3),
            SegmentTool::Margin { mm } => Edit::Margin(*mm),
            SegmentTool::Closing { mm } => Edit::Closing(*mm),
            SegmentTool::Median { mm } => Edit::Median(*mm),
            SegmentTool::FillBetween { cell, plane } => match (cell, plane) {
                (Some(cell), None) => Edit::FillBetween(FillPlane::Across(
                    self.session
                        .cell_normal("segment_edit fill_between cell", cell)
                        .map_err(|refusal| (refusal.code, refusal.message))?,
                )),
                (None, Some(plane)) => Edit::FillBetween(FillPlane::Grid(match plane {
                    GridPlaneName::Axial => GridPlane::Axial,
                    GridPlaneName::Coronal => GridPlane::Coronal,
                    GridPlaneName::Sagittal => GridPlane::Sagittal,
                })),
                _ => {
                    return Err((
                        ErrorCode::BadValue,
                        "segment_edit fill_between: give the slice cell drawn on (cell) or the \
                         grid's plane (plane), one of the two"
                            .to_string(),
                    ));
                }
            },
            SegmentTool::GrowFromSeeds { .. } => {
                return Err((
                    ErrorCode::BadValue,
                    "segment_edit grow_from_seeds: edits several segments at once".to_string(),
                ));
            }
            SegmentTool::Islands(IslandsKeep::Split) => {
                return Err((
                    ErrorCode::BadValue,
                    "segment_edit islands split: makes several segments at once".to_string(),
                ));
            }
            SegmentTool::Logical {
                operation,
                other: id,
            } => match operation {
                LogicalOperation::Add => Edit::Add(other(*id)?),
                LogicalOperation::Subtract => Edit::Subtract(other(*id)?),
                LogicalOperation::Intersect => Edit::Intersect(other(*id)?),
                LogicalOperation::Invert => Edit::Invert,
            },
            SegmentTool::Clear => Edit::Clear,
        })
    }
}

/// The protocol's name of a tool, for refusals.
fn tool_name(tool: &SegmentTool) -> &'static str {
    match tool {
        SegmentTool::Threshold { .. } => "threshold",
        SegmentTool::Grow { .. } => "grow",
        SegmentTool::Paint { .. } => "paint",
        SegmentTool::Erase { .. } => "erase",
        SegmentTool::Islands(_) => "islands",
        SegmentTool::Margin { .. } => "margin",
        SegmentTool::Closing { .. } => "closing",
        SegmentTool::Median { .. } => "median",
        SegmentTool::FillBetween { .. } => "fill_between",
        SegmentTool::GrowFromSeeds { .. } => "grow_from_seeds",
        SegmentTool::Logical { .. } => "logical",
        SegmentTool::Clear => "clear",
    }
}

/// The unit of `volume`'s values.
pub(super) fn unit(volume: &Volume) -> &'static str {
    hounsfield_findings::unit_of(&volume.modality)
}

/// The description a `segment` message asks for, its values checked.
fn description_of(request: &SegmentRequest) -> Result<Description, String> {
    if let Some(label) = &request.label {
        let chars = label.chars().count();
        if label.trim().is_empty()
            || chars > MOST_LABEL_CHARS
            || label.chars().any(char::is_control)
        {
            return Err(format!(
                "segment label: 1 to {MOST_LABEL_CHARS} characters without control characters"
            ));
        }
    }
    if let Some(opacity) = request.opacity
        && !(opacity.is_finite() && (0.0..=1.0).contains(&opacity))
    {
        return Err(format!("segment opacity {opacity:?}: must be 0 to 1"));
    }
    let code = |what: &str, text: &Option<String>| -> Result<Option<Code>, String> {
        text.as_deref()
            .map(|text| {
                Code::parse(text).ok_or_else(|| {
                    format!(
                        "segment {what}: expected SCHEME:VALUE:MEANING (e.g. SCT:10200004:Liver)"
                    )
                })
            })
            .transpose()
    };
    Ok(Description {
        label: request.label.as_ref().map(|l| l.trim().to_string()),
        colour: request.colour,
        category: code("category", &request.category)?,
        property_type: code("property_type", &request.property_type)?,
        visible: request.visible,
        opacity: request.opacity,
        locked: request.locked,
    })
}
