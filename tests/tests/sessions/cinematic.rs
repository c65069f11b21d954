//! Cinematic rendering on the server, over a real socket: once the reader's light asks for
//! it, the resting view's ray-cast still is followed by path-traced pictures of 1, 2, 4…
//! paths a pixel, each announced by a `cinematic` message naming its frame; the picture of
//! 4 paths equals, pixel for pixel, what the render core's `render_cinematic` draws of the
//! same view from the same seed (PNG is lossless, the adapter the same). A turn of the
//! camera starts the picture over, from one path.

use hounsfield_test_support as support;

use std::collections::HashMap;
use std::sync::Arc;

use hounsfield_client::{Client, Event, Frame};
use hounsfield_protocol::{Action, Codec, ServerMessage};
use render_core::gpu::CinematicSettings;
use render_core::phantom::ct_phantom;
use render_core::transfer::RenderMode;
use render_core::view::{Lighting, Quality, ViewState};

use super::server::{opened_client, run_test, servers};

/// What came after an input: whether its ray-cast still came first, and the cinematic
/// pictures up to the one of `paths` paths a pixel, with their paths.
struct Refinement {
    ray_cast_first: bool,
    pictures: Vec<(u32, Frame)>,
}

/// Reads `client`'s events until the cinematic picture of `paths` paths a pixel that
/// answers input `seq` or a later one.
async fn refined_to(client: &mut Client, seq: u32, paths: u32) -> Refinement {
    let mut announced = HashMap::new();
    let mut refinement = Refinement {
        ray_cast_first: false,
        pictures: Vec::new(),
    };
    loop {
        match client.next_event().await.expect("the session lives") {
            Event::Message(ServerMessage::Cinematic {
                frame_seq,
                paths,
                most,
            }) => {
                assert_eq!(most, CinematicSettings::RESTING_PASSES);
                announced.insert(frame_seq, paths);
            }
            Event::Message(ServerMessage::Error { code, message }) => {
                panic!("{code:?}: {message}")
            }
            Event::Frame(frame) if frame.header.input_seq >= seq => {
                let flags = frame.header.flags;
                if flags.cinematic() {
                    let told = *announced
                        .get(&frame.header.frame_seq)
                        .expect("announced before its frame");
                    assert!(flags.final_still() && flags.lossless());
                    assert_eq!(frame.header.codec, Codec::Png);
                    refinement.pictures.push((told, frame));
                    if told >= paths {
                        return refinement;
                    }
                } else if flags.final_still() && refinement.pictures.is_empty() {
                    refinement.ray_cast_first = true;
                }
            }
            Event::Message(_) | Event::Frame(_) => {}
        }
    }
}

#[test]
fn a_resting_cinematic_view_streams_what_render_cinematic_draws_and_a_turn_starts_it_over() {
    run_test(async {
        let (mut client, _) = opened_client(servers().open).await;
        // Stills lossless from now on.
        support::server::lossless_still(&mut client).await;
        let lighting = Lighting {
            cinematic: true,
            ..Lighting::default()
        };
        let lit = client.input(Action::Light(lighting)).await.expect("sent");
        let refinement = refined_to(&mut client, lit, 4).await;
        assert!(refinement.ray_cast_first, "the ray-cast still comes first");
        let paths: Vec<u32> = refinement.pictures.iter().map(|(p, _)| *p).collect();
        assert_eq!(paths, [1, 2, 4], "sent at powers of two");
        let (_, picture) = refinement.pictures.last().expect("pictures");
        let (width, height, rgba) = picture.decode_rgba().expect("a PNG");

        let volume = Arc::new(ct_phantom());
        let mut view = ViewState::initial(&volume, "ct-bone", RenderMode::Composite);
        view.lighting = lighting;
        view.quality = Quality::Full;
        let settings = CinematicSettings {
            samples: 4,
            seed: CinematicSettings::RESTING_SEED,
        };
        let expected = {
            let mut renderer = support::render::renderer();
            renderer.load_volume(volume);
            renderer
                .render_cinematic(&view, [width, height], settings)
                .expect("path traced")
        };
        assert_eq!((width, height), (expected.width, expected.height));
        // Exact: the same paths from the same seed, on the same kind of adapter.
        let differing = support::render::differing_values(&rgba, &expected.rgba);
        assert_eq!(differing, 0, "{differing} channel values differ");

        // A turn of the camera: a new ray-cast still, then a new picture from one path.
        let turned = client
            .input(Action::Orbit { dx: 20.0, dy: 0.0 })
            .await
            .expect("sent");
        client.still(true).await.expect("sent");
        let again = refined_to(&mut client, turned, 1).await;
        assert!(again.ray_cast_first);
        assert_eq!(again.pictures.len(), 1);
        let (_, first) = &again.pictures[0];
        assert!(
            support::server::frames_apart(first, picture) > 0.001,
            "another view's picture"
        );
        // Closing the session lets its picture go (the server refines no more for it).
        client.close().await.expect("closed");
    });
}
