//! The presets Hounsfield knows: those built into the binary (`presets/*.toml`, embedded at
//! compile time) and those a user puts in the config folder, which may replace built-ins.

use std::path::{Path, PathBuf};

use super::error::PresetError;
use super::preset::{Preset, PresetRules};
use hounsfield_volume::Modality;

/// Embeds `presets/<name>.toml` for each name, as (file name, text).
macro_rules! builtin_files {
    ($($name:literal),* $(,)?) => {
        &[$((concat!($name, ".toml"), include_str!(concat!("../../../../presets/", $name, ".toml")))),*]
    };
}

/// The built-in preset files, as (file name, TOML text).
const BUILTIN_FILES: &[(&str, &str)] = builtin_files!(
    "ct-bone",
    "ct-soft-tissue",
    "ct-lung",
    "ct-angio",
    "ct-mip",
    "mr-default",
    "mr-mip",
);

/// The preset shown first for CT (and modalities without one of their own).
const CT_DEFAULT: &str = "ct-bone";
/// The preset shown first for MR.
const MR_DEFAULT: &str = "mr-default";

/// The presets embedded in the binary plus those found in the user's config folder.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetLibrary {
    /// Sorted by name, names unique; always holds `ct-bone` and `mr-default`.
    presets: Vec<Preset>,
}

impl PresetLibrary {
    /// The built-in presets (`presets/*.toml`, checked by a unit test).
    pub fn builtin() -> PresetLibrary {
        let mut library = PresetLibrary {
            presets: Vec::with_capacity(BUILTIN_FILES.len()),
        };
        for (file, text) in BUILTIN_FILES {
            let preset = Preset::from_toml(text, file)
                .unwrap_or_else(|e| panic!("built-in preset {file} is checked by a test: {e}"));
            library.insert(preset);
        }
        library
    }

    /// Adds every transfer-function file in `dir`: this program's `*.toml`, and imported
    /// 3D Slicer volume properties (`*.vp`, named by their file) and ParaView colour maps
    /// (`*.json`); a preset with a name already present replaces it. Files that cannot be
    /// read or are not valid presets are returned, not fatal.
    pub fn with_user_presets(mut self, dir: &Path) -> (PresetLibrary, Vec<PresetError>) {
        let mut errors = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(source) => {
                errors.push(PresetError::Io {
                    file: dir.to_path_buf(),
                    source,
                });
                return (self, errors);
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.is_file()
                    && path.extension().is_some_and(|ext| {
                        ["toml", "vp", "json"]
                            .iter()
                            .any(|known| ext.eq_ignore_ascii_case(known))
                    })
            })
            .collect();
        files.sort();
        for file in files {
            match super::import::read_transfer_file(&file) {
                Ok(preset) => {
                    tracing::debug!(preset = %preset.name, file = %file.display(), "user preset");
                    self.insert(preset);
                }
                Err(error) => errors.push(error),
            }
        }
        (self, errors)
    }

    /// Writes `preset` (checked) into `folder` as `NAME.toml` (the folder made when
    /// missing), through a temporary file renamed into place, so that a reader of the
    /// folder never sees half a file; the file's path. The name becomes the file's: a
    /// character other than a letter, a digit or one of `-_ ().` becomes `_`.
    pub fn save_into(folder: &Path, preset: &Preset) -> Result<PathBuf, PresetError> {
        preset.validate()?;
        let text = preset.to_toml()?;
        let stem: String = preset
            .name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || "-_ ().".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        // No hidden file, and never `..`.
        let stem = stem.trim().trim_start_matches('.').to_string();
        let io = |file: PathBuf| move |source| PresetError::Io { file, source };
        if stem.is_empty() {
            return Err(PresetError::Invalid {
                file: None,
                preset: preset.name.clone(),
                field: "name".into(),
                reason: "must have a letter or a digit to name its file".into(),
            });
        }
        std::fs::create_dir_all(folder).map_err(io(folder.to_path_buf()))?;
        let path = folder.join(format!("{stem}.toml"));
        let partial = folder.join(format!(".{stem}.toml.partial"));
        std::fs::write(&partial, text).map_err(io(partial.clone()))?;
        std::fs::rename(&partial, &path).map_err(io(path.clone()))?;
        Ok(path)
    }

    /// Where user presets live: `<config dir>/hounsfield/presets` (e.g.
    /// `~/.config/hounsfield/presets` on Linux).
    pub fn user_dir() -> Option<PathBuf> {
        dirs::config_dir().map(|dir| dir.join("hounsfield").join("presets"))
    }

    /// The built-in presets plus the user's, when the user folder exists.
    pub fn load_default() -> (PresetLibrary, Vec<PresetError>) {
        let library = Self::builtin();
        match Self::user_dir() {
            Some(dir) if dir.is_dir() => library.with_user_presets(&dir),
            _ => (library, Vec::new()),
        }
    }

    /// The preset with this name.
    pub fn get(&self, name: &str) -> Option<&Preset> {
        self.presets
            .binary_search_by(|p| p.name.as_str().cmp(name))
            .ok()
            .map(|n| &self.presets[n])
    }

    /// Every preset's name, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.presets.iter().map(|p| p.name.as_str()).collect()
    }

    /// Every preset, sorted by name.
    pub fn presets(&self) -> &[Preset] {
        &self.presets
    }

    /// The preset to show first: `mr-default` for MR, `ct-bone` for CT and the rest.
    pub fn default_for(&self, modality: &Modality) -> &Preset {
        let name = match modality {
            Modality::MR => MR_DEFAULT,
            Modality::CT | Modality::Other(_) => CT_DEFAULT,
        };
        self.get(name)
            .or_else(|| self.presets.first())
            .expect("the library always holds the built-in defaults: presets are only added or replaced by name")
    }

    /// Adds a preset, replacing one of the same name.
    /// The library with `preset` added (replacing one of the same name): a transfer
    /// function given for one command.
    pub fn with_preset(mut self, preset: Preset) -> PresetLibrary {
        self.insert(preset);
        self
    }

    fn insert(&mut self, preset: Preset) {
        match self
            .presets
            .binary_search_by(|p| p.name.as_str().cmp(&preset.name))
        {
            Ok(n) => {
                tracing::info!(preset = %preset.name, "a user preset replaces the built-in one");
                self.presets[n] = preset;
            }
            Err(n) => self.presets.insert(n, preset),
        }
    }
}

