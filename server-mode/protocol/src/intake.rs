//! Reading what a server sends, the one way a client does: every text message passes its
//! bounds (its bytes, its JSON nesting, each string's bytes, its values in all) in one pass
//! over the bytes before serde sees it, and a refusal says which bound in at most
//! [`MAX_ERROR_MESSAGE_CHARS`](crate::MAX_ERROR_MESSAGE_CHARS) characters, quoting nothing
//! of the text. A server is not trusted: a hostile one (or one taken over) may send
//! megabytes of `[`, a string of gigabytes, a list of millions of empty arrays, each of
//! which costs many times its size once parsed.
//!
//! The figures follow what a real server sends at its own bounds (the `findings` of a
//! series at its bounds is the largest message, 24 MB at its very worst; see each
//! constant), so an honest server is never refused, and a hostile one costs a client a
//! bounded amount of memory (the thin client's `hostile_server` test peaks at 164 MB for
//! a message just under every bound), once, before the connection is closed.

use crate::parse::ParseError;
use crate::{ErrorCode, FrameNote, ServerMessage};

/// The most bytes one text message from a server may have. The largest a server sends is
/// the `findings` of a series at its bounds: 500 findings (`MAX_FINDINGS_PER_SERIES`) of
/// 513 points each (`MAX_POLYGON_VERTICES` and the closing one), three numbers a point;
/// with every number at its longest (24 characters) and every note at 1024 escaped
/// characters, 23.9 MB (measured in the tests below), a third under this bound. A
/// `studies` page (200 studies, texts cut to 256 characters), a `recordings` list (200),
/// an SDP answer or a `view` are far smaller.
pub const MAX_SERVER_MESSAGE_BYTES: usize = 32 << 20;

/// How deep a server's JSON may nest (objects and arrays). The deepest a server sends is
/// 6 levels (a `studies` page: message, studies, study, series, one series, its `dims`; a
/// `findings` list: message, findings, finding, points, one point); 16 leaves room for
/// later versions. serde_json would stop at 128 anyway; this says why, early.
pub const MAX_SERVER_JSON_DEPTH: usize = 16;

/// The most bytes one JSON string of a server's message may have, as written (escapes
/// counted as sent). The longest a server sends are an SDP answer (a few kilobytes) and a
/// finding's note (1024 characters: at most 6 KiB with every character escaped).
pub const MAX_SERVER_STRING_BYTES: usize = 64 << 10;

/// The most values (array elements and object members, counted as the commas, `[` and
/// `{` outside strings) a server's message may hold. Parsing costs memory per value, not
/// per byte: serde holds every value of a tagged message (32 bytes each, 64 a member)
/// before it reads it, so `[[],[],…]` would cost ten times its size. The `findings` at the
/// server's bounds hold 1,039,003 (4 a point); 2,000,000 object members (the costliest
/// values) cost the thin client about 145 MB, once (its `hostile_server` test).
pub const MAX_SERVER_JSON_VALUES: usize = 2_000_000;

/// The most bytes of one frame's note on the WebRTC data channel: a note is a flat object
/// of ten numbers and a boolean, about 220 bytes.
pub const MAX_FRAME_NOTE_BYTES: usize = 1024;

/// What one kind of text may be.
#[derive(Debug, Clone, Copy)]
struct TextBounds {
    /// What the text is, for messages (`a server's message`).
    what: &'static str,
    /// Its bytes.
    bytes: usize,
    /// Its nesting.
    depth: usize,
    /// One string's bytes, as written.
    string_bytes: usize,
    /// Its values.
    values: usize,
}

/// A server's text message on the WebSocket.
const SERVER_MESSAGE: TextBounds = TextBounds {
    what: "a server's message",
    bytes: MAX_SERVER_MESSAGE_BYTES,
    depth: MAX_SERVER_JSON_DEPTH,
    string_bytes: MAX_SERVER_STRING_BYTES,
    values: MAX_SERVER_JSON_VALUES,
};

