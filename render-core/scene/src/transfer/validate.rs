//! The checks a preset passes before it is used: each failure names the preset and the
//! field, and says what would be accepted.

use super::error::PresetError;
use super::preset::{Preset, ValueDomain};

/// The most control points a preset has of each kind (colour, opacity, gradient
/// opacity): a file or a client's `transfer` with more is refused before it is baked.
pub const MOST_POINTS: usize = 256;

/// The longest name or description a preset has (characters).
pub const MOST_TEXT_CHARS: usize = 200;

/// The first problem of a preset, or `Ok` when it can be baked.
pub(super) fn validate(preset: &Preset) -> Result<(), PresetError> {
    let fail = |field: String, reason: String| PresetError::Invalid {
        file: None,
        preset: preset.name.clone(),
        field,
        reason,
    };
    if preset.name.trim().is_empty() {
        return Err(fail("name".into(), "must not be empty".into()));
    }
    for (field, text) in [("name", &preset.name), ("description", &preset.description)] {
        let chars = text.chars().count();
        if chars > MOST_TEXT_CHARS {
            return Err(fail(
                field.into(),
                format!("has {chars} characters; at most {MOST_TEXT_CHARS}"),
            ));
        }
    }
    let modality = preset.modality.trim();
    if modality.is_empty() {
        return Err(fail(
            "modality".into(),
            "must be a DICOM modality such as \"CT\" or \"MR\"".into(),
        ));
    }
    if preset.domain == ValueDomain::Hu && modality != "CT" {
        return Err(fail(
            "domain".into(),
            format!("\"hu\" is for CT presets; use \"percentile\" for {modality}"),
        ));
    }
    let value_range = match preset.domain {
        ValueDomain::Hu => None,
        ValueDomain::Percentile => Some((0.0, 100.0)),
    };

    let colour_values: Vec<f32> = preset.colour.iter().map(|p| p.value).collect();
    check_points("colour", "value", &colour_values, value_range).map_err(|(f, r)| fail(f, r))?;
    for (n, point) in preset.colour.iter().enumerate() {
        if let Some(c) = point.rgb.iter().position(|c| !(0.0..=1.0).contains(c)) {
            return Err(fail(
                format!("colour[{n}].rgb"),
                format!("component {} must be in 0..=1", point.rgb[c]),
            ));
        }
    }

    let opacity_values: Vec<f32> = preset.opacity.iter().map(|p| p.value).collect();
    check_points("opacity", "value", &opacity_values, value_range).map_err(|(f, r)| fail(f, r))?;
    for (n, point) in preset.opacity.iter().enumerate() {
        check_unit(point.opacity)
            .map_err(|reason| fail(format!("opacity[{n}].opacity"), reason))?;
    }

    if !preset.gradient_opacity.is_empty() {
        let gradients: Vec<f32> = preset.gradient_opacity.iter().map(|p| p.gradient).collect();
        check_points("gradient_opacity", "gradient", &gradients, None)
            .map_err(|(f, r)| fail(f, r))?;
        for (n, point) in preset.gradient_opacity.iter().enumerate() {
            if point.gradient < 0.0 {
                return Err(fail(
                    format!("gradient_opacity[{n}].gradient"),
                    format!("{} must be ≥ 0 (it is a magnitude)", point.gradient),
                ));
            }
            check_unit(point.factor)
                .map_err(|reason| fail(format!("gradient_opacity[{n}].factor"), reason))?;
        }
    }

    let shading = &preset.shading;
    for (field, value) in [
        ("ambient", shading.ambient),
        ("diffuse", shading.diffuse),
        ("specular", shading.specular),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(fail(
                format!("shading.{field}"),
                format!("{value} must be a number ≥ 0"),
            ));
        }
    }
    if !(shading.specular_power.is_finite() && shading.specular_power > 0.0) {
        return Err(fail(
            "shading.specular_power".into(),
            format!("{} must be a number > 0", shading.specular_power),
        ));
    }
    if !(preset.opacity_unit_mm.is_finite() && preset.opacity_unit_mm > 0.0) {
        return Err(fail(
            "opacity_unit_mm".into(),
            format!("{} must be a length > 0 mm", preset.opacity_unit_mm),
        ));
    }
    if let Some(window) = preset.window {
        if !(window.width.is_finite() && window.width > 0.0) {
            return Err(fail(
                "window.width".into(),
                format!("{} must be > 0", window.width),
            ));
        }
        if !window.center.is_finite() {
            return Err(fail("window.center".into(), "must be a number".into()));
        }
    }
    Ok(())
}

