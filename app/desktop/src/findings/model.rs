//! The findings of the open series as the viewer holds them: each with what it measured
//! and who drew it, which one is selected, and whether they changed since the last save.

use eframe::egui;
use hounsfield_findings::report::MeasuredFinding;
use hounsfield_findings::{Finding, Measurement};
use hounsfield_protocol::SlicePlane;

use super::sketch::Placed;
use super::tools::kind_label;

/// One finding shown, with what it measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The finding and its numbers.
    pub measured: MeasuredFinding,
    /// Who drew it (empty when not known).
    pub author: String,
}

impl Entry {
    /// An entry for `measured`, drawn by `author`.
    pub fn new(measured: MeasuredFinding, author: String) -> Self {
        Self { measured, author }
    }

    /// The finding.
    pub fn finding(&self) -> &Finding {
        &self.measured.finding
    }

    /// Its number.
    pub fn id(&self) -> u32 {
        self.measured.finding.id
    }

    /// Its line in the findings list: number, kind, plane and the main figure.
    pub fn summary(&self) -> String {
        let finding = self.finding();
        let mut line = format!(
            "{} · {} · {}",
            finding.id,
            kind_label(finding.kind),
            finding.plane.name()
        );
        if let Some(first) = self.figures().first() {
            line.push_str(" · ");
            line.push_str(first);
        }
        if !finding.note.is_empty() {
            line.push_str(&format!(" · “{}”", finding.note));
        }
        line
    }

    /// What it measured, a line a figure group: a region's mean and SD, range, area and
    /// voxels (and SUVmax, SUVmean and SUVpeak on a PET); a length; an angle. An arrow says nothing here (its note is its label).
    pub fn figures(&self) -> Vec<String> {
        match &self.measured.measurement {
            Measurement::Region(stats) => {
                let unit = if stats.unit.is_empty() {
                    String::new()
                } else {
                    format!(" {}", stats.unit)
                };
                let mut figures = vec![
                    format!("mean {:.1} ± {:.1}{unit}", stats.mean, stats.sd),
                    format!("min {:.0} max {:.0}{unit}", stats.min, stats.max),
                    format!("{:.1} mm² · {} voxels", stats.area_mm2, stats.voxels),
                ];
                // A PET region measured on the server: its uptake in SUV.
                figures.extend(stats.suv.map(|suv| {
                    format!(
                        "SUVmax {:.2} · SUVmean {:.2} · SUVpeak {:.2}",
                        suv.suv_max, suv.suv_mean, suv.suv_peak
                    )
                }));
                figures
            }
            Measurement::Length { mm } => vec![format!("{mm:.1} mm")],
            Measurement::Angle { degrees } => vec![format!("{degrees:.1}°")],
            Measurement::Pointer => Vec::new(),
        }
    }

    /// The finding's centre (LPS, mm): the mean of its points.
    pub fn centre_lps(&self) -> glam::DVec3 {
        let points = &self.finding().points_lps;
        let sum: glam::DVec3 = points.iter().copied().sum();
        sum / points.len().max(1) as f64
    }
}

/// The findings of one series, in the order they were drawn.
#[derive(Debug, Clone, Default)]
pub struct FindingList {
    entries: Vec<Entry>,
    /// The finding selected (in the list or on a slice).
    pub selected: Option<u32>,
    /// The highest number given so far: numbers are not reused.
    highest_id: u32,
    /// Whether something changed since the list was read or saved.
    unsaved: bool,
}

