//! Measurements over a real socket: `probe` answers the voxel and value under a point of a
//! slice cell, `measure` the distance between two, both checked against the volume's own
//! values and geometry (the built-in CT phantom, in HU); bad cells and coordinates get
//! `bad_value`, and nothing is measured before a series is open.

mod common;

use render_core::view::PlaneGeometry;
use std::time::Duration;

use glam::DVec3;
use hounsfield_client::Client;
use hounsfield_client::Event;
use hounsfield_protocol::{ClientMessage, ErrorCode, ServerMessage, SlicePlane, Viewport};
use render_core::view::layout;

/// The session's frame: the 2×2 layout's cells are laid out in it.
const VIEWPORT: Viewport = Viewport {
    width: 800,
    height: 600,
};

/// The next `probe`, `measure` or `error` reply.
async fn reply(client: &mut Client) -> ServerMessage {
    loop {
        if let Event::Message(
            message @ (ServerMessage::Probe { .. }
            | ServerMessage::Measure { .. }
            | ServerMessage::Error { .. }),
        ) = client.next_event().await.expect("the session lives")
        {
            return message;
        }
    }
}

/// Sends `probe` for fractions `x`, `y` of `cell` and returns the reply.
async fn probe(client: &mut Client, cell: &str, x: f64, y: f64) -> ServerMessage {
    client
        .send(&ClientMessage::Probe {
            cell: cell.into(),
            x,
            y,
        })
        .await
        .expect("sent");
    reply(client).await
}

async fn client() -> Client {
    let mut config = common::server::loopback_config();
    config.h264_encoders = Vec::new();
    let address = common::server::start(vec![config])[0];
    let mut client = Client::connect(&format!("ws://{address}/ws"))
        .await
        .expect("connects");
    client.hello(None, VIEWPORT).await.expect("welcome");
    client
}

#[test]
fn probe_and_measure_answer_from_the_volumes_own_values_and_geometry() {
    let phantom = render_core::phantom::ct_phantom();
    let centre = phantom.centre_lps();
    let size = [VIEWPORT.width, VIEWPORT.height];
    let expected_point = |plane: SlicePlane, x: f64, y: f64| {
        layout::lps_in_cell(&phantom, plane, centre, size, x, y)
    };
    common::server::run_within(Duration::from_secs(60), async {
        let mut client = client().await;
        // Nothing to measure before a series is open.
        match probe(&mut client, "axial", 0.5, 0.5).await {
            ServerMessage::Error {
                code: ErrorCode::NotOpen,
                ..
            } => {}
            other => panic!("a probe before open was answered {other:?}"),
        }
        client.open("phantom").await.expect("opened");

        for (cell, plane, x, y) in [
            ("axial", SlicePlane::Axial, 0.5, 0.5),
            ("axial", SlicePlane::Axial, 0.3, 0.6),
            ("coronal", SlicePlane::Coronal, 0.45, 0.4),
            ("sagittal", SlicePlane::Sagittal, 0.6, 0.55),
        ] {
            let ServerMessage::Probe {
                lps_mm,
                voxel,
                value,
                unit,
                ..
            } = probe(&mut client, cell, x, y).await
            else {
                panic!("no probe answer for {cell}");
            };
            let point = expected_point(plane, x, y);
            assert!(
                DVec3::from_array(lps_mm).distance(point) < 1e-6,
                "{cell} ({x}, {y}): {lps_mm:?} against {point}"
            );
            let (nearest, hounsfield) = phantom.nearest_voxel(point).expect("inside the phantom");
            assert_eq!(voxel, Some(nearest), "{cell} ({x}, {y})");
            assert_eq!(value, Some(hounsfield), "{cell} ({x}, {y})");
            assert_eq!(unit, "HU");
        }
        // The slice through the centre: the axial cell's centre is the crosshair itself.
        let centre_value = phantom.nearest_voxel(centre).expect("inside").1;
        let ServerMessage::Probe { lps_mm, value, .. } =
            probe(&mut client, "axial", 0.5, 0.5).await
        else {
            panic!("no probe answer");
        };
        assert!(
            DVec3::from_array(lps_mm).distance(centre) < 1.0,
            "{lps_mm:?}"
        );
        assert_eq!(value, Some(centre_value));

        // A ruler across the axial cell: along L, in the axial plane through the
        // crosshair, as long as the points it joins are apart.
        client
            .send(&ClientMessage::Measure {
                cell: "axial".into(),
                from: [0.2, 0.5],
                to: [0.8, 0.5],
            })
            .await
            .expect("sent");
        let ServerMessage::Measure {
            mm,
            from_lps,
            to_lps,
            ..
        } = reply(&mut client).await
        else {
            panic!("no measure answer");
        };
        let (from, to) = (DVec3::from_array(from_lps), DVec3::from_array(to_lps));
        let expected = expected_point(SlicePlane::Axial, 0.2, 0.5).distance(expected_point(
            SlicePlane::Axial,
            0.8,
            0.5,
        ));
        assert!((mm - expected).abs() < 1e-6, "{mm} mm against {expected}");
        assert!((mm - from.distance(to)).abs() < 1e-9);
        assert!((from.z - centre.z).abs() < 1e-6 && (to.z - centre.z).abs() < 1e-6);
        assert!(
            (from.y - to.y).abs() < 1e-6,
            "a horizontal ruler runs along L"
        );
        assert!(mm > 10.0, "{mm} mm");

        // Bad cells and coordinates are refused.
        for message in [
            ClientMessage::Probe {
                cell: "oblique".into(),
                x: 0.5,
                y: 0.5,
            },
            ClientMessage::Probe {
                cell: "axial".into(),
                x: 1.5,
                y: 0.5,
            },
            ClientMessage::Measure {
                cell: "coronal".into(),
                from: [0.1, -0.2],
                to: [0.5, 0.5],
            },
            ClientMessage::Measure {
                cell: "3d".into(),
                from: [0.1, 0.2],
                to: [0.5, 0.5],
            },
        ] {
            client.send(&message).await.expect("sent");
            match reply(&mut client).await {
                ServerMessage::Error {
                    code: ErrorCode::BadValue,
                    ..
                } => {}
                other => panic!("{message:?} was answered {other:?}"),
            }
        }
    });
}

