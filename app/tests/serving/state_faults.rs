//! `hounsfield --serve` and its state folder under the faults a site meets. On a full disk
//! (a small tmpfs mounted in a mount namespace of the test's own) a save and a recording
//! fail with an error that says the disk is full, and what was saved before stays whole;
//! once space is freed, saving works again. Killed (SIGKILL) while it saves reports and
//! records, the server restarted on the same folder shows every report whole, holding
//! at least what its last acknowledged save held, and lists only recordings that were
//! stopped.

use hounsfield_test_support as support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hounsfield_client::Client;
use hounsfield_protocol::{
    ClientMessage, ErrorCode, FindingAction, FindingRequest, RecordingState, Saved, ServerMessage,
    Viewport,
};
use support::Served;

/// Longest a whole test may take (a hung test, not a slow one).
const TEST_LIMIT: Duration = Duration::from_secs(180);
/// Small frames: lavapipe draws them quickly.
const VIEWPORT: Viewport = Viewport {
    width: 160,
    height: 120,
};

fn ct_folder() -> String {
    support::data("ct-head-neck").to_string_lossy().into_owned()
}

/// A ruler drawn on the axial cell, `n` telling it apart.
fn ruler(n: u32) -> FindingRequest {
    let at = 0.2 + 0.01 * f64::from(n % 50);
    FindingRequest {
        action: FindingAction::Create,
        id: None,
        kind: Some("ruler".to_string()),
        cell: Some("axial".to_string()),
        points: vec![[at, 0.3], [at, 0.7]],
        note: None,
    }
}

/// Connects to `served` and opens its one CT series.
async fn opened(served: &Served) -> Client {
    let mut client = Client::connect(&served.ws_url("")).await.expect("connects");
    client.hello(None, VIEWPORT).await.expect("welcome");
    let studies = client.list_studies().await.expect("the catalogue");
    client.open(&studies[0].series[0].id).await.expect("opened");
    // Opening tells the series' findings.
    loop {
        if let ServerMessage::Findings { .. } = support::server::next_answer(&mut client).await {
            break client;
        }
    }
}

/// Draws `request`; whether it was kept.
async fn draw(client: &mut Client, request: FindingRequest) {
    client
        .send(&ClientMessage::Finding(request))
        .await
        .expect("sent");
    match support::server::next_answer(client).await {
        ServerMessage::Finding(_) => {}
        other => panic!("a finding, not {other:?}"),
    }
}

/// Saves the findings: what the server acknowledged, or its refusal.
async fn save(client: &mut Client) -> Result<Saved, (ErrorCode, String)> {
    client
        .send(&ClientMessage::SaveFindings)
        .await
        .expect("sent");
    loop {
        match support::server::next_answer(client).await {
            ServerMessage::Saved(saved) => return Ok(saved),
            ServerMessage::Error { code, message } => return Err((code, message)),
            _ => {}
        }
    }
}

/// Starts recording: the recording's id, or the refusal.
async fn start_recording(client: &mut Client) -> Result<String, String> {
    client
        .send(&ClientMessage::StartRecording)
        .await
        .expect("sent");
    recording_answer(client, RecordingState::Recording).await
}

/// Saves the findings on a server about to be killed: what it acknowledged, if it did
/// before its connection went.
async fn save_unless_killed(client: &mut Client) -> Option<Saved> {
    client.send(&ClientMessage::SaveFindings).await.ok()?;
    loop {
        match client.next_event().await.ok()? {
            hounsfield_client::Event::Message(ServerMessage::Saved(saved)) => return Some(saved),
            hounsfield_client::Event::Message(ServerMessage::Error { .. }) => return None,
            _ => {}
        }
    }
}

/// The answer to a recording message: the `recording` of `state` (its id), or a refusal.
async fn recording_answer(client: &mut Client, wanted: RecordingState) -> Result<String, String> {
    loop {
        match support::server::next_answer(client).await {
            ServerMessage::Error { message, .. } => return Err(message),
            ServerMessage::Recording { id, state, .. } if state == wanted => return Ok(id),
            _ => {}
        }
    }
}

