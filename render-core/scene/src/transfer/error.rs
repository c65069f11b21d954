//! Why a preset could not be read or used: each error names the file and the field at
//! fault, e.g. "ct-mine.toml, line 14, field `opacity`: invalid type: string …".

use std::path::PathBuf;

/// Why a preset file could not be read, parsed or accepted.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// The file could not be read from disk.
    #[error("{}: cannot read: {source}", file.display())]
    Io {
        /// The file or folder.
        file: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or a field is missing, unknown or of the wrong type.
    #[error("{file}{}, field `{field}`: {message}", line_suffix(.line))]
    Parse {
        /// The file (or other origin) the text came from.
        file: String,
        /// The 1-based line of the fault, when the parser knows it.
        line: Option<usize>,
        /// The field at fault, as a dotted TOML key (`shading.ambient`), or `(document)`.
        field: String,
        /// What the parser said.
        message: String,
    },
    /// The preset parsed but a value is unusable (out of range, not ascending, …).
    #[error("{}preset `{preset}`, field `{field}`: {reason}", file_prefix(.file))]
    Invalid {
        /// The file the preset came from, when it came from one.
        file: Option<String>,
        /// The preset's name.
        preset: String,
        /// The field at fault, e.g. `opacity[2].value` (points count from 0).
        field: String,
        /// What is wrong and what would be right.
        reason: String,
    },
}

impl PresetError {
    /// The file this error is about, when it is about one file.
    pub fn file(&self) -> Option<String> {
        match self {
            PresetError::Io { file, .. } => Some(file.display().to_string()),
            PresetError::Parse { file, .. } => Some(file.clone()),
            PresetError::Invalid { file, .. } => file.clone(),
        }
    }

    /// The field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            PresetError::Io { .. } => None,
            PresetError::Parse { field, .. } | PresetError::Invalid { field, .. } => Some(field),
        }
    }

    /// Attaches the file a validation error's preset came from.
    pub(crate) fn in_file(self, origin: &str) -> Self {
        match self {
            PresetError::Invalid {
                file: None,
                preset,
                field,
                reason,
            } => PresetError::Invalid {
                file: Some(origin.to_string()),
                preset,
                field,
                reason,
            },
            other => other,
        }
    }

    /// A parse error from the TOML parser, located in `text` by its span.
    pub(crate) fn parse(origin: &str, text: &str, error: &toml::de::Error) -> Self {
        let message = error.message().trim().to_string();
        let span = error.span();
        // A span over the whole document (a missing top-level field) has no line to name.
        let line = span
            .as_ref()
            .filter(|span| !(span.start == 0 && span.end >= text.len()))
            .map(|span| {
                let start = span.start.min(text.len());
                text.as_bytes()[..start]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
        let field = super::locate::field_at(text, span, &message)
            .unwrap_or_else(|| "(document)".to_string());
        PresetError::Parse {
            file: origin.to_string(),
            line,
            field,
            message,
        }
    }
}

fn line_suffix(line: &Option<usize>) -> String {
    line.map(|n| format!(", line {n}")).unwrap_or_default()
}

fn file_prefix(file: &Option<String>) -> String {
    file.as_ref().map(|f| format!("{f}: ")).unwrap_or_default()
}
