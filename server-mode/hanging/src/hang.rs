//! A study and the patient's other studies laid out by the protocol that fits them best.

use hounsfield_protocol::{HungCell, SeriesInfo, SeriesKind, StudyInfo, StudyRole};

use crate::rules::{CellRule, StudyRule, described, of_body_part, of_modality};
use crate::{HangingProtocol, HangingProtocols};

/// A reading laid out: the protocol applied and each cell's series.
#[derive(Debug, Clone, PartialEq)]
pub struct Hanging {
    /// The protocol's name.
    pub protocol: String,
    /// The cells in order; the first shows the current study.
    pub cells: Vec<HungCell>,
}

/// The same patient's other studies among `studies`, newest first (undated last): those
/// whose PatientID is the current study's, which must have one.
pub fn priors_of<'a>(
    current: &StudyInfo,
    studies: impl IntoIterator<Item = &'a StudyInfo>,
) -> Vec<StudyInfo> {
    let patient = current.patient_id.trim();
    if patient.is_empty() {
        return Vec::new();
    }
    let mut priors: Vec<StudyInfo> = studies
        .into_iter()
        .filter(|study| study.id != current.id && study.patient_id.trim() == patient)
        .cloned()
        .collect();
    // Dates are YYYYMMDD, so their text sorts as they do; an empty one sorts last.
    priors.sort_by(|a, b| match (a.date.is_empty(), b.date.is_empty()) {
        (false, false) => b.date.cmp(&a.date),
        (undated, _) => undated.cmp(&b.date.is_empty()),
    });
    priors
}

impl HangingProtocols {
    /// `current` laid out by the protocol that fits it best, with a prior from `priors`
    /// (the patient's other studies, newest first) where the protocol hangs one; `None`
    /// when no protocol fits. A protocol fits when its `[current]` rule takes the study,
    /// every cell of the current study finds its series, and, where `[prior]` is
    /// `required`, a prior is found with a series for each of its cells. Of those that
    /// fit, the one hanging the most cells wins, then the one with the most rules, then
    /// the first read.
    pub fn hang(&self, current: &StudyInfo, priors: &[StudyInfo]) -> Option<Hanging> {
        let mut best: Option<(usize, usize, Hanging)> = None;
        for protocol in self.all() {
            let Some(hanging) = lay_out(protocol, current, priors) else {
                continue;
            };
            let rank = (hanging.cells.len(), rules_of(protocol));
            if best
                .as_ref()
                .is_none_or(|(cells, rules, _)| rank > (*cells, *rules))
            {
                best = Some((rank.0, rank.1, hanging));
            }
        }
        best.map(|(_, _, hanging)| hanging)
    }
}

/// How many rules a protocol sets: the more, the more particular it is.
fn rules_of(protocol: &HangingProtocol) -> usize {
    let of_study = |rule: &StudyRule| {
        usize::from(rule.modality.is_some())
            + usize::from(!rule.description.is_empty())
            + usize::from(!rule.body_part.is_empty())
    };
    of_study(&protocol.current)
        + protocol
            .prior
            .as_ref()
            .map_or(0, |p| 1 + of_study(&p.study))
}

/// `protocol`'s cells for `current` and its newest fitting prior, or `None` where it does
/// not fit.
fn lay_out(
    protocol: &HangingProtocol,
    current: &StudyInfo,
    priors: &[StudyInfo],
) -> Option<Hanging> {
    if !takes(&protocol.current, current) {
        return None;
    }
    let prior = protocol.prior.as_ref().and_then(|rule| {
        priors
            .iter()
            .filter(|study| current.date.is_empty() || study.date < current.date)
            .find(|study| takes(&rule.study, study))
    });
    let mut cells = Vec::with_capacity(protocol.cells.len());
    for rule in &protocol.cells {
        let study = match rule.study {
            StudyRole::Current => current,
            StudyRole::Prior => match prior {
                Some(prior) => prior,
                None if protocol.prior.as_ref().is_some_and(|p| p.required) => return None,
                None => continue,
            },
        };
        match series_for(rule, study) {
            Some(series) => cells.push(hung(rule, study, series)),
            None if rule.study == StudyRole::Current => return None,
            None if protocol.prior.as_ref().is_some_and(|p| p.required) => return None,
            None => {}
        }
    }
    Some(Hanging {
        protocol: protocol.name.clone(),
        cells,
    })
}

/// Whether `rule` takes `study`: of its modality, and named by its description or by a
/// series' body part (either, where the rule gives both).
fn takes(rule: &StudyRule, study: &StudyInfo) -> bool {
    let modality = rule.modality.as_deref();
    let of_body_part = || {
        study
            .series
            .iter()
            .any(|series| of_body_part(&series.body_part, &rule.body_part))
    };
    let named = match (rule.description.is_empty(), rule.body_part.is_empty()) {
        (true, true) => true,
        (false, true) => described(&study.description, &rule.description),
        (true, false) => of_body_part(),
        (false, false) => described(&study.description, &rule.description) || of_body_part(),
    };
    (modality.is_none() || study.modalities.iter().any(|m| of_modality(m, modality))) && named
}

/// The first series of `study` (in its listed order) that `rule` takes: a volume that can
/// be opened, of its modality and description.
fn series_for<'a>(rule: &CellRule, study: &'a StudyInfo) -> Option<&'a SeriesInfo> {
    study.series.iter().find(|series| {
        opens_as_volume(series)
            && of_modality(&series.modality, rule.modality.as_deref())
            && described(&series.description, &rule.series)
    })
}

/// The first series of `study` (in its listed order) that opens as a volume: what a study
/// no protocol fits opens.
pub fn first_volume(study: &StudyInfo) -> Option<&SeriesInfo> {
    study.series.iter().find(|series| opens_as_volume(series))
}

