//! Text cut to a bound for showing or sending: a value read from a file or a client may
//! be any length, and what is shown or sent of it is not.

/// The mark that ends a text that was cut.
pub const CUT_MARK: char = '…';

/// `text` when it has at most `max_chars` characters; else its first `max_chars - 1`
/// followed by [`CUT_MARK`], so that a reader sees it was cut.
pub fn cut_with_mark(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => std::borrow::Cow::Borrowed(text),
        Some(_) => {
            let mut cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
            cut.push(CUT_MARK);
            std::borrow::Cow::Owned(cut)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_at_the_bound_stays_and_longer_text_is_cut_with_the_mark() {
        assert_eq!(cut_with_mark("abcd", 4), "abcd");
        assert_eq!(cut_with_mark("abcde", 4), "abc…");
        assert_eq!(cut_with_mark("éééééé", 3).chars().count(), 3);
        assert_eq!(cut_with_mark("", 0), "");
    }
}
