//! Presets an administrator saves on the server, over real sockets: a reader's
//! `save_preset` is refused and writes nothing; an administrator's edit of `ct-bone` saved
//! with `save_preset` is written into the server's presets folder as a file that reads
//! back byte-identical, a session opened afterwards offers it, and choosing it by name
//! there draws the administrator's picture (the render thread took the new preset). In a
//! shared session, the host's edit of the transfer function reaches her followers: their
//! view at rest carries it and their picture is hers.

use hounsfield_test_support as support;

use std::time::Duration;

use hounsfield_client::Client;
use hounsfield_protocol::{Action, ClientMessage, ErrorCode, ServerMessage, Viewport};
use hounsfield_server::users::{Role, UsersFile};
use render_core::transfer::{Preset, PresetLibrary, PresetRules};
use support::server::{frames_apart, lossless_still, signed_in, told};

const VIEWPORT: Viewport = Viewport {
    width: 320,
    height: 240,
};
const ADA: &str = "presets-admin-7d21";
const RITA: &str = "presets-reader-b3c8";
/// The name the administrator saves her edit under.
const SAVED: &str = "bone see-through";

/// `ct-bone` with its bone made nearly transparent, named [`SAVED`].
fn see_through_bone() -> Preset {
    let mut preset = PresetLibrary::builtin()
        .get("ct-bone")
        .expect("built in")
        .clone();
    SAVED.clone_into(&mut preset.name);
    for point in preset.opacity.iter_mut().filter(|p| p.value >= 300.0) {
        point.opacity = 0.05;
    }
    preset
}

/// Opens the first series (the phantom) for `client`; the presets it offers.
async fn open_phantom(client: &mut Client) -> Vec<String> {
    let studies = client.list_studies().await.expect("studies");
    let series = studies[0].series[0].id.clone();
    client.open(&series).await.expect("opened").presets
}

/// A server of the phantom (JPEG frames) with Ada, an administrator, and Rita, a reader,
/// as users; its users file and its presets folder (`presets`) live in `state`.
fn served(state: &tempfile::TempDir) -> std::net::SocketAddr {
    let users = state.path().join("users.toml");
    support::users_table(&[("ada", Role::Admin, ADA), ("rita", Role::Reader, RITA)])
        .save(&users)
        .expect("written");
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    config.users = Some(UsersFile::load(&users).expect("a good users file"));
    config.presets_folder = Some(state.path().join("presets"));
    support::server::start(vec![config])[0]
}

#[test]
fn an_administrators_preset_is_saved_on_the_server_offered_to_new_sessions_and_drawn() {
    let state = tempfile::tempdir().expect("a folder");
    let address = served(&state);
    let folder = state.path().join("presets");
    support::server::run_within(Duration::from_secs(120), async move {
        // A reader may not.
        let mut rita = signed_in(address, RITA, VIEWPORT).await;
        open_phantom(&mut rita).await;
        let save = ClientMessage::SavePreset {
            preset: Box::new(see_through_bone()),
        };
        rita.send(&save).await.expect("sent");
        let refused = told(
            &mut rita,
            Duration::from_secs(10),
            |message| match message {
                ServerMessage::Error { code, .. } => Some(code),
                ServerMessage::PresetSaved { .. } => Some(ErrorCode::Internal),
                _ => None,
            },
        )
        .await;
        assert_eq!(refused, Some(ErrorCode::Forbidden), "a reader's save");
        assert!(!folder.exists(), "nothing written for a reader");

        // The administrator edits ct-bone, looks at it, and saves it.
        let mut ada = signed_in(address, ADA, VIEWPORT).await;
        open_phantom(&mut ada).await;
        ada.input(Action::Transfer {
            preset: Box::new(see_through_bone()),
        })
        .await
        .expect("sent");
        let edited = lossless_still(&mut ada).await;
        ada.send(&save).await.expect("sent");
        let offered = told(&mut ada, Duration::from_secs(10), |message| match message {
            ServerMessage::PresetSaved { name, presets } => Some(Ok((name, presets))),
            ServerMessage::Error { message, .. } => Some(Err(message)),
            _ => None,
        })
        .await
        .expect("an answer")
        .expect("saved");
        assert_eq!(offered.0, SAVED);
        assert!(offered.1.iter().any(|name| name == SAVED), "{offered:?}");
        let file = folder.join(format!("{SAVED}.toml"));
        let text = std::fs::read_to_string(&file).expect("the preset's file");
        let read = Preset::from_toml(&text, "saved").expect("reads");
        assert_eq!(
            read,
            see_through_bone(),
            "the file holds the function saved"
        );
        assert_eq!(read.to_toml().expect("written"), text, "byte-identical");

        // A session opened afterwards offers it, and draws it by name as ada saw it.
        let mut rita = signed_in(address, RITA, VIEWPORT).await;
        let presets = open_phantom(&mut rita).await;
        assert!(presets.iter().any(|name| name == SAVED), "{presets:?}");
        let plain = lossless_still(&mut rita).await;
        rita.input(Action::Preset {
            name: SAVED.to_string(),
        })
        .await
        .expect("sent");
        let chosen = lossless_still(&mut rita).await;
        assert!(
            frames_apart(&chosen, &edited) < 0.5 / 255.0,
            "the saved preset draws the edit: {}",
            frames_apart(&chosen, &edited) * 255.0
        );
        assert!(
            frames_apart(&plain, &edited) > 4.0 / 255.0,
            "the edit is not ct-bone's picture"
        );
    });
}

#[test]
fn an_edit_of_the_hosts_transfer_function_reaches_the_followers_of_her_shared_session() {
    let state = tempfile::tempdir().expect("a folder");
    let address = served(&state);
    support::server::run_within(Duration::from_secs(120), async move {
        let mut ada = signed_in(address, ADA, VIEWPORT).await;
        open_phantom(&mut ada).await;
        ada.send(&ClientMessage::Share).await.expect("sent");
        let join = told(&mut ada, Duration::from_secs(5), |message| match message {
            ServerMessage::Shared { id, .. } => Some(id),
            _ => None,
        })
        .await
        .expect("shared");
        let mut rita = signed_in(address, RITA, VIEWPORT).await;
        rita.send(&ClientMessage::Join { id: join })
            .await
            .expect("sent");
        rita.next_frame().await.expect("the shared view");

        // The host edits; the follower's view at rest carries the edit, and her
        // picture is the host's.
        ada.input(Action::Transfer {
            preset: Box::new(see_through_bone()),
        })
        .await
        .expect("sent");
        let told_view = told(
            &mut rita,
            Duration::from_secs(30),
            |message| match message {
                ServerMessage::View { view, .. } if view.transfer.is_some() => Some(view),
                _ => None,
            },
        )
        .await
        .expect("the shared view at rest");
        assert_eq!(
            told_view.transfer.as_deref(),
            Some(&see_through_bone()),
            "the follower is told the edited function"
        );
        assert_eq!(told_view.preset, SAVED);
        let hosts = lossless_still(&mut ada).await;
        let followers = lossless_still(&mut rita).await;
        assert!(
            frames_apart(&hosts, &followers) < 0.5 / 255.0,
            "the follower sees the host's edit: {}",
            frames_apart(&hosts, &followers) * 255.0
        );
    });
}
