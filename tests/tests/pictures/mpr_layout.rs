//! The 2×2 layout over a real WebSocket: a `--serve`-like server on loopback with the
//! built-in phantom, the Rust client, and lossless (PNG) final stills compared cell by
//! cell. A cell "changed" when more than 2 % of its pixels differ by more than 10 grey
//! levels in some channel; "unchanged" when at most 0.1 % do. Odd frame sides (257×193)
//! check that the cells tile the frame.

use hounsfield_test_support as support;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use hounsfield_client::{Client, Event};
use hounsfield_protocol::{
    Action, CrosshairInCells, ErrorCode, Layout, ServerMessage, SlicePlanesInCells, Viewport,
};
use hounsfield_server::ServerConfig;
use hounsfield_server::library::PHANTOM_ID;
use render_core::view::Cell;
use render_core::view::layout::quad_cells;

const VIEWPORT: Viewport = Viewport {
    width: 257,
    height: 193,
};
/// The longest the test may take before it counts as hung.
const TEST_LIMIT: Duration = Duration::from_secs(240);
/// Channel difference above which a pixel counts as different.
const PIXEL_THRESHOLD: u8 = 10;
/// Share of a cell's pixels that may differ while it counts as unchanged.
const UNCHANGED_SHARE: f64 = 0.001;
/// Share of a cell's pixels that must differ for it to count as changed.
const CHANGED_SHARE: f64 = 0.02;

/// One server on loopback (its own thread and runtime) for every test of this file.
fn server() -> SocketAddr {
    static ADDRESS: OnceLock<SocketAddr> = OnceLock::new();
    *ADDRESS.get_or_init(|| {
        let mut config = ServerConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        config.default_viewport = VIEWPORT;
        support::server::start(vec![config])[0]
    })
}

fn run_test(body: impl Future<Output = ()>) {
    support::server::run_within(TEST_LIMIT, body);
}

/// A decoded frame.
struct Image {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

impl Image {
    fn pixel(&self, x: u32, y: u32) -> &[u8] {
        let at = ((y * self.width + x) * 4) as usize;
        &self.rgba[at..at + 4]
    }
}

/// A client with the phantom open whose final stills are lossless, with the first of them.
async fn opened_client() -> (Client, Image) {
    let mut client = Client::connect(&format!("ws://{}/ws", server()))
        .await
        .expect("connects");
    client.hello(None, VIEWPORT).await.expect("welcome");
    client.open(PHANTOM_ID).await.expect("opened");
    client.next_frame().await.expect("a first frame");
    client.still(true).await.expect("sent");
    let still = final_still(&mut client, 0).await;
    (client, still)
}

/// Frames until a lossless final still reflecting input `seq`, decoded.
async fn final_still(client: &mut Client, seq: u32) -> Image {
    loop {
        let frame = client.next_frame().await.expect("a frame");
        let header = frame.header;
        if header.flags.final_still() && header.flags.lossless() && header.input_seq >= seq {
            let (width, height, rgba) = frame.decode_rgba().expect("a PNG");
            return Image {
                width,
                height,
                rgba,
            };
        }
    }
}

/// Sends `action` and returns the final still that reflects it.
async fn act(client: &mut Client, action: Action) -> Image {
    let seq = client.input(action).await.expect("sent");
    final_still(client, seq).await
}

/// The crosshair as the server tells it after input `seq`, and where it shows in the
/// slice cells.
async fn crosshair_told(client: &mut Client, seq: u32) -> (glam::DVec3, CrosshairInCells) {
    loop {
        if let Event::Message(ServerMessage::Crosshair {
            seq: answered,
            crosshair_lps,
            cells,
            ..
        }) = client.next_event().await.expect("an event")
            && answered == seq
        {
            return (crosshair_lps, cells);
        }
    }
}

/// Share of `cell`'s pixels that differ between `a` and `b` by more than the threshold.
fn differing_share(a: &Image, b: &Image, cell: Cell) -> f64 {
    let mut differing = 0usize;
    for y in cell.y..cell.y + cell.height {
        for x in cell.x..cell.x + cell.width {
            let (p, q) = (a.pixel(x, y), b.pixel(x, y));
            if p.iter()
                .zip(q)
                .any(|(u, v)| u.abs_diff(*v) > PIXEL_THRESHOLD)
            {
                differing += 1;
            }
        }
    }
    differing as f64 / f64::from(cell.width * cell.height)
}

/// Whether `cell` of `image` shows something: a few distinct colours and more than 1 % of
/// its pixels not dark (the phantom's bones in 3D fill little of the cell).
fn has_content(image: &Image, cell: Cell) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut bright = 0usize;
    for y in cell.y..cell.y + cell.height {
        for x in cell.x..cell.x + cell.width {
            let p = image.pixel(x, y);
            seen.insert([p[0] / 16, p[1] / 16, p[2] / 16]);
            if p[..3].iter().any(|c| *c > 40) {
                bright += 1;
            }
        }
    }
    seen.len() > 4 && bright as f64 > 0.01 * f64::from(cell.width * cell.height)
}

