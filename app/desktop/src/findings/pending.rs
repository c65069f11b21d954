//! A document being kept off the UI thread (a report, key images, a snapshot written to
//! the findings folder or sent to a PACS), its answer taken when it comes.

use std::sync::mpsc::{Receiver, TryRecvError};

use eframe::egui;

use crate::ui_thread::off_the_ui_thread;

/// Work under way on a thread of its own, answering `Ok(T)` or why not.
#[derive(Debug)]
pub struct Pending<T> {
    answer: Receiver<Result<T, String>>,
}

impl<T: Send + 'static> Pending<T> {
    /// Starts `work` on a thread called `name`; the window is woken when it answers.
    pub fn start(
        ctx: &egui::Context,
        name: &str,
        work: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Result<Self, String> {
        off_the_ui_thread(ctx, name, work)
            .map(|answer| Self { answer })
            .map_err(|error| format!("could not start {name}: {error}"))
    }

    /// The answer, once it has come.
    pub fn answer(&self) -> Option<Result<T, String>> {
        match self.answer.try_recv() {
            Ok(answer) => Some(answer),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(
                "the thread keeping it stopped without an answer".to_string(),
            )),
        }
    }
}
