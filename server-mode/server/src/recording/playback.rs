//! Playing a recording back: a timeline over its moments that plays, pauses, seeks and
//! changes speed. The session playing asks what is due and applies it: the views it
//! follows, the pointers and findings it tells its client.

use std::time::{Duration, Instant};

use hounsfield_protocol::{FindingInfo, ServerMessage, SharedView};

use super::{Happening, Recording};

/// The most moments [`Playback::due`] gives at once: moments recorded together (a file
/// of thousands at one instant) are applied a batch a turn, so that the session reads
/// its client's messages between batches.
pub const MOST_DUE_AT_ONCE: usize = 64;

/// The slowest and fastest a recording plays.
pub const SPEEDS: std::ops::RangeInclusive<f64> = 0.25..=8.0;

/// A recording playing in a session.
#[derive(Debug)]
pub struct Playback {
    recording: Recording,
    /// Where the timeline stood at `anchor` (ms from the recording's start).
    anchored_ms: f64,
    anchor: Instant,
    playing: bool,
    speed: f64,
    /// The first moment not yet applied.
    next: usize,
}

/// What a moment due asks of the session.
#[derive(Debug, Clone, PartialEq)]
pub enum Due {
    /// Show this view.
    View(SharedView),
    /// Tell the client this.
    Tell(ServerMessage),
}

impl Playback {
    /// `recording`, playing from its start at `now` as recorded.
    pub fn new(recording: Recording, now: Instant) -> Self {
        Self {
            recording,
            anchored_ms: 0.0,
            anchor: now,
            playing: true,
            speed: 1.0,
            next: 0,
        }
    }

    /// The recording's id.
    pub fn id(&self) -> &str {
        &self.recording.header.id
    }

    /// The series it shows.
    pub fn series(&self) -> &str {
        &self.recording.header.series
    }

    /// Whether it plays (it pauses by itself at its end).
    pub fn playing(&self) -> bool {
        self.playing
    }

    /// Where the timeline stands at `now` (ms).
    pub fn at_ms(&self, now: Instant) -> f64 {
        let duration = self.recording.duration_ms() as f64;
        if !self.playing {
            return self.anchored_ms.min(duration);
        }
        let played = now.saturating_duration_since(self.anchor).as_secs_f64() * 1000.0;
        (self.anchored_ms + played * self.speed).min(duration)
    }

    /// When the next moment is due, while it plays.
    pub fn due_at(&self) -> Option<Instant> {
        let moment = self
            .recording
            .moments
            .get(self.next)
            .filter(|_| self.playing)?;
        let ahead_ms = (moment.t_ms as f64 - self.anchored_ms).max(0.0) / self.speed;
        Some(self.anchor + Duration::from_secs_f64(ahead_ms / 1000.0))
    }

    /// The moments due by `now`, in order, at most [`MOST_DUE_AT_ONCE`] (the rest stay
    /// due); the timeline stops at the recording's end.
    pub fn due(&mut self, now: Instant) -> Vec<Due> {
        let at = self.at_ms(now);
        let mut due = Vec::new();
        while let Some(moment) = self.recording.moments.get(self.next) {
            if moment.t_ms as f64 > at || due.len() == MOST_DUE_AT_ONCE {
                break;
            }
            self.next += 1;
            match &moment.what {
                Happening::View { view } => due.push(Due::View(view.as_ref().clone())),
                Happening::Told { message } => due.push(Due::Tell(message.as_ref().clone())),
                Happening::End => {}
            }
        }
        if self.next >= self.recording.moments.len() && self.playing {
            self.pause(now);
        }
        due
    }

    /// Plays on from where it stands, at `speed` (clamped to [`SPEEDS`]) when given.
    pub fn play(&mut self, speed: Option<f64>, now: Instant) {
        self.anchored_ms = self.at_ms(now);
        self.anchor = now;
        if let Some(speed) = speed.filter(|s| s.is_finite()) {
            self.speed = speed.clamp(*SPEEDS.start(), *SPEEDS.end());
        }
        if self.anchored_ms >= self.recording.duration_ms() as f64 {
            // At the end: play from the start again.
            self.seek(0.0, now);
        }
        self.playing = true;
    }