/// The largest preset file read: a preset is a few dozen lines.
pub(crate) const MAX_PRESET_BYTES: u64 = 256 << 10;

#[cfg(test)]
mod tests {
    use glam::DMat4;

    use super::*;
    use crate::transfer::{RenderMode, ValueDomain, VolumeStatistics};
    use hounsfield_volume::{Volume, Voxels};

    const REQUIRED: [&str; 7] = [
        "ct-bone",
        "ct-soft-tissue",
        "ct-lung",
        "ct-angio",
        "ct-mip",
        "mr-default",
        "mr-mip",
    ];

    #[test]
    fn every_builtin_file_parses_and_validates() {
        for (file, text) in BUILTIN_FILES {
            let preset = Preset::from_toml(text, file).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                format!("{}.toml", preset.name),
                *file,
                "name matches file name"
            );
            assert!(!preset.description.is_empty(), "{file}: has a description");
            if preset.mode.is_projection() {
                assert!(preset.window.is_some(), "{file}: projection needs a window");
            }
            let expected_domain = if preset.modality == "CT" {
                ValueDomain::Hu
            } else {
                ValueDomain::Percentile
            };
            assert_eq!(preset.domain, expected_domain, "{file}");
        }
        let library = PresetLibrary::builtin();
        for name in REQUIRED {
            assert!(library.get(name).is_some(), "{name} is built in");
        }
        let names = library.names();
        assert!(
            names.windows(2).all(|w| w[0] < w[1]),
            "sorted, unique: {names:?}"
        );
        assert_eq!(library.presets().len(), BUILTIN_FILES.len());
    }

    #[test]
    fn ct_bone_is_the_reference_transfer_function() {
        let library = PresetLibrary::builtin();
        let bone = library.get("ct-bone").expect("built in");
        let opacity: Vec<(f32, f32)> = bone.opacity.iter().map(|p| (p.value, p.opacity)).collect();
        assert_eq!(
            opacity,
            [
                (-1024.0, 0.0),
                (150.0, 0.0),
                (300.0, 0.15),
                (700.0, 0.8),
                (3071.0, 0.9)
            ]
        );
        let colour: Vec<(f32, [f32; 3])> = bone.colour.iter().map(|p| (p.value, p.rgb)).collect();
        assert_eq!(
            colour,
            [
                (-1024.0, [0.0, 0.0, 0.0]),
                (150.0, [0.55, 0.25, 0.15]),
                (300.0, [0.85, 0.2, 0.2]),
                (700.0, [0.95, 0.9, 0.75]),
                (3071.0, [1.0, 1.0, 1.0]),
            ]
        );
        let s = bone.shading;
        assert!(s.enabled);
        assert_eq!(
            (s.ambient, s.diffuse, s.specular, s.specular_power),
            (0.2, 0.9, 0.3, 10.0)
        );
        assert_eq!(
            (bone.opacity_unit_mm, bone.mode, bone.domain),
            (1.0, RenderMode::Composite, ValueDomain::Hu)
        );
        assert!(bone.gradient_opacity.is_empty());
    }

    #[test]
    fn defaults_per_modality() {
        let library = PresetLibrary::builtin();
        assert_eq!(library.default_for(&Modality::CT).name, "ct-bone");
        assert_eq!(library.default_for(&Modality::MR).name, "mr-default");
        assert_eq!(
            library.default_for(&Modality::Other("PT".into())).name,
            "ct-bone"
        );
    }

    /// An MR-like volume: a third background near 0, then tissue spread over 200..1400.
    fn mr_like_volume() -> Volume {
        let values: Vec<i16> = (0..48_000u32)
            .map(|n| {
                let x = (n.wrapping_mul(2_654_435_761) >> 8) % 48_000;
                if x < 16_000 {
                    (x % 5) as i16
                } else {
                    200 + ((x - 16_000) / 27) as i16
                }
            })
            .collect();
        Volume::new(
            Voxels::I16(values),
            [40, 40, 30],
            DMat4::IDENTITY,
            Modality::MR,
            None,
        )
        .expect("dims match")
    }

    #[test]
    fn mr_default_ramp_lands_on_resolved_percentiles() {
        let volume = mr_like_volume();
        let stats = VolumeStatistics::of(&volume);
        // Percentiles checked against the sorted voxels, independently of the histogram.
        let mut sorted: Vec<f32> = (0..volume.voxels.len())
            .filter_map(|n| volume.voxels.get(n))
            .map(|v| v as f32)
            .collect();
        sorted.sort_by(f32::total_cmp);
        let library = PresetLibrary::builtin();
        let preset = library.get("mr-default").expect("built in");
        let table = preset.bake(&stats);
        assert!(table.domain_min <= stats.min && table.domain_max >= stats.max);
        let resolved: Vec<(f32, f32)> = preset
            .opacity
            .iter()
            .map(|p| (stats.percentile(p.value), p.opacity))
            .collect();
        for (point, (value, _)) in preset.opacity.iter().zip(&resolved) {
            let rank = (point.value / 100.0 * (sorted.len() - 1) as f32).round() as usize;
            assert!(
                (value - sorted[rank]).abs() <= 1.0,
                "p{}: {value}",
                point.value
            );
        }
        // Tolerance: what the steepest ramp changes over one table step.
        let steepest = resolved
            .windows(2)
            .filter(|w| w[1].0 > w[0].0)
            .map(|w| (w[1].1 - w[0].1).abs() / (w[1].0 - w[0].0))
            .fold(0.0, f32::max);
        let tol = steepest * table.value_step() + 1e-5;
        for (point, &(value, opacity)) in preset.opacity.iter().zip(&resolved) {
            let found = table.sample(value)[3];
            assert!(
                (found - opacity).abs() <= tol,
                "p{}: {found} vs {opacity}",
                point.value
            );
        }
        for pair in resolved.windows(2) {
            let ((va, a), (vb, b)) = (pair[0], pair[1]);
            let mid = table.sample((va + vb) / 2.0)[3];
            assert!(
                (mid - (a + b) / 2.0).abs() <= tol,
                "linear between {va} and {vb}"
            );
        }
        // The ramp starts at the 20th percentile: the background below stays transparent.
        assert_eq!(table.sample(stats.percentile(10.0))[3], 0.0);
        assert!(table.sample(stats.percentile(99.0))[3] > 0.0);
    }

    #[test]
    fn mr_mip_window_covers_the_robust_range() {
        let stats = VolumeStatistics::of(&mr_like_volume());
        let library = PresetLibrary::builtin();
        let preset = library.get("mr-mip").expect("built in");
        assert_eq!(preset.mode, RenderMode::Mip);
        let window = preset.resolved_window(&stats).expect("mip has a window");
        let (low, high) = (
            window.center - window.width / 2.0,
            window.center + window.width / 2.0,
        );
        assert!(
            (low - f64::from(stats.percentile(1.0))).abs() <= 1.0,
            "{low}"
        );
        assert!(
            (high - f64::from(stats.percentile(99.5))).abs() <= 1.0,
            "{high}"
        );
        let ct_mip = library.get("ct-mip").expect("built in");
        let hu = ct_mip.resolved_window(&stats).expect("ct-mip has a window");
        let written = ct_mip.window.expect("ct-mip has a window");
        assert_eq!(
            hu.width,
            f64::from(written.width),
            "HU windows are used as written"
        );
    }

    #[test]
    fn missing_opacity_names_file_and_field() {
        let text = BUILTIN_FILES[0].1;
        let start = text
            .find("opacity = [")
            .expect("ct-bone lists opacity inline");
        let end = start + text[start..].find("]\n").expect("closing bracket") + 2;
        let without = format!("{}{}", &text[..start], &text[end..]);
        let error = Preset::from_toml(&without, "no-opacity.toml").expect_err("refused");
        let message = error.to_string();
        assert!(message.contains("no-opacity.toml"), "{message}");
        assert_eq!(error.field(), Some("opacity"), "{message}");
    }

    #[test]
    fn descending_value_names_file_preset_and_field() {
        let text = BUILTIN_FILES[0]
            .1
            .replacen("value = 300,", "value = 100,", 1);
        let error = Preset::from_toml(&text, "descending.toml").expect_err("refused");
        let message = error.to_string();
        assert!(message.contains("descending.toml"), "{message}");
        assert!(message.contains("ct-bone"), "{message}");
        assert!(
            matches!(error.field(), Some("colour[2].value" | "opacity[2].value")),
            "{message}"
        );
    }

    #[test]
    fn wrong_type_and_unknown_mode_name_the_field() {
        let text = BUILTIN_FILES[0].1;
        let bad_mode = text.replacen("mode = \"composite\"", "mode = \"vr\"", 1);
        let error = Preset::from_toml(&bad_mode, "mode.toml").expect_err("refused");
        assert_eq!(error.field(), Some("mode"), "{error}");
        let mode_line = text
            .lines()
            .position(|l| l.starts_with("mode"))
            .map(|n| n + 1);
        assert!(
            matches!(error, PresetError::Parse { line, .. } if line == mode_line),
            "{error}"
        );
        assert!(error.to_string().contains("mode.toml"), "{error}");
        let bad_type = text.replacen("opacity = 0.15", "opacity = \"0.15\"", 1);
        let error = Preset::from_toml(&bad_type, "type.toml").expect_err("refused");
        assert_eq!(error.field(), Some("opacity[2].opacity"), "{error}");
        let typo = text.replacen("ambient", "ambeint", 1);
        let error = Preset::from_toml(&typo, "typo.toml").expect_err("refused");
        assert_eq!(error.field(), Some("shading.ambeint"), "{error}");
        let out_of_range = text.replacen("opacity = 0.15", "opacity = 1.5", 1);
        let error = Preset::from_toml(&out_of_range, "range.toml").expect_err("refused");
        assert_eq!(error.field(), Some("opacity[2].opacity"), "{error}");
    }

    #[test]
    fn user_folder_adds_overrides_and_reports() {
        let dir = tempfile::tempdir().expect("temp dir");
        let own_bone = BUILTIN_FILES[0]
            .1
            .replacen("ambient = 0.2", "ambient = 0.5", 1);
        std::fs::write(dir.path().join("my-bone.toml"), own_bone).expect("write");
        std::fs::write(
            dir.path().join("broken.toml"),
            "name = \"broken\"\nmodality = ",
        )
        .expect("write");
        std::fs::write(dir.path().join("notes.txt"), "not a preset").expect("write");
        // Slicer's documented volume-property example, imported under its file's name.
        std::fs::write(
            dir.path().join("slicer-ct.vp"),
            "1\n1\n0.9\n0.1\n0.2\n10\n4 -3024 0 3071 1\n4 0 1 255 1\n8 -3024 0 0 0 3071 1 1 1\n",
        )
        .expect("write");
        let (library, errors) = PresetLibrary::builtin().with_user_presets(dir.path());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].to_string().contains("broken.toml"),
            "{}",
            errors[0]
        );
        let bone = library.get("ct-bone").expect("still there");
        assert_eq!(
            bone.shading.ambient, 0.5,
            "the user's ct-bone replaced the built-in"
        );
        let imported = library.get("slicer-ct").expect("the Slicer file imported");
        assert_eq!(imported.opacity.len(), 2);
        assert_eq!(library.presets().len(), BUILTIN_FILES.len() + 1);

        let (_, errors) = PresetLibrary::builtin().with_user_presets(&dir.path().join("absent"));
        assert!(matches!(errors.as_slice(), [PresetError::Io { .. }]));
    }
}
