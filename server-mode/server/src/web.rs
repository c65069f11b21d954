//! The browser client (`assets/web`), embedded in the binary and served as static files.

/// Every embedded file: URL path, content type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "/index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../assets/web/index.html"),
    ),
    (
        "/style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../assets/web/style.css"),
    ),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/app.js"),
    ),
    (
        "/protocol.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/protocol.js"),
    ),
    (
        "/input.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/input.js"),
    ),
    (
        "/video.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/video.js"),
    ),
    (
        "/webrtc.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/webrtc.js"),
    ),
    (
        "/overlay.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/overlay.js"),
    ),
    (
        "/crop.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/crop.js"),
    ),
    (
        "/light.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/light.js"),
    ),
    (
        "/calcium.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/calcium.js"),
    ),
    (
        "/time.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/time.js"),
    ),
    (
        "/over.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/over.js"),
    ),
    (
        "/beside.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/beside.js"),
    ),
    (
        "/priors.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/priors.js"),
    ),
    (
        "/transfer.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/transfer.js"),
    ),
    (
        "/planes.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/planes.js"),
    ),
    (
        "/rulers.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/rulers.js"),
    ),
    (
        "/findings.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/findings.js"),
    ),
    (
        "/finding-tools.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/finding-tools.js"),
    ),
    (
        "/finding-handles.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/finding-handles.js"),
    ),
    (
        "/findings-panel.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/findings-panel.js"),
    ),
    (
        "/segments.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/segments.js"),
    ),
    (
        "/note-form.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/note-form.js"),
    ),
    (
        "/slabs.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/slabs.js"),
    ),
    (
        "/pointers.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/pointers.js"),
    ),
    (
        "/control.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/control.js"),
    ),
    (
        "/recordings.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/recordings.js"),
    ),
    (
        "/movie.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/movie.js"),
    ),
    (
        "/login.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/login.js"),
    ),
    (
        "/studies.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/studies.js"),
    ),
    (
        "/admin.html",
        "text/html; charset=utf-8",
        include_bytes!("../../../assets/web/admin.html"),
    ),
    (
        "/admin.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../assets/web/admin.js"),
    ),
];

/// The content type and bytes of the embedded file at URL `path` (`/` is `/index.html`,
/// `/admin` the admin page).
pub fn asset(path: &str) -> Option<(&'static str, &'static [u8])> {
    let path = match path {
        "/" => "/index.html",
        "/admin" => "/admin.html",
        path => path,
    };
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

    #[test]
    fn every_module_the_pages_import_is_embedded() {
        let text =
            |path: &str| String::from_utf8_lossy(asset(path).expect("embedded").1).into_owned();
        let mut wanted = Vec::new();
        for page in ["/index.html", "/admin"] {
            let page = text(page);
            for attribute in ["src=\"", "href=\""] {
                for part in page.split(attribute).skip(1) {
                    wanted.extend(part.split('"').next().map(|p| format!("/{p}")));
                }
            }
        }
        for module in ["/app.js", "/protocol.js", "/input.js", "/video.js"] {
            for part in text(module).split("from \"./").skip(1) {
                wanted.extend(part.split('"').next().map(|p| format!("/{p}")));
            }
        }
        assert!(wanted.len() >= 5, "{wanted:?}");
        for path in wanted {
            assert!(
                asset(&path).is_some(),
                "{path} is referenced but not embedded"
            );
        }
    }
}
