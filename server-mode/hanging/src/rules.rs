//! A hanging protocol as its TOML file writes it, checked within its bounds when read:
//! which studies it takes (`[current]`, `[prior]`) and what each cell shows (`[[cells]]`).

use serde::Deserialize;

use hounsfield_protocol::{Layout, StudyRole, WindowInfo};

use crate::HangingError;

/// The most cells a protocol lays out (the reading's panes).
pub const MOST_CELLS: usize = 4;
/// The most alternatives a description rule lists.
pub const MOST_ALTERNATIVES: usize = 32;
/// The most characters of a name, a description alternative or a preset's name.
pub const MOST_RULE_CHARS: usize = 200;
/// The most characters of a body part: BodyPartExamined is a code string (CS) of 16.
pub const MOST_BODY_PART_CHARS: usize = 16;

/// One hanging protocol, checked.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HangingProtocol {
    /// What the reader sees it called.
    pub name: String,
    /// What it is for (documentation only).
    #[serde(default)]
    pub description: String,
    /// The study being read: which ones this protocol is for.
    #[serde(default)]
    pub current: StudyRule,
    /// The prior it hangs beside: the newest other study of the patient this takes.
    #[serde(default)]
    pub prior: Option<PriorRule>,
    /// The cells in order; the first shows the current study.
    pub cells: Vec<CellRule>,
}

/// Which studies a rule takes; an empty rule takes every study.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyRule {
    /// One of the study's modalities (`MR`, `CT`…), any case.
    #[serde(default)]
    pub modality: Option<String>,
    /// The study's description holds every word of one of these alternatives, any case
    /// (`["lumbar", "l spine"]`); empty: any description.
    #[serde(default)]
    pub description: Vec<String>,
    /// One of the study's series was examined for one of these body parts, its
    /// BodyPartExamined (any case: `["LSPINE", "SPINE"]`); empty: any. With `description`
    /// too, either one names the study: many studies carry only one of the two.
    #[serde(default)]
    pub body_part: Vec<String>,
}

/// The prior a protocol hangs: a study rule, and whether the protocol needs one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorRule {
    /// Which of the patient's other studies may be the prior.
    #[serde(flatten)]
    pub study: StudyRule,
    /// Whether the protocol applies only when such a prior exists; otherwise its prior's
    /// cells are left out when there is none.
    #[serde(default)]
    pub required: bool,
}

/// One cell: which series it shows and how it starts.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellRule {
    /// `current` or `prior`.
    pub study: StudyRole,
    /// The series' description holds every word of one of these alternatives, any case
    /// (`["sag t2", "t2 sag"]`); empty: the study's first volume series.
    #[serde(default)]
    pub series: Vec<String>,
    /// The series' modality, any case; absent: any.
    #[serde(default)]
    pub modality: Option<String>,
    /// `1x1` or `2x2`.
    #[serde(default)]
    pub layout: Option<Layout>,
    /// The grey window the cell starts with.
    #[serde(default)]
    pub window: Option<WindowInfo>,
    /// The 3D view's transfer-function preset.
    #[serde(default)]
    pub preset: Option<String>,
}

impl HangingProtocol {
    /// Reads and checks a protocol's TOML text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Self, HangingError> {
        let protocol: Self = toml::from_str(text).map_err(|error| HangingError::Format {
            file: file.to_string(),
            message: error.message().to_string(),
        })?;
        protocol.check().map_err(|field| HangingError::Field {
            file: file.to_string(),
            field,
        })?;
        Ok(protocol)
    }

    /// The first field outside its bounds, named with what they are.
    fn check(&self) -> Result<(), String> {
        let name_chars = self.name.trim().chars().count();
        if name_chars == 0 || name_chars > MOST_RULE_CHARS {
            return Err(format!("name: 1 to {MOST_RULE_CHARS} characters"));
        }
        if self.cells.is_empty() || self.cells.len() > MOST_CELLS {
            return Err(format!(
                "cells: 1 to {MOST_CELLS} (found {})",
                self.cells.len()
            ));
        }
        if self.cells[0].study != StudyRole::Current {
            return Err("cells[0].study: the first cell shows the current study".to_string());
        }
        check_rule(&self.current, "current")?;
        if let Some(prior) = &self.prior {
            check_rule(&prior.study, "prior")?;
        } else if self.cells.iter().any(|cell| cell.study == StudyRole::Prior) {
            return Err("cells: a cell shows the prior, but [prior] says which".to_string());
        }
        for (n, cell) in self.cells.iter().enumerate() {
            check_words(&cell.series, &format!("cells[{n}].series"), MOST_RULE_CHARS)?;
            if let Some(window) = cell.window
                && !(window.width.is_finite() && window.width > 0.0 && window.center.is_finite())
            {
                return Err(format!(
                    "cells[{n}].window: a positive finite width and a finite center"
                ));
            }
            if let Some(preset) = &cell.preset
                && (preset.is_empty() || preset.chars().count() > MOST_RULE_CHARS)
            {
                return Err(format!(
                    "cells[{n}].preset: 1 to {MOST_RULE_CHARS} characters"
                ));
            }
        }
        Ok(())
    }
}

