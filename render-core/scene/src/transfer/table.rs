//! A preset baked for one volume: colour and opacity sampled at [`TABLE_SIZE`] evenly
//! spaced values (a 4096×1 texture for the ray caster), plus an index of where the table
//! is transparent so that empty bricks can be skipped.

use super::preset::{GradientOpacityPoint, Preset, PresetRules, RenderMode, Shading};
use super::statistics::VolumeStatistics;

/// Entries of a transfer table.
pub const TABLE_SIZE: usize = 4096;

/// A transfer function sampled at [`TABLE_SIZE`] evenly spaced values over
/// `[domain_min, domain_max]`: entry `n` is at value
/// `domain_min + n * (domain_max - domain_min) / (TABLE_SIZE - 1)`.
///
/// Built by [`Preset::bake`]; `any_opaque` answers from an index made then, so the
/// entries are for reading.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferTable {
    /// Value of entry 0, in the volume's units.
    pub domain_min: f32,
    /// Value of the last entry, in the volume's units (> `domain_min`).
    pub domain_max: f32,
    /// Red, green, blue (0..=1, not premultiplied) and opacity per entry.
    pub rgba: Vec<[f32; 4]>,
    /// Lighting of composite rendering.
    pub shading: Shading,
    /// How samples along a ray combine.
    pub mode: RenderMode,
    /// The ray length over which an entry's opacity applies, in mm.
    pub opacity_unit_mm: f32,
    /// Gradient opacity with gradients in the volume's value units per mm; empty is off.
    pub gradient_opacity: Vec<GradientOpacityPoint>,
    /// `opaque_before[n]`: entries among `rgba[..n]` with opacity > 0.
    opaque_before: Vec<u32>,
}

impl TransferTable {
    /// Bakes a preset for a volume with these statistics (see [`Preset::bake`]).
    pub(crate) fn bake(preset: &Preset, stats: &VolumeStatistics) -> TransferTable {
        let resolve = |value: f32| f64::from(preset.resolve_value(value, stats));
        let colour = sorted_points(
            preset
                .colour
                .iter()
                .map(|p| (resolve(p.value), p.rgb.map(f64::from))),
        );
        let opacity = sorted_points(
            preset
                .opacity
                .iter()
                .map(|p| (resolve(p.value), [f64::from(p.opacity)])),
        );
        let point_values = colour
            .iter()
            .map(|p| p.0)
            .chain(opacity.iter().map(|p| p.0));
        let (low, high) = point_values.fold(
            (f64::from(stats.min), f64::from(stats.max)),
            |(low, high), v| (low.min(v), high.max(v)),
        );
        let high = if high > low { high } else { low + 1.0 };
        let step = (high - low) / (TABLE_SIZE - 1) as f64;
        let rgba: Vec<[f32; 4]> = (0..TABLE_SIZE)
            .map(|n| {
                let value = low + n as f64 * step;
                let [r, g, b] = piecewise_linear(&colour, value).unwrap_or([0.0; 3]);
                let [a] = piecewise_linear(&opacity, value).unwrap_or([0.0]);
                [r, g, b, a].map(|c| c.clamp(0.0, 1.0) as f32)
            })
            .collect();
        let gradient_opacity = preset
            .gradient_opacity
            .iter()
            .map(|p| GradientOpacityPoint {
                gradient: preset.resolve_gradient(p.gradient, stats),
                factor: p.factor.clamp(0.0, 1.0),
            })
            .collect();
        let opaque_before = std::iter::once(0)
            .chain(rgba.iter().scan(0u32, |count, entry| {
                *count += u32::from(entry[3] > 0.0);
                Some(*count)
            }))
            .collect();
        TransferTable {
            domain_min: low as f32,
            domain_max: high as f32,
            rgba,
            shading: preset.shading,
            mode: preset.mode,
            opacity_unit_mm: preset.opacity_unit_mm,
            gradient_opacity,
            opaque_before,
        }
    }

