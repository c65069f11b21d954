//! Where the browser goes after signing in: a path of this server only, so that a link
//! cannot make the server send a freshly signed-in user to another site.

/// The longest path and query kept.
const MOST_NEXT_CHARS: usize = 2048;

/// `next` when it is a local path (`/…`, not `//host` nor `/\host`, which browsers take
/// as another host), short and free of control characters; else `/`.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && path.len() <= MOST_NEXT_CHARS
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_local_path_is_kept() {
        assert_eq!(local_path(Some("/?study=1.2.3")), "/?study=1.2.3");
        assert_eq!(local_path(Some("/admin")), "/admin");
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "/a\nb",
            "",
        ] {
            assert_eq!(local_path(Some(elsewhere)), "/", "{elsewhere:?}");
        }
        assert_eq!(local_path(Some(&format!("/{}", "a".repeat(3000)))), "/");
        assert_eq!(local_path(None), "/");
    }
}