    /// Pauses where it stands.
    pub fn pause(&mut self, now: Instant) {
        self.anchored_ms = self.at_ms(now);
        self.anchor = now;
        self.playing = false;
    }

    /// Goes to `at_ms` (clamped to the recording): the view and the findings there. The
    /// moments after it are played from there on.
    pub fn seek(&mut self, at_ms: f64, now: Instant) -> (SharedView, Vec<FindingInfo>) {
        let at = if at_ms.is_finite() { at_ms } else { 0.0 };
        let at = at.clamp(0.0, self.recording.duration_ms() as f64);
        self.anchored_ms = at;
        self.anchor = now;
        self.next = self
            .recording
            .moments
            .partition_point(|moment| moment.t_ms as f64 <= at);
        (
            self.recording.view_at(at).clone(),
            self.recording.findings_at(at),
        )
    }

    /// The `playback_state` to tell at `now`.
    pub fn state(&self, now: Instant) -> ServerMessage {
        ServerMessage::PlaybackState {
            id: self.id().to_string(),
            at_ms: self.at_ms(now),
            duration_ms: self.recording.duration_ms(),
            playing: self.playing,
            speed: self.speed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{recording, view};
    use super::*;

    #[test]
    fn it_plays_the_moments_as_they_fall_due_and_stops_at_the_end() {
        let start = Instant::now();
        let mut playback = Playback::new(recording(), start);
        assert_eq!(playback.due(start), Vec::new(), "nothing at 0 ms");
        assert_eq!(playback.due_at(), Some(start + Duration::from_millis(100)));
        let due = playback.due(start + Duration::from_millis(250));
        assert_eq!(due.len(), 2, "the view at 100 ms and the pointer at 200 ms");
        assert_eq!(due[0], Due::View(view("ct-lung")));
        playback.pause(start + Duration::from_millis(250));
        assert_eq!(playback.due_at(), None, "paused");
        assert!((playback.at_ms(start + Duration::from_secs(9)) - 250.0).abs() < 1e-6);
        playback.play(Some(2.0), start + Duration::from_secs(9));
        let due = playback.due(start + Duration::from_millis(9_200));
        assert_eq!(
            due.len(),
            2,
            "at 650 ms of the recording: the ruler and a view"
        );
        assert_eq!(due[1], Due::View(view("ct-soft")));
        let _ = playback.due(start + Duration::from_secs(20));
        assert!(!playback.playing(), "it pauses at its end");
        assert!((playback.at_ms(start + Duration::from_secs(30)) - 1000.0).abs() < 1e-6);
    }

    #[test]
    fn moments_recorded_together_are_given_a_batch_at_a_time() {
        let start = Instant::now();
        let mut made = recording();
        let pointer = made.moments[1].clone();
        made.moments = std::iter::repeat_n(pointer, 1000).collect();
        let mut playback = Playback::new(made, start);
        let later = start + Duration::from_secs(1);
        let mut batches = Vec::new();
        while playback.due_at().is_some_and(|due| due <= later) {
            batches.push(playback.due(later).len());
        }
        assert_eq!(batches.len(), 1000usize.div_ceil(MOST_DUE_AT_ONCE));
        assert!(
            batches.iter().all(|n| *n <= MOST_DUE_AT_ONCE),
            "{batches:?}"
        );
        assert_eq!(batches.iter().sum::<usize>(), 1000);
        assert!(!playback.playing(), "it pauses at its end");
    }

    #[test]
    fn a_seek_gives_the_view_and_findings_there_and_plays_on_from_it() {
        let start = Instant::now();
        let mut playback = Playback::new(recording(), start);
        let (shown, findings) = playback.seek(700.0, start);
        assert_eq!(shown, view("ct-soft"));
        assert_eq!(findings.iter().map(|f| f.id).collect::<Vec<_>>(), vec![1]);
        let (shown, findings) = playback.seek(-5.0, start);
        assert_eq!(
            (shown, findings.len()),
            (view("ct-bone"), 0),
            "clamped to the start"
        );
        let (_, findings) = playback.seek(f64::INFINITY, start);
        assert!(findings.is_empty(), "infinity is no time: the start");
        let (_, findings) = playback.seek(5_000.0, start);
        assert!(findings.is_empty(), "deleted by the end");
        playback.play(None, start);
        assert_eq!(playback.due(start), Vec::new());
    }
}