    /// The entries as 8-bit RGBA, for a `TABLE_SIZE`×1 `Rgba8Unorm` texture.
    pub fn rgba8(&self) -> Vec<[u8; 4]> {
        self.rgba
            .iter()
            .map(|entry| entry.map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8))
            .collect()
    }

    /// The distance in value units between neighbouring entries.
    pub fn value_step(&self) -> f32 {
        (self.domain_max - self.domain_min) / (TABLE_SIZE - 1) as f32
    }

    /// Colour and opacity at a value: linear between entries, clamped at the ends.
    pub fn sample(&self, value: f32) -> [f32; 4] {
        let position = self.position(value);
        let below = position.floor() as usize;
        let above = (below + 1).min(self.rgba.len().saturating_sub(1));
        let (Some(a), Some(b)) = (self.rgba.get(below), self.rgba.get(above)) else {
            return [0.0; 4];
        };
        let t = (position - below as f64) as f32;
        std::array::from_fn(|c| a[c] + (b[c] - a[c]) * t)
    }

    /// True when some value in `[lo, hi]` has opacity > 0, judged from the entries that
    /// bracket `lo` and `hi` and all between them (so never false where `sample` could
    /// give opacity); for empty-space skipping. O(1).
    pub fn any_opaque(&self, lo: f32, hi: f32) -> bool {
        if lo.is_nan() || hi.is_nan() {
            return true;
        }
        let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        let last = self.rgba.len().saturating_sub(1);
        let first_entry = (self.position(lo).floor() as usize).min(last);
        let last_entry = (self.position(hi).ceil() as usize).min(last);
        let opaque = |end: usize| self.opaque_before.get(end).copied().unwrap_or(0);
        opaque(last_entry + 1) > opaque(first_entry)
    }

    /// The continuous entry index of a value, clamped to the table.
    fn position(&self, value: f32) -> f64 {
        let span = f64::from(self.domain_max) - f64::from(self.domain_min);
        let last = self.rgba.len().saturating_sub(1) as f64;
        let position = (f64::from(value) - f64::from(self.domain_min)) / span * last;
        if position.is_nan() {
            0.0
        } else {
            position.clamp(0.0, last)
        }
    }
}

