//! Rendering helpers: one renderer per test binary (on the software adapter where there
//! is no GPU), and image comparison against golden files with a stated tolerance.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use render_core::gpu::{FrameImage, GpuContext, Renderer};
use render_core::transfer::PresetLibrary;

/// The renderer shared by the tests of one binary (one device; tests take turns).
pub fn renderer() -> MutexGuard<'static, Renderer> {
    static RENDERER: OnceLock<Mutex<Renderer>> = OnceLock::new();
    let renderer = RENDERER.get_or_init(|| {
        let context = GpuContext::headless()
            .unwrap_or_else(|e| panic!("a GPU adapter (lavapipe at least) is needed: {e}"));
        Mutex::new(Renderer::new(context, PresetLibrary::builtin()))
    });
    // A test that failed while holding the renderer leaves it usable.
    renderer
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How different two images may be: a pixel differs when any channel is more than
/// `per_pixel` levels apart, and at most `max_share` of the pixels may differ.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    /// Largest channel difference (0..255) that still counts as equal.
    pub per_pixel: u8,
    /// Largest share (0..1) of differing pixels.
    pub max_share: f64,
}

/// The share of pixels that differ by more than `per_pixel` in some channel.
pub fn differing_share(a: &FrameImage, b: &FrameImage, per_pixel: u8) -> f64 {
    assert_eq!(
        (a.width, a.height),
        (b.width, b.height),
        "image sizes differ"
    );
    let differing = a
        .rgba
        .chunks(4)
        .zip(b.rgba.chunks(4))
        .filter(|(p, q)| {
            p.iter()
                .zip(q.iter())
                .any(|(x, y)| x.abs_diff(*y) > per_pixel)
        })
        .count();
    differing as f64 / f64::from(a.width * a.height)
}

/// Asserts `a` and `b` are equal within `tolerance`.
pub fn assert_similar(a: &FrameImage, b: &FrameImage, tolerance: Tolerance, what: &str) {
    let share = differing_share(a, b, tolerance.per_pixel);
    if share > tolerance.max_share {
        let dir = failure_dir();
        let _ = a.save_png(&dir.join(format!("{what}-a.png")));
        let _ = b.save_png(&dir.join(format!("{what}-b.png")));
        panic!(
            "{what}: {:.3}% of pixels differ by more than {} levels (allowed {:.3}%); images in {}",
            share * 100.0,
            tolerance.per_pixel,
            tolerance.max_share * 100.0,
            dir.display()
        );
    }
}

/// Compares `frame` with `tests/golden/NAME.png`. With `HOUNSFIELD_UPDATE_GOLDEN=1` the
/// golden file is (re)written instead, saying so on stderr with how far the old one was
/// from the new: references change only on purpose, and never silently.
pub fn assert_matches_golden(name: &str, frame: &FrameImage, tolerance: Tolerance) {
    let path = golden_dir().join(format!("{name}.png"));
    if std::env::var_os("HOUNSFIELD_UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        let was = match read_golden(&path) {
            Err(e) => format!("there was none ({e})"),
            Ok(old) if (old.width, old.height) != (frame.width, frame.height) => format!(
                "the old one was {} × {}, the new one is {} × {}",
                old.width, old.height, frame.width, frame.height
            ),
            Ok(old) => format!(
                "{:.3}% of its pixels differ from the old one's by more than {} levels \
                 (the test allows {:.3}%)",
                differing_share(frame, &old, tolerance.per_pixel) * 100.0,
                tolerance.per_pixel,
                tolerance.max_share * 100.0
            ),
        };
        std::fs::create_dir_all(golden_dir()).expect("golden folder created");
        frame.save_png(&path).expect("golden image written");
        eprintln!(
            "HOUNSFIELD_UPDATE_GOLDEN=1: rewrote {}: {was}",
            path.display()
        );
        return;
    }
    let golden = read_golden(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with HOUNSFIELD_UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    assert_similar(frame, &golden, tolerance, name);
}

/// The golden image at `path`, as RGBA.
fn read_golden(path: &Path) -> Result<FrameImage, image::ImageError> {
    let golden = image::open(path)?.to_rgba8();
    Ok(FrameImage {
        width: golden.width(),
        height: golden.height(),
        rgba: golden.into_raw(),
    })
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../golden")
}

fn failure_dir() -> PathBuf {
    let dir = crate::binary::target_tmp().join("render-failures");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// Centroid (x, y) of the pixels whose red channel is at least `threshold`, and their count.
pub fn bright_centroid(frame: &FrameImage, threshold: u8) -> Option<(f64, f64, usize)> {
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0usize);
    for y in 0..frame.height {
        for x in 0..frame.width {
            if frame.pixel(x, y)[0] >= threshold {
                sx += f64::from(x) + 0.5;
                sy += f64::from(y) + 0.5;
                n += 1;
            }
        }
    }
    (n > 0).then(|| (sx / n as f64, sy / n as f64, n))
}

/// A channel difference from the background above which a pixel counts as lit.
pub const LIT_LEVELS: u8 = 24;

/// The pixels of an RGBA image of `width` columns unlike its background (the top-left
/// corner's colour, by more than [`LIT_LEVELS`] in some channel): `[left, right]` of the
/// column `cut_x`, leaving out `margin` columns on each side of it.
pub fn lit_beside(width: u32, rgba: &[u8], cut_x: f64, margin: f64) -> [usize; 2] {
    let background = [rgba[0], rgba[1], rgba[2]];
    let mut lit = [0usize; 2];
    for (n, pixel) in rgba.chunks_exact(4).enumerate() {
        let x = (n % width as usize) as f64 + 0.5;
        let differs = pixel[..3]
            .iter()
            .zip(background)
            .any(|(p, b)| p.abs_diff(b) > LIT_LEVELS);
        if !differs {
            continue;
        }
        if x < cut_x - margin {
            lit[0] += 1;
        } else if x > cut_x + margin {
            lit[1] += 1;
        }
    }
    lit
}

/// Red + green + blue summed over the left and the right half of an RGBA image of `width`
/// columns: `[left, right]` (a picture lit from one side is brighter on that side).
pub fn brightness_halves(width: u32, rgba: &[u8]) -> [f64; 2] {
    let width = width as usize;
    let mut sums = [0.0; 2];
    for (n, pixel) in rgba.chunks_exact(4).enumerate() {
        let right = n % width >= width / 2;
        sums[usize::from(right)] += pixel[..3].iter().map(|&c| f64::from(c)).sum::<f64>();
    }
    sums
}

/// The mean absolute difference of the red, green and blue of two pictures of one size, in
/// 0..=1: `a` with `a_channels` bytes a pixel, `b` with `b_channels` (3: RGB, 4: RGBA).
pub fn mean_rgb_difference(a: &[u8], a_channels: usize, b: &[u8], b_channels: usize) -> f64 {
    let pixels = a.len() / a_channels;
    assert_eq!(pixels, b.len() / b_channels, "pictures of one size");
    let total: f64 = a
        .chunks_exact(a_channels)
        .zip(b.chunks_exact(b_channels))
        .flat_map(|(p, q)| (0..3).map(move |c| f64::from(p[c].abs_diff(q[c]))))
        .sum();
    total / (pixels as f64 * 3.0) / 255.0
}

/// How many values differ between `a` and `b`, position by position (channel values of
/// two pictures, voxels of two decodings): 0 when they are the same.
pub fn differing_values<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    a.iter().zip(b).filter(|(a, b)| a != b).count()
}