/// At least one point, finite values that never descend and lie in `range` if given.
fn check_points(
    list: &str,
    key: &str,
    values: &[f32],
    range: Option<(f32, f32)>,
) -> Result<(), (String, String)> {
    if values.is_empty() {
        return Err((list.into(), "needs at least one point".into()));
    }
    if values.len() > MOST_POINTS {
        return Err((
            list.into(),
            format!("has {} points; at most {MOST_POINTS}", values.len()),
        ));
    }
    for (n, &value) in values.iter().enumerate() {
        let field = || format!("{list}[{n}].{key}");
        if !value.is_finite() {
            return Err((field(), "must be a number".into()));
        }
        if let Some((low, high)) = range
            && !(low..=high).contains(&value)
        {
            return Err((field(), format!("{value} is outside {low}..={high}")));
        }
        if n > 0 && value < values[n - 1] {
            return Err((
                field(),
                format!(
                    "{value} comes after {}: points must be in ascending order",
                    values[n - 1]
                ),
            ));
        }
    }
    Ok(())
}

fn check_unit(value: f32) -> Result<(), String> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(format!("{value} must be in 0..=1"))
    }
}

#[cfg(test)]
mod tests {
    use crate::transfer::{PresetLibrary, PresetRules, PresetWindow, ValueDomain};

    /// A change that breaks one rule.
    type Breakage = fn(&mut super::Preset);

    /// The field named by validating `ct-bone` (or `mr-mip`) after `change`.
    fn field_after(name: &str, change: impl FnOnce(&mut super::Preset)) -> Option<String> {
        let mut preset = PresetLibrary::builtin()
            .get(name)
            .expect("built in")
            .clone();
        change(&mut preset);
        let error = preset.validate().err()?;
        assert!(error.to_string().contains(&preset.name), "{error}");
        error.field().map(str::to_string)
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(field_after("ct-bone", |_| {}), None);
        let cases: [(&str, Breakage, &str); 10] = [
            (
                "ct-bone",
                |p| p.opacity = vec![p.opacity[0]; super::MOST_POINTS + 1],
                "opacity",
            ),
            ("ct-bone", |p| p.name = "x".repeat(201), "name"),
            ("ct-bone", |p| p.colour.clear(), "colour"),
            (
                "ct-bone",
                |p| p.opacity[1].value = f32::NAN,
                "opacity[1].value",
            ),
            ("ct-bone", |p| p.colour[3].rgb[1] = 1.2, "colour[3].rgb"),
            ("ct-bone", |p| p.modality = "MR".into(), "domain"),
            ("ct-bone", |p| p.opacity_unit_mm = 0.0, "opacity_unit_mm"),
            (
                "ct-bone",
                |p| p.shading.specular_power = -1.0,
                "shading.specular_power",
            ),
            ("mr-mip", |p| p.colour[1].value = 120.0, "colour[1].value"),
            (
                "mr-mip",
                |p| {
                    p.window = Some(PresetWindow {
                        width: 0.0,
                        center: 50.0,
                    })
                },
                "window.width",
            ),
        ];
        for (name, change, field) in cases {
            assert_eq!(field_after(name, change).as_deref(), Some(field));
        }
        // Percentile presets are not bound to a modality's units.
        assert_eq!(
            field_after("mr-mip", |p| p.domain = ValueDomain::Percentile),
            None
        );
    }
}
