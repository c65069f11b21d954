//! Transfer functions written by other programs, read into a [`Preset`]: 3D Slicer's
//! volume property files (`.vp`) and ParaView's colour maps (`.json`) beside this
//! program's own TOML. A file is read within the
//! presets' size bound, as a regular file, and named in every error with the line at
//! fault.
//!
//! A `.vp` file holds, one a line: the interpolation type, shading on or off, the diffuse,
//! ambient and specular coefficients, the specular power, then three lists, each a count
//! of the numbers that follow it: the scalar opacity (value, opacity pairs), the gradient
//! opacity (gradient, factor pairs) and the colour (value, red, green, blue quadruples).
//! Values are taken as HU (Slicer's CT presets are), opacities as per millimetre of ray
//! (a unit distance of 1 mm), and a gradient opacity of factor 1 everywhere as none.
//!
//! A ParaView colour map (its "Save preset" JSON: a list of maps, the first taken, or one
//! map) gives `RGBPoints` (value, red, green, blue quadruples) and, where it has one, an
//! opacity in `Points` (value, opacity, midpoint, sharpness: taken as straight lines
//! between the points). Without `Points`, the opacity rises from 0 at the first colour
//! point to 1 at the last, as ParaView's own default opacity does. Values are taken as HU.

use std::path::Path;

use super::error::PresetError;
use super::library::MAX_PRESET_BYTES;
use super::preset::{
    ColourPoint, GradientOpacityPoint, OpacityPoint, Preset, PresetRules, RenderMode, Shading,
    ValueDomain,
};

/// Reads the transfer function in `path`: this program's TOML (`.toml`), a 3D Slicer
/// volume property (`.vp`, named after the file) or a ParaView colour map (`.json`).
pub fn read_transfer_file(path: &Path) -> Result<Preset, PresetError> {
    let text = hounsfield_files::read_text_at_most(path, MAX_PRESET_BYTES, "a transfer function")
        .map_err(|source| PresetError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    let origin = path.display().to_string();
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match extension.as_deref() {
        Some("json") => from_paraview_colour_map(&text, &origin),
        Some("vp") => {
            let name = path.file_stem().map_or_else(
                || "slicer".into(),
                |stem| stem.to_string_lossy().into_owned(),
            );
            from_slicer_volume_property(&text, &name, &origin)
        }
        _ => Preset::from_toml(&text, &origin),
    }
}

/// The preset a 3D Slicer volume property file's `text` describes, named `name`;
/// `origin` is named in errors.
pub fn from_slicer_volume_property(
    text: &str,
    name: &str,
    origin: &str,
) -> Result<Preset, PresetError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(n, line)| (n + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
        .collect();
    const FIELDS: [&str; 9] = [
        "interpolation",
        "shading",
        "diffuse",
        "ambient",
        "specular",
        "specular power",
        "scalar opacity",
        "gradient opacity",
        "colour",
    ];
    if lines.len() < FIELDS.len() {
        return Err(parse_error(
            origin,
            lines.last().map(|(n, _)| *n),
            FIELDS[lines.len().min(FIELDS.len() - 1)],
            format!(
                "a volume property has {} lines; this file has {}",
                FIELDS.len(),
                lines.len()
            ),
        ));
    }
    let numbers = |index: usize| -> Result<Vec<f32>, PresetError> {
        let (line, text) = lines[index];
        text.split_whitespace()
            .map(|word| {
                word.parse::<f32>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        parse_error(
                            origin,
                            Some(line),
                            FIELDS[index],
                            format!("{word:?} is not a number"),
                        )
                    })
            })
            .collect()
    };
    let single = |index: usize| -> Result<f32, PresetError> {
        match numbers(index)?.as_slice() {
            [value] => Ok(*value),
            other => Err(parse_error(
                origin,
                Some(lines[index].0),
                FIELDS[index],
                format!("one number, not {}", other.len()),
            )),
        }
    };
    // A list: its count, then that many numbers, in groups of `group`.
    let list = |index: usize, group: usize| -> Result<Vec<Vec<f32>>, PresetError> {
        let values = numbers(index)?;
        let line = Some(lines[index].0);
        let Some((&count, rest)) = values.split_first() else {
            return Err(parse_error(
                origin,
                line,
                FIELDS[index],
                "empty".to_string(),
            ));
        };
        if count != rest.len() as f32 || rest.len() % group != 0 || rest.is_empty() {
            return Err(parse_error(
                origin,
                line,
                FIELDS[index],
                format!(
                    "the count {count} must be the number of values that follow ({}), a multiple of {group}",
                    rest.len()
                ),
            ));
        }
        Ok(rest.chunks(group).map(<[f32]>::to_vec).collect())
    };
    let shading = Shading {
        enabled: single(1)? != 0.0,
        diffuse: single(2)?,
        ambient: single(3)?,
        specular: single(4)?,
        specular_power: single(5)?,
    };
    let opacity = list(6, 2)?
        .into_iter()
        .map(|pair| OpacityPoint {
            value: pair[0],
            opacity: pair[1],
        })
        .collect();
    let gradients: Vec<GradientOpacityPoint> = list(7, 2)?
        .into_iter()
        .map(|pair| GradientOpacityPoint {
            gradient: pair[0],
            factor: pair[1],
        })
        .collect();
    let colour = list(8, 4)?
        .into_iter()
        .map(|quad| ColourPoint {
            value: quad[0],
            rgb: [quad[1], quad[2], quad[3]],
        })
        .collect();
    let gradient_opacity = if gradients.iter().all(|point| point.factor == 1.0) {
        Vec::new()
    } else {
        gradients
    };
    let preset = Preset {
        name: name.to_string(),
        description: format!("imported from 3D Slicer's volume property {origin}"),
        modality: "CT".to_string(),
        domain: ValueDomain::Hu,
        mode: RenderMode::Composite,
        colour,
        opacity,
        gradient_opacity,
        shading,
        opacity_unit_mm: 1.0,
        window: None,
    };
    preset.validate().map_err(|error| error.in_file(origin))?;
    Ok(preset)
}

