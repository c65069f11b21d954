//! The crop box over a real WebSocket: a server on loopback with the built-in sample, the
//! Rust client, lossless final stills. Cropped to the patient-left half, the anterior
//! view's other half is background: at most 1 % of the pixels lit there before stay lit
//! (lit: more than 24 levels from the background in some channel, 2 % of the width left
//! out around the cut). Bad boxes get `bad_value`; `view` carries the box and `reset`
//! clears it.

use hounsfield_test_support as support;

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use glam::{DVec3, DVec4};
use hounsfield_client::{Client, Event};
use hounsfield_protocol::{Action, CropInfo, ErrorCode, ServerMessage, SharedView, Viewport};
use hounsfield_server::ServerConfig;
use hounsfield_server::library::PHANTOM_ID;
use support::render::lit_beside;

const VIEWPORT: Viewport = Viewport {
    width: 256,
    height: 224,
};
/// The longest the test may take before it counts as hung.
const TEST_LIMIT: Duration = Duration::from_secs(240);

/// One server on loopback (its own thread and runtime) for every test of this file.
fn server() -> SocketAddr {
    static ADDRESS: OnceLock<SocketAddr> = OnceLock::new();
    *ADDRESS.get_or_init(|| {
        let mut config = ServerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        config.default_viewport = VIEWPORT;
        support::server::start(vec![config])[0]
    })
}

/// A lossless final still and the `view` message sent with it.
struct Still {
    width: u32,
    rgba: Vec<u8>,
    view: SharedView,
}

/// Events until the lossless final still reflecting input `seq` and the `view` message
/// of at least that input.
async fn still_and_view(client: &mut Client, seq: u32) -> Still {
    let mut image = None;
    let mut view = None;
    loop {
        match client.next_event().await.expect("an event") {
            Event::Frame(frame) => {
                let header = frame.header;
                if header.flags.final_still() && header.flags.lossless() && header.input_seq >= seq
                {
                    image = Some(frame.decode_rgba().expect("a PNG"));
                }
            }
            Event::Message(ServerMessage::View {
                seq: at,
                view: told,
            }) if at >= seq => {
                view = Some(*told);
            }
            _ => {}
        }
        if image.is_some() && view.is_some() {
            break;
        }
    }
    let ((width, _, rgba), view) = image.zip(view).expect("both arrived");
    Still { width, rgba, view }
}

/// Lit pixels on the patient's right and left of the plane i = ½ in `still`, which the
/// anterior camera of its view sees edge on.
fn lit_right_and_left(still: &Still, centre_lps: DVec3) -> [usize; 2] {
    let height = still.rgba.len() as u32 / 4 / still.width;
    let camera = still.view.camera;
    let aspect = f64::from(still.width) / f64::from(height);
    let screen_x = |lps: DVec3| {
        let clip = camera.view_projection(aspect) * DVec4::from((lps, 1.0));
        (clip.x / clip.w + 1.0) * 0.5 * f64::from(still.width)
    };
    let cut_x = screen_x(centre_lps);
    let left_x = screen_x(centre_lps + DVec3::X * 10.0);
    let margin = 0.02 * f64::from(still.width);
    let [image_left, image_right] = lit_beside(still.width, &still.rgba, cut_x, margin);
    if left_x > cut_x {
        [image_left, image_right]
    } else {
        [image_right, image_left]
    }
}

