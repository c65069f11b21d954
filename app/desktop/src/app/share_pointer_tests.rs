//! Pointers in the desktop's own share: a colleague joined over TLS points at the 3D view
//! and the window draws a dot in her colour where she points; the window's pointer over
//! its 3D view reaches her as `pointer` from the host, in the cell and at the place it is,
//! and that it left once it leaves. Her ruler joins the window's findings as she draws it;
//! the window's ellipse reaches her as it is drawn, and its deletion too.

use std::time::Duration;

use egui_kittest::kittest::Queryable;
use glam::DVec3;
use hounsfield_client::Client;
use hounsfield_findings::outline::PlaneAxes;
use hounsfield_protocol::{
    ClientMessage, FindingAction, FindingKind, FindingRequest, ServerMessage, SlicePlane, Viewport,
};
use hounsfield_server::sharing::DESKTOP_HOST;

use super::ui_tests::{PATIENCE, settle, window};
use super::*;
use crate::findings::model::Entry;
use crate::pointer_spots::{colour, spot};
use crate::share_room::DESKTOP_FINDING_IDS;
use crate::thin_client::connection::participants_tests::told;
use crate::thin_client::remote_view::entry_of;

/// The next `pointer` `client` is told: its session, cell and place.
async fn next_pointer(client: &mut Client) -> (u64, Option<String>, Option<[f64; 2]>) {
    told(client, |message| match message {
        ServerMessage::Pointer {
            session,
            cell,
            x,
            y,
            ..
        } => Some((session, cell, x.zip(y).map(|(x, y)| [x, y]))),
        _ => None,
    })
    .await
}

