//! A segment's voxels: one bit per voxel of the volume's grid, `i` fastest, then `j`,
//! then `k` (the volume's own order), with the grid's spacing so that sizes come in
//! millimetres.

use fixedbitset::FixedBitSet;
use hounsfield_volume::Volume;

/// The grid a mask lies on: the volume's voxel counts and spacing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// Voxel counts along i, j, k.
    pub dims: [usize; 3],
    /// Distance between voxel centres along i, j, k (mm).
    pub spacing_mm: [f64; 3],
}

impl Grid {
    /// `mask`, when it lies on this grid; else the two grids, as an error.
    pub fn holding<'a>(&self, mask: &'a Mask) -> Result<&'a Mask, crate::SegmentError> {
        if mask.dims() == self.dims {
            Ok(mask)
        } else {
            Err(crate::SegmentError::OtherGrid {
                expected: self.dims,
                found: mask.dims(),
            })
        }
    }

    /// The grid of `volume`.
    pub fn of(volume: &Volume) -> Self {
        Self {
            dims: volume.dims,
            spacing_mm: volume.spacing_mm,
        }
    }

    /// Number of voxels.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether the grid holds no voxel.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Voxels in one slice (constant `k`).
    pub fn slice_len(&self) -> usize {
        self.dims[0] * self.dims[1]
    }

    /// One voxel's volume (mm³).
    pub fn voxel_volume_mm3(&self) -> f64 {
        self.spacing_mm.iter().product()
    }

    /// Flat index of `(i, j, k)`, or `None` outside the grid.
    pub fn index(&self, [i, j, k]: [usize; 3]) -> Option<usize> {
        let [ni, nj, nk] = self.dims;
        (i < ni && j < nj && k < nk).then(|| i + ni * (j + nj * k))
    }

    /// `(i, j, k)` of a flat index.
    pub fn ijk(&self, index: usize) -> [usize; 3] {
        let [ni, nj, _] = self.dims;
        [index % ni, (index / ni) % nj, index / (ni * nj)]
    }

    /// The flat indices of the face neighbours (6-connected) of `index`.
    pub fn face_neighbours(&self, index: usize) -> impl Iterator<Item = usize> + use<> {
        let [ni, nj, nk] = self.dims;
        let [i, j, k] = self.ijk(index);
        let slice = ni * nj;
        [
            (i > 0).then(|| index - 1),
            (i + 1 < ni).then(|| index + 1),
            (j > 0).then(|| index - ni),
            (j + 1 < nj).then(|| index + ni),
            (k > 0).then(|| index - slice),
            (k + 1 < nk).then(|| index + slice),
        ]
        .into_iter()
        .flatten()
    }
}

/// A set of voxels of a grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    dims: [usize; 3],
    voxels: FixedBitSet,
}

impl Mask {
    /// No voxel of `grid`.
    pub fn empty(grid: Grid) -> Self {
        Self {
            dims: grid.dims,
            voxels: FixedBitSet::with_capacity(grid.len()),
        }
    }

    /// Every voxel of `grid`.
    pub fn full(grid: Grid) -> Self {
        let mut mask = Self::empty(grid);
        mask.voxels.insert_range(..);
        mask
    }

    /// The voxels of `grid` whose flat index is in `indices`.
    pub fn from_indices(grid: Grid, indices: impl IntoIterator<Item = usize>) -> Self {
        let mut mask = Self::empty(grid);
        for index in indices {
            mask.insert(index);
        }
        mask
    }

    /// The mask of `grid` whose voxels `inside` says, in flat order; `None` when its length
    /// is not the grid's.
    pub fn from_flags(grid: Grid, inside: &[bool]) -> Option<Self> {
        (inside.len() == grid.len()).then(|| {
            Self::from_indices(
                grid,
                inside
                    .iter()
                    .enumerate()
                    .filter_map(|(index, &is)| is.then_some(index)),
            )
        })
    }

    /// The mask of `grid` made of each slice's bits in words (the first voxel of a slice
    /// in its first word's lowest bit), slice after slice.
    pub(crate) fn from_slice_words(grid: Grid, slices: &[Vec<usize>]) -> Self {
        let slice_len = grid.slice_len();
        let word_bits = usize::BITS as usize;
        if slice_len.is_multiple_of(word_bits) {
            // Slices end on a word: their words are the mask's, in order.
            return Self {
                dims: grid.dims,
                voxels: FixedBitSet::with_capacity_and_blocks(
                    grid.len(),
                    slices.iter().flatten().copied(),
                ),
            };
        }
        let mut mask = Self::empty(grid);
        for (k, words) in slices.iter().enumerate() {
            let inside = FixedBitSet::with_capacity_and_blocks(slice_len, words.iter().copied());
            for offset in inside.ones() {
                mask.insert(k * slice_len + offset);
            }
        }
        mask
    }

    /// The mask's bits as words, the first voxel in the first word's lowest bit (what
    /// [`Mask::from_words`] takes back).
    pub fn words(&self) -> &[usize] {
        self.voxels.as_slice()
    }