/// Every file under `folder`, at any depth.
fn files_under(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The findings held by each report under `findings` (each must read whole).
fn reports_under(findings: &Path) -> Vec<usize> {
    files_under(findings)
        .iter()
        .filter(|path| path.extension().is_some_and(|e| e == "dcm"))
        .map(|path| {
            hounsfield_findings::report::read_report_file(path)
                .unwrap_or_else(|error| panic!("{} is not whole: {error}", path.display()))
                .findings
                .len()
        })
        .collect()
}

/// A script that runs the server with `$STATE` on a 2 MiB tmpfs of its own mount
/// namespace (a user namespace makes that possible without privileges), the server's
/// arguments passed on.
fn small_disk_launcher(folder: &Path) -> PathBuf {
    let script = folder.join("on-a-small-disk.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nexec unshare --user --map-root-user --mount sh -c \
         'mount -t tmpfs -o size=2m tmpfs \"$STATE\" && exec \"$HOUNSFIELD\" \"$@\"' sh \"$@\"\n",
    )
    .expect("written");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("mode");
    script
}

/// Fills the file system of `folder` with `filler` until it is full (at most 64 MiB).
fn fill(filler: &Path) {
    let mut file = std::fs::File::create(filler).expect("a filler file");
    let block = vec![0x5a_u8; 64 << 10];
    for _ in 0..1024 {
        if file
            .write_all(&block)
            .and_then(|()| file.sync_all())
            .is_err()
        {
            return;
        }
    }
    panic!("{} never filled up", filler.display());
}

#[test]
fn on_a_full_disk_a_save_fails_saying_so_and_what_was_saved_stays_whole() {
    let folder = tempfile::tempdir().expect("a folder");
    let state = folder.path().join("state");
    std::fs::create_dir(&state).expect("the state folder");
    let launcher = small_disk_launcher(folder.path());
    let binary = support::hounsfield_binary();
    let state_arg = state.to_string_lossy().into_owned();
    let ct = ct_folder();
    let served = Served::launch(
        &launcher,
        &["--library", &ct, "--state-dir", &state_arg, "--h264", "off"],
        &[
            ("STATE", state.as_os_str()),
            ("HOUNSFIELD", binary.as_os_str()),
        ],
    )
    .unwrap_or_else(|stderr| panic!("the server did not start on a small disk: {stderr}"));
    // The state folder as the server sees it: its tmpfs, through its mount namespace.
    let seen = PathBuf::from(format!("/proc/{}/root", served.pid())).join(
        state
            .strip_prefix("/")
            .expect("an absolute temporary folder"),
    );
    support::run_within(TEST_LIMIT, async {
        let mut client = opened(&served).await;
        draw(&mut client, ruler(1)).await;
        let first = save(&mut client)
            .await
            .expect("saved with room on the disk");
        assert_eq!(first.findings, 1);
        start_recording(&mut client)
            .await
            .expect("a recording starts with room on the disk");

        let filler = seen.join("filler");
        fill(&filler);
        draw(&mut client, ruler(2)).await;
        let (code, why) = save(&mut client)
            .await
            .expect_err("a save on a full disk is refused");
        assert_eq!(code, ErrorCode::Unavailable, "{why}");
        assert!(why.contains("no space left on the server's disk"), "{why}");
        assert!(
            !why.contains(&*state_arg),
            "the server's folders stay out of the reply: {why}"
        );
        // What was saved before is whole, and no half-written file lies beside it.
        assert_eq!(reports_under(&seen.join("findings")), vec![1]);
        let leftovers: Vec<_> = files_under(&seen.join("findings"))
            .into_iter()
            .filter(|path| path.extension().is_none_or(|e| e != "dcm"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        // The recording cannot be kept on a full disk either, and says why.
        client
            .send(&ClientMessage::StopRecording)
            .await
            .expect("sent");
        let stopped = recording_answer(&mut client, RecordingState::Stopped).await;
        let why = stopped.expect_err("a recording cannot end on a full disk");
        assert!(why.contains("No space left on device"), "{why}");

        // Room again: the next save keeps both findings.
        std::fs::remove_file(&filler).expect("the filler removed");
        let again = save(&mut client).await.expect("saved once there is room");
        assert_eq!(again.findings, 2);
        assert_eq!(reports_under(&seen.join("findings")), vec![2]);
    });
}

#[test]
fn killed_while_saving_the_server_restarts_with_every_acknowledged_save_whole() {
    let state = tempfile::tempdir().expect("a state folder");
    let state_arg = state.path().to_string_lossy().into_owned();
    let ct = ct_folder();
    let args = [
        "--library",
        ct.as_str(),
        "--state-dir",
        &state_arg,
        "--h264",
        "off",
    ];
    let mut acknowledged = 0;
    let mut recorded = Vec::new();
    for round in 0..4u32 {
        let served = support::served::start(&args, &[])
            .unwrap_or_else(|stderr| panic!("round {round}: not started: {stderr}"));
        let pid = served.pid();
        support::run_within(TEST_LIMIT, async {
            let mut client = opened(&served).await;
            // A recording stopped is kept; the one running when the server is killed is
            // never listed.
            start_recording(&mut client).await.expect("started");
            client
                .send(&ClientMessage::StopRecording)
                .await
                .expect("sent");
            let stopped = recording_answer(&mut client, RecordingState::Stopped).await;
            recorded.push(stopped.expect("stopped and kept"));
            start_recording(&mut client).await.expect("started");
            // Saves one after another (one a second is taken); the server is killed
            // during one of them, a little later each round.
            for n in 0..3 {
                draw(&mut client, ruler(round * 10 + n)).await;
                tokio::time::sleep(Duration::from_millis(1000)).await;
                if n == 2 {
                    let killer = tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(u64::from(round) * 3)).await;
                        let _ = std::process::Command::new("kill")
                            .args(["-KILL", &pid.to_string()])
                            .status();
                    });
                    let saving = save_unless_killed(&mut client);
                    if let Ok(Some(saved)) =
                        tokio::time::timeout(Duration::from_secs(10), saving).await
                    {
                        acknowledged = acknowledged.max(saved.findings);
                    }
                    let _ = killer.await;
                } else {
                    let saved = save(&mut client).await.expect("saved");
                    acknowledged = acknowledged.max(saved.findings);
                }
            }
        });
        drop(served);
        // Every report under the folder reads whole, holding at least what the last
        // acknowledged save held.
        let kept = reports_under(&state.path().join("findings"));
        assert_eq!(
            kept.len(),
            1,
            "round {round}: one report a series: {kept:?}"
        );
        assert!(
            kept[0] >= acknowledged,
            "round {round}: the report holds {} findings; a save of {acknowledged} was acknowledged",
            kept[0]
        );
    }
    // Restarted once more: the series' findings come back from the report, and only
    // the stopped recordings are listed.
    let served = support::served::start(&args, &[]).expect("restarted");
    support::run_within(TEST_LIMIT, async {
        let mut client = Client::connect(&served.ws_url("")).await.expect("connects");
        client.hello(None, VIEWPORT).await.expect("welcome");
        let studies = client.list_studies().await.expect("the catalogue");
        let series = studies[0].series[0].id.clone();
        client.open(&series).await.expect("opened");
        let told = loop {
            if let ServerMessage::Findings { findings, .. } =
                support::server::next_answer(&mut client).await
            {
                break findings.len();
            }
        };
        assert!(
            told >= acknowledged,
            "{told} findings told, {acknowledged} acknowledged"
        );
        client
            .send(&ClientMessage::ListRecordings {
                series: Some(series),
            })
            .await
            .expect("sent");
        let listed = loop {
            if let ServerMessage::Recordings { recordings, .. } =
                support::server::next_answer(&mut client).await
            {
                break recordings;
            }
        };
        let mut listed: Vec<String> = listed.into_iter().map(|r| r.id).collect();
        listed.sort();
        recorded.sort();
        assert_eq!(listed, recorded, "the stopped recordings, and only they");
    });
}
