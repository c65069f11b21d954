//! A series over time: its images split into volumes (the time points of a dynamic
//! series, the echoes of a multi-echo one, the b-values of a diffusion one, the cardiac
//! phases, a legacy multi-frame file's frames), from the headers alone. Each volume is
//! then stacked on its own by [`plan_stack`](super::stack::plan_stack).
//!
//! What tells the volumes apart is what the images say, in this order: the attributes
//! that every image has and that differ within the series (temporal position, echo,
//! trigger time, b-value), when they tell each position's images apart; else instance
//! numbers counted a volume at a time; else each position's images in order, when every
//! position holds as many.

use std::collections::BTreeMap;

use serde::Serialize;

use super::header::ImageHeader;
use super::stack::{Placed, counted_time_points, images_by_position};

/// One volume of a series over time, as the headers plan it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimePoint {
    /// What tells it from the others: `time point 3`, `echo 2`, `trigger 120 ms`,
    /// `b = 1000 s/mm²`, or `volume 3` where only the order does. Empty for a series of
    /// one volume.
    pub label: String,
    /// When it was acquired, seconds from the first volume (acquisition times), or its
    /// cardiac phase (trigger time); `None` when the headers give no time.
    pub time_s: Option<f64>,
    /// Its images: indices into the series' images.
    #[serde(skip)]
    pub images: Vec<usize>,
}

/// An attribute that can tell volumes apart, and how it is read and named.
struct Axis {
    /// The attribute's value as a whole number (times and b-values in thousandths).
    key: fn(&ImageHeader) -> Option<i64>,
    /// The label part of a volume with this value.
    name: fn(&ImageHeader) -> String,
}

/// Thousandths, for grouping by a decimal attribute.
fn milli(value: f64) -> i64 {
    (value * 1000.0).round() as i64
}

const AXES: [Axis; 4] = [
    Axis {
        key: |image| image.temporal_position.map(i64::from),
        name: |image| format!("time point {}", image.temporal_position.unwrap_or(0)),
    },
    Axis {
        key: |image| image.echo_number.map(i64::from),
        name: |image| format!("echo {}", image.echo_number.unwrap_or(0)),
    },
    Axis {
        key: |image| image.trigger_time_ms.map(milli),
        name: |image| format!("trigger {} ms", image.trigger_time_ms.unwrap_or(0.0)),
    },
    Axis {
        key: |image| image.b_value.map(milli),
        name: |image| format!("b = {} s/mm²", image.b_value.unwrap_or(0.0)),
    },
];

/// The series' volumes in order. A series of one volume (one image a position, or
/// images whose positions cannot be read) is one time point holding every image.
pub fn plan_time_points(images: &[ImageHeader]) -> Vec<TimePoint> {
    let whole = || {
        vec![TimePoint {
            label: String::new(),
            time_s: None,
            images: (0..images.len()).collect(),
        }]
    };
    let Some(groups) = images_by_position(images) else {
        return whole();
    };
    if groups.iter().all(|group| group.len() <= 1) {
        return whole();
    }
    let (mut volumes, numbered) = match by_attributes(images, &groups) {
        Some(volumes) => (volumes, false),
        None => match by_instance_number(images, &groups).or_else(|| by_order(&groups)) {
            Some(volumes) => (volumes, true),
            None => return whole(),
        },
    };
    if volumes.len() > 1 {
        set_times(images, &mut volumes, numbered);
    }
    volumes
}

/// The volumes told apart by the attributes every image has and that differ.
fn by_attributes(images: &[ImageHeader], groups: &[Vec<Placed>]) -> Option<Vec<TimePoint>> {
    let telling: Vec<&Axis> = AXES
        .iter()
        .filter(|axis| {
            let mut values = groups.iter().flatten().map(|e| (axis.key)(&images[e.0]));
            let Some(Some(first)) = values.next() else {
                return false;
            };
            let mut differs = false;
            for value in values {
                match value {
                    None => return false,
                    Some(value) => differs |= value != first,
                }
            }
            differs
        })
        .collect();
    if telling.is_empty() {
        return None;
    }
    let key_of = |image: usize| -> Vec<i64> {
        telling
            .iter()
            .map(|axis| (axis.key)(&images[image]).unwrap_or(0))
            .collect()
    };
    let apart = groups.iter().all(|group| {
        let mut keys: Vec<Vec<i64>> = group.iter().map(|e| key_of(e.0)).collect();
        keys.sort_unstable();
        keys.windows(2).all(|pair| pair[0] != pair[1])
    });
    if !apart {
        return None;
    }
    let mut volumes: BTreeMap<Vec<i64>, Vec<usize>> = BTreeMap::new();
    for entry in groups.iter().flatten() {
        volumes.entry(key_of(entry.0)).or_default().push(entry.0);
    }
    Some(
        volumes
            .into_values()
            .map(|members| TimePoint {
                label: telling
                    .iter()
                    .map(|axis| (axis.name)(&images[members[0]]))
                    .collect::<Vec<_>>()
                    .join(", "),
                time_s: None,
                images: members,
            })
            .collect(),
    )
}

