//! The test hook: a screenshot of the window saved as PNG, and the outcome the command
//! returns once the window has closed.

use std::path::Path;
use std::sync::{Arc, Mutex};

use eframe::egui::ColorImage;

/// What became of a screenshot request, shared between the window and the command.
#[derive(Clone, Default)]
pub struct Outcome(Arc<Mutex<Option<Result<(), String>>>>);

impl Outcome {
    /// Records the result (the first one counts).
    pub fn set(&self, result: Result<(), String>) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(result);
        }
    }

    /// The command's result: an error when the screenshot failed or was never taken.
    pub fn result(&self) -> anyhow::Result<()> {
        let slot = self
            .0
            .lock()
            .map_err(|_| anyhow::anyhow!("screenshot state poisoned"))?;
        match slot.as_ref() {
            None => Ok(()),
            Some(Ok(())) => Ok(()),
            Some(Err(message)) => Err(anyhow::anyhow!("{message}")),
        }
    }

    /// Whether a result was recorded.
    pub fn is_set(&self) -> bool {
        self.0.lock().map(|slot| slot.is_some()).unwrap_or(true)
    }
}

/// Writes `image` to `path` as an RGBA PNG.
pub fn save_png(image: &ColorImage, path: &Path) -> Result<(), String> {
    let [width, height] = image.size;
    let rgba: Vec<u8> = image
        .pixels
        .iter()
        .flat_map(|pixel| pixel.to_srgba_unmultiplied())
        .collect();
    let width = u32::try_from(width).map_err(|_| "screenshot too wide".to_string())?;
    let height = u32::try_from(height).map_err(|_| "screenshot too tall".to_string())?;
    image::save_buffer(path, &rgba, width, height, image::ExtendedColorType::Rgba8)
        .map_err(|error| format!("writing {}: {error}", path.display()))
}

/// Where a screenshot the user asks for goes: `$HOUNSFIELD_SCREENSHOTS`, else the pictures
/// folder, else the home folder; named after the series and the time.
pub fn user_path(label: &str) -> std::path::PathBuf {
    user_folder().join(user_file_name("", label, "png"))
}

/// The folder files the user asks for go to (screenshots, curves):
/// `$HOUNSFIELD_SCREENSHOTS`, else the pictures folder, else the home folder.
pub fn user_folder() -> std::path::PathBuf {
    std::env::var_os("HOUNSFIELD_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .or_else(dirs::picture_dir)
        .or_else(dirs::home_dir)
        .unwrap_or_default()
}

/// A file's name of `kind` (empty for a screenshot, `curve`…) for the series `label`:
/// `hounsfield-[KIND-]SERIES-SECONDS.EXTENSION`, the series' name made safe.
pub fn user_file_name(kind: &str, label: &str, extension: &str) -> String {
    let series: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let kind = if kind.is_empty() {
        String::new()
    } else {
        format!("{kind}-")
    };
    format!("hounsfield-{kind}{series}-{seconds}.{extension}")
}
