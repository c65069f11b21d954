//! The server's segmentation model over a real socket on the real CT: a server started
//! with a three-class model the test builds with onnx's helpers runs it on the open series
//! at `run_model`, telling `model_progress` as it goes; its classes become segments whose
//! voxels are what NumPy finds, AUTOMATIC by the model. `stop_model` stops a second run
//! before it ends, adding nothing; a server without a model says so.

use hounsfield_test_support as support;

use std::sync::Arc;
use std::time::Duration;

use hounsfield_client::Client;
use hounsfield_model::SegmentationModel;
use hounsfield_protocol::{ClientMessage, ErrorCode, ModelRunState, SegmentInfo, ServerMessage};
use support::server::told;

use super::segments::{RITA, open_ct, served, served_with};

/// How a run ended: its last progress (done, total, state) and the segments it added.
async fn run_to_the_end(
    client: &mut Client,
    stop_at_once: bool,
) -> ((usize, usize, ModelRunState), Vec<SegmentInfo>) {
    client.send(&ClientMessage::RunModel).await.expect("sent");
    if stop_at_once {
        client.send(&ClientMessage::StopModel).await.expect("sent");
    }
    let mut progress = Vec::new();
    let ended = loop {
        let told = told(client, Duration::from_secs(120), |told| match told {
            ServerMessage::ModelProgress {
                done,
                total,
                state,
                message,
                ..
            } => Some((done, total, state, message)),
            ServerMessage::Error { code, message } => panic!("{code:?}: {message}"),
            _ => None,
        })
        .await
        .expect("progress within two minutes");
        if told.2 == ModelRunState::Running {
            progress.push(told.0);
            continue;
        }
        assert_eq!(told.3, None, "{told:?}");
        break (told.0, told.1, told.2);
    };
    // Progress only goes forward.
    assert!(
        progress.windows(2).all(|pair| pair[0] <= pair[1]),
        "{progress:?}"
    );
    if ended.2 != ModelRunState::Done {
        return (ended, Vec::new());
    }
    let mut added = Vec::new();
    loop {
        let next = told(client, Duration::from_secs(60), |told| match told {
            ServerMessage::Segment(info) => Some(Some(*info)),
            ServerMessage::Segments { .. } => Some(None),
            _ => None,
        })
        .await
        .expect("the segments");
        match next {
            Some(info) => added.push(info),
            None => return (ended, added),
        }
    }
}

#[test]
fn the_servers_model_makes_the_classes_numpy_finds_and_stops_when_asked() {
    let folder = tempfile::tempdir().expect("a folder");
    let model_file = folder.path().join("three-classes.onnx");
    support::imaging_python_script(
        "onnx_model.py",
        &[
            "make",
            &model_file.to_string_lossy(),
            "--patch",
            "32,128,128",
        ],
    );
    let numpy = support::imaging_python_script(
        "onnx_model.py",
        &["expect", &support::data_arg("ct-head-neck")],
    );
    let model = Arc::new(SegmentationModel::load(&model_file).expect("the model"));
    let with_model = served_with(folder.path(), |config| config.model = Some(model));
    let without = tempfile::tempdir().expect("a folder");
    let without_model = served(without.path());
    support::server::run_within(Duration::from_secs(300), async move {
        let (mut rita, _) = open_ct(with_model, RITA).await;
        let ((done, total, state), added) = run_to_the_end(&mut rita, false).await;
        assert_eq!((done, state), (total, ModelRunState::Done));
        assert_eq!(
            total,
            10 * 4 * 4,
            "295 slices in 32, 512 rows and columns in 128"
        );
        let found: Vec<(&str, u64)> = added
            .iter()
            .map(|info| (info.label.as_str(), info.numbers.voxels as u64))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "three-classes class 1",
                    numpy["class 1"].as_u64().unwrap_or(0)
                ),
                (
                    "three-classes class 2",
                    numpy["class 2"].as_u64().unwrap_or(0)
                ),
            ]
        );
        assert!(added.iter().all(|info| info.algorithm == "AUTOMATIC"));
        // Stopped at once: stopped before the end, and nothing added.
        let ((done, total, state), added) = run_to_the_end(&mut rita, true).await;
        assert_eq!(state, ModelRunState::Stopped);
        assert!(done < total, "{done} of {total}");
        assert!(added.is_empty());
        // A server without a model says so.
        let (mut sam, _) = open_ct(without_model, RITA).await;
        sam.send(&ClientMessage::RunModel).await.expect("sent");
        let refused = told(&mut sam, Duration::from_secs(10), |told| match told {
            ServerMessage::Error { code, message } => Some((code, message)),
            _ => None,
        })
        .await
        .expect("refused");
        assert_eq!(refused.0, ErrorCode::Unavailable);
        assert!(refused.1.contains("--model"), "{refused:?}");
    });
}
