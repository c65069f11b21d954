//! Values of the command line read from their text: sizes, windows, points, crop boxes.

use super::*;

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

/// Parses `WIDTH,CENTER`.
pub(crate) fn parse_window(text: &str) -> Result<[f64; 2], String> {
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
pub(crate) fn parse_numbers(text: &str) -> Result<Vec<f64>, String> {
    text.split(',')
        .map(|part| {
            part.trim()
                .parse::<f64>()
                .map_err(|_| format!("'{part}' is not a number"))
        })
        .collect()
}

/// Parses `X,Y,Z` into three millimetre values.
pub(crate) fn parse_point(text: &str) -> Result<[f64; 3], String> {
    let values = parse_numbers(text)?;
    match values.as_slice() {
        [x, y, z] if values.iter().all(|v| v.is_finite()) => Ok([*x, *y, *z]),
        _ => Err(format!("expected X,Y,Z in mm, got '{text}'")),
    }
}

/// The points of a path given on the command line (LPS, mm).
#[derive(Debug, Clone, PartialEq)]
pub struct PathPoints(pub Vec<[f64; 3]>);

/// Parses a path `X,Y,Z;X,Y,Z;…` (LPS, mm) into its points; the error names the point.
pub(crate) fn parse_path(text: &str) -> Result<PathPoints, String> {
    text.split(';')
        .map(str::trim)
        .filter(|point| !point.is_empty())
        .enumerate()
        .map(|(n, point)| parse_point(point).map_err(|why| format!("point {}: {why}", n + 1)))
        .collect::<Result<_, _>>()
        .map(PathPoints)
}

/// A crop box from `IMIN,JMIN,KMIN,IMAX,JMAX,KMAX` (fractions of the volume).
pub(crate) fn parse_crop(text: &str) -> Result<CropBox, String> {
    match parse_numbers(text)?.as_slice() {
        [i0, j0, k0, i1, j1, k1] => CropBox::checked([*i0, *j0, *k0], [*i1, *j1, *k1]),
        _ => Err(format!(
            "expected six fractions IMIN,JMIN,KMIN,IMAX,JMAX,KMAX, got '{text}'"
        )),
    }
}