/// The volumes by instance number, a volume of one image a position at a time.
fn by_instance_number(images: &[ImageHeader], groups: &[Vec<Placed>]) -> Option<Vec<TimePoint>> {
    let most = groups.iter().map(Vec::len).max()?;
    let time_point_of = counted_time_points(images, groups, most)?;
    let mut volumes: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for entry in groups.iter().flatten() {
        volumes
            .entry(time_point_of(entry.0))
            .or_default()
            .push(entry.0);
    }
    Some(numbered(volumes.into_values()))
}

/// The volumes as each position's images come in order, when every position holds as
/// many.
fn by_order(groups: &[Vec<Placed>]) -> Option<Vec<TimePoint>> {
    let count = groups.first()?.len();
    if groups.iter().any(|group| group.len() != count) {
        return None;
    }
    Some(numbered(
        (0..count).map(|t| groups.iter().map(|group| group[t].0).collect()),
    ))
}

/// Volumes labelled by their place in the series.
fn numbered(volumes: impl Iterator<Item = Vec<usize>>) -> Vec<TimePoint> {
    volumes
        .enumerate()
        .map(|(n, images)| TimePoint {
            label: format!("volume {}", n + 1),
            time_s: None,
            images,
        })
        .collect()
}

/// Each volume's time: its trigger time when the volumes' differ (cardiac phases), else
/// its earliest acquisition time after the first volume's, when every volume has one
/// and they differ; else, for volumes told apart only by their order (`numbered`), as a
/// dynamic series without acquisition times is, its place times the repetition time
/// every image gives alike (an fMRI series's volumes are one TR apart).
fn set_times(images: &[ImageHeader], volumes: &mut [TimePoint], numbered: bool) {
    let earliest = |time: fn(&ImageHeader) -> Option<f64>| -> Option<Vec<f64>> {
        let times: Option<Vec<f64>> = volumes
            .iter()
            .map(|volume| {
                volume
                    .images
                    .iter()
                    .map(|&image| time(&images[image]))
                    .try_fold(f64::INFINITY, |least, time| Some(least.min(time?)))
                    .filter(|least| least.is_finite())
            })
            .collect();
        times.filter(|times| times.iter().any(|t| *t != times[0]))
    };
    let times: Vec<f64> = if let Some(phases) = earliest(|image| image.trigger_time_ms) {
        phases.into_iter().map(|ms| ms / 1000.0).collect()
    } else if let Some(acquired) = earliest(|image| image.acquisition_time_s) {
        acquired.iter().map(|at| at - acquired[0]).collect()
    } else if let Some(tr_ms) = one_repetition_time(images).filter(|_| numbered) {
        (0..volumes.len())
            .map(|n| n as f64 * tr_ms / 1000.0)
            .collect()
    } else {
        return;
    };
    for (volume, at) in volumes.iter_mut().zip(times) {
        volume.time_s = Some(at);
    }
}

