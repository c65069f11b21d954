//! Whether rendering is up: the render thread's state (rendering, restarting after a
//! fault, or given up), the encode lanes' (encoding, or given up), how often each was
//! restarted, and the policy that says when to stop restarting. `/healthz` and `/metrics`
//! read it; each restart goes to the audit log.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hounsfield_access::audit::{AuditEvent, AuditLog};

/// What a session is told when its frame failed on the GPU, with the render thread or in
/// its encode lane.
pub(super) const RENDERING_FAILED: &str = "rendering failed; the server log says why";

/// Restarts allowed within [`RESTART_WINDOW`]; one more and the component gives up.
pub(super) const MAX_RESTARTS: usize = 5;
/// The window [`MAX_RESTARTS`] counts in.
pub(super) const RESTART_WINDOW: Duration = Duration::from_secs(60);
/// The wait before a restart, times the restarts within the window (shorter in unit tests,
/// which restart often).
const BACKOFF_STEP: Duration = if cfg!(test) {
    Duration::from_millis(20)
} else {
    Duration::from_millis(500)
};

/// What restarted: the render thread or an encode lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Component {
    /// The render thread (and its device).
    Renderer,
    /// An encode lane.
    Encoder,
}

#[derive(Debug, Default)]
struct States {
    /// Why the render thread is not rendering, while it is not.
    renderer_down: Option<String>,
    /// Why encoding stopped, once an encode lane gave up.
    encoder_down: Option<String>,
}

/// The health of the render thread and the encode lanes, shared with the server.
#[derive(Debug)]
pub struct RenderHealth {
    states: Mutex<States>,
    renderer_restarts: AtomicU64,
    encoder_restarts: AtomicU64,
    audit: Mutex<Arc<AuditLog>>,
}

impl Default for RenderHealth {
    fn default() -> Self {
        Self {
            states: Mutex::new(States::default()),
            renderer_restarts: AtomicU64::new(0),
            encoder_restarts: AtomicU64::new(0),
            audit: Mutex::new(Arc::new(AuditLog::disabled())),
        }
    }
}

impl RenderHealth {
    fn states(&self) -> MutexGuard<'_, States> {
        self.states.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Why frames cannot be made now (the render thread restarting or given up, an encode
    /// lane given up): `rendering down: …`; `None` while they can.
    pub fn down(&self) -> Option<String> {
        let states = self.states();
        states
            .renderer_down
            .as_ref()
            .or(states.encoder_down.as_ref())
            .map(|why| format!("rendering down: {why}"))
    }

    /// Whether frames can be made now.
    pub fn is_up(&self) -> bool {
        self.down().is_none()
    }

    /// Restarts of the render thread since start.
    pub fn renderer_restarts(&self) -> u64 {
        self.renderer_restarts.load(Ordering::Relaxed)
    }

    /// Restarts of the encode lanes since start (all lanes together).
    pub fn encoder_restarts(&self) -> u64 {
        self.encoder_restarts.load(Ordering::Relaxed)
    }

    /// Records restarts in `log` from now on.
    pub(super) fn audit_to(&self, log: Arc<AuditLog>) {
        *self.audit.lock().unwrap_or_else(PoisonError::into_inner) = log;
    }

    /// The render thread renders.
    pub(super) fn renderer_up(&self) {
        self.states().renderer_down = None;
    }

    /// The render thread stopped (restarting, or given up): `why` says what to show.
    pub(super) fn renderer_down(&self, why: String) {
        self.states().renderer_down = Some(why);
    }

    /// An encode lane gave up: `why` says which and why.
    pub(super) fn encoder_down(&self, why: String) {
        self.states().encoder_down.get_or_insert(why);
    }

    /// Counts a restart of `component` and records it in the audit log; the restarts of
    /// that component so far, this one included.
    pub(super) fn count_restart(&self, component: Component, reason: &str) -> u64 {
        let counter = match component {
            Component::Renderer => &self.renderer_restarts,
            Component::Encoder => &self.encoder_restarts,
        };
        let restarts = counter.fetch_add(1, Ordering::Relaxed) + 1;
        let audit = self
            .audit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        audit.record(&AuditEvent::RendererRestart {
            restarts,
            reason: reason.to_string(),
        });
        restarts
    }
}

/// When to stop restarting: more than [`MAX_RESTARTS`] within [`RESTART_WINDOW`].
#[derive(Debug, Default)]
pub(super) struct RestartPolicy {
    recent: VecDeque<Instant>,
}

impl RestartPolicy {
    /// Counts a restart at `now`; false when it is one too many (give up).
    pub(super) fn allow(&mut self, now: Instant) -> bool {
        while self
            .recent
            .front()
            .is_some_and(|&at| now.saturating_duration_since(at) > RESTART_WINDOW)
        {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        self.recent.len() <= MAX_RESTARTS
    }

    /// How long to wait before the restart just allowed: longer the more there were lately.
    pub(super) fn backoff(&self) -> Duration {
        BACKOFF_STEP * u32::try_from(self.recent.len().max(1)).unwrap_or(u32::MAX)
    }
}

/// What a caught panic said.
pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    render_core::panics::message(panic)
        .unwrap_or("a panic without a message")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_gives_up_after_too_many_restarts_within_the_window() {
        let mut policy = RestartPolicy::default();
        let start = Instant::now();
        for n in 0..MAX_RESTARTS {
            assert!(policy.allow(start + Duration::from_secs(n as u64)), "{n}");
        }
        assert_eq!(policy.backoff(), BACKOFF_STEP * MAX_RESTARTS as u32);
        assert!(
            !policy.allow(start + Duration::from_secs(10)),
            "one too many within the window"
        );
        let mut spaced = RestartPolicy::default();
        for n in 0..3 * MAX_RESTARTS {
            let apart = RESTART_WINDOW + Duration::from_secs(1);
            let at = start + apart * u32::try_from(n).unwrap_or(0);
            assert!(spaced.allow(at), "restarts a window apart never add up");
        }
        assert_eq!(spaced.backoff(), BACKOFF_STEP);
    }

    #[test]
    fn health_follows_the_render_thread_and_the_encoders() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let path = folder.path().join("audit.jsonl");
        let health = RenderHealth::default();
        health.audit_to(Arc::new(AuditLog::open(&path).expect("log opens")));
        assert!(health.is_up());
        health.renderer_down("restarting after a fault: boom".to_string());
        assert_eq!(
            health.down().as_deref(),
            Some("rendering down: restarting after a fault: boom")
        );
        assert_eq!(health.count_restart(Component::Renderer, "boom"), 1);
        health.renderer_up();
        assert!(health.is_up());
        assert_eq!(health.count_restart(Component::Encoder, "lane 0: bang"), 1);
        assert_eq!(
            (health.renderer_restarts(), health.encoder_restarts()),
            (1, 1)
        );
        health.encoder_down("lane 0 gave up".to_string());
        health.encoder_down("lane 1 gave up".to_string());
        assert_eq!(
            health.down().as_deref(),
            Some("rendering down: lane 0 gave up"),
            "the first"
        );
        let text = std::fs::read_to_string(&path).expect("log readable");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["event"], "renderer_restart");
        assert_eq!(lines[0]["restarts"], 1);
        assert_eq!(lines[0]["reason"], "boom");
        assert_eq!(lines[1]["reason"], "lane 0: bang");
    }
}
