//! Series whose compressed frames lie about their size (the cases of
//! [`HostileFrame`]: a JPEG 2000 codestream declaring 60000 × 60000 in a 4 × 4 image,
//! the same in a JP2 file, more components or bits than the header, a baseline JPEG
//! declaring 60000 × 60000, a codestream cut inside its header, an RLE header of
//! 4294967295 segments), through every process that decodes: `info` lists them from
//! their headers, `render`, `movie`, the desktop window and a `--serve` process's `open`
//! refuse each naming what its frame declares, with peak memory from the kernel under
//! the bound, and each case's honest twin still loads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hounsfield_test_support::{self as support, HostileFrame};

use super::hostile_files::{PEAK_LIMIT_KB, high_water_kb, run_measured};

/// A folder holding each case's lying series (in a folder named by the case) and its
/// honest twin (in `NAME-honest`).
fn lying_library() -> (tempfile::TempDir, Vec<(HostileFrame, PathBuf)>) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let cases = support::write_hostile_library(folder.path()).expect("the lying series");
    for (case, _) in &cases {
        let honest = folder.path().join(format!("{}-honest", case.name()));
        std::fs::create_dir_all(&honest).expect("the honest twin's folder");
        support::write_honest_series(&honest, *case).expect("the honest twin");
    }
    (folder, cases)
}

fn text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[test]
fn render_and_movie_refuse_each_lying_series_and_draw_its_honest_twin() {
    let (folder, cases) = lying_library();
    let picture = folder.path().join("frame.png");
    let movie = folder.path().join("turn.mp4");
    for (case, series) in &cases {
        let series = text(series);
        for args in [
            vec![
                "render",
                &series,
                "--size",
                "64x48",
                "--out",
                &text(&picture),
            ],
            vec![
                "movie",
                &series,
                "--orbit",
                "90",
                "--frames",
                "2",
                "--size",
                "64x48",
                "--out",
                &text(&movie),
            ],
        ] {
            let (output, peak_kb) = run_measured(&args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{case:?} {args:?}: {stderr}");
            assert!(
                stderr.contains(case.refusal()),
                "{case:?} {args:?}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{case:?} {args:?}: {stderr}");
            assert!(
                peak_kb < PEAK_LIMIT_KB,
                "{case:?} {args:?} peaked at {peak_kb} kB"
            );
        }
        assert!(
            !picture.exists() && !movie.exists(),
            "{case:?}: nothing drawn"
        );
        let honest = text(&folder.path().join(format!("{}-honest", case.name())));
        let (output, _) = run_measured(&[
            "render",
            &honest,
            "--size",
            "64x48",
            "--out",
            &text(&picture),
        ]);
        assert!(
            output.status.success(),
            "{case:?}'s honest twin: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::remove_file(&picture).expect("the honest twin's picture");
    }
}

#[test]
fn info_lists_each_lying_series_from_its_headers() {
    let (folder, cases) = lying_library();
    let (output, peak_kb) = run_measured(&["info", "--json", &text(folder.path())]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "info: {stderr}");
    assert!(peak_kb < PEAK_LIMIT_KB, "info peaked at {peak_kb} kB");
    let listed = String::from_utf8_lossy(&output.stdout);
    for (case, _) in &cases {
        assert!(listed.contains(&case.series_uid()), "{case:?}: {listed}");
        assert!(listed.contains(&case.honest_series_uid()), "{case:?}");
    }
}

#[test]
fn the_desktop_window_names_what_a_lying_frame_declares() {
    let (folder, cases) = lying_library();
    let (case, series) = cases
        .iter()
        .find(|(case, _)| *case == HostileFrame::Jpeg2000Oversized)
        .expect("the JPEG 2000 case");
    let screenshot = folder.path().join("window.png");
    let (ok, output) = support::hounsfield_under_xvfb(
        &["open", &text(series), "--screenshot", &text(&screenshot)],
        Duration::from_secs(240),
    );
    assert!(
        !ok,
        "a window on a lying series alone should fail: {output}"
    );
    assert!(output.contains(case.refusal()), "{output}");
    assert!(!output.contains("panicked"), "{output}");
    assert!(!screenshot.exists(), "no screenshot of a refused series");
}

#[test]
fn a_server_refuses_each_lying_series_and_keeps_serving_its_honest_twin() {
    let (folder, cases) = lying_library();
    let served = support::serve(&["--library", &text(folder.path())]);
    let status_file = format!("/proc/{}/status", served.pid());
    let address = format!("ws://127.0.0.1:{}/ws", served.port);
    support::run_within(Duration::from_secs(120), async {
        use hounsfield_client::Client;
        use hounsfield_protocol::Viewport;
        let mut client = Client::connect(&address).await.expect("connects");
        let viewport = Viewport {
            width: 128,
            height: 128,
        };
        client.hello(None, viewport).await.expect("welcome");
        // The server takes 2 `open`s a second from a client: one each 600 ms.
        let mut pace = tokio::time::interval(Duration::from_millis(600));
        for (case, _) in &cases {
            pace.tick().await;
            let refusal = client
                .open(&case.series_uid())
                .await
                .expect_err("a lying series is refused");
            let refusal = refusal.to_string();
            assert!(refusal.contains(case.refusal()), "{case:?}: {refusal}");
            assert!(
                !refusal.contains("/tmp"),
                "a server path reached a client: {refusal}"
            );
            pace.tick().await;
            client
                .open(&case.honest_series_uid())
                .await
                .expect("the honest twin opens");
            client.next_frame().await.expect("a frame of it");
        }
    });
    let peak_kb = high_water_kb(&status_file).expect("the server still runs");
    assert!(peak_kb < PEAK_LIMIT_KB, "the server peaked at {peak_kb} kB");
}