/// The repetition time (ms) every image gives, when they give one and the same.
fn one_repetition_time(images: &[ImageHeader]) -> Option<f64> {
    let first = images.first()?.repetition_time_ms.filter(|tr| *tr > 0.0)?;
    images
        .iter()
        .all(|image| image.repetition_time_ms == Some(first))
        .then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dicom::stack::tests::image;

    /// Three axial positions × `volumes`, instance numbers a volume at a time, each image
    /// changed by `edit(volume, image)`.
    fn series(volumes: usize, edit: impl Fn(usize, &mut ImageHeader)) -> Vec<ImageHeader> {
        let mut images = Vec::new();
        for t in 0..volumes {
            for z in 0..3 {
                let number = (t * 3 + z + 1) as i32;
                let mut header = image(&format!("IMG{number}"), [0.0, 0.0, z as f64], number);
                edit(t, &mut header);
                images.push(header);
            }
        }
        // Files come in any order: reversed here.
        images.reverse();
        images
    }

    fn labels(volumes: &[TimePoint]) -> Vec<&str> {
        volumes.iter().map(|v| v.label.as_str()).collect()
    }

    /// The instance numbers of each volume's images, in order.
    fn members(images: &[ImageHeader], volumes: &[TimePoint]) -> Vec<Vec<i32>> {
        volumes
            .iter()
            .map(|v| {
                let mut numbers: Vec<i32> = v
                    .images
                    .iter()
                    .map(|&i| images[i].instance_number.unwrap_or(0))
                    .collect();
                numbers.sort_unstable();
                numbers
            })
            .collect()
    }

    #[test]
    fn a_series_of_one_volume_is_one_time_point_of_every_image() {
        let images = series(1, |_, _| {});
        let volumes = plan_time_points(&images);
        assert_eq!(volumes.len(), 1);
        assert_eq!(volumes[0].images.len(), 3);
        assert_eq!(volumes[0].label, "");
        assert_eq!(volumes[0].time_s, None);
    }

    #[test]
    fn temporal_positions_tell_volumes_apart_and_acquisition_times_time_them() {
        let images = series(3, |t, header| {
            header.temporal_position = Some(t as i32 + 1);
            // Echo 1 everywhere tells nothing apart, so it is left out of the label.
            header.echo_number = Some(1);
            header.acquisition_time_s = Some(36_000.0 + 2.5 * t as f64);
            // Instance numbers that would mislead: the temporal positions decide.
            header.instance_number = Some(7);
        });
        let volumes = plan_time_points(&images);
        assert_eq!(
            labels(&volumes),
            ["time point 1", "time point 2", "time point 3"]
        );
        let times: Vec<Option<f64>> = volumes.iter().map(|v| v.time_s).collect();
        assert_eq!(times, [Some(0.0), Some(2.5), Some(5.0)]);
        assert!(volumes.iter().all(|v| v.images.len() == 3));
    }

    #[test]
    fn echoes_b_values_and_cardiac_phases_are_named_by_what_tells_them_apart() {
        let echoes = series(2, |t, header| header.echo_number = Some(t as i32 + 1));
        assert_eq!(labels(&plan_time_points(&echoes)), ["echo 1", "echo 2"]);
        let diffusion = series(2, |t, header| header.b_value = Some(1000.0 * t as f64));
        assert_eq!(
            labels(&plan_time_points(&diffusion)),
            ["b = 0 s/mm²", "b = 1000 s/mm²"]
        );
        let phases = series(2, |t, header| {
            header.trigger_time_ms = Some(40.0 + 350.5 * t as f64);
        });
        let volumes = plan_time_points(&phases);
        assert_eq!(labels(&volumes), ["trigger 40 ms", "trigger 390.5 ms"]);
        let times: Vec<Option<f64>> = volumes.iter().map(|v| v.time_s).collect();
        assert_eq!(times, [Some(0.04), Some(0.3905)]);
    }

    #[test]
    fn without_attributes_instance_numbers_count_the_volumes_one_repetition_time_apart() {
        let images = series(3, |_, header| header.repetition_time_ms = Some(2000.0));
        let volumes = plan_time_points(&images);
        assert_eq!(labels(&volumes), ["volume 1", "volume 2", "volume 3"]);
        assert_eq!(
            members(&images, &volumes),
            [vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 9]]
        );
        let times: Vec<Option<f64>> = volumes.iter().map(|v| v.time_s).collect();
        assert_eq!(times, [Some(0.0), Some(2.0), Some(4.0)]);
    }

    #[test]
    fn a_position_short_of_a_volume_without_numbers_leaves_one_time_point() {
        let mut images = series(2, |_, header| header.instance_number = None);
        images.pop();
        let volumes = plan_time_points(&images);
        assert_eq!(
            volumes.len(),
            1,
            "no way to tell which volume lacks the image"
        );
        assert_eq!(volumes[0].images.len(), images.len());
    }
}
