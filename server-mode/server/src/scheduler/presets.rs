//! The server's transfer-function presets: those it started with (built in, and the
//! files of its presets folder), and those an administrator saved since. New sessions
//! offer them all, and the render thread takes each one added before its next frame.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use render_core::transfer::{Preset, PresetLibrary};

/// The most presets a server holds: one saved past it that adds a name is refused.
pub const MOST_PRESETS: usize = 512;

/// The server's presets, and how many times they changed.
#[derive(Debug)]
pub struct ServerPresets {
    library: RwLock<PresetLibrary>,
    generation: AtomicU64,
}

impl ServerPresets {
    /// The presets the server starts with.
    pub fn new(library: PresetLibrary) -> Self {
        Self {
            library: RwLock::new(library),
            generation: AtomicU64::new(0),
        }
    }

    /// The presets now.
    pub fn library(&self) -> PresetLibrary {
        self.library
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many times presets were added (the render thread compares it with the one
    /// it took last).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Adds `preset` (a checked one), replacing one of the same name; refused past
    /// [`MOST_PRESETS`].
    pub fn add(&self, preset: Preset) -> Result<(), String> {
        let mut library = self.library.write().unwrap_or_else(PoisonError::into_inner);
        if library.get(&preset.name).is_none() && library.presets().len() >= MOST_PRESETS {
            return Err(format!(
                "the server holds {MOST_PRESETS} presets, the most it keeps; replace one of the same name"
            ));
        }
        *library = library.clone().with_preset(preset);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }
}
