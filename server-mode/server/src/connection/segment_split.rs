//! `segment_edit` `islands` with `keep: split`: a segment's islands (face-connected parts)
//! made segments of their own. The segment keeps its largest island; each other, largest
//! first, becomes a new segment named after it and numbered, with its codes. A segment of
//! more islands than the series has room for segments is refused, whole.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use hounsfield_protocol::{ErrorCode, ServerMessage};
use hounsfield_segment::grow::for_each_island;
use hounsfield_segment::segment::{Algorithm, Code};
use hounsfield_segment::{Grid, Mask, SegmentError, islands, measure};
use render_core::Volume;

use super::Connection;
use super::segments::unit;
use crate::segments::{Description, MOST_SEGMENTS_PER_SERIES, numbers_of, series_numbers};

/// Why a split was refused.
enum Refusal {
    /// More islands than room for segments.
    TooMany { islands: usize, room: usize },
    /// The tools failed.
    Tools(SegmentError),
}

impl Connection {
    /// Splits segment `id` of `series` into its islands, in the measuring lane; every
    /// segment changed or made is told (to this client and the other participants).
    pub(super) async fn split_islands(
        &mut self,
        series: String,
        volume: Arc<Volume>,
        id: u32,
    ) -> ControlFlow<()> {
        let mask = match self.app.segments.mask_to_edit(&series, id) {
            Ok(mask) => mask,
            Err(error) => return self.answer_segment(Err(error)).await,
        };
        let told = self.app.segments.told(&series);
        let Some(whole) = told.iter().find(|segment| segment.id == id).cloned() else {
            let why = format!("segment_edit islands split: id {id}: no such segment");
            return self.error(ErrorCode::BadValue, why).await;
        };
        let room = MOST_SEGMENTS_PER_SERIES.saturating_sub(told.len());
        if let Some(refused) = self.refuse_while_share_spent("segment_edit").await {
            return refused;
        }
        let values_unit = unit(&volume).to_string();
        let lane_volume = Arc::clone(&volume);
        let shown_series = self.shown_series(&volume);
        let split = self
            .app
            .measuring
            .run(move || {
                let grid = Grid::of(&lane_volume);
                let mut count = 0;
                for_each_island(&mask, grid, |_| count += 1);
                if count > room + 1 {
                    return Err(Refusal::TooMany {
                        islands: count,
                        room,
                    });
                }
                islands::split(&mask, grid)
                    .into_iter()
                    .map(|part| {
                        let measures = measure(&lane_volume, &part).map_err(Refusal::Tools)?;
                        let numbers = series_numbers(
                            &measures,
                            &part,
                            &lane_volume,
                            &shown_series,
                            &values_unit,
                        );
                        Ok((part, numbers))
                    })
                    .collect::<Result<Vec<_>, Refusal>>()
            })
            .await;
        let parts = match split {
            Ok((Ok(parts), took)) => {
                self.measuring.charge(took, Instant::now());
                parts
            }
            Ok((Err(refusal), took)) => {
                self.measuring.charge(took, Instant::now());
                let why = match refusal {
                    Refusal::TooMany { islands, room } => format!(
                        "segment_edit islands split: {islands} islands, and the series has room \
                         for {room} more segments: remove the small islands first (keep at_least)"
                    ),
                    Refusal::Tools(error) => format!("segment_edit islands split: {error}"),
                };
                return self.error(ErrorCode::BadValue, why).await;
            }
            Err(error) => return self.error(ErrorCode::Internal, error.to_string()).await,
        };
        let author = self.identity.name.clone().unwrap_or_default();
        let algorithm = Algorithm::Semiautomatic("islands split".to_string());
        let mut parts = parts.into_iter();
        let Some((largest, numbers)) = parts.next() else {
            // An empty segment has no island: it stays as it is.
            let why = "segment_edit islands split: the segment is empty";
            return self.error(ErrorCode::BadValue, why).await;
        };
        let answer = self
            .app
            .segments
            .edited(&series, id, largest, numbers, algorithm.clone(), &author)
            .map(|info| ServerMessage::Segment(Box::new(info)));
        self.answer_segment(answer).await?;
        let grid = Grid::of(&volume);
        let empty = numbers_of(
            &match measure(&volume, &Mask::empty(grid)) {
                Ok(measures) => measures,
                Err(error) => return self.error(ErrorCode::Internal, error.to_string()).await,
            },
            unit(&volume),
        );
        for (n, (part, numbers)) in (2..).zip(parts) {
            let description = Description {
                label: Some(format!("{} {n}", whole.label)),
                category: Code::parse(&whole.category),
                property_type: Code::parse(&whole.property_type),
                ..Description::default()
            };
            let made = self
                .app
                .segments
                .create(&series, grid, description, empty.clone(), &author)
                .and_then(|info| {
                    self.app.segments.edited(
                        &series,
                        info.id,
                        part,
                        numbers,
                        algorithm.clone(),
                        &author,
                    )
                })
                .map(|info| ServerMessage::Segment(Box::new(info)));
            self.answer_segment(made).await?;
        }
        ControlFlow::Continue(())
    }
}
