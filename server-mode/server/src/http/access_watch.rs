//! The task that keeps sessions to what their users may still do: the users file read
//! again when it changes, expiries noticed, and sessions of users removed, changed or
//! expired told to end.

use std::sync::Arc;

use chrono::Utc;

use crate::state::App;
use hounsfield_access::identity::POLL_EVERY;

/// Looks at the users file, and at every session's user, every [`POLL_EVERY`] until the
/// server shuts down: sessions of users removed, changed or expired are told to end.
///
/// The file is polled rather than watched with inotify: editors and configuration tools
/// replace files by renaming over them (a ConfigMap swaps a symlink), which a watch on the
/// file misses and a watch on the folder sees as noise; a users file is small, and reading
/// it once a second costs nothing. Polling also checks expiries, which no file event marks.
pub(crate) async fn watch_users(app: Arc<App>) {
    let mut shutdown = app.shutdown.clone();
    let mut tick = tokio::time::interval(POLL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let polled = app.clone();
        // Reading the file blocks; off the async threads.
        let _ = tokio::task::spawn_blocking(move || {
            let now = Utc::now();
            polled.access.poll(&polled.config.audit, now);
            polled
                .roster
                .end_where(|identity| polled.access.still_allowed(identity, now).err());
        })
        .await;
    }
}
