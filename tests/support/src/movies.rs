//! What FFmpeg's `ffprobe` (Debian's `ffmpeg` package, an independent reader) reads of a
//! movie the product wrote.

use std::path::Path;
use std::process::Command;

/// A movie's video stream as `ffprobe` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    /// The codec's name (`h264`).
    pub codec: String,
    /// Width in pixels.
    pub width: u64,
    /// Height in pixels.
    pub height: u64,
    /// Frames decoded (`-count_frames`).
    pub frames: u64,
}

/// `ffprobe`'s reading of `movie`'s first video stream, its frames counted by decoding
/// them; panics (the test fails) naming what it could not read.
pub fn probed(movie: &Path) -> Probed {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=codec_name,width,height,nb_read_frames",
        ])
        .args(["-of", "csv=p=0"])
        .arg(movie)
        .output()
        .expect("ffprobe runs (Debian's ffmpeg; scripts/setup-debian.sh installs it)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "ffprobe {}: {}",
        movie.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let fields: Vec<&str> = text.trim().split(',').collect();
    let number = |at: usize| -> u64 {
        fields
            .get(at)
            .and_then(|field| field.parse().ok())
            .unwrap_or_else(|| panic!("ffprobe {}: field {at} of {text:?}", movie.display()))
    };
    Probed {
        codec: fields.first().copied().unwrap_or_default().to_string(),
        width: number(1),
        height: number(2),
        frames: number(3),
    }
}

impl Probed {
    /// As a tuple: codec, width, height, frames.
    pub fn as_tuple(&self) -> (&str, u64, u64, u64) {
        (&self.codec, self.width, self.height, self.frames)
    }
}
