//! Findings in a connection: `finding` draws, redraws or deletes one on the open series
//! (kept in the server's book, which every session opening the series shares, and told to
//! the other participants of a shared session as it is made), a series opening tells its
//! findings (`findings`), and `save_findings` stores them as a report.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;

use hounsfield_findings::Finding;
use hounsfield_protocol::{ErrorCode, FindingAction, FindingRequest, ServerMessage};
use render_core::Volume;

use super::Connection;
use crate::findings::measuring::MeasuringError;
use crate::findings::{BookError, Measured};

impl Connection {
    /// `finding`: creates, updates or deletes one of the open series' findings.
    pub(super) async fn finding(&mut self, request: FindingRequest) -> ControlFlow<()> {
        let Some(series) = self.session.series().map(str::to_string) else {
            return self
                .error(ErrorCode::NotOpen, "open a series first (see list_studies)")
                .await;
        };
        let author = self.identity.name.clone().unwrap_or_default();
        let app = self.app.clone();
        let book = &app.findings;
        let id = match (request.action, request.id) {
            (FindingAction::Create, _) => 0,
            (_, Some(id)) => id,
            (_, None) => {
                return self
                    .error(
                        ErrorCode::BadValue,
                        "finding id: missing (update and delete name one)",
                    )
                    .await;
            }
        };
        let answer = match request.action {
            FindingAction::Delete => book
                .delete(&series, id)
                .map(|()| ServerMessage::FindingDeleted { id }),
            FindingAction::Create | FindingAction::Update => {
                let before = book.finding(&series, id);
                if request.action == FindingAction::Update && before.is_none() {
                    Err(BookError::UnknownId(id))
                } else {
                    let drawn = match before {
                        // A note-only change keeps the shape where it is in the patient.
                        Some(before) if request.points.is_empty() => {
                            let note = request.note.clone().unwrap_or_default();
                            self.session.renote_finding(before, note)
                        }
                        before => self.session.draw_finding(&redrawn(&request, before), id),
                    };
                    let (finding, volume) = match drawn {
                        Ok(drawn) => drawn,
                        Err(refusal) => return self.error(refusal.code, refusal.message).await,
                    };
                    let (finding, measured) = match self.measured(volume, finding).await {
                        Ok(measured) => measured,
                        Err(replied) => return replied,
                    };
                    let kept = if request.action == FindingAction::Create {
                        book.create(&series, finding, measured, &author)
                    } else {
                        book.update(&series, finding, measured, &author)
                    };
                    kept.map(ServerMessage::Finding)
                }
            }
        };
        match answer {
            Ok(answer) => {
                self.tell_participants(&answer).await?;
                self.send(&answer).await
            }
            Err(error @ BookError::Full) => {
                self.error(ErrorCode::TooLarge, error.to_string()).await
            }
            Err(error @ BookError::UnknownId(_)) => {
                self.error(ErrorCode::BadValue, format!("finding {error}"))
                    .await
            }
        }
    }

    /// Measures `finding` on `volume` in the server's measuring lane, within this
    /// session's share of it; else the reply that refused it.
    async fn measured(
        &mut self,
        volume: Arc<Volume>,
        finding: Finding,
    ) -> Result<(Finding, Measured), ControlFlow<()>> {
        if !self.measuring.may_measure(Instant::now()) {
            let why = format!(
                "finding: this session's measuring used its share ({} s a second); \
                 draw again in a moment",
                self.measuring.per_s()
            );
            return Err(self.error(ErrorCode::RateLimited, why).await);
        }
        let series = self.session.series_volumes();
        match self.app.measuring.measure(volume, finding, series).await {
            Ok((finding, measured, took)) => {
                self.measuring.charge(took, Instant::now());
                Ok((finding, measured))
            }
            Err(error @ MeasuringError::Finding(_)) => {
                Err(self.error(ErrorCode::BadValue, error.to_string()).await)
            }
            Err(error @ MeasuringError::Lane(_)) => {
                Err(self.error(ErrorCode::Internal, error.to_string()).await)
            }
        }
    }