const NAMES: [&str; 4] = ["3D", "axial", "coronal", "sagittal"];

#[test]
fn the_2x2_layout_shows_four_views_and_slice_and_crosshair_move_only_the_slices() {
    run_test(async {
        let (mut client, single) = opened_client().await;
        assert_eq!((single.width, single.height), (257, 193));
        let quad = act(
            &mut client,
            Action::Layout {
                name: Layout::Quad.name().to_string(),
            },
        )
        .await;
        assert_eq!(
            (quad.width, quad.height),
            (257, 193),
            "one frame, same size"
        );
        let cells = quad_cells([quad.width, quad.height]);
        for (cell, name) in cells.iter().zip(NAMES) {
            assert!(has_content(&quad, *cell), "the {name} cell is blank");
        }
        // The 3D cell is not the 1×1 frame: the layout really changed.
        assert!(differing_share(&single, &quad, cells[1]) > CHANGED_SHARE);

        // Moving the axial slice changes the axial cell only.
        let moved = act(
            &mut client,
            Action::Slice {
                plane: "axial".to_string(),
                delta_mm: 40.0,
            },
        )
        .await;
        let shares: Vec<f64> = cells
            .iter()
            .map(|cell| differing_share(&quad, &moved, *cell))
            .collect();
        assert!(shares[1] > CHANGED_SHARE, "axial changed: {shares:?}");
        for n in [0, 2, 3] {
            assert!(
                shares[n] <= UNCHANGED_SHARE,
                "{} unchanged: {shares:?}",
                NAMES[n]
            );
        }

        // A click on the axial cell moves the coronal and sagittal slices, not the axial;
        // the server says where the crosshair now shows: under the click.
        let seq = client
            .input(Action::Crosshair {
                plane: "axial".to_string(),
                x: 0.3,
                y: 0.7,
            })
            .await
            .expect("sent");
        let (_, shown) = crosshair_told(&mut client, seq).await;
        assert!(
            (shown.axial[0] - 0.3).abs() < 1e-6 && (shown.axial[1] - 0.7).abs() < 1e-6,
            "the crosshair under the click: {shown:?}"
        );
        let clicked = final_still(&mut client, seq).await;
        let shares: Vec<f64> = cells
            .iter()
            .map(|cell| differing_share(&moved, &clicked, *cell))
            .collect();
        assert!(shares[2] > CHANGED_SHARE, "coronal changed: {shares:?}");
        assert!(shares[3] > CHANGED_SHARE, "sagittal changed: {shares:?}");
        assert!(shares[0] <= UNCHANGED_SHARE, "3D unchanged: {shares:?}");
        assert!(shares[1] <= UNCHANGED_SHARE, "axial unchanged: {shares:?}");

        // Back to 1×1: the 3D view alone again.
        let back = act(
            &mut client,
            Action::Layout {
                name: "1x1".to_string(),
            },
        )
        .await;
        let whole = Cell {
            x: 0,
            y: 0,
            width: back.width,
            height: back.height,
        };
        assert!(differing_share(&single, &back, whole) <= UNCHANGED_SHARE);
    });
}

