//! Fault injection, for tests only: with [`crate::ServerConfig::test_faults`] on (the
//! hidden `hounsfield --serve --test-faults`; off by default), a session may send
//!
//! ```json
//! {"type":"test_fault","fault":"render_panic"}
//! ```
//!
//! and its next frame fails the way the fault says, so tests can see that the render
//! thread and the encode lanes recover. Without the switch the message is an unknown type
//! like any other (`error` `unknown_type`): nothing else arms a fault.

use serde::Deserialize;

/// What goes wrong with the session's next frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The render thread panics while drawing it.
    RenderPanic,
    /// wgpu reports a validation error while it is drawn.
    Validation,
    /// The GPU device is lost (destroyed) before it is drawn.
    DeviceLost,
    /// Its encode lane panics while encoding it.
    EncodePanic,
}

/// The fault a `test_fault` message arms; `None` for any other text.
pub(crate) fn parse(text: &str) -> Option<Fault> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    if value.get("type")?.as_str()? != "test_fault" {
        return None;
    }
    serde_json::from_value(value.get("fault")?.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_test_fault_messages_arm_a_fault() {
        assert_eq!(
            parse(r#"{"type":"test_fault","fault":"render_panic"}"#),
            Some(Fault::RenderPanic)
        );
        assert_eq!(
            parse(r#"{"type":"test_fault","fault":"validation"}"#),
            Some(Fault::Validation)
        );
        assert_eq!(parse(r#"{"type":"test_fault","fault":"melt"}"#), None);
        assert_eq!(parse(r#"{"type":"keyframe"}"#), None);
        assert_eq!(parse("not json"), None);
    }
}