/// Finite points sorted by value (stable, so equal values keep their written order).
fn sorted_points<const N: usize>(
    points: impl Iterator<Item = (f64, [f64; N])>,
) -> Vec<(f64, [f64; N])> {
    let mut points: Vec<_> = points.filter(|(v, _)| v.is_finite()).collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

/// The piecewise-linear function through `points` (ascending) at `x`, constant beyond the
/// ends; at a repeated value (a step) the later point wins. `None` without points.
fn piecewise_linear<const N: usize>(points: &[(f64, [f64; N])], x: f64) -> Option<[f64; N]> {
    let above = points.partition_point(|&(v, _)| v <= x);
    let (first, last) = (points.first()?, points.last()?);
    if above == 0 {
        return Some(first.1);
    }
    if above == points.len() {
        return Some(last.1);
    }
    let ((x0, y0), (x1, y1)) = (points[above - 1], points[above]);
    let t = (x - x0) / (x1 - x0);
    Some(std::array::from_fn(|c| y0[c] + (y1[c] - y0[c]) * t))
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;

    use super::*;
    use crate::transfer::{OpacityPoint, PresetLibrary};

    /// The phantom's statistics, computed once for all tests.
    fn phantom_stats() -> &'static VolumeStatistics {
        static STATS: LazyLock<VolumeStatistics> =
            LazyLock::new(|| VolumeStatistics::of(&hounsfield_volume::phantom::ct_phantom()));
        &STATS
    }

    fn baked(name: &str) -> TransferTable {
        let library = PresetLibrary::builtin();
        let preset = library.get(name).expect("builtin preset");
        preset.bake(phantom_stats())
    }

    #[test]
    fn ct_bone_on_the_phantom_matches_the_reference() {
        let table = baked("ct-bone");
        // Points reach beyond the phantom's -1000..2000 HU: the domain covers them.
        assert_eq!((table.domain_min, table.domain_max), (-1024.0, 3071.0));
        let step = table.value_step();
        assert!((step - 1.0).abs() < 1e-6, "one HU per entry, got {step}");
        // Tolerance: what the steepest ramp changes over one table step.
        let alpha_tol = (0.8 - 0.15) / (700.0 - 300.0) * step + 1e-6;
        assert_eq!(table.sample(150.0)[3], 0.0);
        assert_eq!(table.sample(-1000.0)[3], 0.0);
        assert!((table.sample(300.0)[3] - 0.15).abs() <= alpha_tol);
        assert!((table.sample(500.0)[3] - 0.475).abs() <= alpha_tol);
        assert!((table.sample(700.0)[3] - 0.8).abs() <= alpha_tol);
        assert!((table.sample(3071.0)[3] - 0.9).abs() <= alpha_tol);
        let colour_tol = (0.9 - 0.2) / (700.0 - 300.0) * step + 1e-6;
        let [r, g, b, _] = table.sample(700.0);
        for (found, expected) in [(r, 0.95), (g, 0.9), (b, 0.75)] {
            assert!(
                (found - expected).abs() <= colour_tol,
                "{found} vs {expected}"
            );
        }
        assert_eq!(table.mode, RenderMode::Composite);
        assert!(table.shading.enabled);
        assert_eq!(table.opacity_unit_mm, 1.0);
        assert_eq!(table.rgba.len(), TABLE_SIZE);
        let [r8, g8, b8, a8] = table.rgba8()[TABLE_SIZE - 1];
        assert_eq!([r8, g8, b8], [255; 3]);
        assert!((229..=230).contains(&a8), "0.9 × 255 rounds to {a8}");
    }

    #[test]
    fn sample_clamps_at_the_ends_and_interpolates_between_entries() {
        let table = baked("ct-bone");
        assert_eq!(table.sample(-5000.0), table.rgba[0]);
        assert_eq!(table.sample(9000.0), table.rgba[TABLE_SIZE - 1]);
        assert_eq!(table.sample(f32::NAN), table.rgba[0]);
        let half = table.sample(500.5)[3];
        let (a, b) = (table.sample(500.0)[3], table.sample(501.0)[3]);
        assert!((half - (a + b) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn any_opaque_on_ct_bone() {
        let table = baked("ct-bone");
        assert!(!table.any_opaque(-1000.0, 100.0));
        assert!(!table.any_opaque(100.0, -1000.0));
        assert!(!table.any_opaque(-3000.0, 150.0));
        assert!(table.any_opaque(100.0, 200.0));
        assert!(table.any_opaque(140.0, 160.0));
        assert!(table.any_opaque(150.5, 150.5));
        assert!(table.any_opaque(150.2, 150.2));
        assert!(!table.any_opaque(149.0, 150.0));
        assert!(table.any_opaque(2000.0, 9000.0));
        assert!(table.any_opaque(f32::NAN, 0.0));
    }

    #[test]
    fn equal_values_make_a_step_and_flat_volumes_get_a_domain() {
        let mut preset = PresetLibrary::builtin()
            .get("ct-bone")
            .expect("builtin")
            .clone();
        preset.opacity = vec![
            OpacityPoint {
                value: 10.0,
                opacity: 0.0,
            },
            OpacityPoint {
                value: 10.0,
                opacity: 1.0,
            },
        ];
        preset.colour.truncate(1);
        let stats = VolumeStatistics::of_voxels(&hounsfield_volume::Voxels::I16(vec![10; 8]));
        let table = preset.bake(&stats);
        assert!(table.domain_max > table.domain_min);
        assert_eq!(table.sample(9.0)[3], 0.0);
        assert_eq!(table.sample(table.domain_max)[3], 1.0);
    }

    /// Presets with transparent stretches, for the empty-space properties.
    const SKIPPABLE: [&str; 4] = ["ct-bone", "ct-soft-tissue", "ct-lung", "ct-angio"];

    /// `any_opaque` must be true when sampling ~50 points of `[lo, hi]` sees opacity.
    fn check_never_misses(preset: &str, lo: f32, width: f32) -> Result<(), TestCaseError> {
        let table = baked(preset);
        let hi = lo + width;
        let seen = (0..=50).any(|n| table.sample(lo + width * n as f32 / 50.0)[3] > 0.0);
        if seen {
            prop_assert!(table.any_opaque(lo, hi), "{preset}: [{lo}, {hi}]");
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn any_opaque_never_misses_what_sampling_sees(
            preset in prop::sample::select(SKIPPABLE.to_vec()),
            lo in -1500f32..3500.0,
            width in 0f32..600.0,
        ) {
            check_never_misses(preset, lo, width)?;
        }

        /// The same within a few HU of the control points, where opacity starts and stops.
        #[test]
        fn any_opaque_never_misses_at_ramp_edges(
            preset in prop::sample::select(SKIPPABLE.to_vec()),
            point in 0usize..16,
            offset in -3f32..1.0,
            width in 0f32..2.0,
        ) {
            let library = PresetLibrary::builtin();
            let opacity = &library.get(preset).expect("builtin preset").opacity;
            let edge = opacity[point % opacity.len()].value;
            check_never_misses(preset, edge + offset, width)?;
        }
    }
}