#[test]
fn bad_layout_plane_and_fractions_get_errors_naming_the_field_and_the_session_goes_on() {
    run_test(async {
        let (mut client, _) = opened_client().await;
        let refused = [
            (
                Action::Layout {
                    name: "3x3".to_string(),
                },
                "layout name",
            ),
            (
                Action::Slice {
                    plane: "oblique".to_string(),
                    delta_mm: 1.0,
                },
                "slice plane",
            ),
            (
                Action::Slice {
                    plane: "axial".to_string(),
                    delta_mm: 1.0e9,
                },
                "slice delta_mm",
            ),
            (
                Action::Crosshair {
                    plane: "Axial!".to_string(),
                    x: 0.5,
                    y: 0.5,
                },
                "crosshair plane",
            ),
            (
                Action::Crosshair {
                    plane: "coronal".to_string(),
                    x: 1.5,
                    y: 0.5,
                },
                "crosshair x",
            ),
            (
                Action::Crosshair {
                    plane: "coronal".to_string(),
                    x: 0.5,
                    y: -0.1,
                },
                "crosshair y",
            ),
        ];
        for (action, field) in refused {
            client.input(action.clone()).await.expect("sent");
            let (code, message) = client.next_error().await.expect("an error reply");
            assert_eq!(code, ErrorCode::BadValue, "{action:?}");
            assert!(message.contains(field), "{field}: {message}");
        }
        // A NaN cannot travel as JSON: the client's text is refused as a bad message.
        client
            .send_text(
                r#"{"type":"input","seq":90,"action":"crosshair","plane":"axial","x":NaN,"y":0.5}"#,
            )
            .await
            .expect("sent");
        let (code, _) = client.next_error().await.expect("an error reply");
        assert_eq!(code, ErrorCode::BadJson);
        // The session goes on: the layout still changes and frames still come.
        let quad = act(
            &mut client,
            Action::Layout {
                name: "2x2".to_string(),
            },
        )
        .await;
        let cells = quad_cells([quad.width, quad.height]);
        assert!(cells.iter().all(|cell| has_content(&quad, *cell)));
        // A slice input is answered with where the crosshair went.
        let before = client.input(Action::Reset).await.expect("sent");
        final_still(&mut client, before).await;
        let seq = client
            .input(Action::Slice {
                plane: "coronal".to_string(),
                delta_mm: 5.0,
            })
            .await
            .expect("sent");
        let (crosshair, shown) = crosshair_told(&mut client, seq).await;
        let centre = render_core::phantom::ct_phantom().centre_lps();
        assert!(
            (crosshair - centre - glam::DVec3::new(0.0, 5.0, 0.0)).length() < 1e-6,
            "5 mm towards P from the centre: {crosshair}"
        );
        // Where it shows: still in the coronal cell's middle, below the axial cell's
        // middle (P is down there) and right of the sagittal cell's (P is right there).
        let near_middle = |v: f64| (v - 0.5).abs() < 0.01;
        assert!(
            near_middle(shown.coronal[0]) && near_middle(shown.coronal[1]),
            "{shown:?}"
        );
        assert!(
            near_middle(shown.axial[0]) && shown.axial[1] > 0.508,
            "{shown:?}"
        );
        assert!(
            shown.sagittal[0] > 0.508 && near_middle(shown.sagittal[1]),
            "{shown:?}"
        );
    });
}

/// Sends `action` and returns the final still that reflects it, with the slice planes'
/// axes the crosshair message said (none for the standard planes).
async fn act_and_planes(
    client: &mut Client,
    action: Action,
) -> (Image, Option<SlicePlanesInCells>) {
    let seq = client.input(action).await.expect("sent");
    let mut planes = None;
    loop {
        match client.next_event().await.expect("an event") {
            Event::Message(ServerMessage::Crosshair {
                seq: answered,
                planes: told,
                ..
            }) if answered == seq => planes = told,
            Event::Frame(frame)
                if frame.header.flags.final_still()
                    && frame.header.flags.lossless()
                    && frame.header.input_seq >= seq =>
            {
                let (width, height, rgba) = frame.decode_rgba().expect("a PNG");
                let image = Image {
                    width,
                    height,
                    rgba,
                };
                return (image, planes);
            }
            _ => {}
        }
    }
}

