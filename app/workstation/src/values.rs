//! Values of the command line read from their text: sizes, windows, points, paths, crop
//! boxes (the `hounsfield` and `hounsfield-bench` commands and the desktop's options).

use glam::DVec3;
use hounsfield_findings::arteries::{Artery, NamedRegion};
use render_core::colour_map::ColourMap;
use render_core::view::CropBox;

/// A path given on the command line, refused when empty (`--audit-log ""` would name the
/// working folder itself).
pub fn parse_non_empty_path(text: &str) -> Result<std::path::PathBuf, String> {
    if text.is_empty() {
        return Err("an empty path".to_string());
    }
    Ok(std::path::PathBuf::from(text))
}

/// Parses `WIDTHxHEIGHT`.
pub fn parse_size(text: &str) -> Result<[u32; 2], String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got '{text}'"))?;
    let parse = |part: &str| {
        part.trim()
            .parse::<u32>()
            .ok()
            .filter(|&n| (1..=16384).contains(&n))
            .ok_or_else(|| format!("'{part}' is not a size between 1 and 16384"))
    };
    Ok([parse(w)?, parse(h)?])
}

/// A colour map's name: `hot`, `rainbow` or `grey`.
pub fn parse_colour_map(text: &str) -> Result<ColourMap, String> {
    ColourMap::from_name(text).ok_or_else(|| {
        let known: Vec<&str> = ColourMap::ALL.iter().map(|m| m.name()).collect();
        format!(
            "unknown colour map \"{text}\" (known: {})",
            known.join(", ")
        )
    })
}

/// An opacity from 0 to 1.
pub fn parse_opacity(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{value} is not an opacity from 0 to 1"))
    }
}

/// Parses `WIDTH,CENTER`.
pub fn parse_window(text: &str) -> Result<[f64; 2], String> {
    let (w, c) = text
        .split_once(',')
        .ok_or_else(|| format!("expected WIDTH,CENTER, got '{text}'"))?;
    let parse = |part: &str| {
        part.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("'{part}' is not a number"))
    };
    let (width, center) = (parse(w)?, parse(c)?);
    if width <= 0.0 {
        return Err(format!("window width must be positive, got {width}"));
    }
    Ok([width, center])
}

/// The comma-separated numbers of `text`, each trimmed.
pub fn parse_numbers(text: &str) -> Result<Vec<f64>, String> {
    text.split(',')
        .map(|part| {
            part.trim()
                .parse::<f64>()
                .map_err(|_| format!("'{part}' is not a number"))
        })
        .collect()
}

/// Parses `X,Y,Z` into three millimetre values.
pub fn parse_point(text: &str) -> Result<[f64; 3], String> {
    let values = parse_numbers(text)?;
    match values.as_slice() {
        [x, y, z] if values.iter().all(|v| v.is_finite()) => Ok([*x, *y, *z]),
        _ => Err(format!("expected X,Y,Z in mm, got '{text}'")),
    }
}

/// A box in the patient given by two opposite corners (LPS, mm).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LpsBox {
    /// One corner.
    pub a: [f64; 3],
    /// The opposite corner.
    pub b: [f64; 3],
}

/// Parses a box `X0,Y0,Z0,X1,Y1,Z1` (LPS, mm).
pub fn parse_box(text: &str) -> Result<LpsBox, String> {
    let values = parse_numbers(text)?;
    match values.as_slice() {
        [x0, y0, z0, x1, y1, z1] if values.iter().all(|v| v.is_finite()) => Ok(LpsBox {
            a: [*x0, *y0, *z0],
            b: [*x1, *y1, *z1],
        }),
        _ => Err(format!(
            "expected two corners X0,Y0,Z0,X1,Y1,Z1 in mm, got '{text}'"
        )),
    }
}

/// A region of known density: a box and its density (mg/cm³).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnownDensity {
    /// The region.
    pub region: LpsBox,
    /// Its density (mg/cm³).
    pub mg_per_cm3: f64,
}

/// Parses `X0,Y0,Z0,X1,Y1,Z1:MG_PER_CM3`: a box and the density of what it holds.
pub fn parse_known_density(text: &str) -> Result<KnownDensity, String> {
    let (corners, density) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("expected X0,Y0,Z0,X1,Y1,Z1:MG_PER_CM3, got '{text}'"))?;
    let mg_per_cm3: f64 = density
        .trim()
        .parse()
        .ok()
        .filter(|d: &f64| d.is_finite() && *d > 0.0)
        .ok_or_else(|| format!("the density '{density}' is not a positive number of mg/cm³"))?;
    Ok(KnownDensity {
        region: parse_box(corners)?,
        mg_per_cm3,
    })
}

