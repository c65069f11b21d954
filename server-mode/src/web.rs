//! The browser client (`assets/web`), embedded in the binary and served as static files.

/// Every embedded file: URL path, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[(
    "/index.html",
    "text/html; charset=utf-8",
    include_bytes!("../../assets/web/index.html"),
)];

/// The content type and bytes of the embedded file at URL `path` (`/` is `/index.html`).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    let path = if path == "/" { "/index.html" } else { path };
    ASSETS
        .iter()
        .find(|(name, _, _)| *name == path)
        .map(|(_, mime, bytes)| (*mime, *bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_is_served_at_the_root_and_nothing_else_leaks() {
        let (mime, bytes) = asset("/").expect("the index");
        assert!(mime.starts_with("text/html"));
        assert!(!bytes.is_empty());
        assert!(asset("/../Cargo.toml").is_none());
        assert!(asset("/nope.js").is_none());
    }
}