#[test]
fn the_desktop_sharing_shows_its_followers_pointers_and_findings_and_tells_them_its_own() {
    let folder = tempfile::tempdir().expect("temp folder");
    let mut harness = window(None, folder.path().join("settings.toml"));
    settle(&mut harness, "the phantom shown", |app| {
        app.full_frame_shown()
    });
    harness.get_by_label("Share…").click();
    harness.run_steps(3);
    harness.get_by_label("Start sharing").click();
    settle(&mut harness, "sharing started", |app| app.sharing.is_some());
    let (port, token, fingerprint) = {
        let sharing = harness.state().sharing.as_ref().expect("sharing");
        (
            sharing.address.port(),
            sharing.token.clone(),
            sharing.fingerprint,
        )
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut colleague = runtime.block_on(async {
        let trust = hounsfield_tls::ServerTrust::pinned(fingerprint);
        let mut client = Client::connect_trusting(&format!("wss://127.0.0.1:{port}/ws"), &trust)
            .await
            .expect("connects");
        let viewport = Viewport {
            width: 200,
            height: 150,
        };
        client.hello(Some(&token), viewport).await.expect("welcome");
        client
            .open("phantom")
            .await
            .expect("the shared series opens");
        client
            .send(&ClientMessage::Pointer {
                cell: Some("3d".to_string()),
                x: Some(0.25),
                y: Some(0.75),
            })
            .await
            .expect("sent");
        client
    });

    // Her pointer, drawn over the window's 3D view in her colour.
    let started = std::time::Instant::now();
    let theirs = loop {
        harness.step();
        let heard = harness
            .state_mut()
            .sharing
            .as_mut()
            .expect("sharing")
            .room
            .followers();
        if !heard.is_empty() {
            break heard;
        }
        assert!(started.elapsed() < PATIENCE, "her pointer heard in time");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Drawn on the next pass: a few more to be sure it is on screen.
    harness.run_steps(3);
    let (rect, cells) = workspace_shown(&harness);
    let at = spot(rect, cells.as_ref(), "3d", [0.25, 0.75]).expect("shown in 3D");
    assert_eq!(theirs.len(), 1);
    let image = harness.render().expect("the window rendered");
    let pixel = image.get_pixel(at.x.round() as u32, at.y.round() as u32);
    let expected = colour(&theirs[0].colour);
    let near = |a: u8, b: u8| a.abs_diff(b) <= 24;
    assert!(
        near(pixel[0], expected.r())
            && near(pixel[1], expected.g())
            && near(pixel[2], expected.b()),
        "{pixel:?} at her pointer, not {expected:?}"
    );

    // The window's pointer over its 3D view reaches her, then that it left.
    let over = rect.min + egui::vec2(rect.width() * 0.6, rect.height() * 0.3);
    harness.hover_at(over);
    harness.run_steps(3);
    // Where the window's pointer stood before (over the sharing dialog) may reach her
    // first, on a loaded machine: the place it goes to is told after it.
    let (reached, told_places) = runtime.block_on(async {
        let mut told_places = Vec::new();
        let reached = tokio::time::timeout(PATIENCE, async {
            loop {
                let (session, cell, place) = next_pointer(&mut colleague).await;
                let reached = session == DESKTOP_HOST
                    && cell.as_deref() == Some("3d")
                    && place.is_some_and(|[x, y]| (x - 0.6).abs() < 0.02 && (y - 0.3).abs() < 0.02);
                told_places.push((session, cell, place));
                if reached {
                    return;
                }
            }
        })
        .await
        .is_ok();
        (reached, told_places)
    });
    assert!(
        reached,
        "the window's pointer at (0.6, 0.3) of the 3D view, not among {told_places:?}"
    );
    std::thread::sleep(Duration::from_millis(60));
    harness.hover_at(egui::pos2(2.0, 2.0));
    harness.run_steps(3);
    let left = runtime.block_on(async {
        loop {
            let (session, cell, _) = next_pointer(&mut colleague).await;
            if session == DESKTOP_HOST && cell.is_none() {
                return true;
            }
        }
    });
    assert!(left);

    findings_go_both_ways(&mut harness, &runtime, &mut colleague);
    harness.state_mut().stop_sharing("test over");
}

/// Her ruler joins the window's findings, by her; the window's own reaches her, and its
/// deletion too.
fn findings_go_both_ways(
    harness: &mut egui_kittest::Harness<'_, DesktopApp>,
    runtime: &tokio::runtime::Runtime,
    colleague: &mut Client,
) {
    let hers = runtime.block_on(async {
        colleague
            .send(&ClientMessage::Finding(FindingRequest {
                action: FindingAction::Create,
                id: None,
                kind: Some("ruler".to_string()),
                cell: Some("axial".to_string()),
                points: vec![[0.3, 0.4], [0.7, 0.6]],
                note: None,
            }))
            .await
            .expect("sent");
        told(colleague, |message| match message {
            ServerMessage::Finding(finding) => Some(finding),
            _ => None,
        })
        .await
    });
    let started = std::time::Instant::now();
    let here = loop {
        harness.step();
        let found = local_findings(harness)
            .iter()
            .find(|entry| entry.finding().kind == FindingKind::Ruler)
            .cloned();
        if let Some(found) = found {
            break found;
        }
        assert!(started.elapsed() < PATIENCE, "her ruler in time");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        here.measured.measurement,
        entry_of(hers).expect("whole").measured.measurement
    );
    let drawn = {
        let State::Local(workspace) = &mut harness.state_mut().state else {
            panic!("not rendering here");
        };
        let volume = workspace.renderer().volume().cloned().expect("a volume");
        let centre = volume.centre_lps();
        workspace
            .findings
            .draw(
                &volume,
                FindingKind::Ellipse,
                (SlicePlane::Axial, PlaneAxes::of(SlicePlane::Axial)),
                vec![
                    centre - DVec3::new(10.0, 10.0, 0.0),
                    centre + DVec3::new(10.0, 10.0, 0.0),
                ],
            )
            .expect("drawn")
    };
    harness.run_steps(2);
    let (session, finding) = runtime.block_on(told(colleague, |message| match message {
        ServerMessage::SharedFinding {
            session, finding, ..
        } => Some((session, finding)),
        _ => None,
    }));
    assert_eq!(session, DESKTOP_HOST);
    assert_eq!(finding.id, DESKTOP_FINDING_IDS + drawn);
    assert_eq!(finding.kind, FindingKind::Ellipse);
    assert!(finding.stats.is_some(), "measured here");
    if let State::Local(workspace) = &mut harness.state_mut().state {
        workspace.findings.delete(drawn);
    }
    harness.run_steps(2);
    let gone = runtime.block_on(told(colleague, |message| match message {
        ServerMessage::SharedFindingDeleted { session, id, .. } => Some((session, id)),
        _ => None,
    }));
    assert_eq!(gone, (DESKTOP_HOST, DESKTOP_FINDING_IDS + drawn));
}

/// The window's findings.
fn local_findings(harness: &egui_kittest::Harness<'_, DesktopApp>) -> Vec<Entry> {
    match &harness.state().state {
        State::Local(workspace) => workspace.findings.list.iter().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Where the window last drew its pictures.
fn workspace_shown(
    harness: &egui_kittest::Harness<'_, DesktopApp>,
) -> (egui::Rect, Option<[egui::Rect; 4]>) {
    match &harness.state().state {
        State::Local(workspace) => workspace.shown.expect("drawn"),
        _ => panic!("not rendering here"),
    }
}
