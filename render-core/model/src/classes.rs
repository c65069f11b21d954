//! A model's classes as segments: each class but the background, where it holds a voxel.

use hounsfield_segment::segment::SEGMENT_COLOURS;
use hounsfield_segment::{Algorithm, Grid, Mask, Segment};
use hounsfield_volume::Volume;

/// The segments of `labels` (a class a voxel of `volume`'s grid, as
/// [`crate::SegmentationModel::run`] gives them): one for each class from 1 that holds a
/// voxel, named after the model `name` and its class, AUTOMATIC by it.
pub fn segments_of(labels: &[u8], volume: &Volume, name: &str) -> Vec<Segment> {
    let grid = Grid::of(volume);
    let most = labels.iter().copied().max().unwrap_or(0);
    (1..=most)
        .filter_map(|class| {
            let mask = Mask::from_indices(
                grid,
                labels
                    .iter()
                    .enumerate()
                    .filter(|&(_, &label)| label == class)
                    .map(|(index, _)| index),
            );
            (!mask.is_empty()).then(|| {
                Segment::new(
                    &format!("{name} class {class}"),
                    SEGMENT_COLOURS[(usize::from(class) - 1) % SEGMENT_COLOURS.len()],
                    Algorithm::Automatic(name.to_string()),
                    mask,
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_that_holds_a_voxel_becomes_a_segment_named_after_the_model() {
        let volume = hounsfield_volume::phantom::ct_phantom();
        // Class 1 where bright, class 3 where air; class 2 holds nothing.
        let labels: Vec<u8> = (0..volume.voxels.len())
            .map(|index| match volume.voxels.get(index).unwrap_or(0.0) {
                v if v > 300.0 => 1,
                v if v < -500.0 => 3,
                _ => 0,
            })
            .collect();
        let segments = segments_of(&labels, &volume, "organs");
        let names: Vec<&str> = segments.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(names, ["organs class 1", "organs class 3"]);
        for (segment, class) in segments.iter().zip([1u8, 3]) {
            let count = labels.iter().filter(|&&label| label == class).count();
            assert_eq!(segment.mask.count(), count);
            assert!(count > 0);
            assert_eq!(
                segment.algorithm,
                Algorithm::Automatic("organs".to_string())
            );
        }
    }
}
