//! Reading the headers of a scan's files in parallel, each within a time limit. A file
//! whose read takes longer than [`FILE_READ_LIMIT`] (a stalled network mount: a read the
//! kernel never returns from) is skipped with that reason, and the scan goes on without
//! it. Reads run as tasks of a thread pool of their own, so a thread stuck in such a read
//! holds up neither the scan nor the rest of the program; a pool that had one is replaced
//! for the scans after.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::skipped::SkippedFile;

/// The longest one file's header may take to read. A header is kilobytes: even a slow
/// network mount returns it within seconds.
pub const FILE_READ_LIMIT: Duration = Duration::from_secs(30);

/// Reads every file of `files` with `read` on the header-reading pool, calling `counted`
/// once per file answered or given up; the files' results sorted by path, and the files
/// skipped because their read took longer than `limit`. When no read at all ends for
/// twice `limit` (every worker stuck), the files not yet read are skipped too.
pub(crate) fn read_within<T: Send + 'static>(
    files: Vec<PathBuf>,
    read: impl Fn(&Path) -> T + Send + Sync + 'static,
    limit: Duration,
    counted: impl Fn(),
) -> (Vec<(PathBuf, T)>, Vec<SkippedFile>) {
    let Some(pool) = shared_pool() else {
        // No pool: read here, without a time limit.
        let read = files
            .into_iter()
            .map(|file| {
                let result = read(&file);
                counted();
                (file, result)
            })
            .collect();
        return (read, Vec::new());
    };
    let mut pending: HashSet<PathBuf> = files.iter().cloned().collect();
    let shared = Arc::new(Reads {
        read,
        reading: Mutex::default(),
        done: Mutex::new(Vec::new()),
        left: AtomicUsize::new(files.len()),
        all_read: Condvar::new(),
    });
    for file in files {
        let shared = shared.clone();
        pool.spawn(move || shared.read_one(file));
    }
    let mut answered = Vec::with_capacity(pending.len());
    let mut skipped = Vec::new();
    let mut last_answer = Instant::now();
    let seconds = limit.as_secs_f64();
    // Woken when every read has ended, else every tick to look for late ones: not once
    // per file, which would take the processor from the readers on a small machine.
    let tick = limit.min(Duration::from_millis(250));
    while !pending.is_empty() {
        let arrived: Vec<(PathBuf, T)> = {
            let done = lock(&shared.done);
            let (mut done, _) = shared
                .all_read
                .wait_timeout_while(done, tick, |done| {
                    done.is_empty() || shared.left.load(Ordering::Acquire) > 0
                })
                .unwrap_or_else(PoisonError::into_inner);
            std::mem::take(&mut *done)
        };
        if !arrived.is_empty() {
            last_answer = Instant::now();
        }
        for (file, result) in arrived {
            if pending.remove(&file) {
                counted();
                answered.push((file, result));
            }
        }
        let now = Instant::now();
        let overdue: Vec<PathBuf> = lock(&shared.reading)
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
        if !pending.is_empty() && now.duration_since(last_answer) > limit.saturating_mul(2) {
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
    if !skipped.is_empty() {
        // Threads of this pool may be stuck in a read for good: later scans get a new one.
        retire(&pool);
    }
    answered.sort_by(|a, b| a.0.cmp(&b.0));
    (answered, skipped)
}

/// The reads of one scan, shared with the tasks that make them.
struct Reads<T, R> {
    read: R,
    /// When each file now being read started.
    reading: Mutex<HashMap<PathBuf, Instant>>,
    /// Reads ended and not yet taken by the scan.
    done: Mutex<Vec<(PathBuf, T)>>,
    /// Reads not yet ended.
    left: AtomicUsize,
    /// Told when the last read ends.
    all_read: Condvar,
}

impl<T, R: Fn(&Path) -> T> Reads<T, R> {
    /// Reads `file` and hands its result to the scan.
    fn read_one(&self, file: PathBuf) {
        lock(&self.reading).insert(file.clone(), Instant::now());
        let result = (self.read)(&file);
        lock(&self.reading).remove(&file);
        // Counted down under the lock the scan waits with, so that it cannot miss the
        // last read's news between looking and waiting.
        let mut done = lock(&self.done);
        done.push((file, result));
        let last = self.left.fetch_sub(1, Ordering::AcqRel) == 1;
        drop(done);
        if last {
            self.all_read.notify_one();
        }
    }
}

/// The pool scans read headers on, made once (making one per scan costs more than a small
/// scan) and replaced once a read on it was given up.
fn shared_pool() -> Option<Arc<rayon::ThreadPool>> {
    let mut pool = lock(pool_slot());
    if pool.is_none() {
        match rayon::ThreadPoolBuilder::new()
            .thread_name(|n| format!("header-{n}"))
            .build()
        {
            Ok(made) => *pool = Some(Arc::new(made)),
            Err(error) => tracing::warn!(%error, "no thread pool for reading headers"),
        }
    }
    pool.clone()
}

/// Takes `pool` out of use, when it is still the one in use.
fn retire(pool: &Arc<rayon::ThreadPool>) {
    let mut slot = lock(pool_slot());
    if slot
        .as_ref()
        .is_some_and(|current| Arc::ptr_eq(current, pool))
    {
        *slot = None;
    }
}

fn pool_slot() -> &'static Mutex<Option<Arc<rayon::ThreadPool>>> {
    static POOL: Mutex<Option<Arc<rayon::ThreadPool>>> = Mutex::new(None);
    &POOL
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
