//! The loaded volumes kept within a memory budget, least recently used out first, one copy
//! of each; a series over time is one entry, its volumes counted together.

use crate::series_volumes::SeriesVolumes;

/// Loaded volumes by series id, within a byte budget, least recently used out first.
/// Sessions holding an evicted volume keep it alive until they let go.
pub(super) struct VolumeCache {
    pub(super) budget_bytes: usize,
    pub(super) bytes: usize,
    /// Bytes promised to loads under way.
    pub(super) reserved: usize,
    pub(super) clock: u64,
    pub(super) entries: Vec<CacheEntry>,
}

pub(super) struct CacheEntry {
    pub(super) id: String,
    pub(super) volumes: SeriesVolumes,
    pub(super) last_used: u64,
}

impl VolumeCache {
    pub(super) fn new(budget_bytes: usize) -> Self {
        Self {
            budget_bytes,
            bytes: 0,
            reserved: 0,
            clock: 0,
            entries: Vec::new(),
        }
    }

    /// Promises `bytes` to a load, evicting the least recently used volumes to make room;
    /// `false` when loads under way already hold too much of the budget.
    pub(super) fn reserve(&mut self, bytes: usize) -> bool {
        while self.bytes + self.reserved + bytes > self.budget_bytes && !self.entries.is_empty() {
            self.evict_oldest(None);
        }
        let fits = self.reserved + bytes <= self.budget_bytes || self.reserved == 0;
        if fits {
            self.reserved += bytes;
        }
        fits
    }

    /// Gives back what [`Self::reserve`] promised.
    pub(super) fn release(&mut self, bytes: usize) {
        self.reserved = self.reserved.saturating_sub(bytes);
    }

    /// Drops the least recently used volume other than `keep`; `false` when none is left.
    pub(super) fn evict_oldest(&mut self, keep: Option<&str>) -> bool {
        let Some(oldest) = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| Some(e.id.as_str()) != keep)
            .min_by_key(|(_, e)| e.last_used)
            .map(|(n, _)| n)
        else {
            return false;
        };
        let evicted = self.entries.swap_remove(oldest);
        self.bytes -= evicted.volumes.size_bytes();
        tracing::debug!(series = %evicted.id, "volume evicted from the cache");
        true
    }

    /// Drops the volume of `id`, if kept; whether it was.
    pub(super) fn forget(&mut self, id: &str) -> bool {
        let Some(at) = self.entries.iter().position(|e| e.id == id) else {
            return false;
        };
        let forgotten = self.entries.swap_remove(at);
        self.bytes -= forgotten.volumes.size_bytes();
        true
    }

    pub(super) fn get(&mut self, id: &str) -> Option<SeriesVolumes> {
        self.clock += 1;
        let entry = self.entries.iter_mut().find(|e| e.id == id)?;
        entry.last_used = self.clock;
        Some(entry.volumes.clone())
    }

    /// Keeps `volumes` (or the copy another session loaded meanwhile) and returns it,
    /// evicting the least recently used others until the budget holds. The newest entry
    /// stays even when it alone exceeds the budget.
    pub(super) fn insert(&mut self, id: &str, volumes: SeriesVolumes) -> SeriesVolumes {
        if let Some(existing) = self.get(id) {
            return existing;
        }
        self.clock += 1;
        self.bytes += volumes.size_bytes();
        self.entries.push(CacheEntry {
            id: id.to_string(),
            volumes: volumes.clone(),
            last_used: self.clock,
        });
        while self.bytes > self.budget_bytes && self.entries.len() > 1 {
            if !self.evict_oldest(Some(id)) {
                break;
            }
        }
        volumes
    }
}
