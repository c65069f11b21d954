//! Signing in before streaming from the configured server (the Server switch, `--render
//! remote`, the offer to switch): where no token is configured and the server wants a
//! login and offers sign-on, the site's identity provider signs the user in in the
//! system's browser, off the UI thread. The view keeps rendering here meanwhile; the switch
//! goes on with the login once the browser comes back, and later switches reuse it until
//! the server refuses it.

use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

use eframe::egui;
use hounsfield_client::sign_in::SignedIn;

use super::DesktopApp;
use crate::settings::ServerEntry;
use crate::thin_client::connection::{trust_for, websocket_url};

/// What is known of signing in to the configured server.
#[derive(Debug, Default)]
pub(super) enum ServerLogin {
    /// Not asked yet.
    #[default]
    Unknown,
    /// It offers no sign-on (or could not be asked): connect as configured.
    NotOffered,
    /// The login its sign-on gave, sent as the login cookie.
    SignedIn(String),
}

/// A sign-in under way in the browser: its one answer comes through a channel of one.
pub(super) struct PendingSignIn {
    answer: Receiver<Result<Option<SignedIn>, String>>,
    /// The server, for the note shown meanwhile.
    server: String,
}

impl DesktopApp {
    /// Whether the switch to `server` must first find out about signing in: it has no
    /// token and no login from this run, and has not said it offers no sign-on. Starts
    /// the sign-in where none is under way.
    pub(super) fn signing_in_first(&mut self, ctx: &egui::Context, server: &ServerEntry) -> bool {
        if server.token.is_some() || !matches!(self.server_login, ServerLogin::Unknown) {
            return false;
        }
        if self.signing_in.is_none() {
            self.start_sign_in(ctx, server);
        }
        true
    }

    /// The login to send with the connection, when the server's sign-on gave one.
    pub(super) fn server_login(&self) -> Option<String> {
        match &self.server_login {
            ServerLogin::SignedIn(login) => Some(login.clone()),
            _ => None,
        }
    }

    /// Forgets a login the server refused (expired, or the server restarted), so the next
    /// switch signs in again.
    pub(super) fn forget_refused_login(&mut self, reason: &str) {
        if matches!(self.server_login, ServerLogin::SignedIn(_))
            && (reason.contains("401") || reason.contains("Unauthorized"))
        {
            self.server_login = ServerLogin::Unknown;
        }
    }

    fn start_sign_in(&mut self, ctx: &egui::Context, server: &ServerEntry) {
        let websocket = match websocket_url(&server.url) {
            Ok(url) => url,
            Err(error) => {
                self.warnings.push(error);
                return;
            }
        };
        let trust = trust_for(&websocket, &server.url, Vec::new(), |name| {
            self.settings.trusted_certificate(name)
        });
        let (tell, answer) = sync_channel(1);
        let wake = ctx.clone();
        let started = std::thread::Builder::new()
            .name("sign-in".to_string())
            .spawn(move || {
                let signed = crate::sign_in::through_provider(&websocket, &trust, false)
                    .map_err(|error| format!("{error:#}"));
                // The window may have closed meanwhile: nobody is left to tell.
                let _ = tell.send(signed);
                wake.request_repaint();
            });
        match started {
            Ok(_) => {
                self.note = Some(format!(
                    "{}: sign in in your browser to stream from it (rendering here meanwhile)",
                    server.url
                ));
                self.signing_in = Some(PendingSignIn {
                    answer,
                    server: server.url.clone(),
                });
            }
            Err(error) => self.warnings.push(format!(
                "cannot start signing in to {}: {error}",
                server.url
            )),
        }
    }

    /// Takes the sign-in's answer when it has come, and goes on with the switch.
    pub(super) fn poll_sign_in(&mut self, ctx: &egui::Context) {
        let Some(pending) = &self.signing_in else {
            return;
        };
        let answer = match pending.answer.try_recv() {
            Ok(answer) => answer,
            Err(TryRecvError::Empty) => return,
            Err(TryRecvError::Disconnected) => Err("the sign-in stopped".to_string()),
        };
        let server = pending.server.clone();
        self.signing_in = None;
        self.note = None;
        match answer {
            Ok(Some(signed)) => {
                tracing::info!(server = %server, user = %signed.user, role = %signed.role, "signed in");
                self.server_login = ServerLogin::SignedIn(signed.login);
                self.switch_to_remote(ctx);
            }
            Ok(None) => {
                self.server_login = ServerLogin::NotOffered;
                self.switch_to_remote(ctx);
            }
            Err(error) => self
                .warnings
                .push(format!("not signed in, rendering here: {error}")),
        }
    }

    /// Whether a sign-in is under way in the browser.
    pub(super) fn sign_in_pending(&self) -> bool {
        self.signing_in.is_some()
    }
}
