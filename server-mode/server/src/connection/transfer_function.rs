//! `transfer_function`: what an editor of the 3D view's transfer function starts from,
//! the function shown now and the open volume's histogram. The counting runs in the
//! measuring lane, held to the session's share as the tools are; a change the editor
//! makes comes back as the `transfer` action, which the view applies. `save_preset`: an
//! administrator keeps an edit as a preset of the server's, in its presets folder.

use std::ops::ControlFlow;
use std::time::Instant;

use hounsfield_access::audit::AuditEvent;
use hounsfield_access::users::Role;
use hounsfield_protocol::{ErrorCode, MOST_HISTOGRAM_BINS, ServerMessage};
use render_core::transfer::{Preset, PresetLibrary, VolumeStatistics};

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

    /// `save_preset`: writes `preset` into the server's presets folder and offers it to
    /// the sessions opened from now on (`preset_saved` reply); an administrator's only.
    pub(super) async fn save_preset(&mut self, preset: Preset) -> ControlFlow<()> {
        if self.identity.role != Role::Admin {
            return self
                .forbidden(
                    "save_preset",
                    "only an administrator saves presets on the server; save the file to your own presets folder",
                )
                .await;
        }
        let Some(folder) = self.app.config.presets_folder.clone() else {
            let why = "save_preset: this server has no presets folder to save into";
            return self.error(ErrorCode::Unavailable, why).await;
        };
        let name = preset.name.clone();
        let kept = preset.clone();
        let written =
            tokio::task::spawn_blocking(move || PresetLibrary::save_into(&folder, &kept)).await;
        let saved = match written {
            Ok(Ok(path)) => path,
            Ok(Err(error)) => {
                let code = match error {
                    render_core::transfer::PresetError::Io { .. } => ErrorCode::Internal,
                    _ => ErrorCode::BadValue,
                };
                return self.error(code, format!("save_preset: {error}")).await;
            }
            Err(error) => {
                return self
                    .error(ErrorCode::Internal, format!("save_preset: {error}"))
                    .await;
            }
        };
        if let Err(why) = self.app.scheduler.add_preset(preset) {
            return self
                .error(ErrorCode::Unavailable, format!("save_preset: {why}"))
                .await;
        }
        tracing::info!(preset = %name, file = %saved.display(), "preset saved on the server");
        self.app.config.audit.record(&AuditEvent::PresetSaved {
            session: self.slot.id(),
            user: self.identity.name.clone(),
            preset: name.clone(),
        });
        let presets = self
            .app
            .scheduler
            .presets()
            .names()
            .into_iter()
            .map(str::to_string)
            .collect();
        self.send(&ServerMessage::PresetSaved { name, presets })
            .await
    }
}
