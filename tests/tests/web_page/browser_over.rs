//! One series over another on the web page, in Chromium (the lumbar MR of the shared
//! data, one frame of reference): the Over section lists the open study's other series;
//! choosing the sagittal T1 draws it over the sagittal T2's slices (the server's `over`
//! reply shown), the value under the pointer gives both series' values as `hounsfield
//! probe --over` reads them from the files, a colour map chosen is the one drawn, and
//! `none` takes it away.

use hounsfield_test_support as support;

use hounsfield_test_support::chromium::{NO_WEBCODECS, canvas_box, wait_for_final_still};
use serde_json::{Value, json};

use super::browser::{
    LIBRARY_TOKEN, hover_near_the_axial_centre, library_server, open_listed_series, with_page_at,
};

/// The lumbar MR's folder in the shared data.
const LUMBAR: &str = "mr-lumbar";

/// The id `info` gives the series numbered `number` in `info`'s studies.
fn numbered(info: &Value, number: u64) -> String {
    info["studies"]
        .as_array()
        .expect("studies")
        .iter()
        .flat_map(|study| study["series"].as_array().expect("series").clone())
        .find(|series| series["number"].as_u64() == Some(number))
        .and_then(|series| series["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("series {number}"))
}

#[test]
fn a_series_of_the_study_is_drawn_over_the_slices_and_probed_with_both_values() {
    let folder = support::data(LUMBAR).to_string_lossy().into_owned();
    let info = support::hounsfield_json(&["info", &folder, "--json"]);
    let (t2, t1) = (numbered(&info, 3), numbered(&info, 4));
    let address = library_server();
    with_page_at(
        address,
        &format!("/?token={LIBRARY_TOKEN}"),
        Some(NO_WEBCODECS),
        async |page, _| {
            open_listed_series(page, &t2).await;
            assert_eq!(
                page.eval("document.getElementById('over').hidden").await,
                json!(false),
                "the Over section shows for a study of several series"
            );
            let candidates = page
                .eval("window.hounsfieldOver.candidates.map((each) => each.id)")
                .await;
            let candidates: Vec<String> =
                serde_json::from_value(candidates).expect("a list of ids");
            assert!(candidates.contains(&t1), "{candidates:?}");
            assert!(
                !candidates.contains(&t2),
                "not the series open: {candidates:?}"
            );

            let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
            page.eval("document.querySelector('#layouts button[data-layout=\"2x2\"]').click()")
                .await;
            wait_for_final_still(page, &frame).await;

            // The T1 chosen: drawn over, as the server says.
            let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
            page.eval(&format!(
                "{{ const s = document.getElementById('over-series'); s.value = '{t1}'; s.dispatchEvent(new Event('change')); }} true"
            ))
            .await;
            page.wait_for(&format!("window.hounsfieldOver.shown?.series === '{t1}'"))
                .await;
            wait_for_final_still(page, &frame).await;
            let shown = page.eval("window.hounsfieldOver.shown").await;
            assert_eq!(shown["link"], json!("same_frame"), "{shown}");
            assert_eq!(shown["colour_map"], json!("hot"), "{shown}");
            assert_eq!(
                page.eval("document.getElementById('over-status').textContent")
                    .await,
                json!("MR drawn over the slices")
            );

            // Both values under the pointer, as the command line reads the files there.
            let area = canvas_box(page).await;
            hover_near_the_axial_centre(page, area).await;
            page.wait_for("window.hounsfield.probe?.over_value !== undefined")
                .await;
            let probe = page.eval("window.hounsfield.probe").await;
            let lps: [f64; 3] = serde_json::from_value(probe["lps_mm"].clone()).expect("a point");
            let at = format!("{},{},{}", lps[0], lps[1], lps[2]);
            let read = support::hounsfield_json(&[
                "probe", &folder, "--series", "3", "--over", "4", "--at", &at, "--json",
            ]);
            assert_eq!(
                probe["value"].as_f64(),
                read[0]["value"].as_f64(),
                "the T2 at {at}"
            );
            let over_value = probe["over_value"].as_f64();
            assert_eq!(over_value, read[0]["over_value"].as_f64(), "the T1 at {at}");
            assert!(over_value.is_some(), "the T1 covers the T2's centre");
            page.wait_for("document.getElementById('status').textContent.includes(', over ')")
                .await;

            // Another map, then none.
            page.eval(
                "{ const m = document.getElementById('over-map'); m.value = 'rainbow'; m.dispatchEvent(new Event('input')); } true",
            )
            .await;
            page.wait_for("window.hounsfieldOver.shown?.colour_map === 'rainbow'")
                .await;
            page.eval(
                "{ const s = document.getElementById('over-series'); s.value = ''; s.dispatchEvent(new Event('change')); } true",
            )
            .await;
            page.wait_for(
                "window.hounsfieldOver.shown === null && window.hounsfieldOver.asked === null",
            )
            .await;
            assert_eq!(
                page.eval("document.getElementById('over-map').disabled")
                    .await,
                json!(true)
            );
        },
    );
}
