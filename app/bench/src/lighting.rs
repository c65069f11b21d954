//! `bench render --lighting`: what a placed light, its shadows and ambient occlusion cost
//! against the headlight every frame had before, full frames of the same views drawn one
//! lighting after the other (so that each view's cost falls on each lighting alike).

use std::time::Instant;

use render_core::gpu::Renderer;
use render_core::view::{LightDirection, Lighting, ViewState};
use serde::Serialize;

use hounsfield_workstation::timing::median;

/// The light of the lit variants: from the front, above and the patient's left.
const LIGHT_TOWARDS: [f64; 3] = [0.45, -1.0, 0.55];

/// One lighting's full frames.
#[derive(Debug, Serialize)]
pub struct LightingCost {
    /// `headlight`, `light`, `light+shadows`, `light+occlusion` or
    /// `light+shadows+occlusion`.
    pub lighting: &'static str,
    /// Median ms per full frame.
    pub full_ms: f64,
    /// Over the headlight's, from the same views.
    pub ratio: f64,
}

/// Times full frames of `view` turning 5° a frame, `frames` views, each drawn with every
/// lighting in turn.
pub fn lighting_costs(
    renderer: &mut Renderer,
    view: &ViewState,
    size: [u32; 2],
    frames: usize,
) -> anyhow::Result<Vec<LightingCost>> {
    let light = LightDirection::toward(LIGHT_TOWARDS).map_err(anyhow::Error::msg)?;
    let lit = |shadows, occlusion| Lighting {
        direction: light,
        shadows,
        occlusion,
        cinematic: false,
    };
    let variants = [
        ("headlight", Lighting::default()),
        ("light", lit(false, false)),
        ("light+shadows", lit(true, false)),
        ("light+occlusion", lit(false, true)),
        ("light+shadows+occlusion", lit(true, true)),
    ];
    let mut view = view.clone();
    // Each variant's first frame compiles its ray caster: left out.
    for (_, lighting) in &variants {
        view.lighting = *lighting;
        renderer.render(&view, size)?;
    }
    let mut times = vec![Vec::with_capacity(frames); variants.len()];
    for _ in 0..frames {
        view.camera.orbit(5.0, 0.0);
        for ((_, lighting), times) in variants.iter().zip(&mut times) {
            view.lighting = *lighting;
            let started = Instant::now();
            renderer.render(&view, size)?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let medians: Vec<f64> = times.iter_mut().map(|times| median(times)).collect();
    let headlight = medians[0].max(1e-9);
    Ok(variants
        .iter()
        .zip(medians)
        .map(|((name, _), full_ms)| LightingCost {
            lighting: name,
            full_ms,
            ratio: full_ms / headlight,
        })
        .collect())
}

/// The peer's script, written out for its Python to run.
const VTK_PEER: &str = include_str!("../peers/vtk_lighting.py");

/// What VTK's GPU ray caster pays for its volumetric shadows, as its script reports it.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct PeerShadows {
    /// VTK's version.
    pub vtk: String,
    /// The OpenGL renderer it ran on.
    pub gl: String,
    /// Frames timed a variant.
    pub frames: usize,
    /// Median ms a full frame with gradient shading alone.
    pub shading_ms: f64,
    /// Median ms a full frame with volumetric shadows across the volume.
    pub shadows_ms: f64,
    /// Shadows over shading.
    pub ratio: f64,
}

/// Runs VTK's shadows against its shading on `volume` with `preset`, from anterior at
/// `size`, `frames` views, with `python` (one that has VTK and NumPy).
pub fn vtk_shadows(
    python: &std::path::Path,
    volume: &render_core::Volume,
    preset: &render_core::transfer::Preset,
    size: [u32; 2],
    frames: usize,
) -> anyhow::Result<PeerShadows> {
    use anyhow::Context;
    use std::io::Write;
    let folder = tempfile::tempdir()?;
    let script = folder.path().join("vtk_lighting.py");
    std::fs::write(&script, VTK_PEER)?;
    // The voxels as 16-bit integers, x fastest: what NumPy reads back with one call.
    let raw = folder.path().join("volume.raw");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&raw)?);
    for index in 0..volume.voxels.len() {
        let value = volume.voxels.get(index).unwrap_or(0.0);
        let value = value
            .round()
            .clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
        out.write_all(&value.to_le_bytes())?;
    }
    out.flush()?;
    drop(out);
    let preset_file = folder.path().join("preset.json");
    std::fs::write(&preset_file, serde_json::to_vec(preset)?)?;
    let [nx, ny, nz] = volume.dims;
    let [sx, sy, sz] = volume.spacing_mm;
    let [lx, ly, lz] = LIGHT_TOWARDS;
    let output = std::process::Command::new(python)
        .arg(&script)
        .arg(format!("--raw={}", raw.display()))
        .arg(format!("--dims={nx},{ny},{nz}"))
        .arg(format!("--spacing={sx},{sy},{sz}"))
        .arg(format!("--preset={}", preset_file.display()))
        .arg(format!("--size={}x{}", size[0], size[1]))
        .arg(format!("--frames={frames}"))
        .arg(format!("--light={lx},{ly},{lz}"))
        // Headless: an EGL window on whatever OpenGL the machine has.
        .env("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
        .output()
        .with_context(|| format!("{} does not run", python.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "VTK's run failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).context("VTK's figures are not JSON")
}
