//! `transfer_function`: what an editor of the 3D view's transfer function starts from,
//! the function shown now and the open volume's histogram. The counting runs in the
//! measuring lane, held to the session's share as the tools are; a change the editor
//! makes comes back as the `transfer` action, which the view applies.

use std::ops::ControlFlow;
use std::time::Instant;

use hounsfield_protocol::{ErrorCode, MOST_HISTOGRAM_BINS, ServerMessage};
use render_core::transfer::VolumeStatistics;

use super::Connection;

/// Bins of the histogram when the client names none.
const DEFAULT_BINS: usize = 256;

impl Connection {
    /// `transfer_function`: the transfer function shown and the histogram in `bins` bins.
    pub(super) async fn transfer_function(&mut self, bins: Option<usize>) -> ControlFlow<()> {
        let (series, volume) = match self.open_series().await {
            Ok(open) => open,
            Err(replied) => return replied,
        };
        let bins = bins.unwrap_or(DEFAULT_BINS);
        if !(1..=MOST_HISTOGRAM_BINS).contains(&bins) {
            let why = format!("transfer_function bins {bins}: must be 1..={MOST_HISTOGRAM_BINS}");
            return self.error(ErrorCode::BadValue, why).await;
        }
        let Some(preset) = self.session.transfer_function().cloned() else {
            let why = "transfer_function: the view's preset is not one this server knows";
            return self.error(ErrorCode::Internal, why).await;
        };
        if let Some(refused) = self.refuse_while_share_spent("transfer_function").await {
            return refused;
        }
        let counted = self
            .app
            .measuring
            .run(move || VolumeStatistics::of(&volume).histogram(bins))
            .await;
        match counted {
            Ok((histogram, took)) => {
                self.measuring.charge(took, Instant::now());
                self.send(&ServerMessage::TransferFunction {
                    series,
                    preset: Box::new(preset),
                    histogram,
                })
                .await
            }
            Err(error) => self.error(ErrorCode::Internal, error.to_string()).await,
        }
    }
}
