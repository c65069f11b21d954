//! Progress reporting for long work (scanning folders, decoding series), so a UI can show
//! a progress bar while the work runs on other threads.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Which part of the work is under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading headers to build the catalog.
    Scanning,
    /// Decoding pixel data into the volume.
    Decoding,
    /// Receiving a series' images from a PACS (the network is the caller's: render-core
    /// only names the stage).
    Retrieving,
}

impl Stage {
    /// The stage's name in messages: `scanning`, `decoding` or `retrieving`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Scanning => "scanning",
            Stage::Decoding => "decoding",
            Stage::Retrieving => "retrieving",
        }
    }
}

/// How far a stage has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The stage.
    pub stage: Stage,
    /// Units done (files or slices).
    pub done: usize,
    /// Units in all.
    pub total: usize,
}

/// Receives progress from worker threads; called often, so keep it cheap.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Sync);

/// A progress callback that ignores everything.
pub fn no_progress(_: Progress) {}

/// Counts finished units across threads and reports each step.
pub(crate) struct Counter<'a> {
    stage: Stage,
    total: usize,
    done: AtomicUsize,
    report: ProgressFn<'a>,
}

impl<'a> Counter<'a> {
    pub(crate) fn new(stage: Stage, total: usize, report: ProgressFn<'a>) -> Self {
        report(Progress {
            stage,
            done: 0,
            total,
        });
        Self {
            stage,
            total,
            done: AtomicUsize::new(0),
            report,
        }
    }

    pub(crate) fn add(&self, units: usize) {
        let done = self.done.fetch_add(units, Ordering::Relaxed) + units;
        (self.report)(Progress {
            stage: self.stage,
            done,
            total: self.total,
        });
    }
}