#[test]
fn a_crop_to_the_left_half_blanks_the_right_is_carried_in_view_and_reset_clears_it() {
    support::server::run_within(TEST_LIMIT, async {
        let mut client = Client::connect(&format!("ws://{}/ws", server()))
            .await
            .expect("connects");
        client.hello(None, VIEWPORT).await.expect("welcome");
        let opened = client.open(PHANTOM_ID).await.expect("opened");
        let start = opened.view.expect("opened.view");
        assert_eq!(start.crop, None, "a series opens uncropped");
        let centre_lps = start.crosshair_lps.expect("the volume's centre");
        client.still(true).await.expect("sent");
        // Soft tissue, so that the body fills both halves (bone alone may not): a change
        // that comes to rest, so a `view` message follows.
        let seq = client
            .input(Action::Preset {
                name: "ct-soft-tissue".to_string(),
            })
            .await
            .expect("sent");
        let whole = still_and_view(&mut client, seq).await;
        assert_eq!(whole.view.crop, None);
        let [right, left] = lit_right_and_left(&whole, centre_lps);
        let area = (whole.rgba.len() / 4) as f64;
        assert!(
            right as f64 > 0.02 * area && left as f64 > 0.02 * area,
            "the sample fills both halves: {right} right, {left} left"
        );

        let half = CropInfo {
            min: [0.5, 0.0, 0.0],
            max: [1.0, 1.0, 1.0],
        };
        let seq = client
            .input(Action::Crop {
                min: half.min,
                max: half.max,
            })
            .await
            .expect("sent");
        let cropped = still_and_view(&mut client, seq).await;
        assert_eq!(cropped.view.crop, Some(half), "the view message carries it");
        let [cut_right, kept_left] = lit_right_and_left(&cropped, centre_lps);
        assert!(
            cut_right as f64 <= 0.01 * right as f64,
            "the patient's right is background: {cut_right} of {right} pixels still lit"
        );
        assert!(
            kept_left as f64 >= 0.5 * left as f64,
            "the patient's left stays: {kept_left} of {left} pixels lit"
        );

        // Bad boxes: refused with the axis named, the crop unchanged.
        let refused = [
            ([0.5, 0.0, 0.0], [0.5, 1.0, 1.0], "crop i"),
            ([0.0, 0.8, 0.0], [1.0, 0.3, 1.0], "crop j"),
            ([0.0, 0.0, -0.2], [1.0, 1.0, 1.0], "crop k"),
            ([0.0, 0.0, 0.0], [1.0, 1.0, 1.01], "crop k"),
        ];
        for (min, max, field) in refused {
            client.input(Action::Crop { min, max }).await.expect("sent");
            let (code, message) = client.next_error().await.expect("an error reply");
            assert_eq!(code, ErrorCode::BadValue, "{min:?} {max:?}");
            assert!(message.starts_with(field), "{field}: {message}");
        }
        // A NaN cannot travel as JSON: the text is refused as a bad message.
        client
            .send_text(r#"{"type":"input","seq":90,"action":"crop","min":[NaN,0,0],"max":[1,1,1]}"#)
            .await
            .expect("sent");
        let (code, _) = client.next_error().await.expect("an error reply");
        assert_eq!(code, ErrorCode::BadJson);

        // set_view hands a crop over; reset clears it.
        let mut handed = cropped.view.clone();
        handed.crop = Some(CropInfo {
            min: [0.0, 0.0, 0.0],
            max: [0.5, 1.0, 1.0],
        });
        let seq = client
            .input(Action::SetView {
                view: Box::new(handed.clone()),
            })
            .await
            .expect("sent");
        let mirrored = still_and_view(&mut client, seq).await;
        assert_eq!(mirrored.view.crop, handed.crop);
        let [kept_right, cut_left] = lit_right_and_left(&mirrored, centre_lps);
        assert!(
            cut_left as f64 <= 0.01 * left as f64 && kept_right as f64 >= 0.5 * right as f64,
            "the right half only: {kept_right} right, {cut_left} left"
        );
        let seq = client.input(Action::Reset).await.expect("sent");
        let reset = still_and_view(&mut client, seq).await;
        assert_eq!(reset.view.crop, None, "reset clears the crop");
        // Reset also brings back the opening preset: soft tissue again to compare.
        let seq = client
            .input(Action::Preset {
                name: "ct-soft-tissue".to_string(),
            })
            .await
            .expect("sent");
        let again = still_and_view(&mut client, seq).await;
        assert_eq!(
            again.view.crop, None,
            "the preset change keeps the box cleared"
        );
        let [right_again, left_again] = lit_right_and_left(&again, centre_lps);
        assert!(
            right_again as f64 >= 0.9 * right as f64 && left_again as f64 >= 0.9 * left as f64,
            "the whole sample again: {right_again} right, {left_again} left"
        );
    });
}
