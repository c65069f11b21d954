//! Priors and hanging protocols over a real socket: the lumbar MR of the shared data and a
//! prior of the same patient made from it a year earlier (new study, series and instance
//! UIDs, by DCMTK's dcmodify). `open_study` of the current study applies the built-in
//! "MR lumbar spine with prior": the current sagittal T2 in the first cell (opened), the
//! prior's sagittal T2 in the second, not its T1; `priors` lists the prior after `opened`.
//! The prior opened as a study has no earlier study, so its protocol hangs it alone; a
//! site's protocol replaces the built-in of its name; an unknown study is refused with the
//! session going on. A site's protocol names the head-and-neck CT by its series'
//! BodyPartExamined (NECK), which `studies` lists, though its description says otherwise.

use hounsfield_test_support as support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hounsfield_client::{Client, Event};
use hounsfield_protocol::{ErrorCode, Layout, ServerMessage, StudyInfo, StudyRole, Viewport};
use hounsfield_server::library::Library;
use support::prior::{LUMBAR_PRIOR_DATE, LUMBAR_PRIOR_STUDY, lumbar_prior};

/// How long the test may take.
const LIMIT: Duration = Duration::from_secs(180);
/// The token of the test's servers.
const TOKEN: &str = "hanging-token";
/// The frames' size.
const VIEWPORT: Viewport = Viewport {
    width: 320,
    height: 240,
};
/// The built-in protocol for a lumbar MR.
const LUMBAR_PROTOCOL: &str = "MR lumbar spine with prior";

/// A server of the lumbar MR and `prior`, laying studies out by `hanging`.
fn serving(prior: &Path, hanging: hounsfield_hanging::HangingProtocols) -> SocketAddr {
    let folders = [support::data("mr-lumbar"), prior.to_path_buf()];
    let library = Arc::new(Library::scan(&folders, 1 << 30));
    let mut config = support::server::loopback_config();
    config.token = Some(TOKEN.to_string());
    config.h264_encoders = Vec::new();
    config.hanging = Arc::new(hanging);
    support::server::start_with_library(library, vec![config])[0]
}

/// A client of the server at `address`, greeted.
async fn client_of(address: SocketAddr) -> Client {
    support::server::signed_in(address, TOKEN, VIEWPORT).await
}

/// The `priors` the server tells after the series opened.
async fn priors_told(client: &mut Client) -> Vec<StudyInfo> {
    loop {
        match client.next_event().await.expect("the session goes on") {
            Event::Message(ServerMessage::Priors { studies, .. }) => return studies,
            Event::Message(ServerMessage::Error { code, message }) => {
                panic!("{code:?}: {message}")
            }
            _ => {}
        }
    }
}

/// The study listed under `id`, and its series' ids by their descriptions.
fn study<'a>(studies: &'a [StudyInfo], id: &str) -> &'a StudyInfo {
    studies
        .iter()
        .find(|study| study.id == id)
        .unwrap_or_else(|| panic!("study {id} listed"))
}

/// The id of the series of `study` described as `description`.
fn described(study: &StudyInfo, description: &str) -> String {
    study
        .series
        .iter()
        .find(|series| series.description == description)
        .map(|series| series.id.clone())
        .unwrap_or_else(|| panic!("{description} in {}", study.id))
}

#[test]
fn a_lumbar_study_opens_with_its_sagittal_t2_beside_the_priors_and_the_prior_is_listed() {
    let folder = tempfile::tempdir().expect("a folder for the prior");
    lumbar_prior(folder.path());
    let address = serving(
        folder.path(),
        hounsfield_hanging::HangingProtocols::builtin(),
    );
    support::server::run_within(LIMIT, async move {
        let mut client = client_of(address).await;
        let studies = client.list_studies().await.expect("studies");
        let prior = study(&studies, LUMBAR_PRIOR_STUDY);
        assert_eq!(prior.date, LUMBAR_PRIOR_DATE);
        let current = studies
            .iter()
            .find(|s| s.patient_id == prior.patient_id && s.id != prior.id)
            .expect("the lumbar MR, the prior's patient");
        let current_t2 = described(current, "Sag T2 frFSE S");
        let prior_t2 = described(prior, "Sag T2 frFSE S");

        let (hanging, opened) = client.open_study(&current.id).await.expect("opened");
        let (protocol, cells) = hanging.expect("a protocol applied");
        assert_eq!(protocol, LUMBAR_PROTOCOL);
        let hung: Vec<_> = cells
            .iter()
            .map(|cell| (cell.role, cell.study.as_str(), cell.series.as_str()))
            .collect();
        assert_eq!(
            hung,
            [
                (StudyRole::Current, current.id.as_str(), current_t2.as_str()),
                (StudyRole::Prior, LUMBAR_PRIOR_STUDY, prior_t2.as_str()),
            ]
        );
        assert!(cells.iter().all(|cell| cell.layout == Some(Layout::Quad)));
        assert_eq!(cells[1].date, LUMBAR_PRIOR_DATE);
        assert_eq!(opened.series, current_t2, "the first cell's series opens");
        let priors = priors_told(&mut client).await;
        let listed: Vec<_> = priors.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(listed, [LUMBAR_PRIOR_STUDY]);

        // The prior read as a study: the lumbar MR is later, not a prior of it.
        let (hanging, opened) = client.open_study(LUMBAR_PRIOR_STUDY).await.expect("opened");
        let (_, cells) = hanging.expect("a protocol applied");
        assert_eq!(cells.len(), 1, "hung alone: {cells:?}");
        assert_eq!(opened.series, prior_t2);

        // An unknown study: refused by name, the session going on.
        client
            .send(&hounsfield_protocol::ClientMessage::OpenStudy {
                study: "1.2.3.4.5".to_string(),
            })
            .await
            .expect("sent");
        let (code, message) = client.next_error().await.expect("an error");
        assert_eq!(code, ErrorCode::UnknownSeries);
        assert!(message.contains("1.2.3.4.5"), "{message}");
        let (_, opened) = client.open_study(&current.id).await.expect("still serving");
        assert_eq!(opened.series, current_t2);
    });
}

