//! `render --cpr`: a curved reformat along a path, straightened into a PNG.

use anyhow::Context;
use glam::DVec3;
use render_core::Window;
use render_core::curved::{Across, CurvedPath, straighten};
use render_core::transfer::VolumeStatistics;

use super::report::{Drawn, DrawnPath};
use crate::cli::RenderArgs;
use hounsfield_workstation::source::OpenedVolume;

/// Straightens `opened` along `points` (LPS, mm) as `args` asks and writes the PNG.
pub(super) fn run(
    opened: &OpenedVolume,
    points: &[[f64; 3]],
    args: &RenderArgs,
) -> anyhow::Result<()> {
    let volume = &opened.volume;
    let lps: Vec<DVec3> = points.iter().copied().map(DVec3::from).collect();
    let path = CurvedPath::through(&lps).map_err(|why| anyhow::anyhow!("--cpr: {why}"))?;
    let straightened = straighten(
        volume,
        &path,
        Across::patient_left(args.cpr_angle),
        args.size,
    )
    .map_err(|why| anyhow::anyhow!("--cpr: {why}"))?;
    let window = args.window.map_or_else(
        || VolumeStatistics::of(volume).default_window(volume),
        |[width, center]| Window { width, center },
    );
    let image = straightened.image(window);
    image
        .save_png(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    if args.json {
        let drawn = Drawn {
            out: args.out.display().to_string(),
            width: image.width,
            height: image.height,
            source: opened.label.clone(),
            adapter: "CPU".to_string(),
            window: Some([window.width, window.center]),
            mpr: None,
            cpr: Some(DrawnPath {
                points: points.to_vec(),
                path_length_mm: straightened.path_length_mm,
                mm_per_pixel: straightened.mm_per_pixel,
                angle_deg: args.cpr_angle,
            }),
        };
        println!("{}", serde_json::to_string_pretty(&drawn)?);
    } else {
        println!(
            "{}: {}×{} from {}, {:.1} mm along the path at {:.3} mm a pixel",
            args.out.display(),
            image.width,
            image.height,
            opened.label,
            straightened.path_length_mm,
            straightened.mm_per_pixel
        );
    }
    Ok(())
}
