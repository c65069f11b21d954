//! Where in a preset's TOML text a parser error points, as a field path a person can find
//! in the file: `opacity[2].value`, `shading.ambient`, `mode`.
//!
//! The parser reports a byte span and a message; this walks the text up to the span,
//! tracking `[table]` headers, `[[array]]` headers and inline arrays and tables, so that the
//! error can name the field rather than only a line.

use std::ops::Range;

/// The dotted path of the field a parser error points at, or `None` when no key is
/// involved (e.g. a syntax error in the middle of a value).
pub(crate) fn field_at(text: &str, span: Option<Range<usize>>, message: &str) -> Option<String> {
    let start = floor_char_boundary(text, span.map_or(0, |s| s.start));
    // A span that starts on a header line belongs to that header's table.
    let scan_end = if text[start..].starts_with('[') && at_line_start(text, start) {
        text[start..].find('\n').map_or(text.len(), |n| start + n)
    } else {
        start
    };
    let mut path = open_containers(&text[..scan_end]);
    let key = named_in_message(message)
        .or_else(|| key_of_span(&text[start..]))
        .or_else(|| key_before(&text[..start]));
    if let Some(key) = key {
        path.push(key);
    }
    (!path.is_empty()).then(|| path.join("."))
}

/// The field a "missing field `x`" or "unknown field `x`" message names.
fn named_in_message(message: &str) -> Option<String> {
    ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| {
            let rest = &message[message.find(prefix)? + prefix.len()..];
            Some(rest[..rest.find('`')?].to_string())
        })
}

/// The key itself when the span covers a key (`key = …` follows it).
fn key_of_span(rest: &str) -> Option<String> {
    let key: String = rest.chars().take_while(|&c| is_key_char(c)).collect();
    let after = rest[key.len()..].trim_start_matches([' ', '\t']);
    (!key.is_empty() && after.starts_with('=')).then_some(key)
}

/// The key of `key = ` written just before a value's span.
fn key_before(before: &str) -> Option<String> {
    let trimmed = before.trim_end_matches([' ', '\t']).strip_suffix('=')?;
    let trimmed = trimmed.trim_end_matches([' ', '\t']);
    let start = trimmed
        .char_indices()
        .rev()
        .find(|&(_, c)| !is_key_char(c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let key = &trimmed[start..];
    (!key.is_empty()).then(|| key.to_string())
}

/// One level of nesting open at the end of the scanned text.
enum Open {
    /// An inline array `key = [`, with the index of the element being written.
    Array { key: Option<String>, index: usize },
    /// An inline table `key = {` (or an array element `{`).
    Table { key: Option<String> },
}

/// The path of the table header and inline arrays/tables still open at the end of `text`.
fn open_containers(text: &str) -> Vec<String> {
    let mut header: Vec<String> = Vec::new();
    let mut array_headers: Vec<(String, usize)> = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut pending_key: Option<String> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' => {
                // A comment runs to the end of the line.
                while chars.next_if(|&(_, c)| c != '\n').is_some() {}
            }
            '"' | '\'' => {
                let triple = text[i..].starts_with(if c == '"' { "\"\"\"" } else { "'''" });
                if triple {
                    chars.next();
                    chars.next();
                }
                skip_string(&mut chars, text, c, triple);
            }
            '=' => pending_key = key_before(&text[..=i]),
            '[' if stack.is_empty() && at_line_start(text, i) => {
                let line_end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                let line = &text[i..line_end];
                let name = line
                    .split('#')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .trim_matches(|c| c == '[' || c == ']')
                    .trim()
                    .to_string();
                header = if line.starts_with("[[") {
                    let count = match array_headers.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, count)) => {
                            *count += 1;
                            *count
                        }
                        None => {
                            array_headers.push((name.clone(), 0));
                            0
                        }
                    };
                    vec![format!("{name}[{count}]")]
                } else {
                    vec![name]
                };
                while chars.next_if(|&(_, c)| c != '\n').is_some() {}
                pending_key = None;
            }
            '[' => stack.push(Open::Array {
                key: pending_key.take(),
                index: 0,
            }),
            '{' => stack.push(Open::Table {
                key: pending_key.take(),
            }),
            ']' | '}' => {
                stack.pop();
                pending_key = None;
            }
            ',' => {
                if let Some(Open::Array { index, .. }) = stack.last_mut() {
                    *index += 1;
                }
                pending_key = None;
            }
            '\n' => pending_key = None,
            _ => {}
        }
    }
    let mut path = header;
    for open in stack {
        match open {
            Open::Array { key, index } => {
                path.push(format!("{}[{index}]", key.unwrap_or_default()))
            }
            Open::Table { key: Some(key) } => path.push(key),
            Open::Table { key: None } => {}
        }
    }
    path
}

/// Advances past a string whose opening quote has been read.
fn skip_string(
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    text: &str,
    quote: char,
    triple: bool,
) {
    while let Some((i, c)) = chars.next() {
        if c == '\\' && quote == '"' {
            chars.next();
        } else if c == quote {
            if !triple {
                return;
            }
            let closing: &str = if quote == '"' { "\"\"\"" } else { "'''" };
            if text[i..].starts_with(closing) {
                chars.next();
                chars.next();
                return;
            }
        } else if c == '\n' && !triple {
            return;
        }
    }
}

fn at_line_start(text: &str, index: usize) -> bool {
    text[..index]
        .chars()
        .rev()
        .take_while(|&c| c != '\n')
        .all(|c| c == ' ' || c == '\t')
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, needle: &str, message: &str) -> Option<String> {
        let start = text.find(needle).expect("needle in text");
        field_at(text, Some(start..start + needle.len()), message)
    }

    #[test]
    fn names_keys_in_inline_arrays_and_tables() {
        let text = "name = \"x\" # a [comment]\nopacity = [\n  { value = 1, opacity = 0.0 },\n  { value = 2, opacity = \"high\" },\n]\n";
        assert_eq!(
            at(text, "\"high\"", "invalid type").as_deref(),
            Some("opacity[1].opacity")
        );
        assert_eq!(at(text, "\"x\"", "invalid type").as_deref(), Some("name"));
    }

    #[test]
    fn names_keys_under_headers_and_array_headers() {
        let text = "[shading]\nambient = \"a\"\n[[colour]]\nvalue = 1\n[[colour]]\nvalue = \"b\"\n";
        assert_eq!(
            at(text, "\"a\"", "invalid type").as_deref(),
            Some("shading.ambient")
        );
        assert_eq!(
            at(text, "\"b\"", "invalid type").as_deref(),
            Some("colour[1].value")
        );
        assert_eq!(
            at(text, "[shading]", "missing field `diffuse`").as_deref(),
            Some("shading.diffuse")
        );
    }

    #[test]
    fn names_missing_top_level_fields() {
        assert_eq!(
            field_at("name = \"x\"\n", Some(0..10), "missing field `opacity`").as_deref(),
            Some("opacity")
        );
        assert_eq!(
            field_at("", None, "missing field `name`").as_deref(),
            Some("name")
        );
    }
}
