//! A worklist's or a PACS viewer's link to one study, as a radiology information system
//! starts the desktop with it (`hounsfield open LINK`, registered for the scheme by the
//! installed desktop file): `hounsfield://HOST[:PORT]/study/UID` reaches the server over
//! TLS (`https`), `hounsfield+http://…` over plain HTTP (a server on loopback or a trusted
//! network); `?token=` carries the access token where the site puts it in the link. The
//! window connects to that server and opens the study's first volume.

use hounsfield_findings::folder::is_uid;
use url::Url;

use crate::launch::{ConnectArgs, OpenArgs};

/// The scheme of a study link over TLS.
pub const SCHEME: &str = "hounsfield";
/// The scheme of a study link over plain HTTP.
pub const PLAIN_SCHEME: &str = "hounsfield+http";

/// A link to one study on a Hounsfield server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyLink {
    /// The server, `https://host:port` (or `http://` for the plain scheme).
    pub server: String,
    /// The StudyInstanceUID.
    pub study: String,
    /// The access token the link carries.
    pub token: Option<String>,
}

impl StudyLink {
    /// The link `text` is, `None` when it is no study link (a path), or why it is a bad one.
    pub fn parse(text: &str) -> Option<Result<Self, String>> {
        let scheme = text.split_once("://")?.0;
        let http = match scheme {
            SCHEME => "https",
            PLAIN_SCHEME => "http",
            _ => return None,
        };
        Some(Self::parsed(text, http))
    }

    fn parsed(text: &str, http: &str) -> Result<Self, String> {
        let bad =
            |why: &str| format!("{text:?}: {why} (expected {SCHEME}://HOST[:PORT]/study/UID)");
        let url = Url::parse(text).map_err(|error| bad(&error.to_string()))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no server"))?;
        let server = match url.port() {
            Some(port) => format!("{http}://{host}:{port}"),
            None => format!("{http}://{host}"),
        };
        let mut path = url.path_segments().ok_or_else(|| bad("no study"))?;
        let (Some("study"), Some(study), None) = (path.next(), path.next(), path.next()) else {
            return Err(bad("the path must be /study/UID"));
        };
        if !is_uid(study) {
            return Err(bad(&format!("{study:?} is not a DICOM UID")));
        }
        let token = url
            .query_pairs()
            .find(|(key, _)| key == "token")
            .map(|(_, value)| value.into_owned());
        Ok(Self {
            server,
            study: study.to_string(),
            token,
        })
    }

    /// What `connect` does for this link, with what `open` was given beside it.
    pub fn connect_args(self, open: &OpenArgs) -> ConnectArgs {
        ConnectArgs {
            url: self.server,
            token: self.token,
            sign_on: false,
            login: None,
            series: None,
            study: Some(self.study),
            join: None,
            over: None,
            ca: Vec::new(),
            fingerprint: None,
            transport: open.rendering.transport,
            screenshot: open.screenshot.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_name_their_server_and_study_and_paths_are_no_links() {
        let link = StudyLink::parse("hounsfield://pacs.example.org:8443/study/1.2.840.1?token=t0k")
            .expect("a link")
            .expect("a good one");
        assert_eq!(link.server, "https://pacs.example.org:8443");
        assert_eq!(link.study, "1.2.840.1");
        assert_eq!(link.token.as_deref(), Some("t0k"));
        let plain = StudyLink::parse("hounsfield+http://127.0.0.1:9000/study/2.25.7")
            .expect("a link")
            .expect("a good one");
        assert_eq!(plain.server, "http://127.0.0.1:9000");
        assert_eq!(plain.token, None);
        assert_eq!(StudyLink::parse("/srv/dicom/ct"), None);
        assert_eq!(StudyLink::parse("https://pacs/dicom-web"), None);
    }

    #[test]
    fn bad_links_say_what_is_wrong() {
        for (text, why) in [
            ("hounsfield://host/series/1.2", "/study/UID"),
            ("hounsfield://host/study/1.2x", "DICOM UID"),
            ("hounsfield://host/study/../etc", "/study/UID"),
            ("hounsfield://host/study/1.2/more", "/study/UID"),
            ("hounsfield:///study/1.2", "no server"),
        ] {
            let error = StudyLink::parse(text)
                .expect("a link")
                .expect_err("a bad one");
            assert!(error.contains(why), "{text}: {error}");
        }
    }
}