/// Share of `cell` of `image` that differs from the render core's own picture of `plane`
/// on `volume`, drawn at the cells' render size (a smaller cell shows its top-left part).
fn differing_from_the_render_core(
    image: &Image,
    cell: Cell,
    volume: &std::sync::Arc<render_core::Volume>,
    plane: render_core::view::MprPlane,
) -> f64 {
    use render_core::view::layout::cell_render_size;
    let expected = {
        let mut renderer = support::render::renderer();
        let mut view = render_core::view::ViewState::initial(
            volume,
            "ct-bone",
            render_core::transfer::RenderMode::Composite,
        );
        view.mpr = Some(plane);
        renderer.load_volume(volume.clone());
        let frame = renderer
            .render_image(&view, cell_render_size([image.width, image.height]))
            .expect("a render");
        Image {
            width: frame.width,
            height: frame.height,
            rgba: frame.rgba,
        }
    };
    let mut shown = Vec::with_capacity((cell.width * cell.height * 4) as usize);
    for y in cell.y..cell.y + cell.height {
        for x in cell.x..cell.x + cell.width {
            shown.extend_from_slice(image.pixel(x, y));
        }
    }
    let shown = Image {
        width: cell.width,
        height: cell.height,
        rgba: shown,
    };
    let within = Cell {
        x: 0,
        y: 0,
        width: cell.width,
        height: cell.height,
    };
    differing_share(&shown, &expected, within)
}

/// The next `count` error messages, each a `bad_value`.
async fn bad_values(client: &mut Client, count: usize) -> Vec<String> {
    let mut refusals = Vec::new();
    while refusals.len() < count {
        if let Event::Message(ServerMessage::Error { code, message }) =
            client.next_event().await.expect("an event")
        {
            assert_eq!(code, ErrorCode::BadValue, "{message}");
            refusals.push(message);
        }
    }
    refusals
}

#[test]
fn turned_planes_tilt_the_other_slices_as_the_render_core_draws_that_oblique_plane() {
    use render_core::view::{MprOrientation, MprPlane};

    run_test(async {
        let (mut client, _) = opened_client().await;
        let quad = act(
            &mut client,
            Action::Layout {
                name: Layout::Quad.name().to_string(),
            },
        )
        .await;
        let cells = quad_cells([quad.width, quad.height]);
        let turn = |plane: &str, degrees| Action::TurnPlanes {
            plane: plane.to_string(),
            degrees,
        };

        // A 30° turn in the axial cell: the axial picture stays, coronal and sagittal tilt.
        let (turned, planes) = act_and_planes(&mut client, turn("axial", 30.0)).await;
        let shares: Vec<f64> = cells
            .iter()
            .map(|cell| differing_share(&quad, &turned, *cell))
            .collect();
        assert!(shares[1] <= UNCHANGED_SHARE, "axial stays: {shares:?}");
        assert!(
            shares[2] > CHANGED_SHARE && shares[3] > CHANGED_SHARE,
            "coronal and sagittal tilt: {shares:?}"
        );
        let planes = planes.expect("the turned planes' axes are told");
        let coronal_right = glam::DVec3::from(planes.coronal.right);
        let coronal_down = glam::DVec3::from(planes.coronal.down);
        assert!(
            coronal_down.distance(glam::DVec3::NEG_Z) < 1e-9,
            "superior stays up: {coronal_down}"
        );
        assert!(
            (coronal_right.x - 30_f64.to_radians().cos()).abs() < 1e-9,
            "the coronal plane turned 30° about the axial normal: {coronal_right}"
        );

        // The server's coronal cell is the render core's oblique slice of that plane
        // through the crosshair (at the cell's render size, cut to the cell).
        let volume = std::sync::Arc::new(render_core::phantom::ct_phantom());
        let plane = MprPlane::through(
            &volume,
            MprOrientation::Oblique {
                right: coronal_right,
                up: -coronal_down,
            },
            volume.centre_lps(),
        );
        let share = differing_from_the_render_core(&turned, cells[2], &volume, plane);
        assert!(
            share <= UNCHANGED_SHARE,
            "{:.3} % of the coronal cell differs from the oblique render",
            share * 100.0
        );

        // A second turn, in the coronal cell, makes the planes double oblique: the axial
        // tilts now. Reset brings the standard planes back, picture for picture.
        let (double, _) = act_and_planes(&mut client, turn("coronal", -20.0)).await;
        assert!(differing_share(&turned, &double, cells[1]) > CHANGED_SHARE);
        let (reset, planes) = act_and_planes(&mut client, Action::ResetPlanes).await;
        assert_eq!(planes, None, "the standard planes need no axes");
        for (cell, name) in cells.iter().zip(NAMES) {
            assert!(
                differing_share(&quad, &reset, *cell) <= UNCHANGED_SHARE,
                "{name} is back"
            );
        }

        // A bad turn is refused by field, and the session goes on.
        client.input(turn("oblique", 10.0)).await.expect("sent");
        client.input(turn("axial", 1.0e6)).await.expect("sent");
        let refusals = bad_values(&mut client, 2).await;
        assert!(
            refusals[0].contains("unknown plane \"oblique\""),
            "{refusals:?}"
        );
        assert!(refusals[1].contains("degrees"), "{refusals:?}");
    });
}