    /// Tells the other participants of this session's shared session a finding it
    /// made (`answer`, its own client's reply), as it made it; and records it, while the
    /// session records.
    async fn tell_participants(&mut self, answer: &ServerMessage) -> ControlFlow<()> {
        let (session, name) = (self.slot.id(), self.participant_name());
        let told = match answer {
            ServerMessage::Finding(finding) => ServerMessage::SharedFinding {
                session,
                name,
                finding: finding.clone(),
            },
            ServerMessage::FindingDeleted { id } => ServerMessage::SharedFindingDeleted {
                session,
                name,
                id: *id,
            },
            _ => return ControlFlow::Continue(()),
        };
        if let Some(room) = &self.room {
            room.tell_others(told.clone());
        }
        self.record_told(&told).await
    }

    /// Tells the client every finding of `series`, reading its last report first (its
    /// findings and its calcium score) when the server has not read it since it started.
    pub(super) async fn tell_findings(&mut self, series: &str) -> ControlFlow<()> {
        if !self.app.findings.holds(series)
            && let Some(subject) = self.app.library.report_subject(series)
        {
            let store = self.app.findings_store.clone();
            let pacs = self.app.library.pacs_of(series);
            let read =
                tokio::task::spawn_blocking(move || store.load(&subject, pacs.as_ref())).await;
            match read {
                Ok(Ok(read)) => self.app.findings.restore(series, read),
                Ok(Err(error)) => {
                    tracing::warn!(series, ?error, "the series' findings could not be read");
                }
                Err(error) => tracing::error!(%error, "reading findings failed"),
            }
        }
        let findings = self.app.findings.told(series);
        self.send(&ServerMessage::Findings {
            series: series.to_string(),
            findings,
        })
        .await
    }

    /// `save_findings`: stores the open series' findings as a Measurement Report where the
    /// study lives (`saved` reply), recorded in the audit log.
    pub(super) async fn save_findings(&mut self) -> ControlFlow<()> {
        if !self.identity.role.opens_series() {
            return self
                .forbidden("save_findings", "a viewer may not save findings")
                .await;
        }
        let (series, volume) = match self.open_series().await {
            Ok(open) => open,
            Err(replied) => return replied,
        };
        let Some(subject) = self.app.library.report_subject(&series) else {
            let why = format!(
                "save_findings: series \"{series}\" belongs to no DICOM study to save findings in"
            );
            return self.error(ErrorCode::Unavailable, why).await;
        };
        if self.app.findings.measured(&series).is_empty()
            && self.app.findings.calcium(&series).is_none()
        {
            return self
                .error(
                    ErrorCode::BadValue,
                    "save_findings: the series has no findings",
                )
                .await;
        }
        let authorship = self.authorship();
        let app = self.app.clone();
        let pacs = self.app.library.pacs_of(&series);
        let of = series.clone();
        // The findings are read in the series' turn: two readers saving at once both
        // keep what they were told is saved, the later report holding the earlier's.
        let saved = tokio::task::spawn_blocking(move || {
            let findings = || (app.findings.measured(&of), app.findings.calcium(&of));
            app.findings_store
                .save(&subject, &volume, findings, &authorship, pacs.as_ref())
        })
        .await;
        self.tell_stored(&series, "measurement report", saved).await
    }
}

/// The request an `update` stands for: the kind and cell it leaves out taken from the
/// finding as it was.
fn redrawn(request: &FindingRequest, before: Option<Finding>) -> FindingRequest {
    let Some(before) = before else {
        return request.clone();
    };
    FindingRequest {
        kind: request
            .kind
            .clone()
            .or_else(|| Some(before.kind.name().to_string())),
        cell: request
            .cell
            .clone()
            .or_else(|| Some(before.plane.name().to_string())),
        ..request.clone()
    }
}