#[test]
fn the_crosshair_message_places_any_point_of_a_slice_in_its_cell() {
    let phantom = render_core::phantom::ct_phantom();
    let size = [VIEWPORT.width, VIEWPORT.height];
    common::server::run_within(Duration::from_secs(60), async {
        let mut client = client().await;
        client.open("phantom").await.expect("opened");
        let (crosshair, cells, scales) = loop {
            if let Event::Message(ServerMessage::Crosshair {
                crosshair_lps,
                cells,
                mm_per_pixel,
                ..
            }) = client.next_event().await.expect("the session lives")
            {
                break (
                    crosshair_lps,
                    cells,
                    mm_per_pixel.expect("the slices' scales"),
                );
            }
        };
        let quad = layout::quad_cells(size);
        for (plane, scale) in [
            (SlicePlane::Axial, scales.axial),
            (SlicePlane::Coronal, scales.coronal),
            (SlicePlane::Sagittal, scales.sagittal),
        ] {
            let cell = quad[layout::cell_index(plane)];
            let (right, down) = plane.orientation().right_and_down();
            for [x, y] in [[0.1, 0.9], [0.5, 0.5], [0.77, 0.3]] {
                // The point the server shows there, placed back by the message alone
                // (docs/protocol.md, `crosshair`).
                let point = layout::lps_in_cell(&phantom, plane, crosshair, size, x, y);
                let [cx, cy] = cells.of(plane);
                let placed = [
                    cx + (point - crosshair).dot(right) / (scale * f64::from(cell.width)),
                    cy + (point - crosshair).dot(down) / (scale * f64::from(cell.height)),
                ];
                assert!(
                    (placed[0] - x).abs() < 1e-9 && (placed[1] - y).abs() < 1e-9,
                    "{plane:?}: [{x}, {y}] placed at {placed:?}"
                );
            }
        }
    });
}