impl FindingList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// The findings read from a report or told by a server, as saved.
    pub fn of(entries: Vec<Entry>) -> Self {
        let mut list = Self::new();
        list.replace_all(entries);
        list
    }

    /// Every finding, in drawing order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// How many findings there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Finding `id`.
    pub fn get(&self, id: u32) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.id() == id)
    }

    /// The selected finding.
    pub fn selected_entry(&self) -> Option<&Entry> {
        self.selected.and_then(|id| self.get(id))
    }

    /// The number the next new finding gets.
    pub fn next_id(&self) -> u32 {
        self.highest_id.saturating_add(1)
    }

    /// Puts `entry` in the list: replacing the finding of its number where it was, else
    /// after the others.
    pub fn put(&mut self, entry: Entry) {
        self.highest_id = self.highest_id.max(entry.id());
        match self.entries.iter_mut().find(|e| e.id() == entry.id()) {
            Some(kept) => *kept = entry,
            None => self.entries.push(entry),
        }
        self.unsaved = true;
    }

    /// Removes finding `id`; whether it was there.
    pub fn remove(&mut self, id: u32) -> bool {
        let before = self.entries.len();
        self.entries.retain(|entry| entry.id() != id);
        if self.selected == Some(id) {
            self.selected = None;
        }
        let removed = self.entries.len() != before;
        self.unsaved |= removed;
        removed
    }

    /// Replaces every finding (a series opened, a report read), as saved.
    pub fn replace_all(&mut self, entries: Vec<Entry>) {
        self.highest_id = entries.iter().map(Entry::id).max().unwrap_or(0);
        self.entries = entries;
        if self.selected.is_some_and(|id| self.get(id).is_none()) {
            self.selected = None;
        }
        self.unsaved = false;
    }

    /// The findings with their numbers, for a report.
    pub fn measured(&self) -> Vec<MeasuredFinding> {
        self.entries.iter().map(|e| e.measured.clone()).collect()
    }

    /// Whether something changed since the list was read or saved.
    pub fn unsaved(&self) -> bool {
        self.unsaved
    }

    /// Marks the list saved.
    pub fn mark_saved(&mut self) {
        self.unsaved = false;
    }

    /// The findings drawn on `plane`'s slice facing `normal` (turned or not) at
    /// `depth_mm` along it (within `tolerance_mm`).
    pub fn on_slice(
        &self,
        plane: SlicePlane,
        normal: glam::DVec3,
        depth_mm: f64,
        tolerance_mm: f64,
    ) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(move |entry| {
            entry
                .finding()
                .lies_on(plane, normal, depth_mm, tolerance_mm)
        })
    }

    /// The findings on `plane`'s slice facing `normal` at `depth_mm` (within
    /// `tolerance_mm`), placed on screen by `to_screen`.
    pub fn placed_on(
        &self,
        plane: SlicePlane,
        normal: glam::DVec3,
        depth_mm: f64,
        tolerance_mm: f64,
        to_screen: impl Fn(glam::DVec3) -> egui::Pos2,
    ) -> Vec<Placed> {
        self.on_slice(plane, normal, depth_mm, tolerance_mm)
            .map(|entry| Placed {
                id: entry.id(),
                kind: entry.finding().kind,
                points: entry
                    .finding()
                    .points_lps
                    .iter()
                    .map(|p| to_screen(*p))
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::DVec3;
    use hounsfield_findings::FindingKind;
    use hounsfield_findings::RegionStatistics;

    fn ruler(id: u32, z: f64) -> Entry {
        let finding = Finding::new(
            id,
            FindingKind::Ruler,
            SlicePlane::Axial,
            vec![DVec3::new(0.0, 0.0, z), DVec3::new(30.0, 40.0, z)],
            String::new(),
        )
        .expect("a ruler");
        Entry::new(
            MeasuredFinding {
                finding,
                measurement: Measurement::Length { mm: 50.0 },
            },
            String::new(),
        )
    }

    #[test]
    fn numbers_are_not_reused_and_a_deleted_finding_leaves_the_selection() {
        let mut list = FindingList::new();
        assert_eq!(list.next_id(), 1);
        list.put(ruler(1, 0.0));
        list.put(ruler(2, 0.0));
        list.selected = Some(2);
        assert!(list.unsaved());
        assert!(list.remove(2));
        assert_eq!(list.selected, None);
        assert_eq!(list.next_id(), 3, "2 is not given again");
        assert!(!list.remove(2));
        // Replacing keeps the place in the list.
        list.put(ruler(3, 0.0));
        list.put(ruler(1, 5.0));
        let order: Vec<_> = list.iter().map(Entry::id).collect();
        assert_eq!(order, [1, 3]);
        list.mark_saved();
        assert!(!list.unsaved());
    }

    #[test]
    fn only_the_findings_of_a_slice_are_on_it() {
        let list = FindingList::of(vec![ruler(1, 10.0), ruler(2, 12.0)]);
        assert!(!list.unsaved(), "read back, as saved");
        let on: Vec<_> = list
            .on_slice(SlicePlane::Axial, DVec3::Z, 10.2, 0.5)
            .map(Entry::id)
            .collect();
        assert_eq!(on, [1]);
        assert_eq!(
            list.on_slice(SlicePlane::Coronal, DVec3::Y, 10.0, 0.5)
                .count(),
            0
        );
    }

    #[test]
    fn a_region_lists_its_statistics_with_the_unit() {
        let mut entry = ruler(4, 0.0);
        assert_eq!(entry.summary(), "4 · ruler · axial · 50.0 mm");
        entry.measured.measurement = Measurement::Region(RegionStatistics {
            mean: 40.46,
            sd: 3.24,
            min: 30.0,
            max: 52.0,
            area_mm2: 120.0,
            voxels: 410,
            unit: "HU".into(),
            suv: None,
        });
        assert_eq!(
            entry.figures(),
            [
                "mean 40.5 ± 3.2 HU",
                "min 30 max 52 HU",
                "120.0 mm² · 410 voxels"
            ]
        );
    }
}