/// Parses `ARTERY:X0,Y0,Z0,X1,Y1,Z1`: a region drawn round an artery's calcium (`LM`,
/// `LAD`, `LCx`, `RCA` or `other`).
pub fn parse_named_region(text: &str) -> Result<NamedRegion, String> {
    let (name, corners) = text
        .split_once(':')
        .ok_or_else(|| format!("expected ARTERY:X0,Y0,Z0,X1,Y1,Z1, got '{text}'"))?;
    let artery = Artery::from_code(name).ok_or_else(|| {
        let known: Vec<&str> = Artery::ALL.iter().map(|a| a.code()).collect();
        format!("unknown artery '{name}' (known: {})", known.join(", "))
    })?;
    let region = parse_box(corners)?;
    Ok(NamedRegion {
        artery,
        a: DVec3::from(region.a),
        b: DVec3::from(region.b),
    })
}

/// The points of a path given on the command line (LPS, mm).
#[derive(Debug, Clone, PartialEq)]
pub struct PathPoints(pub Vec<[f64; 3]>);

/// Parses a path `X,Y,Z;X,Y,Z;…` (LPS, mm) into its points; the error names the point.
pub fn parse_path(text: &str) -> Result<PathPoints, String> {
    text.split(';')
        .map(str::trim)
        .filter(|point| !point.is_empty())
        .enumerate()
        .map(|(n, point)| parse_point(point).map_err(|why| format!("point {}: {why}", n + 1)))
        .collect::<Result<_, _>>()
        .map(PathPoints)
}

/// A crop box from `IMIN,JMIN,KMIN,IMAX,JMAX,KMAX` (fractions of the volume).
pub fn parse_crop(text: &str) -> Result<CropBox, String> {
    match parse_numbers(text)?.as_slice() {
        [i0, j0, k0, i1, j1, k1] => CropBox::checked([*i0, *j0, *k0], [*i1, *j1, *k1]),
        _ => Err(format!(
            "expected six fractions IMIN,JMIN,KMIN,IMAX,JMAX,KMAX, got '{text}'"
        )),
    }
}

/// Parses `LOW,HIGH` into a range of values (HU for a CT), low first.
pub fn parse_value_range(text: &str) -> Result<[f64; 2], String> {
    match parse_numbers(text)?.as_slice() {
        [low, high] if low.is_finite() && high.is_finite() && low <= high => Ok([*low, *high]),
        [low, high] if low > high => Err(format!("expected LOW,HIGH with LOW first, got '{text}'")),
        _ => Err(format!("expected LOW,HIGH, got '{text}'")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crop_boxes_parse_and_bad_ones_are_refused() {
        let left = parse_crop("0.5, 0,0,1,1,1").expect("the left half");
        assert_eq!((left.min, left.max), ([0.5, 0.0, 0.0], [1.0; 3]));
        assert!(parse_crop("0.5,0,0,1,1").is_err(), "five values");
        assert!(parse_crop("0.5,0,0,0.5,1,1").is_err(), "no thickness");
        assert!(parse_crop("0,0,0,1,1,2").is_err(), "beyond the volume");
        assert!(parse_crop("0,0,x,1,1,1").is_err(), "not a number");
    }

    #[test]
    fn points_parse_and_bad_points_are_refused() {
        assert_eq!(parse_point("1.5, -2,3e1"), Ok([1.5, -2.0, 30.0]));
        assert_eq!(
            parse_path("1,2,3; -4,5,6;"),
            Ok(PathPoints(vec![[1.0, 2.0, 3.0], [-4.0, 5.0, 6.0]]))
        );
        let bad = parse_path("1,2,3;4,5").expect_err("a point of two numbers");
        assert!(bad.starts_with("point 2:"), "{bad}");
        assert!(parse_point("1,2").is_err());
        assert!(parse_point("a,b,c").is_err());
        assert!(parse_point("1,2,inf").is_err());
    }

    #[test]
    fn sizes_and_windows_parse_and_bad_ones_are_refused() {
        assert_eq!(parse_size("1024x768"), Ok([1024, 768]));
        assert!(parse_size("0x10").is_err());
        assert!(parse_size("1024").is_err());
        assert_eq!(parse_window("400,40"), Ok([400.0, 40.0]));
        assert_eq!(parse_window("1500,-600"), Ok([1500.0, -600.0]));
        assert!(parse_window("-1,40").is_err());
    }
}
