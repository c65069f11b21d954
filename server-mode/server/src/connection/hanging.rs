//! A study opened as the site's hanging protocols lay it out (`open_study`), and the
//! patient's other studies told after a series opens (`priors`).

use std::ops::ControlFlow;

use hounsfield_protocol::{ErrorCode, ServerMessage, cut_with_mark};

use super::Connection;

/// The most characters of an unknown study's id echoed in the refusal.
const ECHOED_ID_CHARS: usize = 64;

impl Connection {
    /// Opens study `id`: `hanging` first where a protocol fits the study and its priors,
    /// then its first cell's series as `open` opens it; without a protocol, the study's
    /// first volume series.
    pub(super) async fn open_study(&mut self, id: &str) -> ControlFlow<()> {
        let Some((study, priors)) = self.app.library.study_with_priors(id) else {
            let why = format!(
                "open_study: no study {:?}",
                cut_with_mark(id, ECHOED_ID_CHARS)
            );
            return self.error(ErrorCode::UnknownSeries, why).await;
        };
        let series = match self.app.config.hanging.hang(&study, &priors) {
            Some(hanging) => {
                let first = hanging.cells[0].series.clone();
                tracing::info!(
                    session = self.slot.id(),
                    protocol = %hanging.protocol,
                    cells = hanging.cells.len(),
                    "hanging protocol applied"
                );
                self.send(&ServerMessage::Hanging {
                    protocol: hanging.protocol,
                    cells: hanging.cells,
                })
                .await?;
                first
            }
            None => match hounsfield_hanging::first_volume(&study) {
                Some(series) => series.id.clone(),
                None => {
                    let why = "open_study: the study has no series that opens as a volume";
                    return self.error(ErrorCode::Unavailable, why).await;
                }
            },
        };
        self.open(series).await
    }

    /// Tells `priors` after `series` opened, where its patient has other studies and this
    /// user may open them.
    pub(super) async fn tell_priors(&mut self, series: &str) -> ControlFlow<()> {
        if !self.identity.role.opens_series() {
            return ControlFlow::Continue(());
        }
        let studies = self.app.library.priors_of_series(series);
        if studies.is_empty() {
            return ControlFlow::Continue(());
        }
        self.send(&ServerMessage::Priors {
            series: series.to_string(),
            studies,
        })
        .await
    }
}