#[test]
fn a_sites_protocol_takes_the_place_of_the_builtin_of_its_name() {
    let prior = tempfile::tempdir().expect("a folder for the prior");
    lumbar_prior(prior.path());
    let site = tempfile::tempdir().expect("a folder of protocols");
    let text = format!(
        "name = \"{LUMBAR_PROTOCOL}\"\n[current]\nmodality = \"MR\"\n\
         [prior]\nrequired = true\n\
         [[cells]]\nstudy = \"current\"\nseries = [\"sag t1\"]\nwindow = {{ width = 900, center = 450 }}\n\
         [[cells]]\nstudy = \"prior\"\nseries = [\"sag t1\"]\n"
    );
    std::fs::write(site.path().join("lumbar.toml"), text).expect("written");
    let (protocols, errors) =
        hounsfield_hanging::HangingProtocols::builtin().with_site_folder(site.path());
    assert!(errors.is_empty(), "{errors:?}");
    let address = serving(prior.path(), protocols);
    support::server::run_within(LIMIT, async move {
        let mut client = client_of(address).await;
        let studies = client.list_studies().await.expect("studies");
        let prior = study(&studies, LUMBAR_PRIOR_STUDY);
        let current = studies
            .iter()
            .find(|s| s.patient_id == prior.patient_id && s.id != prior.id)
            .expect("the lumbar MR");
        let (hanging, opened) = client.open_study(&current.id).await.expect("opened");
        let (_, cells) = hanging.expect("the site's protocol applied");
        assert_eq!(opened.series, described(current, "Sag T1 Flair"));
        assert_eq!(cells[1].series, described(prior, "Sag T1 Flair"));
        assert_eq!(cells[0].window.map(|w| w.width), Some(900.0));
        // The prior is required: opened as a study it has none, and opens its first volume.
        let (hanging, _) = client.open_study(LUMBAR_PRIOR_STUDY).await.expect("opened");
        assert_eq!(hanging, None);
    });
}

#[test]
fn a_sites_protocol_takes_a_study_by_its_series_body_part() {
    let site = tempfile::tempdir().expect("a folder of protocols");
    let protocol = |name: &str, part: &str| {
        format!(
            "name = \"{name}\"\n[current]\nmodality = \"CT\"\n\
             description = [\"no such words\"]\nbody_part = [\"{part}\"]\n\
             [[cells]]\nstudy = \"current\"\nwindow = {{ width = 350, center = 40 }}\n"
        )
    };
    std::fs::write(site.path().join("neck.toml"), protocol("CT neck", "neck")).expect("written");
    std::fs::write(site.path().join("knee.toml"), protocol("CT knee", "KNEE")).expect("written");
    let (protocols, errors) =
        hounsfield_hanging::HangingProtocols::none().with_site_folder(site.path());
    assert!(errors.is_empty(), "{errors:?}");
    let library = Arc::new(Library::scan(&[support::data("ct-head-neck")], 1 << 30));
    let mut config = support::server::loopback_config();
    config.token = Some(TOKEN.to_string());
    config.h264_encoders = Vec::new();
    config.hanging = Arc::new(protocols);
    let address = support::server::start_with_library(library, vec![config])[0];
    support::server::run_within(LIMIT, async move {
        let mut client = client_of(address).await;
        let studies = client.list_studies().await.expect("studies");
        let ct = &studies[0];
        // BodyPartExamined (0018,0015) of the files, as the catalogue lists it.
        assert_eq!(ct.series[0].body_part, "NECK", "{:?}", ct.series[0]);
        assert!(!ct.description.to_lowercase().contains("no such words"));
        let (hanging, opened) = client.open_study(&ct.id).await.expect("opened");
        let (protocol, cells) = hanging.expect("taken by its body part");
        assert_eq!(protocol, "CT neck");
        assert_eq!(opened.series, cells[0].series);
        assert_eq!(cells[0].window.map(|w| w.width), Some(350.0));
    });
}