#[test]
fn a_slab_thickens_one_cell_as_the_render_core_draws_that_slab() {
    use render_core::view::layout::cell_slice;
    use render_core::view::{SlabMode, SliceFrame, SlicePlane};

    run_test(async {
        let (mut client, _) = opened_client().await;
        let quad = act(
            &mut client,
            Action::Layout {
                name: Layout::Quad.name().to_string(),
            },
        )
        .await;
        let cells = quad_cells([quad.width, quad.height]);
        let slab = |mm, mode: &str| Action::Slab {
            plane: "coronal".to_string(),
            mm,
            mode: mode.to_string(),
        };
        let thick = act(&mut client, slab(30.0, "mip")).await;
        let shares: Vec<f64> = cells
            .iter()
            .map(|cell| differing_share(&quad, &thick, *cell))
            .collect();
        assert!(
            shares[2] > CHANGED_SHARE,
            "the coronal cell thickened: {shares:?}"
        );
        for n in [0, 1, 3] {
            assert!(
                shares[n] <= UNCHANGED_SHARE,
                "{} stays: {shares:?}",
                NAMES[n]
            );
        }
        // The coronal cell is the render core's 30 mm MIP of that plane.
        let volume = std::sync::Arc::new(render_core::phantom::ct_phantom());
        let mut plane = cell_slice(
            &volume,
            &SliceFrame::STANDARD,
            SlicePlane::Coronal,
            volume.centre_lps(),
        );
        plane.slab_mm = 30.0;
        plane.slab_mode = SlabMode::Mip;
        let share = differing_from_the_render_core(&thick, cells[2], &volume, plane);
        assert!(
            share <= UNCHANGED_SHARE,
            "{:.3} % of the coronal cell differs from the slab render",
            share * 100.0
        );
        let coronal = cells[2];
        // A MinIP of the same slab is another picture; 0 mm is the thin slice again.
        let minip = act(&mut client, slab(30.0, "minip")).await;
        assert!(differing_share(&thick, &minip, coronal) > CHANGED_SHARE);
        let thin = act(&mut client, slab(0.0, "mip")).await;
        assert!(differing_share(&quad, &thin, coronal) <= UNCHANGED_SHARE);

        // Too thick, or an unknown mode, is refused by field.
        client.input(slab(1000.0, "mip")).await.expect("sent");
        client.input(slab(10.0, "max")).await.expect("sent");
        let refusals = bad_values(&mut client, 2).await;
        assert!(refusals[0].contains("slab mm 1000"), "{refusals:?}");
        assert!(
            refusals[1].contains("unknown slab mode \"max\""),
            "{refusals:?}"
        );
    });
}
