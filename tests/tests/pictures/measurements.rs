//! Measurements over a real socket: `probe` answers the voxel and value under a point of a
//! slice cell, `measure` the distance between two, both checked against the volume's own
//! values and geometry (the built-in CT phantom, in HU); bad cells and coordinates get
//! `bad_value`, and nothing is measured before a series is open.

use hounsfield_test_support as support;

use std::time::Duration;

use glam::DVec3;
use hounsfield_client::Client;
use hounsfield_client::Event;
use hounsfield_protocol::{ClientMessage, ErrorCode, ServerMessage, SlicePlane, Viewport};
use render_core::Volume;

/// The session's frame: the 2×2 layout's cells are laid out in it.
const VIEWPORT: Viewport = Viewport {
    width: 800,
    height: 600,
};

/// A slice cell of [`VIEWPORT`]'s 2×2 layout, in pixels: half the frame each way (both
/// sides are even, so every cell is this size and the whole of its render shows).
const CELL_PX: [f64; 2] = [(VIEWPORT.width / 2) as f64, (VIEWPORT.height / 2) as f64];

/// How `plane`'s slice of the phantom lies in its cell, worked out here from the volume's
/// dims × spacing and [`CELL_PX`] (not by `render_core::view::layout`, whose answers the
/// server gives, so that a slip there fails these tests): the screen's right and down as
/// LPS directions (the reading convention: axial L and P, coronal L and I, sagittal P and
/// I), the LPS axis across the slice, and the millimetres a pixel shows, chosen so that the
/// volume's extent (voxel edge to voxel edge) across and down fits the cell.
fn slice_in_cell(volume: &Volume, plane: SlicePlane) -> (DVec3, DVec3, usize, f64) {
    // The phantom's voxel axes are L, P and S: its extent along each is dims × spacing.
    for axis in 0..3 {
        let column = volume.voxel_to_lps.col(axis).truncate();
        let expected = DVec3::AXES[axis] * volume.spacing_mm[axis];
        assert!(column.distance(expected) < 1e-12, "axis {axis}: {column}");
    }
    let extent_mm = |axis: usize| volume.dims[axis] as f64 * volume.spacing_mm[axis];
    let (right, down, across, [width_mm, height_mm]) = match plane {
        SlicePlane::Axial => (DVec3::X, DVec3::Y, 2, [extent_mm(0), extent_mm(1)]),
        SlicePlane::Coronal => (DVec3::X, DVec3::NEG_Z, 1, [extent_mm(0), extent_mm(2)]),
        SlicePlane::Sagittal => (DVec3::Y, DVec3::NEG_Z, 0, [extent_mm(1), extent_mm(2)]),
    };
    let mm_per_pixel = (width_mm / CELL_PX[0]).max(height_mm / CELL_PX[1]);
    (right, down, across, mm_per_pixel)
}

/// The patient point (LPS mm) shown at fractions `x`, `y` of `plane`'s cell, the slice
/// passing through `crosshair`: the cell's middle shows the volume's centre moved onto
/// that slice, and each pixel away from it the slice's millimetres a pixel.
fn shown_at(volume: &Volume, plane: SlicePlane, crosshair: DVec3, x: f64, y: f64) -> DVec3 {
    let (right, down, across, mm_per_pixel) = slice_in_cell(volume, plane);
    let mut middle = volume.centre_lps();
    middle[across] = crosshair[across];
    middle
        + right * ((x - 0.5) * CELL_PX[0] * mm_per_pixel)
        + down * ((y - 0.5) * CELL_PX[1] * mm_per_pixel)
}

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
    let mut config = support::server::loopback_config();
    config.h264_encoders = Vec::new();
    let address = support::server::start(vec![config])[0];
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
    let expected_point =
        |plane: SlicePlane, x: f64, y: f64| shown_at(&phantom, plane, centre, x, y);
    support::server::run_within(Duration::from_secs(60), async {
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
            // The voxel under the point answered (the sagittal spot lies on a half voxel
            // along S, where a rounding apart decides between two).
            let (nearest, hounsfield) = phantom
                .nearest_voxel(DVec3::from_array(lps_mm))
                .expect("inside the phantom");
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
        // 0.6 of the cell's 400 pixels at the axial slice's 0.8 mm a pixel (its 312 × 240
        // mm fitted to 400 × 300 pixels): 192 mm.
        let (_, _, _, axial_mm_per_pixel) = slice_in_cell(&phantom, SlicePlane::Axial);
        let expected = (0.8 - 0.2) * CELL_PX[0] * axial_mm_per_pixel;
        assert!((mm - expected).abs() < 1e-6, "{mm} mm against {expected}");
        assert!(
            from.distance(expected_point(SlicePlane::Axial, 0.2, 0.5)) < 1e-6
                && to.distance(expected_point(SlicePlane::Axial, 0.8, 0.5)) < 1e-6,
            "the ruler's ends {from} and {to}"
        );
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
    support::server::run_within(Duration::from_secs(60), async {
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
        for (plane, scale) in [
            (SlicePlane::Axial, scales.axial),
            (SlicePlane::Coronal, scales.coronal),
            (SlicePlane::Sagittal, scales.sagittal),
        ] {
            let (right, down, _, mm_per_pixel) = slice_in_cell(&phantom, plane);
            assert!(
                (scale - mm_per_pixel).abs() < 1e-9,
                "{plane:?}: {scale} mm a pixel, against {mm_per_pixel}"
            );
            for [x, y] in [[0.1, 0.9], [0.5, 0.5], [0.77, 0.3]] {
                // The point shown there, placed back by the message alone
                // (docs/protocol.md, `crosshair`).
                let point = shown_at(&phantom, plane, crosshair, x, y);
                let [cx, cy] = cells.of(plane);
                let placed = [
                    cx + (point - crosshair).dot(right) / (scale * CELL_PX[0]),
                    cy + (point - crosshair).dot(down) / (scale * CELL_PX[1]),
                ];
                assert!(
                    (placed[0] - x).abs() < 1e-9 && (placed[1] - y).abs() < 1e-9,
                    "{plane:?}: [{x}, {y}] placed at {placed:?}"
                );
            }
        }
    });
}
