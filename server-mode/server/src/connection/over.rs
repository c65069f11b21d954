//! `over`: a second series of the same patient loaded through the library and drawn over
//! the open series' slice cells, restyled, or taken away (`over` reply).

use std::ops::ControlFlow;

use hounsfield_access::audit::AuditEvent;
use hounsfield_protocol::{ErrorCode, OverRequest, ServerMessage};
use render_core::fusion::{Fusion, SeriesOver};
use render_core::view::SeriesLink;

use super::Connection;
use crate::session::{OverStyle, ShownOver};

impl Connection {
    /// Acts on `over`: checks the style before anything loads, then the second series
    /// (another of the same patient), loads it as `open` does and shows it.
    pub(super) async fn over(&mut self, request: OverRequest) -> ControlFlow<()> {
        let Some(open) = self.session.series().map(str::to_string) else {
            return self
                .error(ErrorCode::NotOpen, "over: open a series first")
                .await;
        };
        let Some(id) = request.series.clone() else {
            return match self.session.show_over(None) {
                Ok(shown) => self.send(&ServerMessage::Over { shown }).await,
                Err(refusal) => self.error(refusal.code, refusal.message).await,
            };
        };
        // The style is checked before anything loads: a bad one costs no load.
        let style = match OverStyle::checked(&request) {
            Ok(style) => style,
            Err(refusal) => return self.error(refusal.code, refusal.message).await,
        };
        // The same series restyled keeps its volume, link and SUV; another starts afresh.
        if let Some(now) = self.session.over().filter(|shown| shown.id == id).cloned() {
            let drawn = SeriesOver {
                fusion: style.applied_to(now.drawn.fusion),
                ..now.drawn
            };
            return self.show_over(ShownOver { drawn, ..now }).await;
        }
        if !self.app.library.one_patient(&open, &id) {
            let why = format!(
                "over: series {} is not listed as the same patient's as series {open}",
                id.chars().take(80).collect::<String>()
            );
            return self.error(ErrorCode::BadValue, why).await;
        }
        let volumes = match self.load(&id).await {
            Ok(volumes) => volumes,
            Err(replied) => return replied,
        };
        // Another series opened while this one loaded: the over was for the one before.
        if self.session.series() != Some(open.as_str()) {
            return ControlFlow::Continue(());
        }
        let volume = volumes.first().clone();
        let Some(first) = self.session.volume() else {
            return ControlFlow::Continue(());
        };
        let library = &self.app.library;
        let link = SeriesLink::between(
            library.frame_of_reference(&open).as_deref(),
            library.frame_of_reference(&id).as_deref(),
            &first,
            &volume,
        );
        let fusion = style.applied_to(Fusion::initial(&volume));
        self.app.config.audit.record(&AuditEvent::SeriesOpened {
            session: self.slot.id(),
            client: self.client,
            user: self.identity.name.clone(),
            series: id.clone(),
            patient_id: library.patient_id(&id).unwrap_or_default(),
        });
        tracing::info!(session = self.slot.id(), over = %id, "series drawn over");
        let suv_factor = volumes.suv_factor();
        let drawn = SeriesOver {
            volume,
            fusion,
            link,
        };
        self.show_over(ShownOver {
            id,
            drawn,
            suv_factor,
        })
        .await
    }

    /// Draws `over` over the slice cells and tells the client.
    async fn show_over(&mut self, over: ShownOver) -> ControlFlow<()> {
        match self.session.show_over(Some(over)) {
            Ok(shown) => self.send(&ServerMessage::Over { shown }).await,
            Err(refusal) => self.error(refusal.code, refusal.message).await,
        }
    }
}