    /// The mask of `grid` whose bits `words` holds, as [`Mask::words`] gives them; `None`
    /// when their count is not the grid's.
    pub fn from_words(grid: Grid, words: &[usize]) -> Option<Self> {
        (words.len() == grid.len().div_ceil(usize::BITS as usize)).then(|| Self {
            dims: grid.dims,
            voxels: FixedBitSet::with_capacity_and_blocks(grid.len(), words.iter().copied()),
        })
    }

    /// Voxel counts along i, j, k.
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// Whether the voxel at a flat index is in the mask (`false` outside the grid).
    pub fn contains(&self, index: usize) -> bool {
        self.voxels.contains(index)
    }

    /// Puts the voxel at a flat index in the mask (nothing outside the grid).
    pub fn insert(&mut self, index: usize) {
        if index < self.voxels.len() {
            self.voxels.insert(index);
        }
    }

    /// Takes the voxel at a flat index out of the mask.
    pub fn remove(&mut self, index: usize) {
        if index < self.voxels.len() {
            self.voxels.set(index, false);
        }
    }

    /// Number of voxels in the mask.
    pub fn count(&self) -> usize {
        self.voxels.count_ones(..)
    }

    /// Whether the mask holds no voxel.
    pub fn is_empty(&self) -> bool {
        self.voxels.is_clear()
    }

    /// The flat indices in the mask, ascending.
    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.voxels.ones()
    }

    /// Adds `other`'s voxels (logical or).
    pub fn add(&mut self, other: &Mask) {
        self.voxels.union_with(&other.voxels);
    }

    /// Takes `other`'s voxels out (logical and not).
    pub fn subtract(&mut self, other: &Mask) {
        self.voxels.difference_with(&other.voxels);
    }

    /// Keeps only the voxels also in `other` (logical and).
    pub fn intersect(&mut self, other: &Mask) {
        self.voxels.intersect_with(&other.voxels);
    }

    /// Every voxel of the grid not in the mask, and none that was.
    pub fn invert(&mut self) {
        self.voxels.toggle_range(..);
    }

    /// The smallest box of voxels holding the mask: first and last `(i, j, k)`, both
    /// inside; `None` for an empty mask.
    pub fn bounds(&self) -> Option<([usize; 3], [usize; 3])> {
        let grid = Grid {
            dims: self.dims,
            spacing_mm: [1.0; 3],
        };
        let mut indices = self.indices();
        let first = grid.ijk(indices.next()?);
        Some(indices.fold((first, first), |(low, high), index| {
            let ijk = grid.ijk(index);
            (
                [0, 1, 2].map(|axis| low[axis].min(ijk[axis])),
                [0, 1, 2].map(|axis| high[axis].max(ijk[axis])),
            )
        }))
    }

    /// Bytes the mask holds.
    pub fn held_bytes(&self) -> usize {
        self.voxels.len().div_ceil(8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid {
            dims: [4, 3, 2],
            spacing_mm: [0.5, 0.5, 2.0],
        }
    }

    #[test]
    fn indices_and_positions_agree() {
        let grid = grid();
        for index in 0..grid.len() {
            assert_eq!(grid.index(grid.ijk(index)), Some(index));
        }
        assert_eq!(grid.index([4, 0, 0]), None);
        assert_eq!(grid.voxel_volume_mm3(), 0.5);
    }

    #[test]
    fn a_corner_has_three_face_neighbours_and_an_inner_voxel_six() {
        let grid = Grid {
            dims: [3, 3, 3],
            spacing_mm: [1.0; 3],
        };
        assert_eq!(grid.face_neighbours(0).count(), 3);
        let centre = grid.index([1, 1, 1]).expect("inside");
        let mut neighbours: Vec<usize> = grid.face_neighbours(centre).collect();
        neighbours.sort_unstable();
        assert_eq!(neighbours, vec![4, 10, 12, 14, 16, 22]);
    }

    #[test]
    fn logical_operations_follow_sets() {
        let grid = grid();
        let mut a = Mask::from_indices(grid, [0, 1, 2, 3]);
        let b = Mask::from_indices(grid, [2, 3, 4]);
        let mut union = a.clone();
        union.add(&b);
        assert_eq!(union.indices().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        let mut both = a.clone();
        both.intersect(&b);
        assert_eq!(both.indices().collect::<Vec<_>>(), vec![2, 3]);
        a.subtract(&b);
        assert_eq!(a.indices().collect::<Vec<_>>(), vec![0, 1]);
        a.invert();
        assert_eq!(a.count(), grid.len() - 2);
        assert!(!a.contains(0) && a.contains(2));
    }

    #[test]
    fn words_give_the_mask_back() {
        let grid = grid();
        let mask = Mask::from_indices(grid, [1, 5, 23]);
        assert_eq!(Mask::from_words(grid, mask.words()), Some(mask));
        assert_eq!(Mask::from_words(grid, &[0, 0]), None);
    }

    #[test]
    fn bounds_enclose_the_voxels() {
        let grid = grid();
        let mask = Mask::from_indices(
            grid,
            [grid.index([1, 2, 0]), grid.index([3, 0, 1])]
                .into_iter()
                .flatten(),
        );
        assert_eq!(mask.bounds(), Some(([1, 0, 0], [3, 2, 1])));
        assert_eq!(Mask::empty(grid).bounds(), None);
    }
}
