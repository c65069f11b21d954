//! A series over time on the web page, in Chromium (the GE EPI of the shared data: 10
//! volumes, 5 s apart): the Time controls show for it alone; ▶ shows the next volume,
//! its label and time as the command line's `info` gives them; Play runs a cine whose
//! volume labels advance (each another volume, several in turn), until Pause stops it with
//! a still; over a
//! slice the Curve panel plots the voxel's values in every volume, which equal what
//! `hounsfield probe` reads from the files there, with their measures, and its CSV has a
//! row a volume with those values; a region's and a segment's ∿ plot their means in every
//! volume as the server told them, and hold the panel until let go.

use hounsfield_test_support as support;

use hounsfield_test_support::chromium::{
    NO_WEBCODECS, Page, Region, canvas_box, quadrants, wait_for_final_still,
};
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

            regions_and_segments_plot_their_curves(page, area).await;
        },
    );
}

/// A box drawn on the axial slice: its ∿ in the findings list plots its mean in every
/// volume, as the server told it, and holds the panel while the pointer moves over the
/// slices, until let go; a segment by a threshold: its ∿ plots the mean of its voxels.
async fn regions_and_segments_plot_their_curves(page: &mut Page, area: Region) {
    // A box drawn on the axial slice: its ∿ in the findings list plots its mean in
    // every volume, as the server told it, and holds the panel while the pointer
    // moves over the slices, until let go.
    page.eval("document.querySelector('#tools button[data-tool=\"rectangle\"]').click(); true")
        .await;
    let axial = quadrants(area)[1];
    let at = |fx: f64, fy: f64| {
        (
            f64::from(axial.0) + fx * f64::from(axial.2),
            f64::from(axial.1) + fy * f64::from(axial.3),
        )
    };
    let (from, to) = (at(0.4, 0.35), at(0.6, 0.55));
    // The panel lies over the slices: closed while the box is drawn.
    page.eval("document.getElementById('curve').open = false")
        .await;
    page.mouse("mouseMoved", from.0, from.1, 0).await;
    page.mouse("mousePressed", from.0, from.1, 1).await;
    for step in 1..=8 {
        let t = f64::from(step) / 8.0;
        let (x, y) = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
        page.mouse("mouseMoved", x, y, 1).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    page.mouse("mouseReleased", to.0, to.1, 0).await;
    page.wait_for("window.hounsfield.findings?.[0]?.values?.length === 10")
        .await;
    let region = page.eval("window.hounsfield.findings[0]").await;
    page.eval("document.querySelector('#findings-list li[data-id=\"1\"] .curve').click(); true")
        .await;
    page.wait_for("window.hounsfieldTime.curve?.key === 'finding 1'")
        .await;
    let plotted = page.eval("window.hounsfieldTime.curve").await;
    assert_eq!(plotted["values"], region["values"]);
    assert_eq!(plotted["curve"], region["curve"]);
    assert_eq!(
        page.eval("document.getElementById('curve-of').textContent")
            .await,
        json!("Curve of region 1")
    );
    // Closed again, the pointer probes another voxel: the region's curve stays.
    page.eval("document.getElementById('curve').open = false")
        .await;
    let probed = page
        .eval("JSON.stringify(window.hounsfield.probe?.lps_mm)")
        .await;
    let elsewhere = at(0.3, 0.7);
    page.mouse("mouseMoved", elsewhere.0, elsewhere.1, 0).await;
    page.wait_for(&format!(
        "JSON.stringify(window.hounsfield.probe?.lps_mm) !== {probed}"
    ))
    .await;
    assert_eq!(
        page.eval("window.hounsfieldTime.curve.key").await,
        json!("finding 1"),
        "the region's curve stays while the pointer moves"
    );
    page.eval("document.getElementById('curve-release').click(); true")
        .await;
    hover_near_the_axial_centre(page, area).await;
    page.wait_for("window.hounsfieldTime.curve?.key === 'point'")
        .await;

    // A segment by a threshold: its ∿ plots the mean of its voxels in every volume.
    page.eval("document.getElementById('segment-add').click(); true")
        .await;
    page.wait_for("window.hounsfield.segments.segments.length === 1")
        .await;
    page.eval("document.getElementById('segment-low').value = '1500'; document.getElementById('segment-high').value = '4000'; document.getElementById('segment-threshold').click(); true")
        .await;
    page.wait_for("window.hounsfield.segments.segments[0]?.numbers.values?.length === 10")
        .await;
    let segment = page.eval("window.hounsfield.segments.segments[0]").await;
    page.eval("document.querySelector('#segments-list li .curve').click(); true")
        .await;
    page.wait_for("window.hounsfieldTime.curve?.key?.startsWith('segment')")
        .await;
    let plotted = page.eval("window.hounsfieldTime.curve").await;
    assert_eq!(plotted["values"], segment["numbers"]["values"]);
    let dots = page
        .eval("document.querySelectorAll('#curve-plot circle').length")
        .await;
    assert_eq!(dots, json!(10), "a dot a volume");
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
