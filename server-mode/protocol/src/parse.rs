//! Reading a client's text message: bad JSON, unknown types and bad fields told apart, each
//! with its [`ErrorCode`], and error messages cut to a bounded length.

use crate::{ClientMessage, ErrorCode};

/// The longest message an `error` reply carries (characters): messages quote what was
/// refused, and a client's value may be as long as its message.
pub const MAX_ERROR_MESSAGE_CHARS: usize = 300;

/// `message` cut to [`MAX_ERROR_MESSAGE_CHARS`] characters where it is longer: its start
/// and its end (where serde says what it expected) kept, `…` in place of the middle.
pub fn bounded_error_message(message: String) -> String {
    let chars = message.chars().count();
    if chars <= MAX_ERROR_MESSAGE_CHARS {
        return message;
    }
    let head = MAX_ERROR_MESSAGE_CHARS / 3;
    let tail = MAX_ERROR_MESSAGE_CHARS - head - 1;
    let mut bounded: String = message.chars().take(head).collect();
    bounded.push('…');
    bounded.extend(message.chars().skip(chars - tail));
    bounded
}

/// Why a text message was refused, with the code to reply with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The error code for the `error` reply.
    pub code: ErrorCode,
    /// What was wrong, at most [`MAX_ERROR_MESSAGE_CHARS`] characters.
    pub message: String,
}

impl ParseError {
    /// A refusal with `code`, its message cut to [`MAX_ERROR_MESSAGE_CHARS`].
    pub(crate) fn new(code: ErrorCode, message: String) -> Self {
        Self {
            code,
            message: bounded_error_message(message),
        }
    }
}

/// The `type`s a client may send.
const CLIENT_TYPES: [&str; 43] = [
    "hello",
    "list_studies",
    "open",
    "open_study",
    "input",
    "still",
    "keyframe",
    "stats",
    "share",
    "join",
    "probe",
    "measure",
    "finding",
    "save_findings",
    "calcium",
    "segment",
    "segment_edit",
    "segment_undo",
    "segment_preview",
    "segments",
    "save_segments",
    "segmentations",
    "load_segmentation",
    "run_model",
    "stop_model",
    "key_image",
    "snapshot",
    "webrtc_offer",
    "webrtc_close",
    "pointer",
    "request_control",
    "grant_control",
    "refuse_control",
    "revoke_control",
    "start_recording",
    "stop_recording",
    "list_recordings",
    "play_recording",
    "playback",
    "export_movie",
    "transfer_function",
    "save_preset",
    "over",
];

/// Parses a client's text message, telling bad JSON, unknown types and bad fields apart.
pub fn parse_client_message(text: &str) -> Result<ClientMessage, ParseError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| ParseError::new(ErrorCode::BadJson, format!("not JSON: {error}")))?;
    let Some(object) = value.as_object() else {
        return Err(ParseError::new(
            ErrorCode::BadJson,
            "a message is a JSON object with a \"type\"".to_string(),
        ));
    };
    match object.get("type").and_then(|t| t.as_str()) {
        Some(kind) if CLIENT_TYPES.contains(&kind) => {}
        Some(kind) => {
            return Err(ParseError::new(
                ErrorCode::UnknownType,
                format!(
                    "unknown message type \"{}\" (known: {})",
                    kind.chars().take(40).collect::<String>(),
                    CLIENT_TYPES.join(", ")
                ),
            ));
        }
        None => {
            return Err(ParseError::new(
                ErrorCode::UnknownType,
                "the message has no string \"type\"".to_string(),
            ));
        }
    }
    // serde's messages quote the value refused (an unknown action, a string where a
    // number belongs), whatever its length: ParseError::new cuts them short.
    serde_json::from_value(value)
        .map_err(|error| ParseError::new(ErrorCode::BadMessage, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_messages_get_distinct_codes() {
        let code = |text: &str| parse_client_message(text).map_err(|e| e.code).err();
        assert_eq!(code("{not json"), Some(ErrorCode::BadJson));
        assert_eq!(code("[1,2]"), Some(ErrorCode::BadJson));
        assert_eq!(code(r#"{"type":"launch"}"#), Some(ErrorCode::UnknownType));
        assert_eq!(code(r#"{"kind":"hello"}"#), Some(ErrorCode::UnknownType));
        assert_eq!(
            code(r#"{"type":"open","series":7}"#),
            Some(ErrorCode::BadMessage)
        );
        assert_eq!(
            code(r#"{"type":"input","seq":"x","action":"reset"}"#),
            Some(ErrorCode::BadMessage)
        );
        assert_eq!(
            code(r#"{"type":"input","seq":1,"action":"fly"}"#),
            Some(ErrorCode::BadMessage)
        );
        assert_eq!(code(r#"{"type":"list_studies"}"#), None);
        assert_eq!(
            code(r#"{"type":"list_studies","limit":"many"}"#),
            Some(ErrorCode::BadMessage)
        );
        assert_eq!(code(r#"{"type":"still"}"#), None);
        assert_eq!(code(r#"{"type":"keyframe"}"#), None);
        assert_eq!(
            code(r#"{"type":"stats","decode_queue":"many"}"#),
            Some(ErrorCode::BadMessage)
        );
    }

    #[test]
    fn long_values_are_not_echoed_whole_in_errors() {
        let long = "x".repeat(70_000);
        for text in [
            format!(r#"{{"type":"input","seq":1,"action":"{long}"}}"#),
            format!(r#"{{"type":"input","seq":"{long}","action":"reset"}}"#),
            format!(r#"{{"type":"hello","codecs":["{long}"]}}"#),
            format!(r#"{{"type":"{long}"}}"#),
        ] {
            let error = parse_client_message(&text).expect_err("refused");
            assert!(
                error.message.chars().count() <= MAX_ERROR_MESSAGE_CHARS,
                "{} characters",
                error.message.len()
            );
        }
        let error =
            parse_client_message(&format!(r#"{{"type":"input","seq":1,"action":"{long}"}}"#))
                .expect_err("refused");
        assert!(
            error.message.starts_with("unknown variant `xxx"),
            "{}",
            error.message
        );
        assert!(error.message.contains('…'), "{}", error.message);
        assert!(error.message.ends_with("`cine`"), "{}", error.message);
        let short = "a short message".to_string();
        assert_eq!(bounded_error_message(short.clone()), short);
    }
}
