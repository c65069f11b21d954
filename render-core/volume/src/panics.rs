//! What a caught panic said: the one place that reads its payload, for every place that
//! turns a panic into an error (the catalog's files, the pixel decoders, the server's
//! render thread and encode lanes).

use std::any::Any;

/// The text a panic carried (`panic!("…")` gives a `&str` or a `String`), if any.
///
/// Pass the payload itself (`&*boxed`), not the `Box`: a `Box<dyn Any>` is an `Any` too,
/// and would never downcast to text.
pub fn message(panic: &(dyn Any + Send)) -> Option<&str> {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_payloads_are_read_and_others_are_not() {
        let literal = std::panic::catch_unwind(|| panic!("a literal")).expect_err("panics");
        assert_eq!(message(&*literal), Some("a literal"));
        let formatted = std::panic::catch_unwind(|| panic!("frame {}", 3)).expect_err("panics");
        assert_eq!(message(&*formatted), Some("frame 3"));
        let number = std::panic::catch_unwind(|| std::panic::panic_any(7u8)).expect_err("panics");
        assert_eq!(message(&*number), None);
    }
}