/// The preset a ParaView colour map's JSON `text` describes; `origin` is named in errors.
pub fn from_paraview_colour_map(text: &str, origin: &str) -> Result<Preset, PresetError> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|error| {
        parse_error(origin, Some(error.line()), "(document)", error.to_string())
    })?;
    let map = match &json {
        serde_json::Value::Array(maps) => maps.first(),
        other => Some(other),
    }
    .filter(|map| map.is_object())
    .ok_or_else(|| parse_error(origin, None, "(document)", "no colour map".to_string()))?;
    let numbers = |field: &str, group: usize| -> Result<Option<Vec<Vec<f32>>>, PresetError> {
        let Some(values) = map.get(field) else {
            return Ok(None);
        };
        let bad = |why: String| parse_error(origin, None, field, why);
        let values = values
            .as_array()
            .ok_or_else(|| bad("not a list of numbers".to_string()))?
            .iter()
            .map(|value| {
                value
                    .as_f64()
                    .map(|v| v as f32)
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad(format!("{value} is not a number")))
            })
            .collect::<Result<Vec<f32>, _>>()?;
        if values.is_empty() || values.len() % group != 0 {
            return Err(bad(format!(
                "{} numbers: groups of {group} expected",
                values.len()
            )));
        }
        Ok(Some(values.chunks(group).map(<[f32]>::to_vec).collect()))
    };
    let colour: Vec<ColourPoint> = numbers("RGBPoints", 4)?
        .ok_or_else(|| parse_error(origin, None, "RGBPoints", "missing".to_string()))?
        .into_iter()
        .map(|quad| ColourPoint {
            value: quad[0],
            rgb: [quad[1], quad[2], quad[3]],
        })
        .collect();
    let opacity = match numbers("Points", 4)? {
        Some(points) => points
            .into_iter()
            .map(|point| OpacityPoint {
                value: point[0],
                opacity: point[1],
            })
            .collect(),
        None => {
            let (first, last) = (colour[0].value, colour[colour.len() - 1].value);
            vec![
                OpacityPoint {
                    value: first,
                    opacity: 0.0,
                },
                OpacityPoint {
                    value: last,
                    opacity: 1.0,
                },
            ]
        }
    };
    let name = map
        .get("Name")
        .and_then(serde_json::Value::as_str)
        .filter(|name| !name.trim().is_empty())
        .unwrap_or("paraview")
        .to_string();
    let preset = Preset {
        name,
        description: format!("imported from ParaView's colour map {origin}"),
        modality: "CT".to_string(),
        domain: ValueDomain::Hu,
        mode: RenderMode::Composite,
        colour,
        opacity,
        gradient_opacity: Vec::new(),
        shading: Shading::default(),
        opacity_unit_mm: 1.0,
        window: None,
    };
    preset.validate().map_err(|error| error.in_file(origin))?;
    Ok(preset)
}

