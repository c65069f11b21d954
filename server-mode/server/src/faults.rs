//! Fault injection, for tests only, and only in a build with the `fault-injection`
//! feature (the developer build, `hounsfield` with `--features test-bench`; the packaged
//! binary is built without it and knows no fault). There, with
//! [`crate::ServerConfig::test_faults`] on (`hounsfield --serve --test-faults`), a session
//! may send
//!
//! ```json
//! {"type":"test_fault","fault":"render_panic"}
//! ```
//!
//! and its next frame fails the way the fault says, so tests can see that the render
//! thread and the encode lanes recover. Without the switch the message is an unknown type
//! like any other (`error` `unknown_type`): nothing else arms a fault.
//!
//! The render thread and the encode lanes meet a fault only through the three hooks here
//! ([`before_render`], [`while_drawing`], [`before_encode`]): without the feature
//! [`Fault`] has no value, and the hooks do nothing.

/// What goes wrong with the session's next frame.
#[cfg(feature = "fault-injection")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
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

/// What goes wrong with the session's next frame: nothing, in a build without the
/// `fault-injection` feature (this type has no value).
#[cfg(not(feature = "fault-injection"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {}

/// The fault a `test_fault` message arms; `None` for any other text.
#[cfg(feature = "fault-injection")]
pub(crate) fn parse(text: &str) -> Option<Fault> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    if value.get("type")?.as_str()? != "test_fault" {
        return None;
    }
    serde_json::from_value(value.get("fault")?.clone()).ok()
}

/// Before the render thread draws a frame with `fault` armed: a render panic panics, a lost
/// device is destroyed.
pub(crate) fn before_render(fault: Option<Fault>, device: &wgpu::Device) {
    #[cfg(feature = "fault-injection")]
    match fault {
        Some(Fault::RenderPanic) => panic!("fault injection: the render thread panics"),
        Some(Fault::DeviceLost) => device.destroy(),
        Some(Fault::Validation | Fault::EncodePanic) | None => {}
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = (fault, device);
}

/// While the render thread draws a frame with `fault` armed: a validation fault makes wgpu
/// report a validation error.
pub(crate) fn while_drawing(fault: Option<Fault>, device: &wgpu::Device) {
    #[cfg(feature = "fault-injection")]
    if fault == Some(Fault::Validation) {
        render_core::gpu::errors::provoke_validation_error(device);
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = (fault, device);
}

/// Before an encode lane encodes a frame with `fault` armed: an encode panic panics.
pub(crate) fn before_encode(fault: Option<Fault>) {
    #[cfg(feature = "fault-injection")]
    if fault == Some(Fault::EncodePanic) {
        panic!("fault injection: the encode lane panics");
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = fault;
}

#[cfg(all(test, feature = "fault-injection"))]
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
