//! AFL++ target: a client's text message through `parse_client_message`. A crash is a
//! panic; a refusal whose message is longer than the protocol's bound is one too.

use hounsfield_protocol::{MAX_ERROR_MESSAGE_CHARS, parse_client_message};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let text = String::from_utf8_lossy(data);
        if let Err(error) = parse_client_message(&text) {
            assert!(
                error.message.chars().count() <= MAX_ERROR_MESSAGE_CHARS,
                "a {}-character message",
                error.message.chars().count()
            );
        }
    });
}
