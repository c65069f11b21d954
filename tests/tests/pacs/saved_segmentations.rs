//! Segmentations saved on a series, found again over a real socket on the real CT: a
//! reader saves a segment; another session's `segmentations` lists it (and one that
//! highdicom wrote into the study's findings folder) from the series' findings, and
//! `load_segmentation` adds each one's segments to the series as they were saved: ours
//! with the numbers the server told when it was saved, highdicom's with the voxels NumPy
//! counted. A viewer may list but not load; a Segmentation not listed is refused by name.

use hounsfield_test_support as support;

use std::path::Path;
use std::time::Duration;

use hounsfield_client::Client;
use hounsfield_protocol::{
    ClientMessage, ErrorCode, SavedSegmentation, SegmentInfo, SegmentTool, ServerMessage,
};
use support::server::told;

use super::segments::{RITA, SAM, VERA, create, edit, joined, open_ct, served};

/// The Segmentations `client` is told are saved on its series.
async fn listed(client: &mut Client) -> Vec<SavedSegmentation> {
    client
        .send(&ClientMessage::Segmentations)
        .await
        .expect("sent");
    told(client, Duration::from_secs(30), |told| match told {
        ServerMessage::Segmentations { saved, .. } => Some(saved),
        ServerMessage::Error { code, message } => panic!("{code:?}: {message}"),
        _ => None,
    })
    .await
    .expect("listed")
}

/// Loads `sop_instance_uid`: the segments it added, or the refusal.
async fn loaded(
    client: &mut Client,
    sop_instance_uid: &str,
) -> Result<Vec<SegmentInfo>, (ErrorCode, String)> {
    client
        .send(&ClientMessage::LoadSegmentation {
            sop_instance_uid: sop_instance_uid.to_string(),
        })
        .await
        .expect("sent");
    let mut added = Vec::new();
    loop {
        let answer = told(client, Duration::from_secs(60), |told| match told {
            ServerMessage::Segment(info) => Some(Ok(Some(*info))),
            ServerMessage::Segments { .. } => Some(Ok(None)),
            ServerMessage::Error { code, message } => Some(Err((code, message))),
            _ => None,
        })
        .await
        .expect("an answer within a minute")?;
        match answer {
            Some(info) => added.push(info),
            None => return Ok(added),
        }
    }
}

#[test]
fn saved_segmentations_ours_and_another_programs_are_listed_on_the_series_and_loaded_as_they_were()
{
    let state = tempfile::tempdir().expect("a folder");
    let address = served(state.path());
    support::server::run_within(Duration::from_secs(240), async move {
        let (mut rita, _series) = open_ct(address, RITA).await;
        assert!(listed(&mut rita).await.is_empty(), "nothing saved yet");
        rita.send(&create()).await.expect("sent");
        let created = told(&mut rita, Duration::from_secs(30), |told| match told {
            ServerMessage::Segment(info) => Some(*info),
            _ => None,
        })
        .await
        .expect("created");
        let thresholded = edit(
            &mut rita,
            created.id,
            SegmentTool::Threshold {
                low: 1500.0,
                high: 3000.0,
            },
        )
        .await;
        rita.send(&ClientMessage::SaveSegments).await.expect("sent");
        let saved = told(&mut rita, Duration::from_secs(60), |told| match told {
            ServerMessage::Saved(saved) => Some(saved),
            ServerMessage::Error { code, message } => panic!("{code:?}: {message}"),
            _ => None,
        })
        .await
        .expect("saved");

        // Another program's Segmentation of the same series, in the study's folder.
        let study_folder = Path::new(&saved.location)
            .parent()
            .expect("the study's folder")
            .to_path_buf();
        let theirs_file = study_folder.join("highdicom.dcm");
        let ct = support::data_arg("ct-head-neck");
        let theirs = support::imaging_python_script(
            "highdicom_segmentation.py",
            &[
                &ct,
                &theirs_file.to_string_lossy(),
                "--threshold",
                "200,3000",
                "--slices",
                "100,140",
            ],
        );

        // Sam opens the series: both are listed, with their segments' names.
        let (mut sam, _) = open_ct(address, SAM).await;
        let found = listed(&mut sam).await;
        assert_eq!(found.len(), 2, "{found:?}");
        let ours = found
            .iter()
            .find(|seg| seg.sop_instance_uid == saved.sop_instance_uid)
            .expect("ours listed");
        assert_eq!(ours.segments, vec!["Bone".to_string()]);
        assert_eq!(ours.stored_in, "findings folder");
        let other = found
            .iter()
            .find(|seg| seg.sop_instance_uid != saved.sop_instance_uid)
            .expect("highdicom's listed");
        assert_eq!(other.segments, vec!["Bone by highdicom".to_string()]);

        // Vera, a viewer who joins Sam's session, may list, not load.
        let mut vera = joined(address, &mut sam, VERA).await;
        assert_eq!(listed(&mut vera).await.len(), 2);
        let refused = loaded(&mut vera, &ours.sop_instance_uid)
            .await
            .expect_err("a viewer's load");
        assert_eq!(refused.0, ErrorCode::Forbidden, "{refused:?}");

        // Sam loads ours: a segment as Rita saved it, beside hers.
        let added = loaded(&mut sam, &ours.sop_instance_uid)
            .await
            .expect("loaded");
        assert_eq!(added.len(), 1);
        assert_ne!(added[0].id, created.id);
        assert_eq!(added[0].label, "Bone");
        assert_eq!(added[0].algorithm, "SEMIAUTOMATIC");
        assert_eq!(added[0].numbers, thresholded.numbers);
        // And highdicom's: the voxels NumPy counted, where they belong.
        let added = loaded(&mut sam, &other.sop_instance_uid)
            .await
            .expect("loaded");
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].label, "Bone by highdicom");
        assert_eq!(
            Some(added[0].numbers.voxels as u64),
            theirs["voxels"].as_u64()
        );

        // A Segmentation not listed is refused by its field (after a second: a session
        // lists and loads at most 3 at once, 1 a second after).
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let (code, why) = loaded(&mut sam, "1.2.3.4").await.expect_err("not listed");
        assert_eq!(code, ErrorCode::BadValue, "{why}");
        assert!(
            why.contains("sop_instance_uid") && why.contains("1.2.3.4"),
            "{why}"
        );
    });
}