fn parse_error(origin: &str, line: Option<usize>, field: &str, message: String) -> PresetError {
    PresetError::Parse {
        file: origin.to_string(),
        line,
        field: field.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slicer's documented example of a `.vp` file (its CT-AAA-like curve).
    const SLICER_EXAMPLE: &str = "1\n1\n0.9\n0.1\n0.2\n10\n\
        14 -3024 0 -86.9767 0 45.3791 0.169643 139.919 0.589286 347.907 0.607143 1224.16 0.607143 3071 0.616071\n\
        4 0 1 255 1\n\
        28 -3024 0 0 0 -86.9767 0 0.25098 1 45.3791 1 0 0 139.919 1 0.894893 0.894893 347.907 1 1 0.25098 1224.16 1 1 1 3071 0.827451 0.658824 1\n";

    #[test]
    fn a_slicer_volume_property_becomes_a_preset_of_the_same_points() {
        let preset = from_slicer_volume_property(SLICER_EXAMPLE, "aaa", "aaa.vp").expect("read");
        assert_eq!(preset.name, "aaa");
        assert_eq!(preset.opacity.len(), 7);
        assert_eq!(
            preset.opacity[2],
            OpacityPoint {
                value: 45.3791,
                opacity: 0.169643
            }
        );
        assert_eq!(preset.colour.len(), 7);
        assert_eq!(preset.colour[3].rgb, [1.0, 0.894893, 0.894893]);
        assert!(
            preset.gradient_opacity.is_empty(),
            "a factor of 1 everywhere is none"
        );
        assert!(preset.shading.enabled);
        assert_eq!(
            (
                preset.shading.diffuse,
                preset.shading.ambient,
                preset.shading.specular
            ),
            (0.9, 0.1, 0.2)
        );
    }

    #[test]
    fn a_paraview_colour_map_becomes_a_preset_with_its_opacity_or_paraviews_ramp() {
        let with_opacity = r#"[{"Name": "Bone", "ColorSpace": "RGB",
            "RGBPoints": [-1000, 0, 0, 0, 300, 1, 0.9, 0.8, 3000, 1, 1, 1],
            "Points": [-1000, 0, 0.5, 0, 200, 0, 0.5, 0, 1000, 0.8, 0.5, 0]}]"#;
        let preset = from_paraview_colour_map(with_opacity, "bone.json").expect("read");
        assert_eq!(preset.name, "Bone");
        assert_eq!(preset.colour[1].rgb, [1.0, 0.9, 0.8]);
        assert_eq!(
            preset.opacity[2],
            OpacityPoint {
                value: 1000.0,
                opacity: 0.8
            }
        );
        let colours_only = r#"{"Name": "Grey", "RGBPoints": [0, 0, 0, 0, 1000, 1, 1, 1]}"#;
        let preset = from_paraview_colour_map(colours_only, "grey.json").expect("read");
        assert_eq!(
            preset.opacity,
            vec![
                OpacityPoint {
                    value: 0.0,
                    opacity: 0.0
                },
                OpacityPoint {
                    value: 1000.0,
                    opacity: 1.0
                }
            ]
        );
        for (bad, field) in [
            (r#"[{"Name": "x"}]"#, "RGBPoints"),
            (r#"[{"RGBPoints": [0, 1, 1]}]"#, "RGBPoints"),
            (
                r#"[{"RGBPoints": [0, 0, 0, 0, 1, 1, 1, 1], "Points": ["a", 1, 0.5, 0]}]"#,
                "Points",
            ),
            ("[", "(document)"),
        ] {
            let error = from_paraview_colour_map(bad, "x.json").expect_err(bad);
            let said = error.to_string();
            assert!(
                said.contains(field) && said.contains("x.json"),
                "{bad}: {said}"
            );
        }
    }

    #[test]
    fn a_bad_volume_property_is_refused_naming_its_line_and_list() {
        let short = "1\n1\n0.9\n";
        let error = from_slicer_volume_property(short, "x", "x.vp").expect_err("short");
        assert!(error.to_string().contains("x.vp"), "{error}");
        let miscounted = SLICER_EXAMPLE.replace("14 -3024", "12 -3024");
        let error = from_slicer_volume_property(&miscounted, "x", "x.vp").expect_err("count");
        let said = error.to_string();
        assert!(
            said.contains("line 7") && said.contains("scalar opacity"),
            "{said}"
        );
        let word = SLICER_EXAMPLE.replace("0.9\n", "bright\n");
        let error = from_slicer_volume_property(&word, "x", "x.vp").expect_err("a word");
        assert!(error.to_string().contains("diffuse"), "{error}");
    }
}