/// A frame's note on the WebRTC data channel (a flat object).
const FRAME_NOTE: TextBounds = TextBounds {
    what: "a frame's note",
    bytes: MAX_FRAME_NOTE_BYTES,
    depth: 1,
    string_bytes: 16,
    values: 16,
};

/// Reads a server's text message, once it is within [`MAX_SERVER_MESSAGE_BYTES`],
/// [`MAX_SERVER_JSON_DEPTH`], [`MAX_SERVER_STRING_BYTES`] and [`MAX_SERVER_JSON_VALUES`]:
/// the one way a client reads what a server sends on its WebSocket. The error says what
/// was wrong in at most [`MAX_ERROR_MESSAGE_CHARS`](crate::MAX_ERROR_MESSAGE_CHARS)
/// characters.
pub fn parse_server_message(text: &str) -> Result<ServerMessage, ParseError> {
    check(text, &SERVER_MESSAGE)?;
    serde_json::from_str(text).map_err(|error| serde_error(&SERVER_MESSAGE, &error))
}

/// Reads a frame's note from the WebRTC data channel, once it is within
/// [`MAX_FRAME_NOTE_BYTES`] and flat, and its picture within a frame's bounds
/// ([`crate::MAX_FRAME_SIDE`]).
pub fn parse_frame_note(text: &str) -> Result<FrameNote, ParseError> {
    check(text, &FRAME_NOTE)?;
    let note: FrameNote =
        serde_json::from_str(text).map_err(|error| serde_error(&FRAME_NOTE, &error))?;
    crate::frame::check_sides(note.width, note.height)
        .map_err(|error| ParseError::new(ErrorCode::TooLarge, error.to_string()))?;
    Ok(note)
}

/// serde's refusal: bad JSON, or JSON that is not a message of the protocol.
fn serde_error(bounds: &TextBounds, error: &serde_json::Error) -> ParseError {
    use serde_json::error::Category;
    let (code, what) = match error.classify() {
        Category::Data => (ErrorCode::BadMessage, "not a message of protocol v1"),
        Category::Syntax | Category::Eof | Category::Io => (ErrorCode::BadJson, "not JSON"),
    };
    // serde quotes the value it refused, whatever its length: ParseError::new cuts it.
    ParseError::new(code, format!("{} is {what}: {error}", bounds.what))
}

