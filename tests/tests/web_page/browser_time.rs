//! A series over time on the web page, in Chromium (the GE EPI of the shared data: 10
//! volumes, 5 s apart): the Time controls show for it alone; ▶ shows the next volume,
//! its label and time as the command line's `info` gives them; Play runs a cine whose
//! volume labels advance (each another volume, several in turn), until Pause stops it with
//! a still; over a
//! slice the Curve panel plots the voxel's values in every volume, which equal what
//! `hounsfield probe` reads from the files there, with their measures, and its CSV has a
//! row a volume with those values.

use hounsfield_test_support as support;

use hounsfield_test_support::chromium::{NO_WEBCODECS, canvas_box, wait_for_final_still};
use serde_json::{Value, json};

use super::browser::{
    LIBRARY_TOKEN, hover_near_the_axial_centre, library_server, open_listed_series, with_page_at,
};

/// The EPI's folder in the shared data.
const EPI: &str = "ge-epi/mr_0004";

#[test]
fn a_series_over_time_steps_plays_and_plots_its_curve_on_the_page() {
    let folder = support::data(EPI).to_string_lossy().into_owned();
    let info = support::hounsfield_json(&["info", &folder, "--json"]);
    let listed = info["studies"][0]["series"][0].clone();
    let series = listed["id"].as_str().expect("an id").to_string();
    let address = library_server();
    with_page_at(
        address,
        &format!("/?token={LIBRARY_TOKEN}"),
        Some(NO_WEBCODECS),
        async |page, _| {
            open_listed_series(page, &series).await;
            assert_eq!(
                page.eval("document.getElementById('time').hidden").await,
                json!(false),
                "the Time controls show for a series over time"
            );
            let volumes = page.eval("window.hounsfieldTime.volumes").await;
            let told = support::volumes_listed;
            assert_eq!(told(&volumes), told(&listed["volumes"]));
            assert_eq!(told(&volumes).len(), 10);

            // ▶: the next volume, its label and time beside the slider.
            page.eval("document.getElementById('time-next').click()")
                .await;
            page.wait_for("window.hounsfieldTime.index === 1").await;
            assert_eq!(
                page.eval("document.getElementById('time-label').textContent")
                    .await,
                json!("volume 2 · 5 s")
            );

            // Play: the labels of the volumes shown advance in order and wrap round.
            page.eval("document.getElementById('time-fps').value = '10'; document.getElementById('time-play').click()")
                .await;
            page.wait_for("window.hounsfieldTime.labels.length >= 13")
                .await;
            let labels = page.eval("window.hounsfieldTime.labels").await;
            let shown: Vec<u32> = labels
                .as_array()
                .expect("labels")
                .iter()
                .filter_map(Value::as_str)
                .filter_map(|label| label.strip_prefix("volume ")?.parse().ok())
                .collect();
            assert!(shown.len() >= 13, "{labels}");
            // How far each step goes depends on how fast the server draws (a slow one
            // skips volumes rather than showing them late): each label told is another
            // volume than the last.
            let cine = &shown[1..];
            assert!(
                cine.windows(2).all(|pair| pair[0] != pair[1]),
                "each step moves on: {cine:?}"
            );
            let seen: std::collections::BTreeSet<_> = cine.iter().collect();
            assert!(seen.len() >= 5, "several volumes are shown: {cine:?}");
            assert_eq!(
                page.eval("window.hounsfieldTime.playing").await.as_f64(),
                Some(10.0)
            );
            let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
            page.eval("document.getElementById('time-play').click()")
                .await;
            page.wait_for(&format!(
                "window.hounsfield.lastHeader.frameSeq > {frame} && (window.hounsfield.lastHeader.flags & 2) === 2"
            ))
            .await;
            assert_eq!(
                page.eval("window.hounsfieldTime.playing").await,
                Value::Null
            );

            // Over the axial slice, the curve of the voxel under the pointer.
            let frame = page.eval("window.hounsfield.lastHeader.frameSeq").await;
            page.eval("document.querySelector('#layouts button[data-layout=\"2x2\"]').click()")
                .await;
            wait_for_final_still(page, &frame).await;
            page.eval("document.getElementById('curve').open = true")
                .await;
            let area = canvas_box(page).await;
            hover_near_the_axial_centre(page, area).await;
            page.wait_for(
                "window.hounsfieldTime.curve?.values.length === 10 && window.hounsfield.probe?.lps_mm === window.hounsfieldTime.curve.lps",
            )
            .await;
            let curve = page.eval("window.hounsfieldTime.curve").await;
            let lps: [f64; 3] = serde_json::from_value(curve["lps"].clone()).expect("a point");
            let at = format!("{},{},{}", lps[0], lps[1], lps[2]);
            let read = support::hounsfield_json(&["probe", &folder, "--at", &at, "--json"]);
            let numbers = |values: &Value| -> Vec<f64> {
                values
                    .as_array()
                    .expect("values")
                    .iter()
                    .filter_map(Value::as_f64)
                    .collect()
            };
            assert_eq!(
                numbers(&curve["values"]),
                numbers(&read[0]["values"]),
                "the curve at {at}"
            );
            assert_eq!(numbers(&curve["values"]).len(), 10);
            let dots = page
                .eval("document.querySelectorAll('#curve-plot circle').length")
                .await;
            assert_eq!(dots, json!(10), "a dot a volume");
            let baseline = page
                .eval(
                    "document.querySelector('#curve-measures [data-measure=baseline]').textContent",
                )
                .await;
            let expected = read[0]["curve"]["baseline"].as_f64().expect("a baseline");
            let shown: f64 = baseline
                .as_str()
                .and_then(|text| text.rsplit(' ').next())
                .and_then(|number| number.parse().ok())
                .expect("a number");
            assert!(
                (shown - expected).abs() <= 0.005,
                "{baseline} against {expected}"
            );

            // The CSV: a header, then a row a volume with its label, time and value.
            let csv = page.eval("window.hounsfieldCurveCsv()").await;
            check_csv(csv.as_str().expect("CSV text"), &read[0]["values"]);
        },
    );
}

/// The curve's CSV has a header, then a row a volume: its index, label (`volume N`), time
/// (5 s a volume) and the value `values` gives.
fn check_csv(csv: &str, values: &Value) {
    let rows: Vec<Vec<String>> = csv
        .lines()
        .skip(1)
        .map(|row| {
            row.split(',')
                .map(|cell| cell.trim_matches('"').to_string())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 10, "{csv}");
    for (n, row) in rows.iter().enumerate() {
        assert_eq!(row[0], n.to_string());
        assert_eq!(row[1], format!("volume {}", n + 1));
        assert_eq!(row[2].parse::<f64>().ok(), Some(5.0 * n as f64));
        assert_eq!(row[3].parse::<f64>().ok(), values[n].as_f64(), "row {n}");
    }
}