/// Whether `series` opens as a volume: neither a localiser nor a single image, and not
/// refused by the catalogue.
fn opens_as_volume(series: &SeriesInfo) -> bool {
    series.kind == SeriesKind::Volume && series.unavailable.is_none()
}

/// The cell `rule` hangs with `series` of `study`.
fn hung(rule: &CellRule, study: &StudyInfo, series: &SeriesInfo) -> HungCell {
    HungCell {
        role: rule.study,
        study: study.id.clone(),
        date: study.date.clone(),
        series: series.id.clone(),
        description: series.description.clone(),
        layout: rule.layout,
        window: rule.window,
        preset: rule.preset.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(id: &str, description: &str, kind: SeriesKind) -> SeriesInfo {
        SeriesInfo {
            id: id.to_string(),
            modality: "MR".to_string(),
            description: description.to_string(),
            images: 20,
            kind,
            ..SeriesInfo::default()
        }
    }

    fn lumbar(id: &str, date: &str) -> StudyInfo {
        StudyInfo {
            id: id.to_string(),
            description: "Lumbar".to_string(),
            date: date.to_string(),
            patient_id: "P1".to_string(),
            modalities: vec!["MR".to_string()],
            series: vec![
                series(&format!("{id}-loc"), "3-Plane Loc", SeriesKind::Localizer),
                series(&format!("{id}-t1"), "Sag T1 Flair", SeriesKind::Volume),
                series(&format!("{id}-t2"), "Sag T2 frFSE S", SeriesKind::Volume),
            ],
            ..StudyInfo::default()
        }
    }

    #[test]
    fn the_patients_other_studies_are_listed_newest_first_and_nobody_elses() {
        let current = lumbar("now", "20240301");
        let mut stranger = lumbar("other", "20230101");
        stranger.patient_id = "P2".to_string();
        let all = [
            lumbar("old", "20190101"),
            current.clone(),
            lumbar("undated", ""),
            stranger,
            lumbar("recent", "20220101"),
        ];
        let ids: Vec<_> = priors_of(&current, &all)
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(ids, ["recent", "old", "undated"]);
        let mut nameless = current.clone();
        nameless.patient_id = " ".to_string();
        assert!(priors_of(&nameless, &all).is_empty());
    }

    #[test]
    fn the_builtin_lumbar_protocol_hangs_the_sagittal_t2_beside_the_newest_earlier_prior() {
        let protocols = HangingProtocols::builtin();
        let current = lumbar("now", "20240301");
        let priors = [
            lumbar("later", "20250101"),
            lumbar("recent", "20220101"),
            lumbar("old", "2019"),
        ];
        let hanging = protocols.hang(&current, &priors).expect("a protocol fits");
        let cells: Vec<_> = hanging
            .cells
            .iter()
            .map(|c| (c.role, c.series.as_str()))
            .collect();
        assert_eq!(
            cells,
            [
                (StudyRole::Current, "now-t2"),
                (StudyRole::Prior, "recent-t2")
            ]
        );
        // Without a prior, the current study's cells are hung alone.
        let alone = protocols.hang(&current, &[]).expect("a protocol fits");
        assert_eq!(alone.cells.len(), 1);
        // A CT is no lumbar MR.
        let mut ct = current.clone();
        ct.modalities = vec!["CT".to_string()];
        ct.description = "Abdomen".to_string();
        assert_eq!(protocols.hang(&ct, &priors), None);
    }

    #[test]
    fn a_study_is_named_by_its_description_or_by_a_series_body_part() {
        let text = r#"
            name = "Spine by body part"
            [current]
            modality = "MR"
            description = ["no such words"]
            body_part = ["lspine"]
            [[cells]]
            study = "current"
            series = ["sag t2"]
        "#;
        let mut protocols = HangingProtocols::none();
        protocols.insert(HangingProtocol::from_toml(text, "spine.toml").expect("reads"));
        let mut current = lumbar("now", "20240301");
        // Neither its description nor any body part: no protocol.
        assert_eq!(protocols.hang(&current, &[]), None);
        // BodyPartExamined LSPINE on one series names it, whatever its description.
        current.series[1].body_part = "LSPINE".to_string();
        let hanging = protocols
            .hang(&current, &[])
            .expect("named by its body part");
        assert_eq!(hanging.protocol, "Spine by body part");
        assert_eq!(hanging.cells[0].series, "now-t2");
        // Another body part does not.
        current.series[1].body_part = "KNEE".to_string();
        assert_eq!(protocols.hang(&current, &[]), None);
    }

    #[test]
    fn a_required_prior_missing_leaves_the_protocol_out_and_the_most_particular_wins() {
        let text = |name: &str, required: bool, extra: &str| {
            format!(
                "name = \"{name}\"\n[current]\nmodality = \"MR\"\n{extra}\n[prior]\nrequired = {required}\n\
                 [[cells]]\nstudy = \"current\"\nseries = [\"t1\"]\n[[cells]]\nstudy = \"prior\"\nseries = [\"t1\"]\n"
            )
        };
        let mut protocols = HangingProtocols::none();
        for protocol in [
            HangingProtocol::from_toml(&text("any MR", false, ""), "a").expect("reads"),
            HangingProtocol::from_toml(&text("lumbar", true, "description = [\"lumbar\"]"), "b")
                .expect("reads"),
        ] {
            protocols.insert(protocol);
        }
        let current = lumbar("now", "20240301");
        let with_prior = protocols
            .hang(&current, &[lumbar("old", "20200101")])
            .expect("fits");
        assert_eq!(with_prior.protocol, "lumbar");
        let without = protocols.hang(&current, &[]).expect("fits");
        assert_eq!(without.protocol, "any MR");
        assert_eq!(without.cells.len(), 1);
    }
}
