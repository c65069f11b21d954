//! Priors and hanging protocols on the web page, in Chromium: a worklist's link
//! (`/?study=UID`) to the lumbar MR, whose patient has a prior a year earlier (made from the
//! shared data with new UIDs by DCMTK's dcmodify), opens as the built-in "MR lumbar spine
//! with prior" hangs it: the current sagittal T2 in the page's own view, the prior's
//! sagittal T2 in a pane beside it, both in the 2×2 layout. The Priors section lists the
//! prior; the wheel over the first series' axial cell moves the series beside too (its
//! session is sent the same slice step and draws anew); a series of the prior chosen in
//! the section opens in a second pane.

use hounsfield_test_support as support;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hounsfield_test_support::chromium::{NO_WEBCODECS, canvas_box};
use serde_json::{Value, json};
use support::prior::{LUMBAR_PRIOR_STUDY, lumbar_prior};

use super::browser::with_page_at;

/// The token of the test's server.
const TOKEN: &str = "priors-page-token";

/// A server of the lumbar MR and its prior, wanting [`TOKEN`].
fn server() -> SocketAddr {
    static SERVER: OnceLock<SocketAddr> = OnceLock::new();
    *SERVER.get_or_init(|| {
        // The server, and so this folder, last until the process ends.
        let prior = tempfile::tempdir().expect("a folder").keep();
        support::remove_at_exit(&prior);
        lumbar_prior(&prior);
        let folders = [support::data("mr-lumbar"), prior];
        let library = Arc::new(hounsfield_server::Library::scan(&folders, 1 << 30));
        let mut config = support::server::loopback_config();
        config.token = Some(TOKEN.to_string());
        config.h264_encoders = Vec::new();
        support::server::start_with_library(library, vec![config])[0]
    })
}

/// The ids of the series of `folder`'s studies described as `description`, by study.
fn series_described(info: &Value, description: &str) -> String {
    info["studies"]
        .as_array()
        .expect("studies")
        .iter()
        .flat_map(|study| study["series"].as_array().expect("series").clone())
        .find(|series| series["description"] == json!(description))
        .and_then(|series| series["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("{description} in {info}"))
}

/// The StudyInstanceUID of the first study `info` lists.
fn study_uid(info: &Value) -> String {
    info["studies"][0]["uid"]
        .as_str()
        .expect("a study id")
        .to_string()
}

#[test]
fn a_worklist_link_hangs_the_lumbar_mr_beside_its_prior_and_the_two_scroll_together() {
    let address = server();
    let lumbar = support::data("mr-lumbar").to_string_lossy().into_owned();
    let current = support::hounsfield_json(&["info", &lumbar, "--json"]);
    let prior_folder = tempfile::tempdir().expect("a folder");
    lumbar_prior(prior_folder.path());
    let prior_path = prior_folder.path().to_string_lossy().into_owned();
    let prior = support::hounsfield_json(&["info", &prior_path, "--json"]);
    assert_eq!(study_uid(&prior), LUMBAR_PRIOR_STUDY);
    let (current_t2, prior_t2, prior_t1) = (
        series_described(&current, "Sag T2 frFSE S"),
        series_described(&prior, "Sag T2 frFSE S"),
        series_described(&prior, "Sag T1 Flair"),
    );
    let link = format!("/?token={TOKEN}&study={}", study_uid(&current));
    with_page_at(address, &link, Some(NO_WEBCODECS), async |page, _| {
        // Hung: the current T2 here, the prior's T2 beside, both 2×2.
        page.wait_for(&format!(
            "window.hounsfield?.opened?.series === '{current_t2}' && window.hounsfieldBeside?.panes[0]?.opened === '{prior_t2}' && window.hounsfieldBeside.panes[0].frames > 0"
        ))
        .await;
        assert_eq!(
            page.eval("window.hounsfield.hungBy").await,
            json!("MR lumbar spine with prior")
        );
        page.wait_for("window.hounsfield.layout === '2x2' && window.hounsfieldBeside.panes[0].layout === '2x2'")
            .await;
        assert_eq!(
            page.eval("window.hounsfieldBeside.panes.length").await,
            json!(1)
        );
        // The Priors section lists the prior, and says which protocol hung the study.
        page.wait_for("window.hounsfieldPriors.studies.length === 1")
            .await;
        assert_eq!(
            page.eval("window.hounsfieldPriors.studies[0].id").await,
            json!(LUMBAR_PRIOR_STUDY)
        );
        assert_eq!(
            page.eval("document.getElementById('priors').hidden").await,
            json!(false)
        );
        let said = page
            .eval("document.getElementById('hanging-protocol').textContent")
            .await;
        assert!(
            said.as_str()
                .is_some_and(|s| s.contains("MR lumbar spine with prior")),
            "{said}"
        );

        // The wheel over the first series' axial cell: the prior steps with it.
        page.wait_for("window.hounsfield.frames > window.hounsfield.framesAtOpen")
            .await;
        let (followed, frames) = (
            page.eval("window.hounsfieldBeside.panes[0].followed").await,
            page.eval("window.hounsfieldBeside.panes[0].frames").await,
        );
        let (x, y, w, h) = canvas_box(page).await;
        // The first series' canvas is the stage's left half; its axial cell its top right.
        let (ax, ay) = (f64::from(x + w * 3 / 4), f64::from(y + h / 4));
        for _ in 0..4 {
            page.call(
                "Input.dispatchMouseEvent",
                json!({"type": "mouseWheel", "x": ax, "y": ay, "deltaX": 0, "deltaY": 120}),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        page.wait_for(&format!(
            "window.hounsfieldBeside.panes[0].followed > {followed} && window.hounsfieldBeside.panes[0].frames > {frames}"
        ))
        .await;

        // The prior's T1 chosen in the Priors section opens in a second pane.
        page.eval(&format!(
            "document.querySelector('#prior-list button.prior-series[data-series=\"{prior_t1}\"]').click(); true"
        ))
        .await;
        page.wait_for(&format!(
            "window.hounsfieldBeside.panes.length === 2 && window.hounsfieldBeside.panes[1].opened === '{prior_t1}' && window.hounsfieldBeside.panes[1].frames > 0"
        ))
        .await;
    });
}
