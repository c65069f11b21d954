//! Access tokens: 128 random bits as 32 hexadecimal digits, for `--token`, the users file,
//! login cookies, and the ids of recordings, movies and shared sessions.

/// Generates a random access token (32 hex digits).
pub fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_long_and_differ() {
        let a = generate_token().expect("random bytes");
        let b = generate_token().expect("random bytes");
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
