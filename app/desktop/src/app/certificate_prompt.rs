//! Trust on first use: when a server's certificate is signed by no authority this machine
//! trusts (a colleague's or a hospital's self-signed one), the window shows its SHA-256
//! fingerprint for the user to compare with the one the server's operator gives, and
//! connects only once the user trusts it. The trust is remembered in the settings for that
//! server; a different certificate later is refused with a clear message.

use eframe::egui;
use hounsfield_tls::{Fingerprint, ServerTrust};

use super::{DesktopApp, State};
use crate::thin_client::connection::server_authority;
use crate::thin_client::remote_view::RemoteView;

impl DesktopApp {
    /// The prompt, while the remote view waits for the user's trust.
    pub(super) fn certificate_window(&mut self, ctx: &egui::Context) {
        let State::Remote { view, .. } = &self.state else {
            return;
        };
        let Some((fingerprint, reason)) = view.untrusted() else {
            return;
        };
        let server = server_authority(&view.target().url).unwrap_or_default();
        let mut trusted = false;
        let mut refused = false;
        egui::Window::new("Certificate not trusted")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .show(ctx, |ui| {
                ui.label(format!(
                    "The server {server} presents a certificate that is {reason}."
                ));
                ui.label(
                    "Trust it only if this SHA-256 fingerprint is the one the server's operator gives you:",
                );
                ui.monospace(fingerprint.to_string());
                ui.horizontal(|ui| {
                    trusted = ui.button("Trust this certificate").clicked();
                    refused = ui.button("Cancel").clicked();
                });
            });
        if trusted {
            self.trust_certificate(ctx, &server, fingerprint);
        } else if refused {
            self.refuse_certificate();
        }
    }

    /// Remembers `fingerprint` for `server` and connects again, trusting only it.
    fn trust_certificate(&mut self, ctx: &egui::Context, server: &str, fingerprint: Fingerprint) {
        self.settings.trust_certificate(server, fingerprint);
        self.save_settings();
        let State::Remote { view, parked } =
            std::mem::replace(&mut self.state, State::Failed(String::new()))
        else {
            return;
        };
        let mut target = view.target().clone();
        target.trust = ServerTrust {
            pinned: Some(fingerprint),
            ..target.trust
        };
        let mirror = view.mirror.clone();
        drop(view);
        match RemoteView::connect(ctx, target, mirror) {
            Ok(view) => {
                self.state = State::Remote {
                    view: Box::new(view),
                    parked,
                };
            }
            Err(error) => match parked {
                Some(local) => {
                    self.state = State::Local(local);
                    self.warnings
                        .push(format!("cannot start the connection: {error}"));
                }
                None => self.state = State::Failed(format!("cannot start the connection: {error}")),
            },
        }
    }

    /// The user did not trust the certificate: back to rendering here, or nothing to show.
    fn refuse_certificate(&mut self) {
        let reason = "the server's certificate was not trusted".to_string();
        if matches!(
            &self.state,
            State::Remote {
                parked: Some(_),
                ..
            }
        ) {
            self.switch_to_local(Some(reason));
        } else {
            self.state = State::Failed(reason);
        }
    }
}