/// A study rule's alternatives within their bounds.
fn check_rule(rule: &StudyRule, field: &str) -> Result<(), String> {
    check_words(
        &rule.description,
        &format!("{field}.description"),
        MOST_RULE_CHARS,
    )?;
    check_words(
        &rule.body_part,
        &format!("{field}.body_part"),
        MOST_BODY_PART_CHARS,
    )
}

/// 0 to [`MOST_ALTERNATIVES`] alternatives, each with a word and at most `most_chars`
/// characters.
fn check_words(alternatives: &[String], field: &str, most_chars: usize) -> Result<(), String> {
    if alternatives.len() > MOST_ALTERNATIVES {
        return Err(format!("{field}: at most {MOST_ALTERNATIVES} alternatives"));
    }
    for (n, alternative) in alternatives.iter().enumerate() {
        if alternative.split_whitespace().next().is_none()
            || alternative.chars().count() > most_chars
        {
            return Err(format!(
                "{field}[{n}]: a word or more, at most {most_chars} characters"
            ));
        }
    }
    Ok(())
}

/// Whether `text` holds every word of one of `alternatives` (any case), or there are none.
pub(crate) fn described(text: &str, alternatives: &[String]) -> bool {
    if alternatives.is_empty() {
        return true;
    }
    let text = text.to_lowercase();
    alternatives.iter().any(|alternative| {
        alternative
            .split_whitespace()
            .all(|word| text.contains(&word.to_lowercase()))
    })
}

/// Whether `body_part` (a series' BodyPartExamined) is one of `wanted`, any case and
/// blanks aside; an empty one is none of them.
pub(crate) fn of_body_part(body_part: &str, wanted: &[String]) -> bool {
    let body_part = body_part.trim();
    !body_part.is_empty()
        && wanted
            .iter()
            .any(|part| part.trim().eq_ignore_ascii_case(body_part))
}

/// Whether `modality` is `wanted` (any case), or nothing is wanted.
pub(crate) fn of_modality(modality: &str, wanted: Option<&str>) -> bool {
    wanted.is_none_or(|wanted| modality.eq_ignore_ascii_case(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LUMBAR: &str = r#"
        name = "MR lumbar with prior"
        [current]
        modality = "MR"
        description = ["lumbar", "l spine"]
        [prior]
        modality = "MR"
        [[cells]]
        study = "current"
        series = ["sag t2"]
        layout = "2x2"
        window = { width = 1200, center = 600 }
        [[cells]]
        study = "prior"
        series = ["sag t2"]
    "#;

    #[test]
    fn a_protocol_reads_its_rules_and_cells() {
        let protocol = HangingProtocol::from_toml(LUMBAR, "lumbar.toml").expect("reads");
        assert_eq!(protocol.cells.len(), 2);
        assert_eq!(protocol.cells[0].layout, Some(Layout::Quad));
        assert_eq!(protocol.cells[1].study, StudyRole::Prior);
        assert_eq!(protocol.current.modality.as_deref(), Some("MR"));
        assert!(!protocol.prior.expect("a prior rule").required);
    }

    #[test]
    fn a_bad_field_is_named_with_its_file() {
        let no_prior = LUMBAR.replace("[prior]\n        modality = \"MR\"", "");
        let error = HangingProtocol::from_toml(&no_prior, "lumbar.toml").expect_err("refused");
        assert!(
            error.to_string().contains("lumbar.toml") && error.to_string().contains("[prior]"),
            "{error}"
        );
        let bad_window = LUMBAR.replace("width = 1200", "width = -1");
        let error = HangingProtocol::from_toml(&bad_window, "w.toml").expect_err("refused");
        assert!(error.to_string().contains("cells[0].window"), "{error}");
        let unknown = LUMBAR.replace("layout = \"2x2\"", "layout = \"3x3\"");
        let error = HangingProtocol::from_toml(&unknown, "l.toml").expect_err("refused");
        assert!(error.to_string().contains("l.toml"), "{error}");
        let long_part = LUMBAR.replace(
            "description = [\"lumbar\", \"l spine\"]",
            "body_part = [\"LSPINE\", \"A BODY PART TOO LONG\"]",
        );
        let error = HangingProtocol::from_toml(&long_part, "b.toml").expect_err("refused");
        assert!(
            error.to_string().contains("current.body_part[1]"),
            "{error}"
        );
        let prior_first = LUMBAR.replacen("study = \"current\"", "study = \"prior\"", 1);
        let error = HangingProtocol::from_toml(&prior_first, "p.toml").expect_err("refused");
        assert!(error.to_string().contains("cells[0].study"), "{error}");
    }

    #[test]
    fn a_description_holds_every_word_of_an_alternative_in_any_case() {
        let alternatives = ["sag t2".to_string(), "t2 sagittal".to_string()];
        assert!(described("Sag T2 frFSE S", &alternatives));
        assert!(described("T2 SAGITTAL", &alternatives));
        assert!(!described("Sag T1 Flair", &alternatives));
        assert!(described("anything", &[]));
        assert!(of_modality("mr", Some("MR")));
        assert!(!of_modality("CT", Some("MR")));
        assert!(of_modality("CT", None));
    }
}
