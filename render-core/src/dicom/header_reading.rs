//! Reading the headers of a scan's files in parallel, each within a time limit. A file
//! whose read takes longer than [`FILE_READ_LIMIT`] (a stalled network mount: a read the
//! kernel never returns from) is skipped with that reason, and the scan goes on without
//! it. Reads run as tasks of a thread pool of the scan's own, so a thread stuck in such a
//! read is left behind without holding up the scan or the rest of the program.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::catalog::SkippedFile;

/// The longest one file's header may take to read. A header is kilobytes: even a slow
/// network mount returns it within seconds.
pub const FILE_READ_LIMIT: Duration = Duration::from_secs(30);

/// Results waiting for the scan to take them: a few per worker.
const WAITING_RESULTS: usize = 256;

/// Reads every file of `files` with `read` on a pool of the scan's own, calling
/// `counted` once per file answered or given up; the files' results sorted by path, and
/// the files skipped because their read took longer than `limit`. When no read at all
/// ends for twice `limit` (every worker stuck), the files not yet read are skipped too.
pub(crate) fn read_within<T: Send + 'static>(
    files: Vec<PathBuf>,
    read: impl Fn(&Path) -> T + Send + Sync + 'static,
    limit: Duration,
    counted: impl Fn(),
) -> (Vec<(PathBuf, T)>, Vec<SkippedFile>) {
    let pool = match rayon::ThreadPoolBuilder::new()
        .thread_name(|n| format!("header-{n}"))
        .build()
    {
        Ok(pool) => pool,
        Err(error) => {
            // No pool of its own: read here, without a time limit.
            tracing::warn!(%error, "no thread pool for reading headers");
            let read = files
                .into_iter()
                .map(|file| {
                    let result = read(&file);
                    counted();
                    (file, result)
                })
                .collect();
            return (read, Vec::new());
        }
    };
    let mut pending: HashSet<PathBuf> = files.iter().cloned().collect();
    let read = Arc::new(read);
    // When each file now being read started.
    let reading: Arc<Mutex<HashMap<PathBuf, Instant>>> = Arc::default();
    let (sender, results) = sync_channel(WAITING_RESULTS);
    for file in files {
        let (read, reading, sender) = (read.clone(), reading.clone(), sender.clone());
        pool.spawn(move || {
            lock(&reading).insert(file.clone(), Instant::now());
            let result = read(&file);
            lock(&reading).remove(&file);
            // The scan may have stopped waiting for this file: nobody to tell then.
            let _ = sender.send((file, result));
        });
    }
    drop(sender);
    let mut answered = Vec::with_capacity(pending.len());
    let mut skipped = Vec::new();
    let mut last_answer = Instant::now();
    let seconds = limit.as_secs_f64();
    while !pending.is_empty() {
        match results.recv_timeout(limit.min(Duration::from_millis(250))) {
            Ok((file, result)) => {
                if pending.remove(&file) {
                    counted();
                    answered.push((file, result));
                    last_answer = Instant::now();
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let overdue: Vec<PathBuf> = lock(&reading)
                    .iter()
                    .filter(|(_, started)| now.duration_since(**started) > limit)
                    .map(|(file, _)| file.clone())
                    .collect();
                for file in overdue {
                    if pending.remove(&file) {
                        counted();
                        let reason = format!("its header took longer than {seconds} s to read");
                        skipped.push(SkippedFile { file, reason });
                    }
                }
                if now.duration_since(last_answer) > limit.saturating_mul(2) {
                    tracing::warn!("no file header read for a while: the scan stops waiting");
                    for file in pending.drain() {
                        counted();
                        let reason = format!(
                            "not read: no header of this scan could be read for {} s",
                            2.0 * seconds
                        );
                        skipped.push(SkippedFile { file, reason });
                    }
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    answered.sort_by(|a, b| a.0.cmp(&b.0));
    (answered, skipped)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The map is whole between statements.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_past_the_limit_is_skipped_with_its_reason_and_the_others_are_kept() {
        let files: Vec<PathBuf> = (0..8).map(|n| PathBuf::from(format!("f{n}"))).collect();
        let counted = std::sync::atomic::AtomicUsize::new(0);
        let started = Instant::now();
        let (read, skipped) = read_within(
            files,
            |file: &Path| {
                if file == Path::new("f3") {
                    // A read that never returns in time (a stalled mount).
                    std::thread::sleep(Duration::from_secs(30));
                }
                file.display().to_string()
            },
            Duration::from_millis(300),
            || {
                counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            },
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the scan did not wait"
        );
        let names: Vec<&str> = read.iter().map(|(_, name)| name.as_str()).collect();
        assert_eq!(names, ["f0", "f1", "f2", "f4", "f5", "f6", "f7"]);
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        assert_eq!(skipped[0].file, PathBuf::from("f3"));
        assert!(
            skipped[0].reason.contains("longer than 0.3 s"),
            "{skipped:?}"
        );
        assert_eq!(counted.load(std::sync::atomic::Ordering::Relaxed), 8);
    }
}