/// Checks `text` against `bounds` in one pass over its bytes, before any parser sees it:
/// its length, its nesting (brackets outside strings), each string's length and the
/// values in all. Whether the JSON is well formed is left to serde.
fn check(text: &str, bounds: &TextBounds) -> Result<(), ParseError> {
    let too_large = |message: String| Err(ParseError::new(ErrorCode::TooLarge, message));
    let bytes = text.as_bytes();
    if bytes.len() > bounds.bytes {
        return too_large(format!(
            "{} of {} bytes: at most {} are taken",
            bounds.what,
            bytes.len(),
            bounds.bytes
        ));
    }
    let mut depth = 0_usize;
    let mut values = 0_usize;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => {
                let start = at;
                at += 1;
                while at < bytes.len() && bytes[at] != b'"' {
                    // An escape's next byte is never the string's end (`\"`, `\\`).
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                let string_bytes = at.min(bytes.len()) - start - 1;
                if string_bytes > bounds.string_bytes {
                    return too_large(format!(
                        "{} holds a string of {string_bytes} bytes at byte {start}: at most {} are taken",
                        bounds.what, bounds.string_bytes
                    ));
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > bounds.depth {
                    return too_large(format!(
                        "{} nests deeper than {} levels (at byte {at})",
                        bounds.what, bounds.depth
                    ));
                }
                values += 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
        if values > bounds.values {
            return too_large(format!(
                "{} holds more than {} values (at byte {at})",
                bounds.what, bounds.values
            ));
        }
        at += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        CellAxes, FindingInfo, FindingKind, MAX_ERROR_MESSAGE_CHARS, MAX_NOTE_CHARS,
        MAX_POLYGON_VERTICES, RegionStatistics, SlicePlane,
    };

    /// The server's bound on findings kept for a series (`MAX_FINDINGS_PER_SERIES` of
    /// the findings crate, which this crate does not depend on).
    const FINDINGS_PER_SERIES: usize = 500;

    fn refused(text: &str) -> ParseError {
        let error = parse_server_message(text).expect_err("refused");
        assert!(
            error.message.chars().count() <= MAX_ERROR_MESSAGE_CHARS,
            "{} characters",
            error.message.chars().count()
        );
        error
    }

    #[test]
    fn the_largest_findings_a_server_sends_pass_within_a_margin() {
        // The longest number serde_json writes (24 characters), in every coordinate.
        let coordinate = -1.234_567_890_123_456_7e-300;
        let finding = FindingInfo {
            id: u32::MAX,
            kind: FindingKind::Polygon,
            cell: SlicePlane::Sagittal,
            points_lps: vec![[coordinate; 3]; MAX_POLYGON_VERTICES + 1],
            axes: Some(CellAxes {
                right: [coordinate; 3],
                down: [coordinate; 3],
            }),
            stats: Some(RegionStatistics {
                mean: coordinate,
                sd: coordinate,
                min: coordinate,
                max: coordinate,
                area_mm2: coordinate,
                voxels: u64::MAX,
                unit: "HU".into(),
                suv: None,
            }),
            values: Vec::new(),
            curve: None,
            length_mm: Some(coordinate),
            angle_deg: Some(coordinate),
            // Every character escaped: six bytes each.
            note: "\u{1}".repeat(MAX_NOTE_CHARS),
            author: "\u{1}".repeat(256),
        };
        let findings = ServerMessage::Findings {
            series: "1.2.840.10008".repeat(8),
            findings: vec![finding; FINDINGS_PER_SERIES],
        };
        let text = serde_json::to_string(&findings).expect("serialises");
        assert!(
            text.len() * 4 / 3 < MAX_SERVER_MESSAGE_BYTES,
            "{} bytes: not a third as much again under the bound",
            text.len()
        );
        let mut values = 0;
        let mut in_string = false;
        let mut escaped = false;
        for byte in text.bytes() {
            match (in_string, escaped, byte) {
                (true, true, _) => escaped = false,
                (true, false, b'\\') => escaped = true,
                (_, false, b'"') => in_string = !in_string,
                (false, _, b'[' | b'{' | b',') => values += 1,
                _ => {}
            }
        }
        assert!(
            values * 3 / 2 < MAX_SERVER_JSON_VALUES,
            "{values} values: not half as much again under the bound"
        );
        println!("{} bytes, {values} values", text.len());
        assert_eq!(parse_server_message(&text), Ok(findings));
    }

    #[test]
    fn the_deepest_message_a_server_sends_passes() {
        let text = r#"{"type":"studies","studies":[{"id":"s","description":"","date":"","patient_name":"","patient_id":"","series":[{"id":"a","number":1,"modality":"CT","description":"","images":3,"dims":[2,2,3]}]}]}"#;
        assert!(matches!(
            parse_server_message(text),
            Ok(ServerMessage::Studies { .. })
        ));
        let deepest = format!("{}{}", "[".repeat(MAX_SERVER_JSON_DEPTH), "]".repeat(16));
        assert_eq!(
            check(&deepest, &SERVER_MESSAGE),
            Ok(()),
            "the bound itself is taken"
        );
    }

    #[test]
    fn megabytes_of_brackets_are_refused_by_depth_quoting_none_of_them() {
        let error = refused(&"[".repeat(5_000_000));
        assert_eq!(error.code, ErrorCode::TooLarge);
        assert_eq!(
            error.message,
            "a server's message nests deeper than 16 levels (at byte 16)"
        );
        let error = refused(&format!(
            "{}{}",
            r#"{"type":"view","view":"#.repeat(200),
            "}".repeat(200)
        ));
        assert!(error.message.contains("nests deeper"), "{}", error.message);
    }

    #[test]
    fn a_long_string_is_refused_by_its_length_escapes_counted_as_sent() {
        let long = "x".repeat(10_000_000);
        let error = refused(&format!(
            r#"{{"type":"error","code":"internal","message":"{long}"}}"#
        ));
        assert_eq!(error.code, ErrorCode::TooLarge);
        assert_eq!(
            error.message,
            "a server's message holds a string of 10000000 bytes at byte 44: at most 65536 are taken"
        );
        // Escaped quotes and backslashes do not end a string early.
        let escaped = r#"\"\\"#.repeat(MAX_SERVER_STRING_BYTES / 4 + 1);
        let error = refused(&format!(r#"{{"type":"webrtc_answer","sdp":"{escaped}"}}"#));
        assert!(error.message.contains("a string of"), "{}", error.message);
        let fits = r#"\"\\"#.repeat(MAX_SERVER_STRING_BYTES / 4);
        let answer = parse_server_message(&format!(r#"{{"type":"webrtc_answer","sdp":"{fits}"}}"#));
        assert!(
            matches!(answer, Ok(ServerMessage::WebrtcAnswer { sdp }) if sdp.len() == MAX_SERVER_STRING_BYTES / 2)
        );
        // A string that never ends is counted to the end of the text.
        let error = refused(&format!(r#"{{"type":"error","message":"{long}"#));
        assert!(
            error.message.contains("10000000 bytes"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_message_past_its_bytes_is_refused_before_it_is_scanned() {
        let error = refused(&" ".repeat(MAX_SERVER_MESSAGE_BYTES + 1));
        assert_eq!(error.code, ErrorCode::TooLarge);
        assert_eq!(
            error.message,
            "a server's message of 33554433 bytes: at most 33554432 are taken"
        );
    }

    #[test]
    fn millions_of_empty_values_are_refused_by_their_count() {
        let text = format!(
            r#"{{"type":"findings","series":"s","findings":[{}]}}"#,
            "[],".repeat(MAX_SERVER_JSON_VALUES)
        );
        assert!(text.len() < MAX_SERVER_MESSAGE_BYTES);
        let error = refused(&text);
        assert_eq!(error.code, ErrorCode::TooLarge);
        assert!(
            error
                .message
                .starts_with("a server's message holds more than 2000000 values"),
            "{}",
            error.message
        );
    }

    #[test]
    fn bad_json_and_unknown_messages_are_told_apart_quoting_little() {
        let error = refused("{not json");
        assert_eq!(error.code, ErrorCode::BadJson);
        assert!(error.message.starts_with("a server's message is not JSON"));
        let long = "x".repeat(60_000);
        let error = refused(&format!(r#"{{"type":"{long}"}}"#));
        assert_eq!(error.code, ErrorCode::BadMessage);
        assert!(
            error.message.starts_with(
                "a server's message is not a message of protocol v1: unknown variant `xxx"
            ),
            "{}",
            error.message
        );
        let error = refused(r#"{"type":"welcome","session":"one"}"#);
        assert_eq!(error.code, ErrorCode::BadMessage);
    }

    #[test]
    fn a_frame_note_is_flat_small_and_within_a_frames_sides() {
        let note = r#"{"type":"frame","frame_seq":42,"input_seq":17,"rtp":123456,"width":512,"height":384,"display_width":1024,"display_height":384,"keyframe":true,"render_us":9000,"encode_us":3000}"#;
        let read = parse_frame_note(note).expect("a note");
        assert_eq!((read.frame_seq, read.width), (42, 512));
        let error = parse_frame_note(&format!("{note}{}", " ".repeat(MAX_FRAME_NOTE_BYTES)))
            .expect_err("too long");
        assert_eq!(error.code, ErrorCode::TooLarge);
        let error = parse_frame_note(r#"{"type":"frame","width":[[1]]}"#).expect_err("nested");
        assert!(
            error.message.contains("nests deeper than 1"),
            "{}",
            error.message
        );
        let error = parse_frame_note(&note.replace(r#""width":512"#, r#""width":30000"#))
            .expect_err("wide");
        assert_eq!(error.code, ErrorCode::TooLarge);
        assert!(error.message.contains("30000×384"), "{}", error.message);
        let error = parse_frame_note(r#"{"type":"stats"}"#).expect_err("not a note");
        assert_eq!(error.code, ErrorCode::BadMessage);
    }
}
